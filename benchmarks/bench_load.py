"""A class at once: N simulated students (gradio_client sessions, loopback only) sampling and training for a while;
the app runs as its own process (`python app.py`), whose resident memory is measured.

Run: python benchmarks/bench_load.py [--students 20] [--seconds 120] [--think 2 8]
Each student loops: three 2D samplings (DDIM, 20 steps, 500 particles), then one small training (100 steps); between
two requests it looks at the result for a time drawn uniformly from --think (seconds; 0 0 = a stress test, no pause).
Targets (issue 7): zero failed requests; p95 latency of a 2D sampling request < 3 s; resident memory growth
< 200 MB after 1,000 requests (the server's RSS is read every second and reported at request-count milestones).
The app runs as its own process on 127.0.0.1; every loop is bounded in time.
"""
from __future__ import annotations

import argparse
import os
import random
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


def student(url: str, k: int, deadline: float, log: list, lock: threading.Lock, think: tuple[float, float]) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    rng = random.Random(k)
    time.sleep(rng.uniform(0, think[1]))                 # students do not all click in the same second
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
        time.sleep(rng.uniform(*think))


def watch_memory(pid: int, log: list, stop: threading.Event, milestones: dict) -> None:
    """Every second: the server's RSS; the first reading after len(log) reaches each milestone is kept."""
    while not stop.is_set():
        rss, n = rss_mb(pid), len(log)
        for m in milestones:
            if m != "peak" and n >= m and milestones[m] is None:
                milestones[m] = rss
        milestones["peak"] = max(milestones.get("peak") or 0.0, rss)
        stop.wait(1.0)


def main(students: int, seconds: float, think: tuple[float, float]) -> None:
    from app_server import free_port
    from gradio_client import Client

    proc, url = start_app(free_port())
    Client(url, verbose=False).predict(*SAMPLE, api_name="/sample")     # warm-up
    rss0 = rss_mb(proc.pid)
    log: list = []
    lock = threading.Lock()
    deadline = time.time() + seconds
    threads = [threading.Thread(target=student, args=(url, k, deadline, log, lock, think), daemon=True)
               for k in range(students)]
    milestones = {250: None, 500: None, 1000: None, 2000: None}
    stop = threading.Event()
    threading.Thread(target=watch_memory, args=(proc.pid, log, stop, milestones), daemon=True).start()
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + 300)
    wall = time.perf_counter() - t0
    rss1 = rss_mb(proc.pid)
    stop.set()
    proc.terminate()
    proc.wait(10)
    sample_t = sorted(t for kind, t, ok in log if kind == "sample" and ok)
    train_t = sorted(t for kind, t, ok in log if kind == "train" and ok)
    failures = sum(1 for *_, ok in log if not ok)

    def p(ts, q):
        return ts[min(len(ts) - 1, int(q * len(ts)))] if ts else float("nan")

    load = os.getloadavg()[0]
    print(f"{students} students for {seconds:.0f} s (wall {wall:.0f} s), think time U({think[0]:g}, {think[1]:g}) s, "
          f"load average at the end {load:.1f}")
    print(f"requests: {len(log)} ({len(sample_t)} sampling, {len(train_t)} training), failed: {failures}")
    print(f"2D sampling latency: median {statistics.median(sample_t):.2f} s, p95 {p(sample_t, 0.95):.2f} s "
          f"(target < 3 s)" if sample_t else "no sampling request finished")
    print(f"training latency: median {statistics.median(train_t):.2f} s, p95 {p(train_t, 0.95):.2f} s" if train_t else
          "no training request finished")
    print(f"resident memory: {rss0:.0f} MB -> {rss1:.0f} MB (growth {rss1 - rss0:+.0f} MB over {len(log)} requests; "
          f"target < 200 MB after 1,000)")
    seen = ", ".join(f"after {m}: {v - rss0:+.0f} MB" for m, v in milestones.items() if m != "peak" and v is not None)
    print(f"growth by request count: {seen or 'fewer than 250 requests'}; peak {milestones['peak'] - rss0:+.0f} MB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"))
    a = ap.parse_args()
    main(a.students, a.seconds, tuple(a.think))
