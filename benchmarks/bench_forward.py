"""Forward-process figures: build time and payload of the default 2D animation, app start to first page.

Run: python benchmarks/bench_forward.py   (targets: < 0.3 s, < 1.5 MB, < 15 s)
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from machine import machine  # noqa: E402  (benchmarks/machine.py)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bench_animation(repeats: int = 7):
    """Median time to build the default animation as the page embeds it (figure + HTML), its size, and the whole
    handler's time (which also writes the standalone HTML export, ~5 MB with plotly.js inlined)."""
    import torch

    from explorer.distributions import get_dataset
    from explorer.process import get_process
    from explorer.ui.common import plotly_src
    from explorer.ui.forward_tab import forward_cloud_figure, forward_view
    from explorer.viz.animation import figure_page, iframe

    ds, sde = get_dataset("ring8"), get_process("vp_linear")
    forward_view("ring8", "", "", "", "vp_linear", 0, None, 2000, 60)       # warm-up (imports, caches)
    build, handler, size = [], [], 0
    for seed in range(repeats):
        t0 = time.perf_counter()
        fig = forward_cloud_figure(ds, sde, 2000, 60, torch.Generator().manual_seed(seed))
        html = iframe(figure_page(fig, plotly_src()), height=640)
        build.append(time.perf_counter() - t0)
        size = len(html.encode("utf-8"))
        t0 = time.perf_counter()
        forward_view("ring8", "", "", "", "vp_linear", seed, None, 2000, 60)
        handler.append(time.perf_counter() - t0)
    return statistics.median(build), size, statistics.median(handler)


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
    import torch

    torch.set_num_threads(1)                               # as the app runs (app.TORCH_THREADS)
    t, size, t_handler = bench_animation()
    print(f"default 2D forward animation (ring8, VP linear, 2,000 particles, 60 frames): "
          f"build {t:.3f} s (target < 0.3 s), payload {size / 1e6:.2f} MB (target < 1.5 MB); "
          f"whole handler (animation page and the per-user state for its downloads) {t_handler:.3f} s")
    print(f"app start to first page: {bench_start():.1f} s (target < 15 s)")
