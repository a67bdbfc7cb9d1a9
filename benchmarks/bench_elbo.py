"""The ELBO term by term (#13): its cost, the bound against N for the exact score, eps- vs likelihood weighting, and the
digits UNet's -ELBO in bits/dim. Prints markdown tables for benchmarks/RESULTS_elbo.md.

    python benchmarks/bench_elbo.py [--sections time,levels,weighting,digits] [--toys moons,asym3,ring8,pinwheel]

time       one ELBO of 2,000 points over 1,000 levels with the shipped moons MLP (one thread; the target: < 3 s)
levels     E[-ELBO] ± SE for N = 10, 30, 100, 300, 1,000 with the exact mixture score, both variance choices, next to
           the exact NLL (4,000 held-out points; paired gap = -ELBO(x0) - NLL(x0))
weighting  per toy, a net trained live (explorer.nn.training.DEFAULTS) with the eps loss and with likelihood weighting:
           energy distance (PF-ODE Heun 100 steps, 2,000 vs 2,000), PF-ODE NLL (300 points, rtol 1e-4), -ELBO (N = 1,000,
           beta, 1,000 points), next to a VAE trained live (explorer.nn.vae DEFAULTS) on the same data: -ELBO, same points
digits     the shipped digits UNet's -ELBO on held-out digits with Ho et al.'s discretised decoder (a bound on the discrete
           NLL of the 17-level pixels), and its PF-ODE bits/dim of uniformly dequantised digits (x + u/8, u ~ U[-1/2, 1/2)^64:
           -log P(p) <= E_u[-log p_x(x + u/8)] - 64 log 8; Heun, exact divergence)
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.distributions import DATASETS  # noqa: E402
from explorer.elbo import elbo_terms  # noqa: E402
from explorer.likelihood import log_likelihood, velocity_and_divergence  # noqa: E402
from explorer.metrics import energy_distance  # noqa: E402
from explorer.nn.networks import ScoreNetConfig  # noqa: E402
from explorer.nn.training import train  # noqa: E402
from explorer.nn.vae import negative_elbo, train_vae  # noqa: E402
from explorer.pretrained import load_pretrained  # noqa: E402
from explorer.process import get_process  # noqa: E402
from explorer.samplers import sample  # noqa: E402
from explorer.scores import exact_score  # noqa: E402
from machine import machine  # noqa: E402

LEVELS = (10, 30, 100, 300, 1000)


def section_time() -> None:
    model = load_pretrained("moons")
    sde = model.sde
    x0, _ = DATASETS["moons"].sample(2000, generator=torch.Generator().manual_seed(0))
    fn = model.score_fn()
    elbo_terms(fn, sde, x0[:100], 10)                       # warm-up
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        terms = elbo_terms(fn, sde, x0, 1000, generator=torch.Generator().manual_seed(1))
        best = min(best, time.perf_counter() - t0)
    mean, se = terms.mean_and_stderr()
    threads = f"{torch.get_num_threads()} thread(s), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}"
    print(f"\n### Cost\n\nOne -ELBO of 2,000 moons points over 1,000 levels with the shipped MLP (3 x 128), {threads}: "
          f"**{best:.2f} s** (best of 3; 2 M network evaluations); -ELBO = {mean:.3f} ± {se:.3f} nats.\n")


def section_levels() -> None:
    print("\n### The bound against N (exact mixture score)\n")
    print("| data | process | variance | exact NLL | " + " | ".join(f"N = {n}" for n in LEVELS) + " |")
    print("|---|---|---|---|" + "---|" * len(LEVELS))
    for name in ("two_modes_1d", "ring8", "asym3"):
        ds = DATASETS[name]
        for proc in ("vp_linear", "ddpm_discrete", "ve"):
            sde = get_process(proc)
            x0, _ = ds.sample(4000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
            nll = -ds.exact().log_prob(x0, 0.0, sde)
            fn = exact_score(ds, sde)
            for variance in ("beta", "posterior"):
                cells = []
                for n in LEVELS:
                    terms = elbo_terms(fn, sde, x0, n, variance=variance, generator=torch.Generator().manual_seed(2))
                    gap = terms.per_sample - nll
                    cells.append(f"{float(terms.per_sample.mean()):.3f} (gap {float(gap.mean()):+.3f} ± "
                                 f"{float(gap.std() / math.sqrt(gap.numel())):.3f})")
                sym = "β" if variance == "beta" else "β̃"
                print(f"| {name} | {proc} | {sym} | {float(nll.mean()):.3f} | " + " | ".join(cells) + " |", flush=True)


def section_weighting(toys: list[str]) -> None:
    print("\n### eps loss vs likelihood weighting (trained live, DEFAULTS), and a VAE on the same data\n")
    print("| data | weighting | train s | ED samples | ED floor | PF-ODE NLL | -ELBO (N = 1,000, β) | paired change of -ELBO | "
          "VAE -ELBO | exact NLL |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in toys:
        ds, sde = DATASETS[name], get_process("vp_linear")
        held, _ = ds.sample(1000, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
        ref, _ = ds.sample(2000, generator=torch.Generator().manual_seed(12))
        ref2, _ = ds.sample(2000, generator=torch.Generator().manual_seed(13))
        floor = float(energy_distance(ref, ref2))
        exact_nll = f"{float(-ds.exact().log_prob(held, 0.0, sde).mean()):.3f}" if ds.is_mixture else "—"
        t0 = time.perf_counter()
        vae = train_vae(ds, seed=0)
        vae_s = time.perf_counter() - t0
        vae_nll = float(negative_elbo(vae, held.float(), generator=torch.Generator().manual_seed(14)).mean())
        first = None
        for weighting in (None, "likelihood"):
            t0 = time.perf_counter()
            model = train(ScoreNetConfig.for_data(ds, sde), ds, sde, seed=0, weighting=weighting)
            secs = time.perf_counter() - t0
            fn = model.score_fn()
            x = sample("pf_heun", fn, sde, sde.prior_sample((2000, ds.dim), generator=torch.Generator().manual_seed(15)),
                       n_steps=100).x
            ed = float(energy_distance(x, ref))
            ode = float(-log_likelihood(fn, sde, held[:300], rtol=1e-4, atol=1e-4).log_prob.double().mean())
            terms = elbo_terms(fn, sde, held, 1000, generator=torch.Generator().manual_seed(16))
            neg_elbo = terms.mean_and_stderr()
            change = "—"
            if first is None:
                first = terms.per_sample
            else:
                diff = terms.per_sample - first          # the same held-out points and the same x_i draws
                change = f"{float(diff.mean()):+.3f} ± {float(diff.std() / math.sqrt(diff.numel())):.3f}"
            label = "eps (default)" if weighting is None else "likelihood"
            print(f"| {name} | {label} | {secs:.1f} | {ed:.4f} | {floor:.4f} | {ode:.3f} | {neg_elbo[0]:.3f} ± "
                  f"{neg_elbo[1]:.3f} | {change} | {vae_nll:.3f} (trained {vae_s:.0f} s) | {exact_nll} |", flush=True)


def _pf_ode_nll(score_fn, sde, x: torch.Tensor, n_steps: int = 60) -> torch.Tensor:
    """-log p_{t_min}(x) by the PF-ODE with exact divergence, Heun on a uniform grid t_min -> T; [N, ...] -> [N] nats."""
    ts = torch.linspace(sde.t_min, sde.T, n_steps + 1, dtype=torch.float64)
    delta = torch.zeros(x.shape[0], dtype=torch.float64)
    for a, b in zip(ts[:-1], ts[1:]):
        h = float(b - a)
        v1, d1 = velocity_and_divergence(score_fn, sde, x, torch.full((x.shape[0],), float(a), dtype=x.dtype))
        x_e = x + h * v1
        v2, d2 = velocity_and_divergence(score_fn, sde, x_e, torch.full((x.shape[0],), float(b), dtype=x.dtype))
        x = x + 0.5 * h * (v1 + v2)
        delta = delta + 0.5 * h * (d1 + d2).double()
    return -(sde.prior_log_prob(x.double()) + delta)


def section_digits(n_digits: int) -> None:
    from explorer.digits import digits_split
    from explorer.nn.unet import shipped_digits_model

    model = shipped_digits_model()
    sde, fn = model.sde, model.score_fn()
    held = digits_split("heldout")
    x = held.x[:n_digits].double()                                          # on the grid p / 8 - 1, p = 0..16
    d = x[0].numel()
    print(f"\n### Digits UNet, {n_digits} held-out digits: bits/dim of the 17-level pixels (lower is better)\n")
    print("| estimate | nats per image | bits/dim | seconds |")
    print("|---|---|---|---|")
    for n in (100, 1000):
        t0 = time.perf_counter()
        terms = elbo_terms(fn, sde, x, n, variance="beta", generator=torch.Generator().manual_seed(1),
                           bin_width=1 / 8, data_range=(-1.0, 1.0))
        mean, se = terms.mean_and_stderr()
        print(f"| -ELBO, N = {n}, σ²ᵢ = βᵢ, Ho's discretised decoder (bins of width 1/8) | {mean:.1f} ± {se:.1f} | "
              f"{terms.bits_per_dim(mean):.3f} | {time.perf_counter() - t0:.0f} |", flush=True)
    k = min(n_digits, 20)
    g = torch.Generator().manual_seed(0)
    x_deq = x[:k] + (torch.rand(x[:k].shape, generator=g, dtype=torch.float64) - 0.5) / 8   # uniform within each bin
    t0 = time.perf_counter()
    nll = _pf_ode_nll(fn, sde, x_deq.float()).double() + d * math.log(8.0)    # density of u in the bin: p_x * (1/8)^D
    print(f"| PF-ODE, Heun 60 steps, uniformly dequantised (x + u/8, u ~ U[-1/2, 1/2)^64), first {k} digits | "
          f"{float(nll.mean()):.1f} ± {float(nll.std() / math.sqrt(k)):.1f} | {float(nll.mean()) / (d * math.log(2)):.3f} | "
          f"{time.perf_counter() - t0:.0f} |")
    print(f"\n(uniform over the 17 levels: log2 17 = {math.log2(17):.3f} bits/dim)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", default="time,levels,weighting,digits")
    ap.add_argument("--toys", default="moons,asym3,ring8,pinwheel")
    ap.add_argument("--digits", type=int, default=100, help="held-out digits for the digits section")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"Machine: {machine()}")
    sections = args.sections.split(",")
    if "time" in sections:
        section_time()
    if "levels" in sections:
        section_levels()
    if "weighting" in sections:
        section_weighting(args.toys.split(","))
    if "digits" in sections:
        section_digits(args.digits)


if __name__ == "__main__":
    main()
