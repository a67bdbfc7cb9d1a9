"""SDEdit (Meng et al. 2022): noise an image to t0 with the forward process, then run a sampler from t0 back to t_min.

    x_{t0} = alpha(t0) x_0 + sigma(t0) eps   (explorer.process.Process.marginal_sample),   then reverse on ts = [t0 > ... > t_min].
Small t0 keeps the image (only details are re-drawn), t0 near T forgets it (a fresh sample): what the model keeps
and what it invents. The grid is the sampler's own spacing over [t_min, t0] (time_grid of the same process with
horizon t0), n_steps steps on it.
"""
from __future__ import annotations

import dataclasses
import math
import numbers

import torch

from .samplers import check_options, get_sampler, samplers_where
from .samplers.base import Callback, SampleResult, check_steps, time_grid
from .scores import ScoreFn
from .process import Process

Tensor = torch.Tensor

SDEDIT_SAMPLERS = samplers_where(reverses_time=True)      # every sampler that runs back from a time (not plain Langevin)


def sdedit_grid(sde: Process, t0: float, n_steps: int, *, spacing: str = "uniform") -> Tensor:
    """ts [n_steps + 1] float64 from t0 down to t_min in the given spacing (uniform / log_sigma / log_snr)."""
    return time_grid(dataclasses.replace(sde, T=float(t0)), n_steps, spacing=spacing, dtype=torch.float64)


def check_t0(t0, sde: Process) -> float:
    """A start time t0 in (t_min, T]."""
    if isinstance(t0, bool) or not isinstance(t0, (numbers.Real, Tensor)):
        raise ValueError(f"t0 must be a number in ({sde.t_min}, {sde.T}], got {t0!r}")
    t0 = float(t0)
    if not (math.isfinite(t0) and sde.t_min < t0 <= sde.T):
        raise ValueError(f"t0 must be in ({sde.t_min}, {sde.T}], got {t0!r}")
    return t0


def sdedit(score_fn: ScoreFn, sde: Process, x0: Tensor, t0: float, *, sampler: str = "ddim", n_steps: int = 50,
           generator: torch.Generator | None = None, callback: Callback | None = None, **opts) -> SampleResult:
    """Noise x0 [N, C, H, W] to t0, then denoise with `sampler` on n_steps from t0; trajectory[0] is x_{t0}."""
    if sampler not in SDEDIT_SAMPLERS:
        raise ValueError(f"sampler {sampler!r} cannot start from t0; expected one of {list(SDEDIT_SAMPLERS)}")
    spec = get_sampler(sampler)
    check_options(spec, opts)
    t0 = check_t0(t0, sde)
    n_steps = check_steps(n_steps)
    if not isinstance(x0, Tensor) or not x0.is_floating_point() or x0.ndim < 2 or not torch.isfinite(x0).all():
        raise ValueError("x0 must be a finite float tensor [N, ...] of images")
    x_t0, _ = sde.marginal_sample(x0, torch.tensor(t0, dtype=x0.dtype), generator=generator)
    ts = sdedit_grid(sde, t0, n_steps, spacing=spec.spacing)
    return spec.fn(score_fn, sde, x_t0, ts, generator=generator, callback=callback, **opts)
