"""The cost of training you can watch (explorer/live.py): training time with and without the live samples.

    python benchmarks/bench_live.py [--threads 1] [--repeats 2]     # ~2 minutes on a quiet 2-core machine

For each case the app's own training (score networks: explorer.nn.training.DEFAULTS, reports every 50 steps as the
Learned score tab; the VAE: 2,000 steps, reports every 100 as the VAE tab) runs with a callback that does nothing and
with the tab's SampleWatch (a draw of 500 samples from one fixed noise batch and their energy distance to 1,000 fresh
data, while within its 15% share). Printed: wall time and this thread's CPU time of each (best of --repeats,
alternating the order), the overhead (with / without - 1; the issue's bound is 20%), the share the watch measured
itself (its time / the training time), how many reports drew, and the last distance against the floor.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")      # as bench_training: set before torch loads OpenMP

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.distributions import get_dataset  # noqa: E402
from explorer.live import score_watch, vae_watch  # noqa: E402
from explorer.nn.networks import ScoreNetConfig  # noqa: E402
from explorer.nn.training import train  # noqa: E402
from explorer.nn.vae import train_vae  # noqa: E402
from explorer.process import get_process  # noqa: E402
from machine import machine  # noqa: E402  (benchmarks/machine.py)

SCORE_CASES = ("moons", "ring8", "two_modes_1d")
VAE_STEPS, VAE_EVERY, SCORE_EVERY = 2000, 100, 50


def run(case: str, watched: bool):
    """(wall s, thread CPU s, watch or None) of one training."""
    sde = get_process("vp_linear")
    if case.startswith("vae:"):
        ds = get_dataset(case[4:])
        watch = vae_watch(ds, seed=0) if watched else None
        fit = lambda cb: train_vae(ds, steps=VAE_STEPS, seed=0, report_every=VAE_EVERY, callback=cb)  # noqa: E731
    else:
        ds = get_dataset(case)
        watch = score_watch(ds, sde, seed=0) if watched else None
        fit = lambda cb: train(ScoreNetConfig.for_data(ds, sde), ds, sde, seed=0, report_every=SCORE_EVERY,  # noqa: E731
                               callback=cb)

    def callback(p):
        if watch is not None:
            watch(p.model, p.step, p.elapsed_s, final=p.step == p.steps)

    w0, c0 = time.perf_counter(), time.thread_time()
    fit(callback)
    return time.perf_counter() - w0, time.thread_time() - c0, watch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the app trains on one)")
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(machine(), "\n")
    print("| training | without: wall s / CPU s | with live samples: wall s / CPU s | overhead wall / CPU | share the "
          "watch measured | reports that drew | last distance (floor) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for case in (*SCORE_CASES, "vae:moons"):
        best = {False: (float("inf"), float("inf")), True: (float("inf"), float("inf"))}
        watch = None
        for r in range(a.repeats):
            for watched in ((False, True) if r % 2 == 0 else (True, False)):
                wall, cpu, w = run(case, watched)
                best[watched] = (min(best[watched][0], wall), min(best[watched][1], cpu))
                watch = w or watch
        (w0, c0), (w1, c1) = best[False], best[True]
        reports = (VAE_STEPS // VAE_EVERY) if case.startswith("vae:") else 1000 // SCORE_EVERY
        share = watch.spent_s / max(w1 - watch.spent_s, 1e-9)
        print(f"| {case} | {w0:.2f} / {c0:.2f} | {w1:.2f} / {c1:.2f} | {100 * (w1 / w0 - 1):+.1f}% / "
              f"{100 * (c1 / c0 - 1):+.1f}% | {100 * share:.1f}% | {len(watch.steps)} of {reports} | "
              f"{watch.distances[-1]:.4f} ({watch.floor:.4f}) |", flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
