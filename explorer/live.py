"""Training you can watch: the samples of a network in training, drawn from one fixed noise batch, and their energy
distance to the data next to the noise floor, at a bounded share of the training time.

    watch = score_watch(ds, sde, seed=0)
    train(config, ds, sde, callback=lambda p: watch(p.model, p.step, p.elapsed_s, final=p.step == p.steps))
    view = watch.view()          # steps, distances, the latest samples [n, D], the floor

The draw reuses the same x_T (score networks: a few DPM-Solver++(2M) steps of the probability-flow ODE) or the same
z and ε (a VAE), so what changes between two pictures is the network, not the noise. A draw is skipped while the time
spent drawing exceeds `share` of the training time so far (the first and the final report always draw), so the
samples slow training by at most about that share, whatever the network's size or the machine.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .metrics import energy_distance
from .process import Process
from .samplers import sample

Tensor = torch.Tensor
N_SAMPLES = 500          # the fixed noise batch (a cloud that reads as a distribution; ED's floor ~1e-3 at this size)
N_REFERENCE = 1000       # fresh data the distance is measured against
SAMPLER, SAMPLER_STEPS = "dpm_solver_pp_2m", 10    # 10 NFE: within ~2x of the floor of 25 steps on the shipped nets
SHARE = 0.15             # at most this share of training time goes to the live samples (the issue allows 20%)


@dataclass(frozen=True)
class LiveView:
    """What the page draws: the steps [K] at which samples were drawn, their energy distances [K] (NaN where the
    samples were not finite), the latest samples [n, D] (finite rows only), the step they are from, and the floor."""

    steps: tuple[int, ...]
    distances: tuple[float, ...]
    samples: np.ndarray | None
    sample_step: int
    floor: float
    reference: np.ndarray

    @property
    def last_distance(self) -> float:
        return self.distances[-1] if self.distances else math.nan


@dataclass
class SampleWatch:
    """draw(model) -> samples [n, D] from the same noise every call; scored by D²(samples, reference) against the
    floor D²(n fresh data, reference); __call__ at each training report draws when within the time share."""

    draw: Callable[[object], Tensor]
    reference: Tensor
    floor: float
    share: float = SHARE
    steps: list[int] = field(default_factory=list)
    distances: list[float] = field(default_factory=list)
    samples: np.ndarray | None = None
    sample_step: int = 0
    spent_s: float = 0.0

    def due(self, elapsed_s: float) -> bool:
        """Whether a draw now keeps the time spent on samples within `share` of the training time (elapsed - spent)."""
        return not self.steps or self.spent_s <= self.share * max(elapsed_s - self.spent_s, 0.0)

    def __call__(self, model, step: int, elapsed_s: float, *, final: bool = False) -> bool:
        """Draw and score the model's samples at this step if due (always on the first and the final call)."""
        if not (final or self.due(elapsed_s)) or (self.steps and self.steps[-1] == step):
            return False
        t0 = time.perf_counter()
        with torch.no_grad():
            x = self.draw(model).detach().float().cpu().flatten(1)
        ok = torch.isfinite(x).all(dim=1)
        d = energy_distance(x, self.reference) if bool(ok.all()) else math.nan
        self.steps.append(int(step))
        self.distances.append(float(d))
        self.samples, self.sample_step = x[ok].numpy(), int(step)
        self.spent_s += time.perf_counter() - t0
        return True

    def view(self) -> LiveView:
        """A copy of what is there now (safe to hand to another thread while training goes on)."""
        return LiveView(tuple(self.steps), tuple(self.distances), self.samples, self.sample_step, self.floor,
                        self.reference.numpy())


def _reference(data, seed: int, n: int, n_ref: int) -> tuple[Tensor, float]:
    """Fresh data [n_ref, D] to measure against, and the floor D²(n other fresh data, reference).
    data: a Dataset (fresh draws) or a tensor [M, ...] of training points (two disjoint random subsets)."""
    g = torch.Generator().manual_seed(seed + 104729)
    if isinstance(data, Tensor):
        x = data.flatten(1).float()
        perm = torch.randperm(x.shape[0], generator=g)
        n_ref = min(n_ref, x.shape[0] // 2)
        ref, other = x[perm[:n_ref]], x[perm[n_ref:n_ref + n]]
    else:
        ref, _ = data.sample(n_ref, generator=g)
        other, _ = data.sample(n, generator=g)
        ref, other = ref.flatten(1).float(), other.flatten(1).float()
    return ref, energy_distance(other, ref)


def score_watch(dataset, sde: Process, *, seed: int = 0, n: int = N_SAMPLES, n_ref: int = N_REFERENCE,
                sampler: str = SAMPLER, n_steps: int = SAMPLER_STEPS, share: float = SHARE) -> SampleWatch:
    """A watch on a score network (model.score_fn()): the PF-ODE from one x_T ~ N(0, σ(T)² I) [n, D], n_steps of
    `sampler` (the process's prior; the generator seeded by seed)."""
    x_T = sde.prior_sample((n, dataset.dim), generator=torch.Generator().manual_seed(seed + 15485863))
    ref, floor = _reference(dataset, seed, n, n_ref)

    def draw(model):
        return sample(sampler, model.score_fn(), sde, x_T.to(model.device), n_steps=n_steps).x

    return SampleWatch(draw, ref, floor, share)


def vae_watch(data, *, seed: int = 0, n: int = N_SAMPLES, n_ref: int = N_REFERENCE, share: float = SHARE) -> SampleWatch:
    """A watch on a VAE: x = m_θ(z) + σ_x ε with the same z ~ N(0, I) and ε every call (explorer.nn.vae.vae_sample)."""
    from .nn.vae import vae_sample

    ref, floor = _reference(data, seed, n, n_ref)

    def draw(model):
        return vae_sample(model, n, torch.Generator().manual_seed(seed + 32452843))

    return SampleWatch(draw, ref, floor, share)
