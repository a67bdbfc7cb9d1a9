"""Score fields on grids, for the arrow and curve views."""
from __future__ import annotations

import torch

from .scores import ScoreFn

Tensor = torch.Tensor


def grid_2d(half_width: float, n: int, dtype=torch.float64):
    """Square grid: axis [n] and points [n*n, 2] (row-major in y, as plotly's z)."""
    ax = torch.linspace(-half_width, half_width, n, dtype=dtype)
    gy, gx = torch.meshgrid(ax, ax, indexing="ij")
    return ax, torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)


@torch.no_grad()
def evaluate_score(score_fn: ScoreFn, x: Tensor, t: float) -> Tensor:
    """score_fn at points x [N, D] and one time t -> [N, D] (float64 out)."""
    tt = torch.full((x.shape[0],), float(t), dtype=x.dtype, device=x.device)
    return score_fn(x, tt).double()


def arrow_lengths(score: Tensor, spacing: float, *, normalize: bool) -> Tensor:
    """Arrow vectors [N, D] for display: unit * 0.8 spacing when normalized, else score scaled so its 90th-percentile norm is one spacing."""
    norm = score.norm(dim=1, keepdim=True)
    if normalize:
        return 0.8 * spacing * score / norm.clamp_min(1e-12)
    ref = torch.quantile(norm.flatten(), 0.9).clamp_min(1e-12)
    return spacing * score / ref
