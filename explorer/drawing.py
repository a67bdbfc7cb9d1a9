"""A drawing becomes a point cloud: drawn pixels are points, and each brush colour is a class."""
from __future__ import annotations

import numpy as np
import torch

Tensor = torch.Tensor


def points_from_drawing(rgba: np.ndarray, palette: list[tuple[int, int, int]], *, max_points: int = 2000,
                        generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Drawn pixels of an RGBA image [H, W, 4] (alpha > 0, not white) -> points [M, 2] (x right, y up) and the
    index of the nearest palette colour as label [M]; at most max_points, chosen at random."""
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB(A) image [H, W, 3 or 4], got shape {a.shape}")
    rgb = a[..., :3].astype(np.int32)
    drawn = (a[..., 3] > 0) if a.shape[2] == 4 else np.ones(a.shape[:2], bool)
    drawn &= rgb.sum(-1) < 3 * 235                                     # ignore white / near-white background
    rows, cols = np.nonzero(drawn)
    if len(rows) == 0:
        raise ValueError("nothing is drawn yet: draw some strokes on the canvas first")
    pal = np.asarray(palette, dtype=np.int32)                          # [C, 3]
    d = ((rgb[rows, cols][:, None, :] - pal[None]) ** 2).sum(-1)      # [M, C]
    labels = d.argmin(1)
    pts = np.stack([cols, a.shape[0] - 1 - rows], 1).astype(np.float64)
    if len(pts) > max_points:
        keep = torch.randperm(len(pts), generator=generator)[:max_points].numpy()
        pts, labels = pts[keep], labels[keep]
    used = np.unique(labels)                                          # renumber to 0..C'-1
    labels = np.searchsorted(used, labels)
    return torch.from_numpy(pts), torch.from_numpy(labels).long()
