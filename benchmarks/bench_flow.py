"""Flow matching (#14): what the linear path and its couplings buy, measured on the toys.

    python benchmarks/bench_flow.py [--datasets ring8 moons checkerboard]

1. Training time to energy distance <= 0.005 (PF-ODE Heun 100 steps, 2,000 vs 2,000; checked every 50 steps), flow matching (linear path,
   velocity net) vs score matching (VP-linear, eps net), both at the live defaults (1,000 steps x 1,024), one thread;
   the evaluation time is not counted.
2. Minibatch OT: the assignment's cost per training step at a batch of 1,024 in blocks of 64-1,024, and the mean pair
   cost E||x0 - eps||^2 it leaves (independent: 2 D + E||x0||^2).
3. Quality at 1, 2, 4, 8, 16 Euler steps per coupling (independent, minibatch OT, reflow of the independent flow;
   1,000 steps each) and for diffusion's PF-ODE (the shipped VP net), from one x_T; the steps each needs to reach
   ED <= 0.01 (the speed-up in steps at equal quality); Liu's straightness.
4. The SDE samplers on the linear path (stiff near T = 0.999): reverse SDE and predictor-corrector with the exact score
   at 100-1,000 steps, against VP-linear.
Timings on a shared machine are noisy; the quality figures are deterministic (fixed seeds). About 3-4 minutes on a
quiet 2-core machine (part 3, the slowest, uses the first two datasets; --parts picks parts).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.couplings import ot_pair, pair_cost  # noqa: E402
from explorer.distributions import get_dataset  # noqa: E402
from explorer.metrics import energy_distance  # noqa: E402
from explorer.nn.flow_matching import train_flow, velocity_config  # noqa: E402
from explorer.nn.networks import ScoreNetConfig  # noqa: E402
from explorer.nn.training import train  # noqa: E402
from explorer.pretrained import load_pretrained  # noqa: E402
from explorer.process import get_process  # noqa: E402
from explorer.samplers import sample  # noqa: E402
from explorer.scores import exact_score  # noqa: E402
from explorer.straightness import FEW_STEPS, quality_vs_steps, straightness  # noqa: E402

LINEAR, VP = get_process("linear"), get_process("vp_linear")


def _ed(score_fn, sde, ds, n_steps=100):
    x_init = sde.prior_sample((2000, ds.dim), generator=torch.Generator().manual_seed(1))
    x = sample("pf_heun", score_fn, sde, x_init, n_steps=n_steps).x
    ref, _ = ds.sample(2000, generator=torch.Generator().manual_seed(2))
    return energy_distance(x, ref)


def time_to_target(ds, sde, parameterisation, target=0.005, every=50):
    """((step, training seconds) when ED <= target first, or None; the ED then, or at the end) at the live defaults,
    evaluation time excluded; training stops at the first hit."""
    config = ScoreNetConfig.for_data(ds, sde, conditional=False, parameterisation=parameterisation)
    hit, eval_s, eds = None, 0.0, []

    def callback(p):
        nonlocal hit, eval_s
        train_s = p.elapsed_s - eval_s          # the loop's clock includes the earlier evaluations
        t0 = time.perf_counter()
        ed = _ed(p.model.score_fn(), sde, ds)
        eds.append(ed)
        eval_s += time.perf_counter() - t0
        if hit is None and ed <= target:
            hit = (p.step, train_s)
            return False
    train(config, ds, sde, seed=0, device="cpu", report_every=every, callback=callback)
    return hit, eds[-1]


def bench_training(names):
    print("## 1. Training to ED <= 0.005 (live defaults: 1,000 steps x 1,024, lr 1e-2; one thread)\n")
    print("| dataset | flow matching (linear, u): step, s | ED then | score matching (VP, eps): step, s | ED then |")
    print("|---|---|---|---|---|")
    for name in names:
        ds = get_dataset(name)
        row = [name]
        for sde, param in ((LINEAR, "u"), (VP, "eps")):
            hit, final = time_to_target(ds, sde, param)
            row += ["not reached" if hit is None else f"{hit[0]}, {hit[1]:.1f} s", f"{final:.4f}"]
        print("| " + " | ".join(row) + " |", flush=True)


def bench_ot():
    print("\n## 2. Minibatch OT at a batch of 1,024 (ring8)\n")
    print("| block | assignment time per step (ms) | mean pair cost E‖x0 − ε‖² |")
    print("|---|---|---|")
    ds = get_dataset("ring8")
    g = torch.Generator().manual_seed(0)
    x0, _ = ds.sample(1024, generator=g)
    eps = torch.randn(1024, 2, generator=g)
    print(f"| independent | 0 | {pair_cost(x0, eps):.3f} |")
    for block in (64, 128, 256, 512, 1024):
        t0 = time.perf_counter()
        for _ in range(5):
            paired = ot_pair(x0, eps, block=block)
        ms = (time.perf_counter() - t0) / 5 * 1000
        print(f"| {block} | {ms:.1f} | {pair_cost(x0, paired):.3f} |", flush=True)


def steps_to(eds, bar=0.01):
    for k, e in zip(FEW_STEPS, eds):
        if e <= bar:
            return str(k)
    return f"> {FEW_STEPS[-1]}"


def bench_couplings(names):
    print("\n## 3. Quality at 1-16 Euler steps per coupling (1,000 training steps each; 1,000 samples vs 2,000)\n")
    print("| dataset | flow | training s | straightness S | " + " | ".join(f"ED {k}" for k in FEW_STEPS)
          + " | steps to ED ≤ 0.01 |")
    print("|---|---|---|---|" + "---|" * len(FEW_STEPS) + "---|")
    for name in names:
        ds = get_dataset(name)
        z = torch.randn(1000, ds.dim, generator=torch.Generator().manual_seed(3))
        ref, _ = ds.sample(2000, generator=torch.Generator().manual_seed(4))
        cfg = velocity_config(ds, LINEAR)
        flows, rows = {}, []
        for coupling in ("independent", "minibatch_ot", "reflow"):
            t0 = time.perf_counter()
            flows[coupling] = train_flow(ds, LINEAR, coupling=coupling, previous=flows.get("independent"), config=cfg,
                                         seed=0, device="cpu", report_every=250)
            rows.append((coupling, flows[coupling].score_fn(), LINEAR, time.perf_counter() - t0))
        rows.append(("diffusion PF-ODE (shipped VP net)", load_pretrained(name, "vp_linear").score_fn(), VP, None))
        rows.append(("exact marginal flow (linear)", exact_score(ds, LINEAR), LINEAR, None))
        for label, fn, sde, secs in rows:
            x_init = sde.prior_std() * z
            eds = quality_vs_steps(fn, sde, x_init, ref)
            s = straightness(fn, sde, x_init[:300], n_steps=100).value
            print(f"| {name} | {label} | {'' if secs is None else f'{secs:.1f}'} | {s:.3f} | "
                  + " | ".join(f"{e:.4f}" for e in eds) + f" | {steps_to(eds)} |", flush=True)


def bench_sde():
    print("\n## 4. SDE samplers on the linear path (exact score, ring8, 2,000 samples)\n")
    print("| process | sampler | 100 steps | 250 steps | 1,000 steps |")
    print("|---|---|---|---|---|")
    ds = get_dataset("ring8")
    ref, _ = ds.sample(2000, generator=torch.Generator().manual_seed(2))
    for sde in (LINEAR, VP):
        x_init = sde.prior_sample((2000, 2), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        for name in ("reverse_sde", "pc"):
            eds = []
            for k in (100, 250, 1000):
                x = sample(name, exact_score(ds, sde), sde, x_init, n_steps=k, generator=torch.Generator().manual_seed(5)).x
                eds.append(energy_distance(x, ref))
            print(f"| {sde.name} | {name} | " + " | ".join(f"{e:.4f}" for e in eds) + " |", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="*", default=["ring8", "moons", "checkerboard"])
    ap.add_argument("--parts", nargs="*", default=["1", "2", "3", "4"])
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if "2" in args.parts:
        bench_ot()
    if "4" in args.parts:
        bench_sde()
    if "3" in args.parts:
        bench_couplings(args.datasets[:2])
    if "1" in args.parts:
        bench_training(args.datasets)


if __name__ == "__main__":
    main()
