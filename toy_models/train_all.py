"""Regenerate every pretrained toy model deterministically: python toy_models/train_all.py [--jobs 2] [--only NAME ...].

One model per built-in dataset under vp_linear, and one per 2D dataset under ve and under linear (a velocity network,
flow matching with independent pairs), written to
toy_models/<dataset>__<process>/{config.json, weights.pt}. Class-conditional with label dropout (for guidance).
Plus a deliberately weak model per labelled 2D dataset under vp_linear (smaller and trained for 1/4 of the steps;
the guiding model of autoguidance, Karras et al. 2024), in toy_models/weak/<dataset>__vp_linear/.
Plus a VAE per built-in dataset (explorer.nn.vae DEFAULTS), the baseline the VAE tab and the ELBO table show before a
session trains its own, in toy_models/vae/<dataset>/.
Each model is trained on one thread (so --jobs workers use that many cores); the result depends only on the seed.
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from explorer.distributions import DATASETS  # noqa: E402
from explorer.nn.networks import ScoreNetConfig  # noqa: E402
from explorer.process import get_process  # noqa: E402
from explorer.nn.training import save_checkpoint, train  # noqa: E402

OUT = ROOT / "toy_models"
SEED = 0
NET = dict(width=128, depth=3)                       # see explorer.nn.networks.ScoreNetConfig
# the settings the shipped models were trained with (their config.json); the live defaults: explorer.nn.training.DEFAULTS
TRAIN = dict(steps=4000, lr=3e-3, batch_size=1024, ema_decay=0.995, p_uncond=0.1, warmup=100)
PREDICTS = {"linear": "u"}                          # the linear path's nets predict the velocity u = eps - x_0
WEAK_OUT = OUT / "weak"
VAE_OUT = OUT / "vae"
WEAK_NET = dict(width=64, depth=2)                   # the weak model: half the width, one block fewer ...
WEAK_TRAIN = dict(TRAIN, steps=1000, warmup=50)      # ... and 1/4 of the training steps


def jobs() -> list[tuple[str, str]]:
    """(dataset, process) pairs: every dataset under vp_linear, the 2D ones also under ve."""
    out = [(name, "vp_linear") for name in DATASETS]
    out += [(name, "ve") for name, d in DATASETS.items() if d.dim == 2]
    out += [(name, "linear") for name, d in DATASETS.items() if d.dim == 2]     # velocity networks (flow matching)
    return out


def weak_jobs() -> list[tuple[str, str]]:
    """(dataset, process) pairs of the weak models: every labelled 2D dataset under vp_linear."""
    return [(name, "vp_linear") for name, d in DATASETS.items() if d.dim == 2 and d.num_classes > 1]


def train_one(dataset: str, process: str, weak: bool = False) -> tuple[str, float, float]:
    """Train and save one model (weak: the small, briefly trained one); returns (folder name, seconds, final loss)."""
    torch.set_num_threads(1)
    ds, sde = DATASETS[dataset], get_process(process)
    config = ScoreNetConfig.for_data(ds, sde, **(WEAK_NET if weak else NET), parameterisation=PREDICTS.get(process, "eps"))
    t0 = time.perf_counter()
    model = train(config, ds, sde, seed=SEED, device="cpu", report_every=50 if weak else 250,
                  **(WEAK_TRAIN if weak else TRAIN))
    seconds = time.perf_counter() - t0
    folder = save_checkpoint(model, (WEAK_OUT if weak else OUT) / f"{dataset}__{process}")
    return ("weak/" if weak else "") + folder.name, seconds, model.losses[-1]


def train_vae_one(dataset: str) -> tuple[str, float, float]:
    """Train and save the shipped VAE of a dataset; returns (folder name, seconds, final -ELBO)."""
    from explorer.nn.vae import save_vae, train_vae

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    model = train_vae(DATASETS[dataset], seed=SEED, device="cpu")
    seconds = time.perf_counter() - t0
    save_vae(model, VAE_OUT / dataset)
    return f"vae/{dataset}", seconds, -model.elbos[-1]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (one core each)")
    ap.add_argument("--only", nargs="*", help="dataset names to train (default: all)")
    ap.add_argument("--weak-only", action="store_true", help="train only the weak models (autoguidance)")
    ap.add_argument("--vae-only", action="store_true", help="train only the shipped VAEs")
    args = ap.parse_args(argv)
    chosen = lambda name: not args.only or name in args.only                 # noqa: E731
    todo = [] if args.weak_only or args.vae_only else [(train_one, *j, False) for j in jobs() if chosen(j[0])]
    todo += [] if args.vae_only else [(train_one, *j, True) for j in weak_jobs() if chosen(j[0])]
    todo += [] if args.weak_only else [(train_vae_one, name) for name in DATASETS if chosen(name)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(*j) for j in todo]
        for f in futures:
            name, seconds, loss = f.result()
            print(f"{name:32s} {seconds:6.1f} s   final loss {loss:.4f}", flush=True)
    print(f"trained {len(todo)} models in {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
