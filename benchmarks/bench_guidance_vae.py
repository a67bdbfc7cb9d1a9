"""Guidance and the VAE baseline on the 2D toys: training times at the default settings (targets < 20 s each on the
2-core CPU), the classifier's accuracy against the Bayes classifier, the VAE's held-out -ELBO next to the diffusion
model's PF-ODE NLL (nats per sample), sample quality (energy distance) and the fidelity-vs-diversity sweep.
Prints markdown for benchmarks/RESULTS_guidance_vae.md.

    python benchmarks/bench_guidance_vae.py [--datasets ring8,asym3,moons,pinwheel] [--n-nll 500]
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")      # set before torch loads OpenMP: see RESULTS_training.md

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.nn.classifier import DEFAULTS as CLF_DEFAULTS  # noqa: E402
from explorer.nn.classifier import classifier_accuracy, train_classifier  # noqa: E402
from explorer.distributions import get_dataset  # noqa: E402
from explorer.guidance import (classifier_guided_score, exact_classifier, guidance_sweep,  # noqa: E402
                               network_cfg_score)
from explorer.likelihood import log_likelihood  # noqa: E402
from explorer.metrics import energy_distance  # noqa: E402
from explorer.pretrained import load_pretrained  # noqa: E402
from explorer.samplers import sample  # noqa: E402
from explorer.process import get_process  # noqa: E402
from explorer.nn.vae import DEFAULTS as VAE_DEFAULTS  # noqa: E402
from explorer.nn.vae import iwae_nll, negative_elbo, train_vae, vae_sample  # noqa: E402
from machine import machine  # noqa: E402  (benchmarks/machine.py)

N = 2000
TS = (0.01, 0.1, 0.3)


def bayes_accuracy(ds, sde, t: float, n: int = N, seed: int = 5) -> float:
    g = torch.Generator().manual_seed(seed)
    x0, y = ds.sample(n, generator=g, dtype=torch.float64)
    tt = torch.full((n,), t, dtype=torch.float64)
    x_t, _ = sde.marginal_sample(x0, tt, generator=g)
    return float((ds.mixture.class_log_posterior(x_t, tt, sde).argmax(1) == y).double().mean())


def classifier_table(names: list[str]) -> dict:
    print(f"Classifier defaults: {CLF_DEFAULTS}\n")
    print("| dataset | train s | last report: CE, batch acc (all t) | acc t=0.01 / 0.1 / 0.3 | Bayes acc t=0.01 / 0.1 / 0.3 |")
    print("|---|---|---|---|---|")
    sde, out = get_process("vp_linear"), {}
    for name in names:
        ds = get_dataset(name)
        t0 = time.perf_counter()
        clf = train_classifier(ds, sde, seed=0, device="cpu")
        dt = time.perf_counter() - t0
        acc = [classifier_accuracy(clf, ds, t, n=N, generator=torch.Generator().manual_seed(5)) for t in TS]
        bayes = " / ".join(f"{bayes_accuracy(ds, sde, t):.3f}" for t in TS) if ds.mixture is not None else "-"
        print(f"| {name} | {dt:.1f} | {clf.losses[-1]:.3f}, {clf.accuracies[-1]:.3f} | "
              f"{' / '.join(f'{a:.3f}' for a in acc)} | {bayes} |", flush=True)
        out[name] = clf
    print()
    return out


def vae_table(names: list[str], n_nll: int) -> None:
    print(f"VAE defaults: {VAE_DEFAULTS}, width 128, depth 2, latent 2, learned per-dimension sigma_x, KL warm-up "
          f"over steps // 3\n")
    print(f"NLL columns: nats per sample on {n_nll} held-out points (lower is better). -ELBO: 16 draws of z per point; "
          "IWAE: K = 256. Diffusion: PF-ODE log p_{t_min} (RK45, rtol = atol = 1e-5, exact divergence) of the "
          "shipped vp_linear model. Exact: -log p_0 of the mixture (none for shapes).\n")
    print(f"Energy distance to {N} fresh data points: VAE samples (with decoder noise, and decoder means only), "
          f"diffusion samples (PF-ODE Heun, 100 steps), and the noise floor (a second fresh data set); all N = {N}.\n")
    print("| dataset | VAE train s | final ELBO (train) | VAE -ELBO | VAE IWAE NLL | diffusion NLL | exact NLL "
          "| ED VAE | ED VAE means | ED diffusion | ED floor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        ds = get_dataset(name)
        t0 = time.perf_counter()
        vae = train_vae(ds, seed=0, device="cpu")
        dt = time.perf_counter() - t0
        held, _ = ds.sample(n_nll, generator=torch.Generator().manual_seed(123))
        nelbo = float(negative_elbo(vae, held, generator=torch.Generator().manual_seed(0)).mean())
        iw = float(iwae_nll(vae, held, n_samples=256, generator=torch.Generator().manual_seed(0)).mean())
        model = load_pretrained(name)
        sde = model.sde
        nll = float(-log_likelihood(model.score_fn(), sde, held.double()).log_prob.mean())
        exact = f"{float(-ds.mixture.log_prob(held.double()).mean()):.3f}" if ds.mixture is not None else "-"
        data, _ = ds.sample(N, generator=torch.Generator().manual_seed(2))
        floor_set, _ = ds.sample(N, generator=torch.Generator().manual_seed(3))
        xv = vae_sample(vae, N, torch.Generator().manual_seed(4))
        xm = vae_sample(vae, N, torch.Generator().manual_seed(4), mean_only=True)
        x_init = sde.prior_sample((N, ds.dim), generator=torch.Generator().manual_seed(1))
        xd = sample("pf_heun", model.score_fn(), sde, x_init, n_steps=100).x
        eds = [energy_distance(v, data) for v in (xv, xm, xd, floor_set)]
        print(f"| {name} | {dt:.1f} | {vae.elbos[-1]:.3f} | {nelbo:.3f} | {iw:.3f} | {nll:.3f} | {exact} | "
              + " | ".join(f"{e:.4f}" for e in eds) + " |", flush=True)
    print()


def sweep_table(name: str, clf, gammas=(0.0, 1.0, 2.0, 4.0, 8.0)) -> None:
    """Fidelity vs diversity for class 0 of `name`: classifier guidance (shipped unconditional score + trained and exact
    classifiers) and CFG (the shipped conditional network), all from the same 2,000 noise points."""
    ds, model = get_dataset(name), load_pretrained(name)
    sde, y = model.sde, 0
    ref = ds.sample(8000, generator=torch.Generator().manual_seed(1))
    x_init = sde.prior_sample((N, ds.dim), generator=torch.Generator().manual_seed(0))
    makers = {"CFG (network)": lambda g: network_cfg_score(model, y, g),
              "classifier guidance (trained p_phi)": lambda g: classifier_guided_score(model.score_fn(),
                                                                                       clf.log_classifier(), y, g)}
    if ds.mixture is not None:
        makers["classifier guidance (exact p_t(y|x), exact score)"] = lambda g: classifier_guided_score(
            lambda x, t: ds.mixture.score(x, t, sde), exact_classifier(ds.mixture, sde), y, g)
    print(f"Fidelity vs diversity on {name}, class {y}: PF-ODE Heun 50 steps, N = {N}; accuracy = exact posterior "
          "(mixtures) or nearest labelled point; diversity = 5-NN recall of the class's data; distance = energy "
          "distance to the class's data.\n")
    print("| guidance | " + " | ".join(f"gamma={g:g}" for g in gammas) + " | time s |")
    print("|---|" + "---|" * (len(gammas) + 1))
    for label, make in makers.items():
        t0 = time.perf_counter()
        rows = guidance_sweep(make, gammas, sde, x_init, y, ds, ref, n_steps=50)
        cells = [f"{r['accuracy']:.3f} / {r['diversity']:.3f} / {r['distance']:.4f}" for r in rows]
        print(f"| {label} (acc / div / dist) | " + " | ".join(cells) + f" | {time.perf_counter() - t0:.1f} |",
              flush=True)
    print()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="ring8,asym3,grid25,moons,pinwheel,checkerboard")
    ap.add_argument("--n-nll", type=int, default=500)
    ap.add_argument("--sweep", default="asym3,moons")
    a = ap.parse_args()
    names = a.datasets.split(",")
    print(machine(), "\n")
    clfs = classifier_table(names)
    vae_table(names, a.n_nll)
    for name in a.sweep.split(","):
        clf = clfs.get(name) or train_classifier(get_dataset(name), get_process("vp_linear"), seed=0, device="cpu")
        sweep_table(name, clf)


if __name__ == "__main__":
    main()
