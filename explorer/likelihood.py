"""Exact log-likelihood by the probability-flow ODE (Song et al. 2021 §4.3, eq. 39; Chen et al. 2018, FFJORD).

Along the PF-ODE dx/dt = v(x, t) = f(t) x - 1/2 g(t)^2 score(x, t), the instantaneous change of variables gives
d log p_t(x_t) / dt = -div v(x_t, t), so, integrating from t_min up to T,
    log p_{t_min}(x) = log p_T(x_T) + int_{t_min}^T div v(x_t, t) dt,   p_T ~ prior N(0, sigma(T)^2 I).
The divergence is exact (one autograd pass per data dimension: meant for D = 1, 2, fine up to a few dozen) and
the ODE is solved by scipy's adaptive RK45 in float64. Units: log_prob is in nats; bits per dimension
= -log_prob / (D ln 2) (see bits_per_dim; for 8-bit images add the dequantisation offset log2(256) after
rescaling the data to [0, 256), which these toys do not need). log p_{t_min} differs from log p_0 by the blur
of sigma(t_min): O(sigma(t_min)^2 / component variance) nats for a mixture.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.integrate import solve_ivp

from . import interrupt
from .scores import ScoreFn
from .process import Process

Tensor = torch.Tensor


class LikelihoodODEError(ValueError):
    """The PF-ODE could not be integrated to the asked tolerance (too sharp a density, too tight a tolerance)."""


@dataclass(frozen=True)
class LikelihoodResult:
    """log_prob [N] = prior_log_prob [N] + delta [N] (nats); x_T [N, ...] the ODE's end points; nfe velocity evaluations."""

    log_prob: Tensor
    prior_log_prob: Tensor
    delta: Tensor
    x_T: Tensor
    nfe: int


def bits_per_dim(log_prob: Tensor, dim: int) -> Tensor:
    """Negative log-likelihood in bits per dimension, -log p / (D ln 2); log_prob [N] in nats -> [N]."""
    return -log_prob / (dim * math.log(2.0))


def velocity_and_divergence(score_fn: ScoreFn, sde: Process, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
    """v = f(t) x - 1/2 g(t)^2 score(x, t) and its exact divergence sum_d dv_d/dx_d by autograd; x [N, ...] -> ([N, ...], [N])."""
    n = x.shape[0]
    with torch.enable_grad():
        x_flat = x.detach().reshape(n, -1).requires_grad_(True)
        xs = x_flat.view(x.shape)
        g2 = sde.diffusion(t) ** 2
        v = sde.drift(xs, t) - 0.5 * (g2.reshape((-1,) + (1,) * (x.ndim - 1))) * score_fn(xs, t)
        v_flat = v.reshape(n, -1)
        d = v_flat.shape[1]
        div = torch.zeros(n, dtype=x.dtype, device=x.device)
        for k in range(d):
            (grad,) = torch.autograd.grad(v_flat[:, k].sum(), x_flat, retain_graph=k < d - 1)
            div = div + grad[:, k]
    return v.detach(), div.detach()


def log_likelihood(score_fn: ScoreFn, sde: Process, x: Tensor, *, rtol: float = 1e-5, atol: float = 1e-5,
                   t_start: float | None = None, max_nfe: int = 100_000) -> LikelihoodResult:
    """log p_{t_start}(x) (default t_start = sde.t_min) by the PF-ODE with exact divergence, RK45 from t_start to T;
    x [N, ...] -> LikelihoodResult with log_prob [N] in nats. Works for any ScoreFn (exact or a torch module)."""
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.ndim < 2 or x.shape[0] == 0:
        raise ValueError("x must be a float tensor [N, ...] with N >= 1")
    if not torch.isfinite(x).all():
        raise ValueError("x must be finite")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite positive number, got {v!r}")
    t0 = sde.t_min if t_start is None else float(t_start)
    if not 0.0 <= t0 < sde.T:
        raise ValueError(f"t_start must lie in [0, T={sde.T}), got {t0}")
    shape, dtype, device = x.shape, x.dtype, x.device
    n, numel = shape[0], x[0].numel() * shape[0]
    nfe = 0

    def fun(t: float, y: np.ndarray) -> np.ndarray:
        nonlocal nfe
        nfe += 1
        interrupt.check()
        if nfe > max_nfe:
            raise LikelihoodODEError(f"the probability-flow ODE needed more than {max_nfe} evaluations at rtol = "
                                     f"{rtol:.0e} (the density is too sharp for this tolerance): loosen the tolerance")
        xt = torch.from_numpy(y[:numel]).view(shape).to(device=device, dtype=dtype)
        tt = torch.full((n,), t, dtype=dtype, device=device)
        v, div = velocity_and_divergence(score_fn, sde, xt, tt)
        out = np.empty_like(y)
        out[:numel] = v.to(device="cpu", dtype=torch.float64).numpy().reshape(-1)
        out[numel:] = div.to(device="cpu", dtype=torch.float64).numpy()
        return out

    y0 = np.concatenate([x.detach().to(device="cpu", dtype=torch.float64).numpy().reshape(-1), np.zeros(n)])
    sol = solve_ivp(fun, (t0, sde.T), y0, method="RK45", rtol=rtol, atol=atol)
    if sol.status != 0 or not np.isfinite(sol.y[:, -1]).all():
        raise LikelihoodODEError(f"the probability-flow ODE could not be integrated ({sol.message.rstrip('.')}): "
                                 "loosen the tolerance")
    y_T = torch.from_numpy(sol.y[:, -1].copy())
    x_T = y_T[:numel].view(shape)
    delta = y_T[numel:]
    prior = sde.prior_log_prob(x_T)
    return LikelihoodResult(log_prob=(prior + delta).to(device=device, dtype=dtype), prior_log_prob=prior.to(device=device, dtype=dtype),
                            delta=delta.to(device=device, dtype=dtype), x_T=x_T.to(device=device, dtype=dtype), nfe=nfe)


def log_density_errors(estimate: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    """(mean |estimate - exact|, the same weighted by p = exp(exact)) of two log-densities on one grid [G] (nats)."""
    err = np.abs(np.asarray(estimate, dtype=np.float64) - np.asarray(exact, dtype=np.float64))
    w = np.exp(exact - np.max(exact))
    return float(err.mean()), float((err * w).sum() / w.sum())
