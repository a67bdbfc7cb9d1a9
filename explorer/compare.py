"""Run several samplers from the same x_init, time them, and score them against fresh data (energy distance)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .distributions import Dataset
from .metrics import energy_distance
from .samplers import SampleResult, get_sampler, sample
from .scores import ScoreFn
from .process import Process

Tensor = torch.Tensor


@dataclass(frozen=True)
class Run:
    """One sampler's run: its name, result, settings and wall time in seconds."""

    name: str
    result: SampleResult
    n_steps: int
    seconds: float


def run_samplers(names: list[str], score_fn: ScoreFn, sde: Process, x_init: Tensor, *, seed: int,
                 n_steps: int | None = None, options: dict[str, dict] | None = None, callback=None) -> list[Run]:
    """Every sampler from the same x_init [N, D]; each gets its own generator seeded with `seed` (same noise stream)."""
    runs = []
    for name in names:
        spec = get_sampler(name)
        steps = spec.default_steps if n_steps is None else n_steps
        opts = {k: v for k, v in (options or {}).get(name, {}).items() if k in spec.options}
        g = torch.Generator(device=x_init.device).manual_seed(seed)
        t0 = time.perf_counter()
        res = sample(name, score_fn, sde, x_init, n_steps=steps, generator=g,
                     callback=None if callback is None else (lambda i, t, x, _n=name, _s=steps: callback(_n, i, _s)),
                     **opts)
        runs.append(Run(name, res, steps, time.perf_counter() - t0))
    return runs


def reference_samples(dataset: Dataset, n: int, seed: int) -> tuple[Tensor, Tensor]:
    """Two independent fresh data sets of size n (the target, and a second one for the noise floor)."""
    g = torch.Generator().manual_seed(seed + 7919)
    a, _ = dataset.sample(n, generator=g)
    b, _ = dataset.sample(n, generator=g)
    return a, b


def quality_vs_steps(names: list[str], score_fn: ScoreFn, sde: Process, dataset: Dataset, *, n: int, seed: int,
                     steps: tuple[int, ...] = (5, 10, 20, 50, 100, 200), options: dict[str, dict] | None = None,
                     callback=None) -> list[dict]:
    """Rows {sampler, steps, nfe, energy} for each sampler at each step count, all from the same x_init."""
    target, _ = reference_samples(dataset, n, seed)
    x_init = sde.prior_sample((n, dataset.dim), generator=torch.Generator().manual_seed(seed), dtype=torch.float32)
    rows = []
    for k, name in enumerate(names):
        for j, s in enumerate(steps):
            if callback is not None:
                callback(k * len(steps) + j, len(names) * len(steps), f"{name}, {s} steps")
            run = run_samplers([name], score_fn, sde, x_init, seed=seed, n_steps=s, options=options)[0]
            rows.append({"sampler": name, "steps": s, "nfe": run.result.nfe,
                         "energy": energy_distance(run.result.x.float(), target)})
    return rows
