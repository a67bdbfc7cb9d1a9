"""Learned vs exact: sample quality of the pretrained toy models, time to train from scratch at the default settings,
load time and size. Prints markdown tables for benchmarks/RESULTS_training.md.

    python benchmarks/bench_training.py [--scratch all|none|NAME,...] [--recipe before,now] [--every 100] [--threads 1]
                                        [--refs 5] [--skip-quality]

Quality: energy distance between 2,000 PF-ODE Heun (100 steps) samples and 2,000 fresh data samples, for the
learned score and for the exact score (mixture, or the empirical score of the dataset's 2,000-point reference set),
both from the same x_T; the noise floor is the distance between two fresh data sets of 2,000. Each figure is the
mean over --refs fresh reference sets (and the floor over as many pairs), with the first set's value as in the test.
From scratch: time (training only) until that ED first drops below 0.01 and to 0.005 or less, for the current defaults
and the ones before #12, on one torch thread (as the app trains) unless --threads says otherwise.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")      # set before torch loads OpenMP: see RESULTS_training.md

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.distributions import DATASETS  # noqa: E402
from explorer.metrics import energy_distance  # noqa: E402
from explorer.nn.networks import ScoreNetConfig  # noqa: E402
from explorer.pretrained import TOY_MODELS_DIR, list_pretrained, load_pretrained, model_dir  # noqa: E402
from explorer.samplers import sample  # noqa: E402
from explorer.scores import exact_score  # noqa: E402
from explorer.process import get_process  # noqa: E402
from explorer.nn.training import DEFAULTS, load_checkpoint, train  # noqa: E402
from machine import machine  # noqa: E402  (benchmarks/machine.py)

N = 2000


def pf_heun_samples(score_fn, sde, dim: int) -> torch.Tensor:
    x_init = sde.prior_sample((N, dim), generator=torch.Generator().manual_seed(1))
    return sample("pf_heun", score_fn, sde, x_init, n_steps=100).x.float()


def refs(ds, k: int) -> list[torch.Tensor]:
    return [ds.sample(N, generator=torch.Generator().manual_seed(2 + i))[0] for i in range(2 * k)]


def quality_table(n_refs: int) -> None:
    print("| dataset | process | learned ED (seed 2) | learned ED (mean) | exact-score ED (mean) | noise floor (mean) | load ms | weights KB |")
    print("|---|---|---|---|---|---|---|---|")
    for dataset, process in list_pretrained():
        ds, sde = DATASETS[dataset], get_process(process)
        loads = []
        for _ in range(5):
            t0 = time.perf_counter()
            load_checkpoint(model_dir(dataset, process), device="cpu")
            loads.append(time.perf_counter() - t0)
        model = load_pretrained(dataset, process)
        rs = refs(ds, n_refs)
        learned = pf_heun_samples(model.score_fn(), sde, ds.dim)
        exact = pf_heun_samples(exact_score(ds, sde), sde, ds.dim)
        ed_l = [energy_distance(learned, r) for r in rs[:n_refs]]
        ed_e = [energy_distance(exact, r) for r in rs[:n_refs]]
        floor = [energy_distance(rs[i], rs[n_refs + i]) for i in range(n_refs)]
        kb = (model_dir(dataset, process) / "weights.pt").stat().st_size / 1024
        print(f"| {dataset} | {process} | {ed_l[0]:.4f} | {statistics.mean(ed_l):.4f} | {statistics.mean(ed_e):.4f} "
              f"| {statistics.mean(floor):.4f} | {1000 * statistics.median(loads):.0f} | {kb:.0f} |", flush=True)
    total = sum(f.stat().st_size for f in TOY_MODELS_DIR.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
    print(f"\ntotal size of toy_models/: {total / 1e6:.2f} MB ({len(list_pretrained())} models)\n")


BEFORE = dict(steps=2000, lr=3e-3, batch_size=1024, ema_decay=0.995, p_uncond=0.1, warmup=100)   # the defaults until #12
RECIPES = {"before": BEFORE, "now": DEFAULTS}
FIVE = "moons,ring8,checkerboard,swiss_roll,spirals"     # the datasets of #12's target


def scratch_table(names: list[str], recipes: list[str], every: int = 100) -> None:
    """Train each recipe from scratch; every `every` steps sample (not timed) and note when the ED first drops below
    0.01 and to 0.005 or less: training seconds (evaluations excluded) and the step."""
    for r in recipes:
        print(f"{r}: {RECIPES[r]}")
    print(f"width 128, depth 3, eps, class-conditional, seed 0; ED of 2,000 PF-ODE Heun-100 samples (null label) vs "
          f"2,000 fresh data every {every} steps; times exclude the evaluations\n")
    print("| recipe | dataset | process | time to ED < 0.01 (s) | time to ED ≤ 0.005 (s) | at step | full run (s) | ms/step | final ED |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        for r in recipes:
            ds, sde = DATASETS[name], get_process("vp_linear")
            ref = ds.sample(N, generator=torch.Generator().manual_seed(2))[0]
            state = {"eval_s": 0.0, "hit01": None, "hit005": None, "ed": float("nan")}

            def cb(p):
                t0 = time.perf_counter()
                ed = energy_distance(pf_heun_samples(p.model.score_fn(), sde, ds.dim), ref)
                state["ed"] = ed
                for key, bar, ok in (("hit01", 0.01, ed < 0.01), ("hit005", 0.005, ed <= 0.005)):
                    if ok and state[key] is None:
                        state[key] = (p.elapsed_s - state["eval_s"], p.step)
                state["eval_s"] += time.perf_counter() - t0

            t0 = time.perf_counter()
            model = train(ScoreNetConfig.for_data(ds, sde), ds, sde, seed=0, callback=cb, report_every=every,
                          device="cpu", **RECIPES[r])
            total = time.perf_counter() - t0 - state["eval_s"]
            h1 = f"{state['hit01'][0]:.1f}" if state["hit01"] else "never"
            h5 = f"{state['hit005'][0]:.1f} | {state['hit005'][1]}" if state["hit005"] else "never | -"
            print(f"| {r} | {name} | vp_linear | {h1} | {h5} | {total:.1f} | {1000 * total / model.info['steps']:.1f} "
                  f"| {state['ed']:.4f} |", flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scratch", default=FIVE, help="'all', 'none' or dataset names (comma-separated)")
    ap.add_argument("--recipe", default="before,now", help="training settings to compare: 'before' (the defaults until "
                    "#12), 'now' (explorer.nn.training.DEFAULTS), or both")
    ap.add_argument("--every", type=int, default=100, help="evaluate the EMA model every this many steps")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the app trains on one)")
    ap.add_argument("--refs", type=int, default=5)
    ap.add_argument("--skip-quality", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(machine(), "\n")
    if not a.skip_quality:
        quality_table(a.refs)
    two_d = [n for n, d in DATASETS.items() if d.dim == 2]
    names = [] if a.scratch == "none" else two_d if a.scratch == "all" else a.scratch.split(",")
    if names:
        scratch_table(names, a.recipe.split(","), a.every)


if __name__ == "__main__":
    main()
