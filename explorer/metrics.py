"""Distances between sample sets: the energy distance (no gradients, any device)."""
from __future__ import annotations

import torch

Tensor = torch.Tensor


def _mean_pairwise_distance(a: Tensor, b: Tensor, chunk: int = 2048) -> Tensor:
    """E||a - b|| over all pairs; a [N, D], b [M, D] -> [] (chunked so 10k x 10k fits)."""
    total = torch.zeros((), dtype=torch.float64, device=a.device)
    for i in range(0, a.shape[0], chunk):
        total += torch.cdist(a[i:i + chunk].double(), b.double()).sum()
    return total / (a.shape[0] * b.shape[0])


@torch.no_grad()
def energy_distance(x: Tensor, y: Tensor) -> float:
    """D^2(P, Q) = 2 E||X - Y|| - E||X - X'|| - E||Y - Y'|| (V-statistic; x [N, D], y [M, D])."""
    x, y = x.flatten(1), y.flatten(1)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"sample sets differ in dimension: {x.shape[1]} vs {y.shape[1]}")
    xy = _mean_pairwise_distance(x, y)
    return float(2 * xy - _mean_pairwise_distance(x, x) - _mean_pairwise_distance(y, y))
