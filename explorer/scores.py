"""Score functions (x, t) -> grad_x log p_t(x), and the eps / x0 / score conversions, in one place.

For x_t = alpha x_0 + sigma eps (Luo eqs. 133-151, Tweedie's formula):
  score = -eps_hat / sigma,   x0_hat = (x_t + sigma^2 score) / alpha,   eps_hat = (x_t - alpha x0_hat) / sigma.
"""
from __future__ import annotations

from typing import Callable

import torch

from .distributions import Dataset
from .mixture import GaussianMixture
from .sde import SDE
from .tensors import append_dims, as_time

Tensor = torch.Tensor
ScoreFn = Callable[[Tensor, Tensor], Tensor]   # (x [N, ...], t [N]) -> score [N, ...]


def eps_to_score(eps_hat: Tensor, x: Tensor, t: Tensor, sde: SDE) -> Tensor:
    """score = -eps_hat / sigma(t)."""
    return -eps_hat / append_dims(sde.std(t), x.ndim)


def score_to_eps(score: Tensor, x: Tensor, t: Tensor, sde: SDE) -> Tensor:
    """eps_hat = -sigma(t) score."""
    return -append_dims(sde.std(t), x.ndim) * score


def x0_to_score(x0_hat: Tensor, x: Tensor, t: Tensor, sde: SDE) -> Tensor:
    """score = -(x_t - alpha x0_hat) / sigma^2 (Tweedie)."""
    a, s = append_dims(sde.mean_coef(t), x.ndim), append_dims(sde.std(t), x.ndim)
    return -(x - a * x0_hat) / s ** 2


def score_to_x0(score: Tensor, x: Tensor, t: Tensor, sde: SDE) -> Tensor:
    """x0_hat = (x_t + sigma^2 score) / alpha (Tweedie)."""
    a, s = append_dims(sde.mean_coef(t), x.ndim), append_dims(sde.std(t), x.ndim)
    return (x + s ** 2 * score) / a


def mixture_score(mixture: GaussianMixture, sde: SDE, y: Tensor | None = None) -> ScoreFn:
    """Exact grad log p_t(x) (or grad log p_t(x | y)) of a Gaussian mixture under the process sde."""

    def score_fn(x: Tensor, t) -> Tensor:
        return mixture.score(x, as_time(t, x), sde, y=y)

    return score_fn


def exact_score(dataset: Dataset, sde: SDE, *, n_reference: int | None = None, y: Tensor | None = None) -> ScoreFn:
    """The exact score of a dataset: the mixture's, or the empirical (ideal-denoiser) score of a shape's reference set."""
    mixture = dataset.exact() if n_reference is None else dataset.exact(n_reference)
    return mixture_score(mixture, sde, y=y)
