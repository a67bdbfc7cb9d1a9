"""A drawing becomes a point cloud: drawn pixels are points, and each brush colour is a class."""
from __future__ import annotations

import numpy as np
import torch

from .images import MAX_SKETCH_SIDE, load_rgba

Tensor = torch.Tensor


def points_from_drawing(drawing, palette: list[tuple[int, int, int]], *, max_points: int = 2000,
                        generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Drawn pixels of an RGB(A) image [H, W, 3 or 4] (alpha > 0, not white) -> points [M, 2] (x right, y up) and the
    index of the nearest palette colour as label [M]; at most max_points, chosen at random.

    drawing: an array, or an image file (path, bytes, file object), whose header is checked before it is decoded
    (explorer.images.load_rgba: at most MAX_SKETCH_SIDE on a side). Memory: O(H W) bytes plus O(max_points).
    """
    a = np.asarray(load_rgba(drawing, largest=MAX_SKETCH_SIDE))
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB(A) image [H, W, 3 or 4], got shape {a.shape}")
    brightness = a[..., 0].astype(np.uint16) + a[..., 1] + a[..., 2]
    drawn = brightness < 3 * 235                                       # ignore white / near-white background
    if a.shape[2] == 4:
        drawn &= a[..., 3] > 0
    rows, cols = np.nonzero(drawn)
    if len(rows) == 0:
        raise ValueError("nothing is drawn yet: draw some strokes on the canvas first")
    if len(rows) > max_points:
        keep = torch.randperm(len(rows), generator=generator)[:max_points].numpy()
        rows, cols = rows[keep], cols[keep]
    rgb = a[rows, cols, :3].astype(np.int32)                          # [M, 3]
    pal = np.asarray(palette, dtype=np.int32)                          # [C, 3]
    labels = ((rgb[:, None, :] - pal[None]) ** 2).sum(-1).argmin(1)    # [M]
    pts = np.stack([cols, a.shape[0] - 1 - rows], 1).astype(np.float64)
    used = np.unique(labels)                                          # renumber to 0..C'-1
    labels = np.searchsorted(used, labels)
    return torch.from_numpy(pts), torch.from_numpy(labels).long()
