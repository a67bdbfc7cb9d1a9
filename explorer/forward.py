"""The forward process as data for the views: exact sample paths and the exact density p_t on a grid."""
from __future__ import annotations

import torch

from .mixture import GaussianMixture
from .process import Process
from .tensors import append_dims

Tensor = torch.Tensor


def forward_paths(x0: Tensor, sde: Process, ts: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """Exact forward-SDE paths at increasing times ts [F] (ts[0] = 0 gives x0): x_{t_k} ~ N(alpha_{k|k-1} x_{k-1}, sigma_{k|k-1}^2); -> [F, N, ...]."""
    if ts.ndim != 1 or (ts[1:] <= ts[:-1]).any():
        raise ValueError("forward times must be a strictly increasing 1D grid")
    out = torch.empty((len(ts),) + tuple(x0.shape), dtype=x0.dtype, device=x0.device)
    a0, s0 = sde.mean_coef(ts[0]), sde.std(ts[0])
    dev = generator.device if generator is not None else x0.device
    x = a0 * x0 + s0 * torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=dev).to(x0.device)
    out[0] = x
    for k in range(1, len(ts)):
        a, s = sde.transition(ts[k - 1], ts[k])
        z = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=dev).to(x0.device)
        x = append_dims(a, x.ndim) * x + append_dims(s, x.ndim) * z
        out[k] = x
    return out


def log_density_grid(mixture: GaussianMixture, sde: Process, ts: Tensor, axes: list[Tensor]) -> Tensor:
    """log p_t on the grid spanned by axes (1 or 2 tensors of length G) at each t in ts: -> [F, G] or [F, G, G] (rows = last axis, as plotly's z)."""
    if len(axes) == 1:
        pts = axes[0][:, None]
    else:
        gy, gx = torch.meshgrid(axes[1], axes[0], indexing="ij")
        pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    pts = pts.double()
    shape = tuple(len(a) for a in reversed(axes))
    return torch.stack([mixture.log_prob(pts, float(t), sde).reshape(shape) for t in ts])


def view_half_width(sde: Process, ts: Tensor, data_std: float = 1.0, floor: float = 3.5) -> Tensor:
    """Axis half-width that keeps ~all of x_t in view: max(floor, 3.5 sqrt(alpha^2 var + sigma^2)), [F]."""
    spread = torch.sqrt(sde.mean_coef(ts) ** 2 * data_std ** 2 + sde.std(ts) ** 2)
    return torch.clamp(3.5 * spread, min=floor)


def quantize_log_density(log_p: Tensor, floor: float = -10.0) -> Tensor:
    """log p_t relative to its max per frame, clipped at floor, as uint8 0..255 (a tiny contour payload); [F, ...]."""
    rel = log_p - log_p.flatten(1).amax(1).reshape((-1,) + (1,) * (log_p.ndim - 1))
    return torch.round((rel.clamp(min=floor) - floor) / -floor * 255).to(torch.uint8)


def log_density_frames(mixture: GaussianMixture, sde: Process, ts: Tensor, half_widths: Tensor, n: int,
                       dtype=torch.float32):
    """Per frame its own square grid (axis [F, n], half-width per frame) and log p_t on it: -> (axes [F, n], z [F, n, n])."""
    unit = torch.linspace(-1.0, 1.0, n, dtype=dtype)
    axes = half_widths.to(dtype)[:, None] * unit[None]                              # [F, n]
    gy, gx = torch.meshgrid(unit, unit, indexing="ij")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)                          # [n*n, 2]
    pts = (half_widths.to(dtype)[:, None, None] * pts[None]).reshape(-1, 2)        # [F*n*n, 2]
    t = ts.to(dtype).repeat_interleave(n * n)
    return axes, mixture.log_prob(pts, t, sde).reshape(len(ts), n, n)
