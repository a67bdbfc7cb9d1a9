"""Forward-process figures: build time and payload of the default 2D animation, app start to first page.

Run: python benchmarks/bench_forward.py   (targets: < 0.3 s, < 1.5 MB, < 15 s)
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def machine() -> str:
    import torch

    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, torch {torch.__version__}"


def bench_animation(repeats: int = 7):
    from explorer.ui.forward_tab import forward_view

    args = ("ring8", "", "", "", "vp_linear", 0, None, 2000, 60)
    forward_view(*args)                                    # warm-up (imports, caches)
    times, size = [], 0
    for seed in range(repeats):
        t0 = time.perf_counter()
        html_update, _ = forward_view(*args[:5], seed, *args[6:])
        times.append(time.perf_counter() - t0)
        size = len(html_update.value.encode("utf-8"))
    return statistics.median(times), size


def bench_start(port: int = 7899) -> float:
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t0 < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200 and b"<html" in r.read(2000).lower():
                        return time.perf_counter() - t0
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("app did not answer within 120 s")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    print(f"machine: {machine()}")
    t, size = bench_animation()
    print(f"default 2D forward animation (ring8, VP linear, 2,000 particles, 60 frames): "
          f"build {t:.3f} s (target < 0.3 s), payload {size / 1e6:.2f} MB (target < 1.5 MB)")
    print(f"app start to first page: {bench_start():.1f} s (target < 15 s)")
