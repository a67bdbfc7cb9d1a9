"""Couplings of data and noise for flow matching: which eps each x_0 is paired with in x_t = alpha x_0 + sigma eps.

  "independent"   (x_0, eps) ~ p_0 x N(0, I)                                  (Lipman et al. 2023)
  "minibatch_ot"  within each block of a batch, eps permuted to minimise sum_i ||x_0,i - eps_pi(i)||^2
                  (an assignment problem, scipy.optimize.linear_sum_assignment; Tong et al. 2023, Pooladian et al. 2023)
  "reflow"        (x_0, eps) = (Phi(sigma(T) eps), eps), Phi the ODE map of a trained flow from t = T to t_min
                  (Liu et al. 2023): the pairs the previous flow already connects; its straight lines cross less
A coupling gives a batch (x_0 [n, D], y [n] or None, eps [n, D] or None: None means "draw it independently").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from . import interrupt
from .process import Process

Tensor = torch.Tensor
COUPLINGS = ("independent", "minibatch_ot", "reflow")
OT_BLOCK = 128        # pairs matched per assignment problem (benchmarks/RESULTS_flow.md: its cost per step, and the
#                       straightness it buys at 64-512)


S_OT_ELEMENT = 1e-7    # seconds per cost-matrix entry of one assignment (0.4-5.7 ms seen for blocks of 64-256, busy CPU)


def ot_step_cost(batch_size: int, block: int = OT_BLOCK) -> float:
    """Seconds that minibatch OT adds to one training step: ceil(batch / block) assignments of block^2 entries."""
    return -(-batch_size // block) * S_OT_ELEMENT * min(block, batch_size) ** 2


def check_coupling(name) -> str:
    """name if it is a known coupling, else a ValueError with the choices."""
    if not isinstance(name, str) or name not in COUPLINGS:
        raise ValueError(f"unknown coupling {name!r}; expected one of {list(COUPLINGS)}")
    return name


def ot_permutation(x0: Tensor, eps: Tensor) -> Tensor:
    """The permutation pi minimising sum_i ||x0_i - eps_pi(i)||^2 (exact, Hungarian / Jonker-Volgenant); [n, D] x2 -> [n]."""
    cost = torch.cdist(x0.double().flatten(1), eps.double().flatten(1)).pow(2).cpu().numpy()
    rows, cols = linear_sum_assignment(cost)
    return torch.from_numpy(cols[np.argsort(rows)]).to(x0.device)


def ot_pair(x0: Tensor, eps: Tensor, *, block: int = OT_BLOCK) -> Tensor:
    """eps reordered so that each block of `block` consecutive rows is optimally matched to x0's same rows; -> [n, D]."""
    if not (isinstance(block, int) and block >= 1):
        raise ValueError(f"block must be a positive integer, got {block!r}")
    out = torch.empty_like(eps)
    for i in range(0, x0.shape[0], block):
        interrupt.check()
        sl = slice(i, i + block)
        out[sl] = eps[sl][ot_permutation(x0[sl], eps[sl])]
    return out


def pair_cost(x0: Tensor, eps: Tensor) -> float:
    """Mean squared length of the straight conditional paths, E ||x_0 - eps||^2."""
    return float(((x0 - eps) ** 2).flatten(1).sum(1).mean())


@dataclass(frozen=True)
class Independent:
    """Independent pairs: the loss draws eps itself (exactly the default DSM / flow-matching batch)."""

    name: str = "independent"

    def batch(self, dataset, n: int, *, generator=None):
        x0, y = dataset.sample(n, generator=generator)
        return x0, y, None


@dataclass(frozen=True)
class MinibatchOT:
    """Fresh x_0 ~ p_0 and eps ~ N(0, I), eps permuted per block of `block` rows by the optimal assignment."""

    block: int = OT_BLOCK
    name: str = "minibatch_ot"

    def batch(self, dataset, n: int, *, generator=None):
        x0, y = dataset.sample(n, generator=generator)
        eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
        return x0, y, ot_pair(x0, eps, block=self.block)


@dataclass(frozen=True, eq=False)
class Reflow:
    """A fixed set of pairs (x_0 [M, D], eps [M, D]) from a previous flow; each batch draws n of them with replacement."""

    x0: Tensor
    eps: Tensor
    name: str = "reflow"

    def batch(self, dataset, n: int, *, generator=None):
        idx = torch.randint(0, self.x0.shape[0], (n,), generator=generator)
        return self.x0[idx], None, self.eps[idx]


@torch.no_grad()
def reflow_pairs(score_fn, sde: Process, n: int, dim: int, *, generator=None, n_steps: int = 100,
                 sampler: str = "pf_heun") -> Reflow:
    """Reflow's pairs: eps ~ N(0, I), x_0 = the previous flow's ODE solution from x_T = sigma(T) eps (score_fn: that
    flow as a score, e.g. TrainedModel.score_fn()); n pairs in dim D."""
    if score_fn is None:
        raise ValueError("reflow needs a trained flow to generate its pairs: train one with the 'independent' or "
                         "'minibatch_ot' coupling first")
    from .samplers import sample       # samplers import scores; this module is imported by the training loop
    eps = torch.randn((n, dim), generator=generator)
    x0 = sample(sampler, score_fn, sde, sde.prior_std() * eps, n_steps=n_steps).x
    return Reflow(x0.float(), eps)


def get_coupling(name: str, *, previous=None, sde: Process | None = None, dim: int | None = None, n_pairs: int = 20_000,
                 generator=None, block: int = OT_BLOCK):
    """The coupling of that name; "reflow" needs `previous` (the trained flow's ScoreFn), sde and dim."""
    name = check_coupling(name)
    if name == "independent":
        return Independent()
    if name == "minibatch_ot":
        return MinibatchOT(block)
    if previous is None:
        raise ValueError("reflow needs a trained flow to generate its pairs: train one with the 'independent' or "
                         "'minibatch_ot' coupling first")
    return reflow_pairs(previous, sde, n_pairs, dim, generator=generator)
