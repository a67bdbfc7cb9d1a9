"""What every sampler shares: its result type, its callback, the time grids, option checks and divergence detection.

Signature of every sampler (k-diffusion style):
    fn(score_fn, sde, x_init, ts, *, generator=None, callback=None, **opts) -> SampleResult
where ts [S+1] runs from T down to t_min, x_init [N, ...] ~ prior, and the generator is the only randomness.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

import torch

from .. import interrupt
from ..process import Process

Tensor = torch.Tensor
Callback = Callable[[int, Tensor, Tensor], None]   # (step i, t_i [], x_i [N, ...]) -> None; may raise to stop

MAX_STEPS = 5000            # n_steps must lie in [1, MAX_STEPS]
DIVERGENCE_FACTOR = 1e6     # |x| > DIVERGENCE_FACTOR * prior std (or non-finite) counts as diverged
SPACINGS = ("uniform", "log_sigma", "log_snr", "karras", "quadratic")   # the names of grids.GRIDS


class SamplerDiverged(ValueError):
    """A chain left every sensible range (NaN, inf or |x| > 1e6 prior stds); the message names the step."""


@dataclass(frozen=True)
class SampleResult:
    """x [N, ...] the final samples; trajectory [S+1, N, ...] (x_init first); ts [S+1] the times; nfe score evaluations."""

    x: Tensor
    trajectory: Tensor
    ts: Tensor
    nfe: int


# --- time grids -----------------------------------------------------------------------------
def _invert_decreasing(fn: Callable[[Tensor], Tensor], targets: Tensor, lo: float, hi: float, n_table: int = 16385) -> Tensor:
    """t in [lo, hi] (lo > 0) with fn(t) = target for a decreasing fn, float64: linear interpolation in a table uniform
    in log t (error ~1e-8), then three corrections with the table's local slope (error at rounding level)."""
    u_tab = torch.linspace(math.log(lo), math.log(hi), n_table, dtype=torch.float64)
    t_tab = u_tab.exp()
    t_tab[0], t_tab[-1] = lo, hi
    f_tab = fn(t_tab)
    k = (torch.searchsorted(-f_tab, -targets).clamp(1, n_table - 1) - 1)   # f_tab[k] >= target >= f_tab[k+1]
    slope = (f_tab[k + 1] - f_tab[k]) / (u_tab[k + 1] - u_tab[k])
    u = u_tab[k] + (targets - f_tab[k]) / slope
    for _ in range(3):
        u = (u - (fn(u.exp()) - targets) / slope).clamp(math.log(lo), math.log(hi))
    return u.exp()


def t_of_sigma(sde: Process, sigma) -> Tensor:
    """The time t with sigma(t) = sigma (sigma(t) increases on [0, T]); float or [K] -> float64 [K]."""
    sigma = torch.as_tensor(sigma, dtype=torch.float64).reshape(-1)
    lo_s, hi_s = float(sde.std(torch.tensor(0.0, dtype=torch.float64))), sde.prior_std()
    if not torch.isfinite(sigma).all() or (sigma <= lo_s).any() or (sigma > hi_s * (1 + 1e-12)).any():
        raise ValueError(f"noise level sigma must lie in ({lo_s:.3g}, {hi_s:.3g}] for {sde.label}, got {sigma.tolist()}")
    return _invert_decreasing(lambda t: -sde.std(t), -sigma, 1e-12 * sde.T, sde.T)


def time_grid(sde: Process, n_steps: int, *, t_end: float | None = None, spacing="uniform",
              dtype=torch.float32, device=None) -> Tensor:
    """Grid [n_steps + 1] from T down to t_end (default sde.t_min); spacing: a name in SPACINGS or a grids.Grid
    (uniform in t, in log sigma (SMLD), in log-SNR (DPM-Solver), Karras' sigma grid, DDIM's quadratic)."""
    from .grids import as_grid          # local: grids imports this module's checks

    return as_grid(spacing).times(sde, n_steps, t_end=t_end).to(dtype=dtype, device=device)


# --- option checks (shared by every sampler; called on direct calls too) ----------------------
def check_steps(n, name: str = "n_steps", lo: int = 1, hi: int = MAX_STEPS) -> int:
    """An integer in [lo, hi] (bools and floats refused), else a ValueError naming the range."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {n!r}")
    if not lo <= int(n) <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {n}")
    return int(n)


def check_positive(name: str, v) -> float:
    """A finite float > 0."""
    v = _as_float(name, v)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite positive number, got {v!r}")
    return v


def check_unit(name: str, v) -> float:
    """A float in [0, 1]."""
    v = _as_float(name, v)
    if not 0.0 <= v <= 1.0:          # NaN fails too
        raise ValueError(f"{name} must be in [0, 1], got {v!r}")
    return v


def _as_float(name, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (numbers.Real, Tensor)):
        raise ValueError(f"{name} must be a number, got {v!r}")
    return float(v)


def check_inputs(sde: Process, x_init: Tensor, ts: Tensor) -> Tensor:
    """Validate x_init [N, ...] (finite float) and ts [S+1] (finite, strictly decreasing, in [0, T]); returns ts in float64."""
    if not isinstance(x_init, Tensor) or not x_init.is_floating_point() or x_init.ndim < 2 or x_init.shape[0] == 0:
        raise ValueError("x_init must be a float tensor [N, ...] with N >= 1 and at least one data dimension")
    if not torch.isfinite(x_init).all():
        raise ValueError("x_init must be finite")
    ts = torch.as_tensor(ts).detach().to(device="cpu", dtype=torch.float64)
    if ts.ndim != 1 or ts.numel() < 2:
        raise ValueError(f"ts must be a 1-D grid with at least 2 times, got shape {tuple(ts.shape)}")
    check_steps(ts.numel() - 1, "number of grid steps")
    if not torch.isfinite(ts).all() or (ts[1:] >= ts[:-1]).any():
        raise ValueError("ts must be finite and strictly decreasing (from T down to t_min)")
    if ts[-1] < 0 or ts[0] > sde.T * (1 + 1e-6):
        raise ValueError(f"ts must lie in [0, T={sde.T}], got [{float(ts[-1])}, {float(ts[0])}]")
    return ts


# --- trajectory buffer with divergence detection ------------------------------------------
class Recorder:
    """Preallocated trajectory [F, N, ...] of one call: stores each state, checks it is finite and bounded, calls back."""

    def __init__(self, name: str, sde: Process, x_init: Tensor, ts_out: Tensor, callback: Callback | None,
                 *, n_updates: int | None = None, hint: str = "try a smaller step size"):
        self.name, self.callback, self.hint = name, callback, hint
        self.ts = ts_out.to(device=x_init.device, dtype=x_init.dtype)
        self.n_updates = ts_out.numel() - 1 if n_updates is None else n_updates
        self.bound = DIVERGENCE_FACTOR * max(sde.prior_std(), float(x_init.abs().amax()), 1.0)
        self.trajectory = x_init.new_empty((ts_out.numel(),) + tuple(x_init.shape))
        self.trajectory[0] = x_init

    def check(self, update: int, x: Tensor) -> None:
        """Raise SamplerDiverged if x has a NaN/inf or |x| > bound after update number `update` (1-based)."""
        m = float(x.abs().amax())        # NaN propagates through amax, and NaN <= bound is False
        if not m <= self.bound:
            what = "a non-finite value" if not math.isfinite(m) else f"|x| = {m:.3g} > {self.bound:.3g}"
            raise SamplerDiverged(f"{self.name} diverged at step {update} of {self.n_updates} ({what}): {self.hint}")

    def record(self, i: int, x: Tensor, *, update: int | None = None) -> None:
        """Check x (as update `update`, default i), store it as frame i and call back (i, t_i, x_i)."""
        interrupt.check()
        self.check(i if update is None else update, x)
        self.trajectory[i] = x
        if self.callback is not None:
            self.callback(i, self.ts[i], x)

    def record_all(self, frames: Tensor) -> None:
        """Store frames [F-1, N, ...] as frames 1.. at once (adaptive solvers): one check, then the callbacks in order."""
        m = float(frames.abs().amax())
        if not m <= self.bound:
            per_frame = frames.flatten(1).abs().amax(1)
            first = int((~(per_frame <= self.bound)).nonzero()[0]) + 1
            self.check(first, frames[first - 1])
        self.trajectory[1:] = frames
        if self.callback is not None:
            for i in range(1, self.trajectory.shape[0]):
                self.callback(i, self.ts[i], self.trajectory[i])

    def result(self, nfe: int) -> SampleResult:
        return SampleResult(x=self.trajectory[-1].clone(), trajectory=self.trajectory, ts=self.ts, nfe=int(nfe))


def grid_coefficients(sde: Process, ts64: Tensor) -> dict[str, Tensor]:
    """alpha, sigma, f, g^2 of the process at every grid time, float64 [S+1] (computed once per call)."""
    return {
        "alpha": sde.mean_coef(ts64),
        "sigma": sde.std(ts64),
        "f": sde.drift_coef(ts64),
        "g2": sde.diffusion(ts64) ** 2,
    }


def noise(x: Tensor, generator: torch.Generator | None) -> Tensor:
    """z ~ N(0, I) shaped like x, on x's device and dtype, from the given generator only (drawn on its device)."""
    device = generator.device if generator is not None else x.device     # a CPU generator drives a CUDA run too
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device).to(x.device)
