"""DDPM ancestral sampling and DDIM, written for any Gaussian process x_t = alpha_t x_0 + sigma_t eps.

For s < t (Luo eqs. 84-93 in VDM form): alpha_{t|s} = alpha_t / alpha_s, sigma_{t|s}^2 = sigma_t^2 - alpha_{t|s}^2 sigma_s^2,
q(x_s | x_t, x_0) = N(alpha_{t|s} sigma_s^2 / sigma_t^2 x_t + alpha_s sigma_{t|s}^2 / sigma_t^2 x_0,
                      sigma_{t|s}^2 sigma_s^2 / sigma_t^2 I),
and the samplers plug in x0_hat = (x_t + sigma_t^2 score) / alpha_t (Tweedie, explorer.scores.score_to_x0).
"""
from __future__ import annotations

import torch

from ..parameterisation import score_to_eps, score_to_x0
from ..scores import ScoreFn
from ..process import Process
from .base import Callback, Recorder, SampleResult, check_inputs, check_unit, noise

Tensor = torch.Tensor


def _posterior_coefficients(sde: Process, ts64: Tensor):
    """Per step t = ts[i] -> s = ts[i+1], float64 [S] each: (alpha_s, sigma_s, x_t coef, x0 coef, posterior std)."""
    t, s = ts64[:-1], ts64[1:]
    a_ts, s_ts = sde.transition(s, t)
    alpha_s, sigma_s, sigma_t = sde.mean_coef(s), sde.std(s), sde.std(t)
    coef_xt = a_ts * sigma_s ** 2 / sigma_t ** 2
    coef_x0 = alpha_s * s_ts ** 2 / sigma_t ** 2
    post_std = s_ts * sigma_s / sigma_t
    return alpha_s, sigma_s, coef_xt, coef_x0, post_std


VARIANCES = ("posterior", "beta")      # Ho et al. sec. 3.2: sigma_i^2 = beta_tilde_i or beta_i


def reverse_std(sde: Process, ts64: Tensor, variance: str = "posterior") -> Tensor:
    """Std of p(x_s | x_t) per step, float64 [S]: "posterior" sqrt(beta_tilde) = sigma_{t|s} sigma_s / sigma_t (optimal for
    a point mass x_0), "beta" sqrt(beta) = sigma_{t|s} (the forward step's own std; optimal for x_0 ~ N(0, I)), 0 on a step to t = 0."""
    if variance not in VARIANCES:
        raise ValueError(f"unknown DDPM variance {variance!r}; expected one of {list(VARIANCES)}")
    if variance == "posterior":
        return _posterior_coefficients(sde, ts64)[4]
    std = sde.transition(ts64[1:], ts64[:-1])[1]
    return torch.where(sde.std(ts64[1:]) > 0, std, torch.zeros_like(std))   # a step to t = 0 returns the mean (Alg. 2)


@torch.no_grad()
def ddpm(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
         callback: Callback | None = None, variance: str = "posterior") -> SampleResult:
    """Ancestral sampling x_s ~ N(mu_tilde(x_t, x0_hat), sigma_i^2 I) (Ho et al. Alg. 2; Luo eq. 84 for any alpha, sigma),
    sigma_i^2 = beta_tilde_i ("posterior") or beta_i ("beta"); x [N, ...], NFE = S."""
    ts64 = check_inputs(sde, x_init, ts)
    _, _, coef_xt, coef_x0, _ = (v.tolist() for v in _posterior_coefficients(sde, ts64))
    post_std = reverse_std(sde, ts64, variance).tolist()
    rec = Recorder("DDPM", sde, x_init, ts64, callback, hint="try more steps")
    x = x_init
    for i in range(len(coef_xt)):
        t = rec.ts[i]
        x0_hat = score_to_x0(score_fn(x, t.expand(x.shape[0])), x, t, sde)
        x = coef_xt[i] * x + coef_x0[i] * x0_hat + post_std[i] * noise(x, generator)
        rec.record(i + 1, x)
    return rec.result(nfe=len(coef_xt))


@torch.no_grad()
def ddim(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
         callback: Callback | None = None, eta: float = 0.0) -> SampleResult:
    """DDIM (Song et al. 2021a eq. 12): x_s = alpha_s x0_hat + sqrt(sigma_s^2 - c^2) eps_hat + c z, c = eta * posterior std;
    eta = 0 deterministic, eta = 1 the DDPM posterior; x [N, ...], NFE = S."""
    ts64 = check_inputs(sde, x_init, ts)
    eta = check_unit("eta", eta)
    alpha_s, sigma_s, _, _, post_std = _posterior_coefficients(sde, ts64)
    c = eta * post_std
    dir_coef = (sigma_s ** 2 - c ** 2).clamp_min(0).sqrt()
    alpha_s, dir_coef, c = alpha_s.tolist(), dir_coef.tolist(), c.tolist()
    rec = Recorder("DDIM", sde, x_init, ts64, callback, hint="try more steps")
    x = x_init
    for i in range(len(c)):
        t = rec.ts[i]
        score = score_fn(x, t.expand(x.shape[0]))
        x0_hat, eps_hat = score_to_x0(score, x, t, sde), score_to_eps(score, x, t, sde)
        x = alpha_s[i] * x0_hat + dir_coef[i] * eps_hat
        if eta > 0:
            x = x + c[i] * noise(x, generator)
        rec.record(i + 1, x)
    return rec.result(nfe=len(c))
