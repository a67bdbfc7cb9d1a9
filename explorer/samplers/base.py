"""What every sampler shares: its result type, its callback and the time grids.

Signature of every sampler (k-diffusion style):
    fn(score_fn, sde, x_init, ts, *, generator=None, callback=None, **opts) -> SampleResult
where ts [S+1] runs from T down to t_min, x_init [N, ...] ~ prior, and the generator is the only randomness.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..sde import SDE

Tensor = torch.Tensor
Callback = Callable[[int, Tensor, Tensor], None]   # (step i, t_i [], x_i [N, ...]) -> None; may raise to stop


@dataclass(frozen=True)
class SampleResult:
    """x [N, ...] the final samples; trajectory [S+1, N, ...] (x_init first); ts [S+1] the times; nfe score evaluations."""

    x: Tensor
    trajectory: Tensor
    ts: Tensor
    nfe: int


def time_grid(sde: SDE, n_steps: int, *, t_end: float | None = None, dtype=torch.float32, device=None) -> Tensor:
    """Uniform grid [n_steps + 1] from T down to t_end (default sde.t_min)."""
    t_end = sde.t_min if t_end is None else t_end
    return torch.linspace(sde.T, t_end, n_steps + 1, dtype=dtype, device=device)
