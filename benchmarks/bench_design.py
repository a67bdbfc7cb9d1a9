"""The sampling design space (#15): NFE to reach the energy-distance noise floor per sampler and step grid (two
mixtures with the exact score, two shipped networks), the same across processes, and autoguidance against CFG.

    python benchmarks/bench_design.py [--quick]

Noise floor: 2,000 samples count as "at the floor" when their energy distance to 2,000 fresh data points is below
6.63 x its null mean 2 delta / n (the acceptance rule of tests/_sampler_utils.py: a perfect sampler fails it in < 1% of
runs); a cell gives the NFE of the first rung of a ladder of step counts (same x_T) below that bound. The energy
distance cannot resolve much finer (a tighter bound is decided by the one fixed sample set a deterministic solver
converges to), so a second table measures the discretisation itself: the NFE at which a deterministic sampler's
samples lie within a mean distance of 0.01 of the converged PF-ODE solution from the same x_T (Heun, 1,024 steps
uniform in log-SNR).
Timing figures are wall-clock on whatever machine runs this (one torch thread).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from explorer.compare import run_samplers  # noqa: E402
from explorer.distributions import get_dataset  # noqa: E402
from explorer.guidance import (autoguided_score, blurred_mixture, cfg_score, exact_conditional_score,  # noqa: E402
                               guidance_figures, network_autoguided_score, network_cfg_score, support_density)
from explorer.metrics import energy_distance  # noqa: E402
from explorer.pretrained import load_pretrained, load_weak  # noqa: E402
from explorer.process import PROCESSES, get_process  # noqa: E402
from explorer.samplers import Grid, get_sampler, sample  # noqa: E402
from explorer.scores import exact_score, mixture_score  # noqa: E402

K_ED, N = 6.63, 2000
LADDER = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
SAMPLERS = ("ddim", "pf_heun", "dpm_solver_pp_2m", "edm")
GRIDS = {"uniform t": Grid("uniform"), "uniform λ": Grid("log_snr"), "Karras ρ=7": Grid("karras", rho=7.0),
         "Karras ρ=3": Grid("karras", rho=3.0), "quadratic": Grid("quadratic")}


def null_mean(ds) -> float:
    big, _ = ds.sample(4000, generator=torch.Generator().manual_seed(12345), dtype=torch.float64)
    delta = torch.cdist(big, big).sum() / (big.shape[0] * (big.shape[0] - 1))
    return float(2 * delta / N)


def nfe_to_floor(name, score_fn, sde, ds, grid, x_init, target, bounds, opts=None):
    """(NFE of the first ladder step count below each bound, None if never; best ED seen); bounds decreasing."""
    best, found = float("inf"), [None] * len(bounds)
    for steps in LADDER:
        run = run_samplers([name], score_fn, sde, x_init, seed=0, n_steps=steps, grid=grid,
                           options={name: opts or {}})[0]
        ed = energy_distance(run.result.x.double(), target)
        best = min(best, ed)
        for k, b in enumerate(bounds):
            if found[k] is None and ed < b:
                found[k] = run.result.nfe
        if found[-1] is not None:
            break
    return found, best


def cell(found, best) -> str:
    out = " / ".join("—" if f is None else str(f) for f in found)
    return out + (f" (best {best:.4f})" if found[-1] is None else "")


def floor_table(label, score_fn, sde, ds, *, samplers=SAMPLERS, grids=GRIDS, extra=()):
    x_init = sde.prior_sample((N, ds.dim), generator=torch.Generator().manual_seed(0))
    target, _ = ds.sample(N, generator=torch.Generator().manual_seed(777), dtype=torch.float64)
    bounds = (K_ED * null_mean(ds),)
    print(f"\n#### {label} (ED < {bounds[0]:.4f})\n")
    print("| sampler | " + " | ".join(grids) + " |")
    print("|---|" + "---|" * len(grids))
    rows = [(s, {}) for s in samplers] + list(extra)
    for name, opts in rows:
        cells = []
        for g in grids.values():
            cells.append(cell(*nfe_to_floor(name, score_fn, sde, ds, g, x_init, target, bounds, opts)))
        tag = name + (f" S_churn={opts['s_churn']:g}" if opts else "")
        print(f"| {tag} | " + " | ".join(cells) + " |", flush=True)


def ode_error_table(label, score_fn, sde, ds, *, tol=0.01, samplers=("ddim", "pf_heun", "dpm_solver_pp_2m", "edm"),
                    grids=GRIDS):
    """NFE to a mean distance < tol from the converged PF-ODE solution (same x_T), per deterministic sampler and grid."""
    x_init = sde.prior_sample((N // 2, ds.dim), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ref = sample("pf_heun", score_fn, sde, x_init, n_steps=1024, spacing="log_snr").x
    print(f"\n#### {label}: NFE to a mean error < {tol:g} against the converged ODE solution\n")
    print("| sampler | " + " | ".join(grids) + " |")
    print("|---|" + "---|" * len(grids))
    for name in samplers:
        cells = []
        for g in grids.values():
            found, err = None, float("inf")
            for steps in LADDER:
                res = sample(name, score_fn, sde, x_init, n_steps=steps, spacing=g)
                err = float((res.x - ref).norm(dim=1).mean())
                if err < tol:
                    found = res.nfe
                    break
            cells.append(str(found) if found is not None else f"— ({err:.3f} at {res.nfe})")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def process_table(ds_name="ring8"):
    ds = get_dataset(ds_name)
    grids = {"DDIM, uniform t": ("ddim", Grid("uniform")), "DDIM, Karras ρ=7": ("ddim", Grid("karras")),
             "EDM, uniform λ": ("edm", Grid("log_snr")), "EDM, Karras ρ=7": ("edm", Grid("karras")),
             "DPM-Solver++(2M), uniform λ": ("dpm_solver_pp_2m", Grid("log_snr"))}
    print(f"\n#### Every process, exact score on {ds.label}: NFE to the floor\n")
    print("| process | " + " | ".join(grids) + " |")
    print("|---|" + "---|" * len(grids))
    target, _ = ds.sample(N, generator=torch.Generator().manual_seed(777), dtype=torch.float64)
    bounds = (K_ED * null_mean(ds),)
    for pname in PROCESSES:
        sde = get_process(pname)
        x_init = sde.prior_sample((N, ds.dim), generator=torch.Generator().manual_seed(0))
        cells = []
        for name, g in grids.values():
            cells.append(cell(*nfe_to_floor(name, exact_score(ds, sde), sde, ds, g, x_init, target, bounds)))
        print(f"| {pname} | " + " | ".join(cells) + " |", flush=True)


def guidance_table(ws=(1.0, 2.0, 3.0, 5.0)):
    sde = get_process("vp_linear")
    print("\n#### Autoguidance against CFG at the same w, same noise (EDM, 50 steps on the Karras grid, N = 1,000, "
          "class 0)\n")
    print("Cells: accuracy / k-NN recall / outside the support / class-mean shift outward / energy distance to the "
          "class. Fresh class data score 1 / 1 / ~0.01 / ~0 / ~0.001.\n")
    print("| setting | method | " + " | ".join(f"w = {w:g}" for w in ws) + " |")
    print("|---|---|" + "---|" * len(ws))
    x_init = sde.prior_sample((1000, 2), generator=torch.Generator().manual_seed(0))

    def cells(fn_of_w, ds, ref, density):
        out = []
        for w in ws:
            x = sample("edm", fn_of_w(w), sde, x_init, n_steps=50).x
            f = guidance_figures(x, 0, ds, ref, density)
            out.append(f"{f['accuracy']:.3f} / {f['recall']:.2f} / {f['outside']:.3f} / {f['shift']:+.3f} / "
                       f"{f['distance']:.4f}")
        return out

    for name in ("ring8", "grid25"):
        ds = get_dataset(name)
        ref = ds.sample(4000, generator=torch.Generator().manual_seed(1))
        density = support_density(ds, ref)
        good = exact_conditional_score(ds.mixture, sde, 0)
        weak = exact_conditional_score(blurred_mixture(ds.mixture, 0.1), sde, 0)
        uncond = mixture_score(ds.mixture, sde)
        print(f"| {name}, exact (weak: stds widened by 0.1) | CFG | "
              + " | ".join(cells(lambda w: cfg_score(uncond, good, w), ds, ref, density)) + " |")
        print("| | autoguidance | " + " | ".join(cells(lambda w: autoguided_score(good, weak, w), ds, ref, density))
              + " |", flush=True)
    for name in ("ring8", "grid25", "asym3", "moons"):
        ds, m, wk = get_dataset(name), load_pretrained(name), load_weak(name)
        ref = ds.sample(4000, generator=torch.Generator().manual_seed(1))
        density = support_density(ds, ref)
        print(f"| {name}, shipped network (weak: width 64, 1,000 steps) | CFG | "
              + " | ".join(cells(lambda w: network_cfg_score(m, 0, w), ds, ref, density)) + " |")
        print("| | autoguidance | " + " | ".join(cells(lambda w: network_autoguided_score(m, wk, 0, w), ds, ref,
                                                        density)) + " |", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one mixture and one network only")
    ap.add_argument("--no-guidance", action="store_true", help="skip the autoguidance table")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    sde = get_process("vp_linear")
    churn = [("edm", {"s_churn": 10.0})]
    for name in ("ring8",) if args.quick else ("ring8", "asym3"):
        ds = get_dataset(name)
        floor_table(f"{ds.label}, exact score, vp_linear: NFE to the floor", exact_score(ds, sde), sde, ds,
                    extra=churn)
    for name in ("ring8",) if args.quick else ("ring8", "moons"):
        ds, m = get_dataset(name), load_pretrained(name)
        floor_table(f"{ds.label}, shipped network, vp_linear: NFE to the floor", m.score_fn(), m.sde, ds, extra=churn)
    for name in ("ring8",) if args.quick else ("ring8", "asym3"):
        ds = get_dataset(name)
        ode_error_table(f"{ds.label}, exact score, vp_linear", exact_score(ds, sde), sde, ds)
    for name in ("ring8",) if args.quick else ("ring8", "moons"):
        ds, m = get_dataset(name), load_pretrained(name)
        ode_error_table(f"{ds.label}, shipped network, vp_linear", m.score_fn(), m.sde, ds)
    if not args.quick:
        process_table()
    if not args.no_guidance:
        guidance_table()
    print(f"\n(total {time.perf_counter() - t0:.0f} s; {get_sampler('edm').label})")


if __name__ == "__main__":
    main()
