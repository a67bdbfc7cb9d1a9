"""The exact marginal velocity of a Gaussian path: u_t(x) = E[dx_t/dt | x_t = x] = alpha' E[x_0 | x_t] + sigma' E[eps | x_t].

For x_t = alpha(t) x_0 + sigma(t) eps the conditional velocity is alpha' x_0 + sigma' eps (for the linear path
alpha = 1 - t, sigma = t: eps - x_0, the straight line from x_0 to eps); its average given x_t is the marginal velocity
that flow matching learns (Lipman et al. 2023, Liu et al. 2023) and the velocity of the probability-flow ODE
dx/dt = f x - g^2 / 2 score (Song et al. 2021): one object, whatever the process.

For a Gaussian mixture p_0 = sum_k w_k N(mu_k, diag s_k^2) (and any point set: s_k = h), with v_k = alpha^2 s_k^2 + sigma^2
and responsibilities r_k(x) = p(k | x_t = x):
  E[x_0 | x_t, k] = mu_k + alpha s_k^2 (x - alpha mu_k) / v_k,    E[eps | x_t, k] = sigma (x - alpha mu_k) / v_k,
so u_t(x) = sum_k r_k [alpha' mu_k + (v_k' / 2) (x - alpha mu_k) / v_k], computed here from the posterior directly (no
score, no division by alpha) with alpha', sigma' the derivatives of alpha(t), sigma(t) by autograd (not f and g):
explorer.parameterisation.from_score("u", exact score) is an independent route to the same field (tested).
Shapes: x [N, D], t float or [N] -> [N, D].
"""
from __future__ import annotations

from typing import Callable

import torch

from .distributions import Dataset
from .mixture import GaussianMixture
from .parameterisation import from_score, to_score
from .process import Process
from .tensors import append_dims, as_time

Tensor = torch.Tensor
VelocityFn = Callable[[Tensor, Tensor], Tensor]    # (x [N, ...], t [N]) -> u [N, ...]


def path_derivatives(sde: Process, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(alpha, sigma, alpha', sigma') at t [N], the derivatives by autograd of sde.mean_coef, sde.std (not f and g)."""
    t = t.detach().reshape(-1)
    if t.numel() > 1 and bool((t == t[0]).all()):       # one time for the whole batch (every sampler step): once
        return tuple(c.expand(t.shape) for c in path_derivatives(sde, t[:1]))
    with torch.enable_grad():       # reverse mode, elementwise (each output depends on its own t only); forward-mode
        u = t.clone().requires_grad_(True)      # levels are process-global and clash across request threads
        a, s = sde.mean_coef(u), sde.std(u)
        da, ds = (_ddt(c, u) for c in (a, s))
    return a.detach(), s.detach(), da, ds


def _ddt(c: Tensor, u: Tensor) -> Tensor:
    """dc/du elementwise (c [N] a function of u [N] entry by entry); 0 where c does not depend on u (VE: alpha = 1)."""
    if not c.requires_grad:
        return torch.zeros_like(u)
    (grad,) = torch.autograd.grad(c.sum(), u, retain_graph=True, allow_unused=True)
    return torch.zeros_like(u) if grad is None else grad.detach()


def posterior_mean(mixture: GaussianMixture, x: Tensor, t, sde: Process) -> tuple[Tensor, Tensor]:
    """(E[x_0 | x_t = x], E[eps | x_t = x]) exactly, from the mixture's responsibilities; x [N, D] -> two [N, D]."""
    x0_hat, eps_hat = torch.empty_like(x), torch.empty_like(x)
    s0 = mixture.shared_std
    for sl, xc, tc in mixture._chunks(x, t):
        a, s = sde.mean_coef(tc), sde.std(tc)
        if s0 is not None:       # one v for every component: sum_k r_k mu_k is all that is needed
            logits, var, a = mixture._shared_terms(xc, tc, sde, None, s0)
            m = torch.softmax(logits, dim=1) @ mixture.means.to(x)           # E[mu_k | x_t]
            resid = (xc - a[:, None] * m) / var[:, None]                     # E[(x - alpha mu_k) / v_k | x_t]
            x0_hat[sl] = m + (a * s0 ** 2)[:, None] * resid
            eps_hat[sl] = s[:, None] * resid
        else:
            logits, grads = mixture._terms(xc, tc, sde, None)                # grads = -(x - alpha mu_k) / v_k
            r = torch.softmax(logits, dim=1)
            stds2 = (mixture.stds ** 2).to(x)
            x0_k = mixture.means.to(x)[None] - append_dims(a, 3) * stds2[None] * grads
            x0_hat[sl] = torch.einsum("nk,nkd->nd", r, x0_k)
            eps_hat[sl] = -s[:, None] * torch.einsum("nk,nkd->nd", r, grads)
    return x0_hat, eps_hat


def mixture_velocity(mixture: GaussianMixture, sde: Process) -> VelocityFn:
    """Exact u_t(x) = alpha' E[x_0 | x_t] + sigma' E[eps | x_t] of a Gaussian mixture (or point set) under sde."""

    def velocity_fn(x: Tensor, t) -> Tensor:
        t = as_time(t, x)
        x0_hat, eps_hat = posterior_mean(mixture, x, t, sde)
        _, _, da, ds = path_derivatives(sde, t)
        return append_dims(da, x.ndim) * x0_hat + append_dims(ds, x.ndim) * eps_hat

    return velocity_fn


def exact_velocity(dataset: Dataset, sde: Process, *, n_reference: int | None = None) -> VelocityFn:
    """The exact velocity of a dataset: the mixture's, or that of a shape's reference point set (its ideal flow)."""
    mixture = dataset.exact() if n_reference is None else dataset.exact(n_reference)
    return mixture_velocity(mixture, sde)


def velocity_from_score(score_fn, sde: Process) -> VelocityFn:
    """u = alpha' x0_hat + sigma' eps_hat from a score (explorer.parameterisation; = f x - g^2 / 2 score, the PF-ODE)."""

    def velocity_fn(x: Tensor, t) -> Tensor:
        t = as_time(t, x)
        return from_score("u", score_fn(x, t), x, t, sde)

    return velocity_fn


def score_from_velocity(velocity_fn: VelocityFn, sde: Process):
    """ScoreFn from a velocity (explorer.parameterisation.to_score("u")): every score sampler runs a flow with it."""

    def score_fn(x: Tensor, t) -> Tensor:
        t = as_time(t, x)
        return to_score("u", velocity_fn(x, t), x, t, sde)

    return score_fn


def conditional_velocity(x0: Tensor, eps: Tensor, t: Tensor, sde: Process) -> Tensor:
    """alpha'(t) x_0 + sigma'(t) eps, the velocity of one conditional path (linear path: eps - x_0); [N, D], t [N]."""
    _, _, da, ds = path_derivatives(sde, t)
    return append_dims(da, x0.ndim) * x0 + append_dims(ds, x0.ndim) * eps


def monte_carlo_velocity(x: Tensor, t: float, sde: Process, x0_samples: Tensor) -> Tensor:
    """u_t(x) by its definition: the p(x_t = x | x_0)-weighted mean of alpha' x_0 + sigma' eps over samples x_0 ~ p_0,
    with eps = (x - alpha x_0) / sigma; x [N, D], x0_samples [M, D] -> [N, D] (a test and teaching aid)."""
    tt = torch.tensor(float(t), dtype=x.dtype)
    a, s, da, ds = (float(c) for c in path_derivatives(sde, tt.reshape(1)))
    diff = x[:, None, :] - a * x0_samples[None].to(x)                    # [N, M, D]
    w = torch.softmax(-(diff ** 2).sum(-1) / (2 * s ** 2), dim=1)          # p(x_t | x_0) / sum
    eps = diff / s
    return torch.einsum("nm,nmd->nd", w, da * x0_samples[None].to(x) + ds * eps)


@torch.no_grad()
def streamlines(velocity_fn: VelocityFn, t: float, seeds: Tensor, *, step: float, n_steps: int = 20) -> Tensor:
    """Streamlines of the frozen field u_t (not ODE paths: t stays fixed), through each seed [S, 2], both ways, by
    midpoint steps of arc length `step` along u / |u|; -> [S, 2 n_steps + 1, 2] (NaN where |u| = 0)."""
    tt = torch.full((seeds.shape[0],), float(t), dtype=seeds.dtype)

    def direction(x):
        u = velocity_fn(x, tt)
        return u / u.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def trace(sign):
        x, out = seeds, []
        for _ in range(n_steps):
            mid = x + 0.5 * sign * step * direction(x)
            x = x + sign * step * direction(mid)
            out.append(x)
        return out

    back, fwd = trace(-1.0), trace(1.0)
    return torch.stack(back[::-1] + [seeds] + fwd, dim=1)


@torch.no_grad()
def velocity_error_on_grid(velocity_fn: VelocityFn, mixture: GaussianMixture, sde: Process, t: float, pts: Tensor):
    """||u_theta - u_t|| at points [M, D] against the exact velocity, and log p_t there: -> (error [M], log p_t [M])."""
    tt = torch.full((pts.shape[0],), float(t))
    learned = velocity_fn(pts.float(), tt).double()
    exact = mixture_velocity(mixture, sde)(pts.double(), float(t))
    return (learned - exact).norm(dim=1), mixture.log_prob(pts.double(), float(t), sde)


def p_weighted_mean(values: Tensor, log_p: Tensor) -> float:
    """sum_i p_i v_i / sum_i p_i over grid points (values, log_p [M]): an error where the samples are."""
    w = torch.exp(log_p - log_p.max())
    return float((values * w).sum() / w.sum())
