"""EDM's stochastic sampler (Karras et al. 2022, Algorithm 2): Heun in the sigma parameterisation with churn.

Any process x_t = alpha(t) x_0 + sigma(t) eps is a VE process in x_tilde = x_t / alpha(t) = x_0 + sigma_tilde eps with
sigma_tilde(t) = sigma(t) / alpha(t) = exp(-lambda(t) / 2), where the PF-ODE reads d x_tilde / d sigma_tilde =
(x_tilde - D(x_tilde; sigma_tilde)) / sigma_tilde and the denoiser D is Tweedie's x0_hat = (x_t + sigma^2 score) / alpha.
Per step i (sigma_i = sigma_tilde(t_i), N steps):
  gamma_i = min(S_churn / N, sqrt(2) - 1) if S_tmin <= sigma_i <= S_tmax else 0,   eps ~ N(0, S_noise^2 I)
  sigma_hat = (1 + gamma_i) sigma_i,   x_hat = x_i + sqrt(sigma_hat^2 - sigma_i^2) eps     (churn: add noise)
  d = (x_hat - D(x_hat; sigma_hat)) / sigma_hat,   x' = x_hat + (sigma_{i+1} - sigma_hat) d         (Euler)
  x_{i+1} = x_hat + (sigma_{i+1} - sigma_hat) (d + (x' - D(x'; sigma_{i+1})) / sigma_{i+1}) / 2   (Heun correction)
S_churn = 0 is EDM's deterministic Algorithm 1 (second order). The noise is drawn every step (as EDM and k-diffusion
do), so a run with churn only in [S_tmin, S_tmax] uses the same stream as one with churn everywhere.
"""
from __future__ import annotations

import math

import torch

from ..parameterisation import score_to_x0
from ..process import Process
from ..scores import ScoreFn
from .base import Callback, Recorder, SampleResult, check_inputs, noise
from .grids import sigma_range, sigma_tilde, t_of_sigma_tilde

Tensor = torch.Tensor
S_CHURN_MAX = 1000.0


def _check(name: str, v, lo: float, hi: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, Tensor)):
        raise ValueError(f"{name} must be a number in [{lo:g}, {hi:g}], got {v!r}")
    v = float(v)
    if not lo <= v <= hi:            # NaN fails too
        raise ValueError(f"{name} must be in [{lo:g}, {hi:g}], got {v!r}")
    return v


def edm_denoiser(score_fn: ScoreFn, sde: Process):
    """D(x_tilde; t) = x0_hat(alpha(t) x_tilde, t) (Tweedie), the VE-view denoiser of any process; x [N, ...], t [] -> [N, ...]."""

    def denoise(x_tilde: Tensor, t: Tensor) -> Tensor:
        x = float(sde.mean_coef(t.double())) * x_tilde
        tt = t.to(dtype=x.dtype, device=x.device).expand(x.shape[0])
        return score_to_x0(score_fn(x, tt), x, tt, sde)

    return denoise


@torch.no_grad()
def edm(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
        callback: Callback | None = None, s_churn: float = 0.0, s_tmin: float = 0.0, s_tmax: float = math.inf,
        s_noise: float = 1.0) -> SampleResult:
    """Karras et al. 2022 Alg. 2 on the grid ts [S+1] (in sigma_tilde = sigma / alpha), churn S_churn in sigma_tilde in
    [S_tmin, S_tmax] with noise S_noise; x [N, ...] in the process's x_t, NFE = 2S; deterministic (Alg. 1) at S_churn = 0."""
    ts64 = check_inputs(sde, x_init, ts)
    s_churn = _check("S_churn", s_churn, 0.0, S_CHURN_MAX)
    s_tmin = _check("S_tmin", s_tmin, 0.0, math.inf)
    s_tmax = _check("S_tmax", s_tmax, 0.0, math.inf)
    s_noise = _check("S_noise", s_noise, 0.0, 10.0)
    if s_tmin > s_tmax:
        raise ValueError(f"S_tmin must not exceed S_tmax, got S_tmin = {s_tmin:g} > S_tmax = {s_tmax:g}")
    n_steps = ts64.numel() - 1
    sig = sigma_tilde(sde, ts64)                                   # [S+1], decreasing
    alpha = sde.mean_coef(ts64)
    sig_cap = sigma_range(sde)[1]                                  # churn never lifts sigma above the grid's start
    denoise = edm_denoiser(score_fn, sde)
    rec = Recorder("EDM (Heun + churn)", sde, x_init, ts64, callback, hint="try more steps or less churn")
    x = x_init / float(alpha[0])                                   # x_tilde
    t_dev = ts64.to(x_init.device)
    for i in range(n_steps):
        s_i, s_next = float(sig[i]), float(sig[i + 1])
        gamma = min(s_churn / n_steps, math.sqrt(2) - 1) if s_tmin <= s_i <= s_tmax else 0.0
        eps = s_noise * noise(x, generator)
        s_hat, t_hat = s_i, t_dev[i]
        if gamma > 0:
            s_hat = min(s_i * (1 + gamma), max(sig_cap, s_i))
            if s_hat > s_i:
                t_hat = t_of_sigma_tilde(sde, s_hat)[0].to(x_init.device)
                x = x + math.sqrt(s_hat ** 2 - s_i ** 2) * eps
        d = (x - denoise(x, t_hat)) / s_hat
        x_euler = x + (s_next - s_hat) * d
        d2 = (x_euler - denoise(x_euler, t_dev[i + 1])) / s_next
        x = x + (s_next - s_hat) * 0.5 * (d + d2)
        rec.record(i + 1, float(alpha[i + 1]) * x)
    return rec.result(nfe=2 * n_steps)
