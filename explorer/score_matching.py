"""Denoising = explicit score matching up to a constant (Vincent 2011; Chan §3.3), on one fixed batch, in eps units.

With x_t = alpha x_0 + sigma eps and eps*(x_t) = -sigma grad log p_t(x_t) = E[eps | x_t] (exact for mixtures), weighting
both losses by sigma^2 (Song's lambda(t) = sigma^2, so they read as eps errors):
    DSM = E || eps_hat - eps ||^2                      = sigma^2 E || s_theta - grad log p(x_t | x_0) ||^2
    ESM = E || eps_hat - eps*(x_t) ||^2                = sigma^2 E || s_theta - grad log p_t(x_t) ||^2
    DSM - ESM = C + 2 E (eps_hat - eps*) . (eps* - eps),   C = E || eps - eps*(x_t) ||^2,
and the cross term has mean 0 (E[eps | x_t] = eps*): the two curves differ by the constant C, which no network changes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .distributions import Dataset
from .parameterisation import score_to_eps
from .process import Process
from .scores import ScoreFn, mixture_score
from .tensors import append_dims

Tensor = torch.Tensor


@dataclass(frozen=True)
class ScoreMatchingBatch:
    """A fixed batch: x_t [B, D] at times t [B] from (x_0, eps), and the exact eps*(x_t) [B, D] of the mixture."""

    t: Tensor
    eps: Tensor
    x_t: Tensor
    eps_star: Tensor

    @property
    def constant(self) -> float:
        """C = E || eps - eps*(x_t) ||^2 on this batch."""
        return float(((self.eps - self.eps_star) ** 2).sum(1).mean())


@dataclass(frozen=True)
class ScoreMatchingLosses:
    """DSM, ESM and the constant C on one batch, and the standard error of (DSM - ESM - C) (its sampling error)."""

    dsm: float
    esm: float
    constant: float
    stderr: float


@torch.no_grad()
def score_matching_batch(dataset: Dataset, sde: Process, n: int = 2048, *, generator=None) -> ScoreMatchingBatch:
    """Draw (x_0, t ~ U[t_min, T], eps) once for a mixture dataset; other datasets have no exact p_t (ValueError)."""
    if not dataset.is_mixture:
        raise ValueError(f"explicit score matching needs the exact score: {dataset.label} is not a Gaussian mixture")
    x0, _ = dataset.sample(n, generator=generator, dtype=torch.float64)
    t = sde.t_min + (sde.T - sde.t_min) * torch.rand(n, generator=generator, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=generator, dtype=torch.float64)
    x_t = append_dims(sde.mean_coef(t), x0.ndim) * x0 + append_dims(sde.std(t), x0.ndim) * eps
    eps_star = score_to_eps(mixture_score(dataset.exact(), sde)(x_t, t), x_t, t, sde)
    return ScoreMatchingBatch(t=t, eps=eps, x_t=x_t, eps_star=eps_star)


@torch.no_grad()
def score_matching_losses(score_fn: ScoreFn, batch: ScoreMatchingBatch, sde: Process) -> ScoreMatchingLosses:
    """DSM and ESM of a model on the batch (sigma^2-weighted, eps units), C, and the standard error of DSM - ESM - C."""
    x = batch.x_t.float()
    eps_hat = score_to_eps(score_fn(x, batch.t.float()).double(), batch.x_t, batch.t, sde)
    dsm_i = ((eps_hat - batch.eps) ** 2).sum(1)
    esm_i = ((eps_hat - batch.eps_star) ** 2).sum(1)
    c_i = ((batch.eps - batch.eps_star) ** 2).sum(1)
    cross = dsm_i - esm_i - c_i
    return ScoreMatchingLosses(dsm=float(dsm_i.mean()), esm=float(esm_i.mean()), constant=float(c_i.mean()),
                               stderr=float(cross.std() / math.sqrt(cross.numel())))
