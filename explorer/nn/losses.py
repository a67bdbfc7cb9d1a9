"""Denoising score matching for the three parameterisations, with their usual weightings (Luo §2.7, Chan §3-4).

With x_t = alpha x_0 + sigma eps, t ~ U[t_min, T]:
  "eps"    E || eps_hat - eps ||^2                              (DDPM's simple loss, Ho et al. eq. 14)
  "x0"     E || x0_hat - x_0 ||^2                               (Luo eq. 99, unweighted)
  "score"  E sigma^2 || score_hat - grad log p(x_t | x_0) ||^2,  grad log p(x_t | x_0) = -eps / sigma
                                                                 (Song et al. eq. 7 with lambda(t) = sigma^2)
  "v"      E || v_hat - (alpha eps - sigma x_0) ||^2                  (Salimans & Ho 2022, v-prediction)
  "u"      E || u_hat - (alpha' x_0 + sigma' eps) ||^2           (conditional flow matching, Lipman et al. 2023;
                                                                 linear path: eps - x_0, rectified flow)
In eps units all four are w(t) || eps_hat - eps ||^2 with w = 1 (eps), 1/SNR(t) (x0), 1 (score) and
(alpha^2 + sigma^2)^2 / alpha^2 (v; = 1 + 1/SNR(t) under VP, where alpha^2 + sigma^2 = 1).
"""
from __future__ import annotations

import torch

from .networks import PARAMETERISATIONS, ScoreNet
from ..parameterisation import from_score, to_x0_eps
from ..process import Process
from ..tensors import append_dims
from ..weighting import check_weighting, loss_weight, sample_times_uniform_log_snr
from ..velocity import conditional_velocity

Tensor = torch.Tensor


def sample_times(n: int, sde: Process, *, generator=None, device=None, dtype=torch.float32) -> Tensor:
    """Stratified t ~ U[t_min, T]: one uniform draw in each of n equal bins, shuffled (lower-variance than iid); [n]."""
    u = (torch.arange(n, dtype=torch.float64) + torch.rand(n, generator=generator, dtype=torch.float64)) / n
    u = u[torch.randperm(n, generator=generator)]
    return (sde.t_min + (sde.T - sde.t_min) * u).to(device=device, dtype=dtype)


def drop_labels(y: Tensor | None, num_classes: int, p_uncond: float, *, generator=None) -> Tensor | None:
    """Replace each label by the "no label" token C with probability p_uncond (classifier-free guidance training)."""
    if y is None or num_classes == 0 or p_uncond <= 0.0:
        return y if num_classes > 0 else None
    drop = torch.rand(y.shape[0], generator=generator).to(y.device) < p_uncond
    return torch.where(drop, torch.full_like(y, num_classes), y)


def dsm_target(x0: Tensor, eps: Tensor, x_t: Tensor, t: Tensor, sde: Process, parameterisation: str) -> tuple[Tensor, Tensor]:
    """(target, weight lambda(t) [N]) for a raw prediction: (eps, 1), (x_0, 1), (-eps / sigma, sigma^2) or
    (v = alpha eps - sigma x_0, 1): the prediction that the conditional score grad log p(x_t | x_0) = -eps / sigma implies."""
    if parameterisation not in PARAMETERISATIONS:
        raise ValueError(f"unknown parameterisation {parameterisation!r}; expected one of {list(PARAMETERISATIONS)}")
    if parameterisation in ("eps", "x0"):          # the targets themselves (bit for bit)
        return (eps if parameterisation == "eps" else x0), torch.ones_like(t)
    if parameterisation == "u":                    # conditional flow matching: alpha' x_0 + sigma' eps (linear: eps - x_0)
        return conditional_velocity(x0, eps, t, sde), torch.ones_like(t)
    target = from_score(parameterisation, -eps / append_dims(sde.std(t), x_t.ndim), x_t, t, sde)
    return target, sde.std(t) ** 2 if parameterisation == "score" else torch.ones_like(t)


def dsm_loss(net: ScoreNet, x0: Tensor, y: Tensor | None = None, *, sde: Process | None = None, p_uncond: float = 0.0,
             generator: torch.Generator | None = None, eps: Tensor | None = None, weighting: str | None = None) -> Tensor:
    """E_t,eps lambda(t) || net(x_t, t, y) - target ||^2 summed over dims, mean over the batch; x0 [N, D], y [N] -> [].
    eps [N, D]: the noise paired with each x_0 (a coupling, explorer/couplings.py); None draws it independently.
    weighting (explorer/weighting.py): None trains the net's own parameterisation's loss; a name trains
    c(t) || eps_hat - eps ||^2 instead, "likelihood" with lambda(t) drawn uniformly (the ELBO's own weighting)."""
    sde = net.sde if sde is None else sde
    n = x0.shape[0]
    if weighting is not None:
        check_weighting(weighting)
    draw = sample_times_uniform_log_snr if weighting == "likelihood" else sample_times
    t = draw(n, sde, generator=generator, device=x0.device, dtype=x0.dtype)
    if eps is None:
        eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
    a, s = append_dims(sde.mean_coef(t), x0.ndim), append_dims(sde.std(t), x0.ndim)
    x_t = a * x0 + s * eps
    y = drop_labels(y, net.config.num_classes, p_uncond, generator=generator)
    if weighting is not None:       # eps units, c(t) || eps_hat - eps ||^2 (explorer/weighting.py); "likelihood": c = 1
        eps_hat = to_x0_eps(net.config.parameterisation, net(x_t, t, y), x_t, t, sde)[1]
        c = torch.ones_like(t) if weighting == "likelihood" else loss_weight(weighting, sde, t)
        return (c * ((eps_hat - eps) ** 2).flatten(1).sum(1)).mean()
    target, weight = dsm_target(x0, eps, x_t, t, sde, net.config.parameterisation)
    err = (net(x_t, t, y) - target) ** 2
    return (weight * err.flatten(1).sum(1)).mean()
