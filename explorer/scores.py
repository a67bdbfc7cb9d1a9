"""Score functions (x, t) -> grad_x log p_t(x): exact (mixtures, empirical point sets). The eps / x0 / score / v / u
conversions live in explorer.parameterisation."""
from __future__ import annotations

from typing import Callable

import torch

from .distributions import Dataset
from .mixture import GaussianMixture
from .process import Process
from .tensors import as_time

Tensor = torch.Tensor
ScoreFn = Callable[[Tensor, Tensor], Tensor]   # (x [N, ...], t [N]) -> score [N, ...]


def mixture_score(mixture: GaussianMixture, sde: Process, y: Tensor | None = None) -> ScoreFn:
    """Exact grad log p_t(x) (or grad log p_t(x | y)) of a Gaussian mixture under the process sde."""

    def score_fn(x: Tensor, t) -> Tensor:
        return mixture.score(x, as_time(t, x), sde, y=y)

    return score_fn


def exact_score(dataset: Dataset, sde: Process, *, n_reference: int | None = None, y: Tensor | None = None) -> ScoreFn:
    """The exact score of a dataset: the mixture's, or the empirical (ideal-denoiser) score of a shape's reference set."""
    mixture = dataset.exact() if n_reference is None else dataset.exact(n_reference)
    return mixture_score(mixture, sde, y=y)
