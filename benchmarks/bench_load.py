"""A class at once: N simulated students (gradio_client sessions, loopback only) sampling and training for a while;
the app runs as its own process (`python app.py`), whose resident memory is measured.

Run: python benchmarks/bench_load.py [--students 20] [--seconds 120] [--think 2 8] [--greedy 8] [--hostile]
Each student loops: three 2D samplings (DDIM, 20 steps, 500 particles), then one small training (100 steps), and
every fifth loop downloads the sampling animation as HTML; between two requests it looks at the result for a time
drawn uniformly from --think (seconds; 0 0 = a stress test, no pause).
--greedy K adds one greedy session: K workers on one gradio_client session sending samplings without pauses (its
refusals are counted apart: they are the point). --hostile adds one client sending bad input of every class (bomb
images and sketches, huge or broken CSVs, NaN / huge / unknown values, markup in text, over-budget requests), each
answered (a message) within a bound, counted apart.
Targets (issues 7, 11): zero failed requests for the students; p95 latency of a 2D sampling request < 3 s; resident
memory growth < 200 MB after 1,000 requests (issue 11: after 2,000, with the greedy and hostile clients); the export
folder bounded (its size is read every second). The app runs as its own process on 127.0.0.1; every loop is bounded
in time and count.
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
        # three samplings, then a small training; every fifth loop the sampling animation as a download
        kind = "train" if i % 4 == 3 else "sample_html" if i % 20 == 1 else "sample"
        args = TRAIN if kind == "train" else () if kind == "sample_html" else SAMPLE[:5] + (k,) + SAMPLE[6:]
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


def greedy(url: str, workers: int, deadline: float, log: list, lock: threading.Lock) -> None:
    """One session, many workers, no pauses: what is refused past its share is logged as 'refused', not failed."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    big = SAMPLE[:7] + (["ddpm"], 200, 5000) + SAMPLE[10:]

    def work():
        while time.time() < deadline:
            t0 = time.perf_counter()
            try:
                client.predict(*big, api_name="/sample")
                outcome = "served"
            except Exception:  # noqa: BLE001 - a refusal is the expected answer past the share
                outcome = "refused"
                time.sleep(0.05)
            with lock:
                log.append((outcome, time.perf_counter() - t0))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(deadline - time.time() + 120)


def hostile_calls(folder: Path) -> list[tuple[str, str, tuple]]:
    """(what, api_name, args) of bad input of every class, each to be answered with a message."""
    from gradio_client import handle_file
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    Image.new("1", (10_950, 10_950), 1).save(folder / "bomb.png")            # ~15 KB on disk, 120 MP
    Image.new("RGB", (6000, 6000), (10, 200, 30)).save(folder / "flat.png")
    (folder / "rows.csv").write_text("x,y\n" + "1,2\n" * 1_000_000)
    (folder / "cr.csv").write_text("x,y\r" + "\r".join(f"{i},{i % 7}" for i in range(200)))
    (folder / "cell.csv").write_text("x,y\n1," + "9" * 200_000 + "\n")
    (folder / "text.png").write_text("not an image")
    nan = float("nan")
    sketch = lambda p: {"background": None, "layers": [handle_file(str(p))] * 20, "composite": handle_file(str(p))}  # noqa: E731
    over = SAMPLE[:7] + (["langevin", "annealed_langevin", "reverse_sde", "pc", "ddpm", "pf_rk45"], 1000, 5000) + SAMPLE[10:]
    return [
        ("bomb image", "/forward_images", (handle_file(str(folder / "bomb.png")), "vp_linear", 0, 6)),
        ("wrong file type", "/forward_images", (handle_file(str(folder / "text.png")), "vp_linear", 0, 6)),
        ("bomb sketch", "/my_data", (sketch(folder / "flat.png"), None)),
        ("million-row CSV", "/my_data", (None, handle_file(str(folder / "rows.csv")))),
        ("CR-only CSV", "/my_data", (None, handle_file(str(folder / "cr.csv")))),
        ("200,000-character cell", "/my_data", (None, handle_file(str(folder / "cell.csv")))),
        ("NaN particles", "/sample", SAMPLE[:9] + (20, nan) + SAMPLE[11:]),
        ("huge seed", "/sample", SAMPLE[:5] + (10 ** 30,) + SAMPLE[6:]),
        ("unknown sampler", "/sample", SAMPLE[:7] + (["<b>dmm</b>"],) + SAMPLE[8:]),
        ("markup dataset", "/forward", ("<img src=//x>", *C, "vp_linear", 0, 100, 10)),
        ("over budget", "/sample", over),
        ("no animation to export", "/sample_gif", ()),
        ("finest likelihood", "/likelihood", ("moons", *C, "vp_linear", 0, "pretrained", 60, 2000, -7)),
    ]


def hostile(url: str, deadline: float, log: list, lock: threading.Lock, folder: Path) -> None:
    """Bad input of every class in turn, without pauses: each should be a prompt message ('answered')."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    calls = hostile_calls(folder)
    i = 0
    while time.time() < deadline:
        what, api, args = calls[i % len(calls)]
        t0 = time.perf_counter()
        try:
            client.predict(*args, api_name=api)
            outcome = "accepted"
        except Exception as e:  # noqa: BLE001 - a message is the expected answer
            outcome = "answered" if "Traceback" not in str(e) else "traceback"
        with lock:
            log.append((what, outcome, time.perf_counter() - t0))
        i += 1
        time.sleep(0.2)


def folder_mb(paths: list[Path]) -> float:
    """Size of every file under the given folders, in MB (exports and Gradio's upload/cache folder)."""
    total = 0
    for root in paths:
        for p in root.rglob("*") if root.exists() else ():
            try:
                total += p.stat().st_size if p.is_file() else 0
            except OSError:
                pass
    return total / 1e6


def watch_memory(pid: int, logs: list[list], stop: threading.Event, milestones: dict, disk: dict,
                 folders: list[Path]) -> None:
    """Every second: the server's RSS (the first reading after the requests of all clients, less the greedy one's
    refusals, reach each milestone is kept) and the export and cache folders' size (its peak is kept)."""
    while not stop.is_set():
        rss = rss_mb(pid)
        n = sum(1 for log in logs for entry in list(log) if entry[0] != "refused")     # served or answered
        for m in milestones:
            if m != "peak" and n >= m and milestones[m] is None:
                milestones[m] = rss
        milestones["peak"] = max(milestones.get("peak") or 0.0, rss)
        disk["peak"] = max(disk.get("peak", 0.0), folder_mb(folders))
        stop.wait(1.0)


def main(students: int, seconds: float, think: tuple[float, float], greedy_workers: int, with_hostile: bool) -> None:
    import tempfile

    from app_server import free_port
    from gradio_client import Client

    work = Path(tempfile.mkdtemp(prefix="dx-load-"))
    cache = work / "gradio"                 # the server's upload/cache folder, measured with the exports
    os.environ["GRADIO_TEMP_DIR"] = str(cache)
    proc, url = start_app(free_port())
    Client(url, verbose=False).predict(*SAMPLE, api_name="/sample")     # warm-up
    rss0 = rss_mb(proc.pid)
    log: list = []
    greedy_log: list = []
    hostile_log: list = []
    lock = threading.Lock()
    deadline = time.time() + seconds
    threads = [threading.Thread(target=student, args=(url, k, deadline, log, lock, think), daemon=True)
               for k in range(students)]
    if greedy_workers:
        threads.append(threading.Thread(target=greedy, args=(url, greedy_workers, deadline, greedy_log, lock),
                                        daemon=True))
    if with_hostile:
        threads.append(threading.Thread(target=hostile, args=(url, deadline, hostile_log, lock, work / "bad"),
                                        daemon=True))
    milestones = {250: None, 500: None, 1000: None, 2000: None}
    disk: dict = {}
    stop = threading.Event()
    folders = [cache, Path(tempfile.gettempdir()) / "diffusion-explorer-exports"]
    threading.Thread(target=watch_memory, args=(proc.pid, [log, greedy_log, hostile_log], stop, milestones, disk,
                                                folders), daemon=True).start()
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
    print(f"growth by request count (all clients): {seen or 'fewer than 250 requests'}; peak "
          f"{milestones['peak'] - rss0:+.0f} MB")
    print(f"export and upload folders: peak {disk.get('peak', 0.0):.1f} MB")
    if greedy_workers:
        served = [t for outcome, t in greedy_log if outcome == "served"]
        print(f"greedy session ({greedy_workers} workers): {len(served)} served, "
              f"{sum(o == 'refused' for o, _ in greedy_log)} refused at once")
    if with_hostile:
        by = {}
        for what, outcome, t in hostile_log:
            by.setdefault(what, []).append((outcome, t))
        print(f"hostile client: {len(hostile_log)} bad requests, "
              f"{sum(o == 'answered' for _, o, _ in hostile_log)} answered with a message, "
              f"{sum(o == 'accepted' for _, o, _ in hostile_log)} accepted, "
              f"{sum(o == 'traceback' for _, o, _ in hostile_log)} with a traceback")
        for what, rows in by.items():
            print(f"  {what}: {', '.join(sorted({o for o, _ in rows}))}; slowest answer {max(t for _, t in rows):.2f} s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"))
    ap.add_argument("--greedy", type=int, default=0, metavar="WORKERS")
    ap.add_argument("--hostile", action="store_true")
    a = ap.parse_args()
    main(a.students, a.seconds, tuple(a.think), a.greedy, a.hostile)
