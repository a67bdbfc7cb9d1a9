"""Run several samplers from the same x_init, time them, and score them against fresh data (energy distance); the
step grid is a choice (grids.Grid, or each sampler's own), and step_errors says where a grid's steps land and how
much one step of a sampler errs there against a tight reference solve."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .distributions import Dataset
from .metrics import energy_distance
from .samplers import Grid, SampleResult, get_sampler, pf_heun, sample, samplers_where, time_grid
from .samplers.grids import as_grid, t_of_log_snr
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


def start_noise(sde: Process, x_init: Tensor, ts: Tensor) -> Tensor:
    """x_init [N, ...] ~ N(0, sigma(T)^2 I) rescaled to N(0, sigma(t_0)^2 I) for a grid that starts at t_0 < T (a Karras
    grid with a lower sigma_max: EDM's x_0 = sigma_max z, in the process's x_t); the same z either way."""
    scale = float(sde.std(ts[:1].double())) / sde.prior_std()
    return x_init if abs(scale - 1.0) < 1e-12 else x_init * scale


def run_samplers(names: list[str], score_fn: ScoreFn, sde: Process, x_init: Tensor, *, seed: int,
                 n_steps: int | None = None, options: dict[str, dict] | None = None, callback=None,
                 grid: Grid | str | None = None) -> list[Run]:
    """Every sampler from the same x_init [N, D] (drawn at T); each gets its own generator seeded with `seed` (same noise
    stream); grid: the step grid of every sampler that follows one (None: each sampler's own)."""
    runs = []
    for name in names:
        spec = get_sampler(name)
        steps = spec.default_steps if n_steps is None else n_steps
        opts = {k: v for k, v in (options or {}).get(name, {}).items() if k in spec.options}
        g = torch.Generator(device=x_init.device).manual_seed(seed)
        spacing = as_grid(grid) if grid is not None and spec.uses_grid else None
        x0 = x_init if spacing is None else start_noise(sde, x_init, time_grid(sde, steps, spacing=spacing,
                                                                                 dtype=torch.float64))
        t0 = time.perf_counter()
        res = sample(name, score_fn, sde, x0, n_steps=steps, generator=g, spacing=spacing,
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
                     callback=None, grid: Grid | str | None = None) -> list[dict]:
    """Rows {sampler, steps, nfe, energy} for each sampler at each step count, all from the same x_init, on the given
    grid (None: each sampler's own)."""
    target, _ = reference_samples(dataset, n, seed)
    x_init = sde.prior_sample((n, dataset.dim), generator=torch.Generator().manual_seed(seed), dtype=torch.float32)
    rows = []
    for k, name in enumerate(names):
        for j, s in enumerate(steps):
            if callback is not None:
                callback(k * len(steps) + j, len(names) * len(steps), f"{name}, {s} steps")
            run = run_samplers([name], score_fn, sde, x_init, seed=seed, n_steps=s, options=options, grid=grid)[0]
            rows.append({"sampler": name, "steps": s, "nfe": run.result.nfe,
                         "energy": energy_distance(run.result.x.float(), target)})
    return rows


# --- where the steps land --------------------------------------------------------------------------------------------
STEP_ERROR_SAMPLERS = samplers_where(stochastic=False, single_step=True, uses_grid=True)   # one deterministic step alone
REFERENCE_SUBSTEPS = 32


def step_errors(name: str, score_fn: ScoreFn, sde: Process, dataset: Dataset, grid: Grid | str, n_steps: int, *,
                n: int, seed: int, callback=None) -> list[dict]:
    """For each step t_i -> t_{i+1} of the grid: start from exact x_{t_i} ~ p_{t_i} (data noised by the process), take one
    step of sampler `name` alone, and compare with the same PF-ODE solved by Heun on REFERENCE_SUBSTEPS sub-steps uniform
    in log-SNR (its error is ~32^-2 of one Heun step's); rows {step, t, t_next, lam, lam_next, error = mean |x - x_ref|}."""
    if name not in STEP_ERROR_SAMPLERS:
        raise ValueError(f"the local error is shown for the deterministic one-step samplers {list(STEP_ERROR_SAMPLERS)}, "
                         f"got {name!r}")
    ts = time_grid(sde, n_steps, spacing=as_grid(grid), dtype=torch.float64)
    lam = sde.log_snr(ts)
    g = torch.Generator().manual_seed(seed)
    x0, _ = dataset.sample(n, generator=g)
    rows = []
    for i in range(n_steps):
        if callback is not None:
            callback(i, n_steps)
        xt, _ = sde.marginal_sample(x0.double(), ts[i], generator=g)
        one = get_sampler(name).fn(score_fn, sde, xt.float(), ts[i:i + 2], generator=None).x.double()
        sub = t_of_log_snr(sde, torch.linspace(float(lam[i]), float(lam[i + 1]), REFERENCE_SUBSTEPS + 1,
                                               dtype=torch.float64))
        sub[0], sub[-1] = ts[i], ts[i + 1]
        ref = pf_heun(score_fn, sde, xt.float(), sub).x.double()
        rows.append({"step": i, "t": float(ts[i]), "t_next": float(ts[i + 1]), "lam": float(lam[i]),
                     "lam_next": float(lam[i + 1]), "error": float((one - ref).norm(dim=1).mean())})
    return rows
