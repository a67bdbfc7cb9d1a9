"""Step grids, separate from the samplers that take them (as in k-diffusion): where the N steps of a solve land.

Every grid is a decreasing float64 tensor of times [N + 1] from the start (T, or the time of sigma_max) down to t_end,
mapped to any process through its log-SNR lambda(t) = log(alpha^2 / sigma^2) (decreasing in t). EDM's noise level is
the process seen as VE: x_t / alpha = x_0 + sigma_tilde eps, sigma_tilde(t) = sigma(t) / alpha(t) = exp(-lambda / 2).

  uniform     t_i = T + i/N (t_end - T)                                  (DDPM, Song et al.)
  log_sigma   log sigma(t_i) uniform                                     (SMLD's geometric noise levels)
  log_snr     lambda(t_i) uniform                                        (DPM-Solver, k-diffusion's "exponential")
  karras      sigma_tilde_i = (s_max^(1/rho) + i/N (s_min^(1/rho) - s_max^(1/rho)))^rho   (Karras et al. 2022, eq. 5)
  quadratic   t_i = t_end + (T - t_end) (1 - i/N)^2                      (DDIM's "quad" selection; dense near the data)

A process whose lambda(T) is infinite (the flow-matching interpolant, alpha(1) = 0) starts its log-SNR and Karras grids
at lambda = LAMBDA_FLOOR (sigma_tilde = e^10), where x_t is N(0, sigma^2) to within e^-10 of the data's scale.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

from ..process import Process
from .base import check_steps

Tensor = torch.Tensor

GRIDS = ("uniform", "log_sigma", "log_snr", "karras", "quadratic")
GRID_LABELS = {"uniform": "uniform in t", "log_sigma": "uniform in log σ (SMLD)", "log_snr": "uniform in log-SNR λ",
               "karras": "Karras σ grid (ρ)", "quadratic": "quadratic in t (DDIM)"}
LAMBDA_FLOOR = -20.0          # the lowest log-SNR a grid starts from (only reached where lambda(T) = -inf)
RHO_MAX = 100.0


def _f64(t) -> Tensor:
    return torch.as_tensor(t, dtype=torch.float64)


def _invert_decreasing(fn, targets: Tensor, lo: float, hi: float, n_iter: int = 80) -> Tensor:
    """t in [lo, hi] (lo > 0) with fn(t) = target for a decreasing fn, float64 [K]: bisection in log t (any monotone fn,
    kinks and steep ends included: the piecewise DDPM chain, the flow-matching interpolant near alpha = 0)."""
    a = torch.full_like(targets, math.log(lo))
    b = torch.full_like(targets, math.log(hi))
    for _ in range(n_iter):
        m = 0.5 * (a + b)
        above = fn(m.exp()) > targets                 # fn decreasing: the root lies right of m
        a, b = torch.where(above, m, a), torch.where(above, b, m)
    return (0.5 * (a + b)).exp()


def _t_range(sde: Process) -> tuple[float, float]:
    """(lo, hi): the times where lambda is finite, lo = 1e-12 T and hi = T (or just below T where lambda(T) = -inf)."""
    lo, hi = 1e-12 * sde.T, sde.T
    if not math.isfinite(float(sde.log_snr(_f64(hi)))):
        hi = sde.T * (1 - 1e-9)
    return lo, hi


def lambda_start(sde: Process) -> float:
    """The log-SNR where grids in lambda or sigma_tilde start by default: lambda(T), or LAMBDA_FLOOR if that is lower."""
    lam = float(sde.log_snr(_f64(sde.T)))
    return max(lam, LAMBDA_FLOOR) if not math.isnan(lam) else LAMBDA_FLOOR


def sigma_tilde(sde: Process, t) -> Tensor:
    """EDM's noise level of the process, sigma(t) / alpha(t) = exp(-lambda(t) / 2); float or [K] -> float64 [K]."""
    return torch.exp(-0.5 * sde.log_snr(_f64(t).reshape(-1)))


def t_of_log_snr(sde: Process, lam) -> Tensor:
    """The time t with lambda(t) = lam (lambda decreases in t); float or [K] -> float64 [K], to rounding level."""
    lam = _f64(lam).reshape(-1)
    lo, hi = _t_range(sde)
    lam_lo, lam_hi = float(sde.log_snr(_f64(lo))), float(sde.log_snr(_f64(hi)))
    if not torch.isfinite(lam).all() or (lam > lam_lo * (1 + 1e-12) + 1e-12).any() or (lam < lam_hi - 1e-9).any():
        raise ValueError(f"log-SNR must lie in [{lam_hi:.4g}, {lam_lo:.4g}] for {sde.label}, got {lam.tolist()}")
    return _invert_decreasing(sde.log_snr, lam.clamp(lam_hi, lam_lo), lo, hi)


def t_of_sigma_tilde(sde: Process, s) -> Tensor:
    """The time t with sigma(t) / alpha(t) = s; float or [K] -> float64 [K]."""
    s = _f64(s).reshape(-1)
    if not (torch.isfinite(s).all() and (s > 0).all()):
        raise ValueError(f"noise level σ/α must be a finite positive number, got {s.tolist()}")
    return t_of_log_snr(sde, -2 * torch.log(s))


def sigma_range(sde: Process, t_end: float | None = None) -> tuple[float, float]:
    """(sigma_tilde at t_end (default t_min), sigma_tilde where grids start): the Karras grid's default ends."""
    t_end = sde.t_min if t_end is None else t_end
    return float(sigma_tilde(sde, t_end)), math.exp(-0.5 * lambda_start(sde))


def _number(name: str, v) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (numbers.Real, Tensor)):
        raise ValueError(f"{name} must be a number, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class Grid:
    """A step grid: its kind (one of GRIDS) and, for "karras", sigma_min, sigma_max (None: the process's ends) and rho."""

    kind: str = "uniform"
    sigma_min: float | None = None
    sigma_max: float | None = None
    rho: float = 7.0

    def __post_init__(self):
        if self.kind not in GRIDS:
            raise ValueError(f"unknown time spacing {self.kind!r}; expected one of {list(GRIDS)}")
        lo, hi, rho = _number("σ_min", self.sigma_min), _number("σ_max", self.sigma_max), _number("ρ", self.rho)
        for name, v in (("σ_min", lo), ("σ_max", hi)):
            if v is not None and not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} of the Karras grid must be a finite positive number, got {v!r}")
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"σ_min of the Karras grid must be below σ_max, got σ_min = {lo:g} ≥ σ_max = {hi:g}")
        if not (math.isfinite(rho) and 0 < rho <= RHO_MAX):
            raise ValueError(f"ρ of the Karras grid must be in (0, {RHO_MAX:g}], got {self.rho!r}")
        object.__setattr__(self, "rho", rho)

    @property
    def label(self) -> str:
        return GRID_LABELS[self.kind] if self.kind != "karras" else f"Karras σ grid, ρ = {self.rho:g}"

    def sigmas(self, sde: Process, n_steps: int, *, t_end: float | None = None) -> Tensor:
        """Karras et al. eq. 5: sigma_tilde_i = (s_max^(1/rho) + i/N (s_min^(1/rho) - s_max^(1/rho)))^rho, float64 [N + 1]."""
        n_steps = check_steps(n_steps)
        d_lo, d_hi = sigma_range(sde, t_end)
        s_lo = d_lo if self.sigma_min is None else float(self.sigma_min)
        s_hi = d_hi if self.sigma_max is None else float(self.sigma_max)
        floor = float(sigma_tilde(sde, _t_range(sde)[0]))
        if s_hi > d_hi * (1 + 1e-9):
            raise ValueError(f"σ_max = {s_hi:.4g} is beyond the process's largest noise level σ/α = {d_hi:.4g} "
                             f"({sde.label}); choose σ_max ≤ {d_hi:.4g}")
        if s_lo < floor:
            raise ValueError(f"σ_min = {s_lo:.4g} is below the smallest noise level σ/α = {floor:.3g} of {sde.label}")
        if not s_lo < s_hi:
            raise ValueError(f"σ_min of the Karras grid must be below σ_max, got σ_min = {s_lo:.4g} ≥ σ_max = {s_hi:.4g}")
        ramp = torch.linspace(0, 1, n_steps + 1, dtype=torch.float64)
        q = math.exp(math.log(s_lo / s_hi) / self.rho)          # (s_min / s_max)^(1/rho), no overflow at small rho
        out = s_hi * ((1 - ramp) + ramp * q) ** self.rho        # = eq. 5 divided through by s_max^(1/rho)
        out[0], out[-1] = s_hi, s_lo
        return out

    def times(self, sde: Process, n_steps: int, *, t_end: float | None = None) -> Tensor:
        """The grid's times, float64 [n_steps + 1], strictly decreasing from T (or t(sigma_max)) to t_end (default t_min)."""
        n_steps = check_steps(n_steps)
        t_end = sde.t_min if t_end is None else float(t_end)
        T = sde.T
        if not 0 <= t_end < T:
            raise ValueError(f"a grid runs from T = {T:g} down to t_end in [0, T), got t_end = {t_end!r}")
        i = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
        if self.kind == "uniform":
            return torch.linspace(T, t_end, n_steps + 1, dtype=torch.float64)
        if self.kind == "quadratic":
            ts = t_end + (T - t_end) * (1 - i) ** 2
            ts[0], ts[-1] = T, t_end
            return ts
        if not t_end > 0:
            raise ValueError(f"spacing {self.kind!r} needs t_end > 0 (log σ and log-SNR are infinite at t = 0)")
        if self.kind == "log_sigma":
            fn = lambda t: -torch.log(sde.std(t))          # noqa: E731  decreasing in t
            ends = fn(_f64([T, t_end]))
            ts = _invert_decreasing(fn, ends[0] + i * (ends[1] - ends[0]), t_end, T)
            ts[0], ts[-1] = T, t_end
            return ts
        if self.kind == "log_snr":
            lam0, lam1 = lambda_start(sde), float(sde.log_snr(_f64(t_end)))
            ts = t_of_log_snr(sde, lam0 + i * (lam1 - lam0))
        else:                                              # karras
            ts = t_of_sigma_tilde(sde, self.sigmas(sde, n_steps, t_end=t_end))
        starts_at_T = float(sde.log_snr(_f64(T))) >= LAMBDA_FLOOR      # False where lambda(T) = -inf
        if starts_at_T and (self.kind == "log_snr" or self.sigma_max is None):
            ts[0] = T
        if self.kind == "log_snr" or self.sigma_min is None:
            ts[-1] = t_end
        if (ts[1:] >= ts[:-1]).any():
            raise ValueError(f"the {self.label} with {n_steps} steps has coinciding times under {sde.label}: "
                             "use fewer steps, a larger ρ or a wider σ range")
        return ts


def as_grid(spacing) -> Grid:
    """A Grid from a Grid or the name of one of GRIDS (unknown names fail with the choices)."""
    if isinstance(spacing, Grid):
        return spacing
    if not isinstance(spacing, str):
        raise ValueError(f"unknown time spacing {spacing!r}; expected a Grid or one of {list(GRIDS)}")
    return Grid(spacing)
