"""Shared by the sampler tests: the energy-distance acceptance rule and small score functions with known answers.

Acceptance rule. For two independent n-samples of one law, the V-statistic energy distance
ED = 2 mean|x_i - y_j| - mean|x_i - x_j| - mean|y_i - y_j| (explorer.metrics) has mean exactly 2 delta / n,
delta = E|X - X'| (the n zero diagonal terms of each within-sample mean). Asymptotically (n / 2) ED / delta is a
Gaussian quadratic form sum_j lambda_j Z_j^2 with sum_j lambda_j = 1, and Székely & Bakirov (2003, "Extremal
probabilities for Gaussian quadratic forms") prove P(Q >= chi2_1(1 - a)) <= a for every such form when
a <= 0.215. So ED <= K * 2 delta / n with K = chi2_1(0.99) = 6.63 has a false-alarm rate of at most 1% for a
perfect sampler, whatever the target. (Measured over 150 seed pairs at n = 2000 on ring8, asym3 and
three_modes_1d: mean ratio 0.96-1.05 as the formula says, 99th percentile 3.2-3.7, so the bound is not tight.)
At n = 2000 this allows ED ~ 0.012 on ring8; the negative controls in the tests (plain Langevin on unequal
weights, a 3-step ODE solve) come out 10-100 times the allowance.
"""
from __future__ import annotations

from functools import lru_cache

import pytest
import torch

from explorer.distributions import Dataset
from explorer.metrics import energy_distance

@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run each sampler test on one torch thread, then restore the setting. Their tensors are small (<= 2000 x 8):
    a second OpenMP thread buys nothing, and on a shared, busy 2-core machine its spin-waits made these tests
    ~10x slower (293 s instead of 31 s). Imported by each test module so that it applies to these tests only."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


K_ED = 6.63          # chi2_1 99% quantile (Székely & Bakirov 2003), see above
N_PARTICLES = 2000


def null_energy(big: torch.Tensor, n: int) -> float:
    """E[ED] between two independent n-samples of the law of big [M, D]: 2 delta / n, delta = E|X - X'| estimated on big."""
    big = big.flatten(1).double()
    delta = torch.cdist(big, big).sum() / (big.shape[0] * (big.shape[0] - 1))
    return float(2 * delta / n)


@lru_cache(maxsize=None)
def _dataset_null(dataset: Dataset, n: int) -> float:
    big, _ = dataset.sample(4000, generator=torch.Generator().manual_seed(12345), dtype=torch.float64)
    return null_energy(big, n)


def energy_ratio(x: torch.Tensor, dataset: Dataset, *, seed: int = 777) -> float:
    """ED(x, fresh target samples of the same size) / E[null ED]; a perfect sampler gives ~1 (< K_ED in 99%+ of runs)."""
    ref, _ = dataset.sample(x.shape[0], generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return energy_distance(x.double(), ref) / _dataset_null(dataset, x.shape[0])


def gaussian_score(sde, data_var: float = 1.0):
    """Exact score of N(0, data_var I) data under the process, any shape: -x / (alpha^2 data_var + sigma^2)."""
    from explorer.tensors import append_dims

    def score_fn(x, t):
        a, s = sde.mean_coef(t), sde.std(t)
        return -x / append_dims(a ** 2 * data_var + s ** 2, x.ndim)

    return score_fn


class Counted:
    """Wraps a ScoreFn and counts its calls (to check the reported NFE)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, x, t):
        self.calls += 1
        return self.fn(x, t)
