"""A class at once: N simulated students (gradio_client sessions, loopback only) sampling and training for a while;
the app runs as its own process (`python app.py`), whose resident memory is measured.

Run: python benchmarks/bench_load.py [--students 20] [--seconds 120]
Targets (issue 7): zero failed requests; p95 latency of a 2D sampling request < 3 s; resident memory growth
< 200 MB after 1,000 requests. The app is launched in this process on 127.0.0.1; every loop is bounded in time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

C = ("", "", "")
SAMPLE = ("ring8", *C, "vp_linear", 0, "exact", ["ddim"], 20, 500, 0.0, 1e-3, 0.01, 0.16)
TRAIN = ("moons", *C, "vp_linear", 0, "eps", 100, 3e-3, 32, 0.1)


def rss_mb(pid: int) -> float:
    """Resident memory of the server process, in MB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_app(port: int):
    """`python app.py` on 127.0.0.1:port, as a separate process (its memory is what is measured)."""
    import subprocess
    import urllib.request

    env = dict(os.environ, GRADIO_SERVER_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < 120:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the app did not start within 120 s")


def student(url: str, k: int, deadline: float, log: list, lock: threading.Lock) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    i = 0
    while time.time() < deadline:
        kind = "train" if i % 4 == 3 else "sample"          # three samplings, then a small training
        args = TRAIN if kind == "train" else SAMPLE[:5] + (k,) + SAMPLE[6:]
        t0 = time.perf_counter()
        try:
            client.predict(*args, api_name=f"/{kind}")
            ok = True
        except Exception as e:  # noqa: BLE001 - counted as a failure
            ok = False
            print(f"student {k}: {kind} failed: {e}", file=sys.stderr)
        with lock:
            log.append((kind, time.perf_counter() - t0, ok))
        i += 1


def main(students: int, seconds: float) -> None:
    from app_server import free_port
    from gradio_client import Client

    proc, url = start_app(free_port())
    Client(url, verbose=False).predict(*SAMPLE, api_name="/sample")     # warm-up
    rss0 = rss_mb(proc.pid)
    log: list = []
    lock = threading.Lock()
    deadline = time.time() + seconds
    threads = [threading.Thread(target=student, args=(url, k, deadline, log, lock), daemon=True)
               for k in range(students)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + 300)
    wall = time.perf_counter() - t0
    rss1 = rss_mb(proc.pid)
    proc.terminate()
    proc.wait(10)
    sample_t = sorted(t for kind, t, ok in log if kind == "sample" and ok)
    train_t = sorted(t for kind, t, ok in log if kind == "train" and ok)
    failures = sum(1 for *_, ok in log if not ok)

    def p(ts, q):
        return ts[min(len(ts) - 1, int(q * len(ts)))] if ts else float("nan")

    load = os.getloadavg()[0]
    print(f"{students} students for {seconds:.0f} s (wall {wall:.0f} s), load average at the end {load:.1f}")
    print(f"requests: {len(log)} ({len(sample_t)} sampling, {len(train_t)} training), failed: {failures}")
    print(f"2D sampling latency: median {statistics.median(sample_t):.2f} s, p95 {p(sample_t, 0.95):.2f} s "
          f"(target < 3 s)" if sample_t else "no sampling request finished")
    print(f"training latency: median {statistics.median(train_t):.2f} s, p95 {p(train_t, 0.95):.2f} s" if train_t else
          "no training request finished")
    print(f"resident memory: {rss0:.0f} MB -> {rss1:.0f} MB (growth {rss1 - rss0:+.0f} MB over {len(log)} requests; "
          f"target < 200 MB after 1,000)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    a = ap.parse_args()
    main(a.students, a.seconds)
