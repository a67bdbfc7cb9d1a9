"""What a request will cost, estimated from its own numbers before it starts: seconds on one core of a 2-core CPU.

The constants were measured on the 2-core machines this app is built on; benchmarks/bench_worst.py times the worst
in-range request of every endpoint (a refusal quotes its estimate) and benchmarks/RESULTS.md compares estimates with
measured times near the limit. They err on the expensive side: an estimate is a refusal threshold, not a promise.

    cost = score evaluations x particles x (per-particle cost of one evaluation)
    per-particle cost = mixture: K components x D dims x S_COMPONENT; network: P weights x S_WEIGHT (+ a fixed part)
"""
from __future__ import annotations

import math
import os

import torch

BUDGET_S = float(os.environ.get("EXPLORER_BUDGET_S", "30"))    # no request may be estimated above this (seconds)
S_COMPONENT = 6e-9          # one particle against one mixture component, per data dimension (8-9 ns seen at D = 2)
S_WEIGHT = 6e-11            # one particle through one network weight, forward (30-80 ps seen)
S_FIXED = 5e-7              # per particle and evaluation: the rest of a sampler step (noise, updates, checks)
S_TRAIN_WEIGHT = 1.5e-10    # one training sample through one weight, forward + backward + Adam (70-115 ps seen)
S_TRAIN_STEP = 2e-3         # per training step: sampling the batch, the optimiser, the EMA, the reports
S_DIGITS_IMAGE = 5e-4       # one 8x8 digit through the shipped UNet (0.4 ms seen at 36 images)
RK45_TYPICAL_NFE = 600      # an adaptive solve's evaluations (the shipped networks need ~500; its cap is far higher)


def mixture_cost(mixture) -> float:
    """Seconds per particle for one exact score (or log-density) evaluation of a mixture with K components in D dims."""
    k, d = mixture.means.shape
    return S_FIXED + S_COMPONENT * k * max(d, 2)


def network_cost(net: torch.nn.Module) -> float:
    """Seconds per particle for one forward pass of a network."""
    return S_FIXED + S_WEIGHT * sum(p.numel() for p in net.parameters())


def training_cost(net: torch.nn.Module, *, steps: int, batch_size: int) -> float:
    """Seconds for `steps` Adam steps of batch_size samples through net."""
    weights = sum(p.numel() for p in net.parameters())
    return steps * (S_TRAIN_STEP + S_TRAIN_WEIGHT * batch_size * weights)


def sampler_nfe(spec, n_steps: int | None) -> int:
    """Score evaluations of one run of a registry sampler on n_steps grid steps (its default when None)."""
    steps = spec.default_steps if n_steps is None else n_steps
    if not spec.uses_grid and spec.name == "pf_rk45":
        return max(RK45_TYPICAL_NFE, steps)
    return int(math.ceil(spec.nfe_per_step * steps))


def likelihood_cost(n_points: int, rtol: float, per_particle: float, *, network: bool, max_nfe: int) -> float:
    """Seconds for the PF-ODE log-likelihood of n_points: each evaluation also takes the exact divergence by
    autograd in float64 (about twice a plain evaluation, seen: 44 s for 2,200 points at rtol 1e-7 with a network)."""
    return 2.0 * min(max_nfe, likelihood_nfe(rtol, network=network)) * n_points * per_particle


def likelihood_nfe(rtol: float, *, network: bool) -> int:
    """Evaluations of the adaptive PF-ODE likelihood solve at tolerance rtol (RK45: steps ~ rtol^(-1/5)); seen: the
    shipped networks ~2,600 at rtol 1e-7, exact mixture scores <= ~600."""
    base = 2600 if network else 600
    return int(math.ceil(base * (1e-7 / rtol) ** 0.2))


def check_budget(seconds: float, what: str, lower: str, *, budget_s: float = BUDGET_S) -> float:
    """seconds if within budget_s, else a ValueError that says what to lower (the estimate and the limit in it)."""
    if not seconds <= budget_s:
        raise ValueError(f"{what} would take about {seconds:.0f} s on this server (limit {budget_s:.0f} s per "
                         f"request): lower {lower}.")
    return seconds
