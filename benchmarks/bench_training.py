"""Learned vs exact: sample quality of the pretrained toy models, time to train from scratch at the default settings,
load time and size. Prints markdown tables for benchmarks/RESULTS_training.md.

    python benchmarks/bench_training.py [--scratch all|none|NAME,...] [--refs 5]

Quality: energy distance between 2,000 PF-ODE Heun (100 steps) samples and 2,000 fresh data samples, for the
learned score and for the exact score (mixture, or the empirical score of the dataset's 2,000-point reference set),
both from the same x_T; the noise floor is the distance between two fresh data sets of 2,000. Each figure is the
mean over --refs fresh reference sets (and the floor over as many pairs), with the first set's value as in the test.
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
from explorer.networks import ScoreNetConfig  # noqa: E402
from explorer.pretrained import TOY_MODELS_DIR, list_pretrained, load_pretrained, model_dir  # noqa: E402
from explorer.samplers import sample  # noqa: E402
from explorer.scores import exact_score  # noqa: E402
from explorer.sde import get_sde  # noqa: E402
from explorer.training import DEFAULTS, load_checkpoint, train  # noqa: E402
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
        ds, sde = DATASETS[dataset], get_sde(process)
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


def scratch_table(names: list[str], every: int = 250) -> None:
    """Train at the defaults; every `every` steps sample (not timed) and note when ED first drops below 0.01."""
    print(f"defaults: {DEFAULTS}, width 128, depth 3, eps, class-conditional; time excludes the evaluations\n")
    print("| dataset | process | time to ED < 0.01 (s) | at step | full run (s) | final ED |")
    print("|---|---|---|---|---|---|")
    for name in names:
        ds, sde = DATASETS[name], get_sde("vp_linear")
        ref = ds.sample(N, generator=torch.Generator().manual_seed(2))[0]
        state = {"eval_s": 0.0, "hit": None, "ed": float("nan")}

        def cb(p):
            t0 = time.perf_counter()
            ed = energy_distance(pf_heun_samples(p.model.score_fn(), sde, ds.dim), ref)
            state["ed"] = ed
            if ed < 0.01 and state["hit"] is None:
                state["hit"] = (p.elapsed_s - state["eval_s"], p.step)
            state["eval_s"] += time.perf_counter() - t0

        t0 = time.perf_counter()
        train(ScoreNetConfig.for_data(ds, sde), ds, sde, seed=0, callback=cb, report_every=every, device="cpu")
        total = time.perf_counter() - t0 - state["eval_s"]
        hit = f"{state['hit'][0]:.1f} | {state['hit'][1]}" if state["hit"] else "never | -"
        print(f"| {name} | vp_linear | {hit} | {total:.1f} | {state['ed']:.4f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scratch", default="moons,ring8,checkerboard", help="'all', 'none' or dataset names")
    ap.add_argument("--refs", type=int, default=5)
    ap.add_argument("--skip-quality", action="store_true")
    a = ap.parse_args()
    print(machine(), "\n")
    if not a.skip_quality:
        quality_table(a.refs)
    two_d = [n for n, d in DATASETS.items() if d.dim == 2]
    names = [] if a.scratch == "none" else two_d if a.scratch == "all" else a.scratch.split(",")
    if names:
        scratch_table(names)


if __name__ == "__main__":
    main()
