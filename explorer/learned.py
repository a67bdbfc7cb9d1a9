"""Learned against exact: where a score network is wrong, on a grid and averaged over p_t, and how it samples."""
from __future__ import annotations

import torch

from .distributions import Dataset
from .mixture import GaussianMixture
from .scores import ScoreFn
from .process import Process

Tensor = torch.Tensor


@torch.no_grad()
def error_on_grid(score_fn: ScoreFn, exact: GaussianMixture, sde: Process, t: float, pts: Tensor):
    """||s_theta - grad log p_t|| at points [M, D] and p_t there: -> (error [M], log p_t [M])."""
    pts = pts.float()
    tt = torch.full((pts.shape[0],), float(t))
    err = (score_fn(pts, tt).double() - exact.score(pts.double(), float(t), sde)).norm(dim=1)
    return err, exact.log_prob(pts.double(), float(t), sde)


@torch.no_grad()
def error_over_time(score_fn: ScoreFn, dataset: Dataset, sde: Process, ts: Tensor, *, n: int = 2000,
                    generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """E_{x_t ~ p_t} ||s_theta - grad log p_t||^2, as RMS and relative to the RMS of the exact score, at each t in ts [T]."""
    exact = dataset.exact()
    rms, rel = [], []
    for t in ts.tolist():
        x0, _ = dataset.sample(n, generator=generator, dtype=torch.float64)
        xt, _ = sde.marginal_sample(x0, torch.tensor(t, dtype=torch.float64), generator=generator)
        true = exact.score(xt, t, sde)
        learned = score_fn(xt.float(), torch.full((n,), t)).double()
        mse = ((learned - true) ** 2).sum(1).mean()
        rms.append(mse.sqrt())
        rel.append((mse / (true ** 2).sum(1).mean()).sqrt())
    return torch.stack(rms), torch.stack(rel)


@torch.no_grad()
def nearest_reference_distance(x: Tensor, reference: Tensor) -> Tensor:
    """Distance from each sample [N, D] to its nearest reference point [M, D] (memorisation shows as ~0): -> [N]."""
    return torch.cdist(x.double(), reference.double()).min(dim=1).values


def score_error_map(score_fn: ScoreFn, mixture: GaussianMixture, sde: Process, t: float, half: float, n: int = 40):
    """Unweighted ||s_theta(x, t) - grad log p_t(x)|| on an n x n grid of half-width `half` (not weighted by p_t, so
    errors far from the data show): -> (axis [n], error [n, n], log p_t [n, n], ||grad log p_t|| [n, n])."""
    from .fields import grid_2d       # fields imports scores, as this module does

    axis, pts = grid_2d(half, n)
    with torch.no_grad():
        learned = score_fn(pts.float(), torch.full((n * n,), float(t))).double()
    exact = mixture.score(pts, t, sde)
    err = (learned - exact).norm(dim=1)
    return axis, err.reshape(n, n), mixture.log_prob(pts, t, sde).reshape(n, n), exact.norm(dim=1).reshape(n, n)


def finite_set_dataset(dataset: Dataset, m: int, seed: int = 0) -> Dataset:
    """The M points behind the ideal denoiser dataset.exact(M, seed) as a dataset of their own (sampling draws only
    them, bootstrap): train a network on it to compare like for like with the ideal denoiser of the same points."""
    points = dataset.exact(m, seed)
    return Dataset(dataset.name, f"{dataset.label}: the {points.means.shape[0]} training points", dataset.dim,
                   dataset.class_names, empirical=points)
