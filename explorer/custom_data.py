"""Bring your own data: a point set (from CSV text or canvas strokes) becomes a Dataset with an exact empirical score.

The points x_1..x_M are standardised (mean 0, average per-dimension variance 1, like the built-in toys) and the
dataset is p_0 = (1/M) sum_i N(x_i, h^2 I): sampling is a bootstrap of the points (plus N(0, h^2) jitter when
h > 0), and its exact noisy score is the ideal denoiser's, GaussianMixture.from_points (explorer.mixture).
"""
from __future__ import annotations

import csv
import io
import math
from typing import Sequence

import torch

from .distributions import Dataset
from .mixture import GaussianMixture

Tensor = torch.Tensor

MIN_POINTS = 20
MAX_POINTS = 20_000          # the exact empirical score costs O(M) per query point
MAX_CSV_BYTES = 5_000_000
MAX_CLASSES = 20


def dataset_from_points(points, labels=None, *, class_names: Sequence[str] | None = None, jitter: float = 0.0,
                        name: str = "custom", label: str | None = None) -> Dataset:
    """Dataset of standardised points [M, D] (labels [M] in 0..C-1 optional): bootstrap sampling, exact empirical score."""
    x = torch.as_tensor(points, dtype=torch.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] not in (1, 2):
        raise ValueError(f"points must be an array [M, 1] or [M, 2], got shape {tuple(x.shape)}")
    m = x.shape[0]
    if m < MIN_POINTS:
        raise ValueError(f"need at least {MIN_POINTS} points, got {m}")
    if m > MAX_POINTS:
        raise ValueError(f"at most {MAX_POINTS:,} points are supported, got {m:,}")
    if not torch.isfinite(x).all():
        raise ValueError("points must be finite numbers (found NaN or infinity)")
    if not (math.isfinite(jitter) and 0.0 <= jitter <= 1.0):
        raise ValueError(f"jitter must be in [0, 1] (in standardised units), got {jitter}")
    shift = x.mean(0)
    scale = float((x - shift).var(0, unbiased=False).mean().sqrt())
    if not scale > 1e-9 * max(1.0, float(x.abs().max())):
        raise ValueError("the points have no spread: they all lie at the same place")
    y, names = _class_indices(labels, m, class_names)
    empirical = GaussianMixture.from_points((x - shift) / scale, y, bandwidth=jitter)
    return Dataset(name, label or f"custom: {m} points", x.shape[1], names, shift=shift, scale=scale,
                   empirical=empirical)


def _class_indices(labels, m: int, class_names) -> tuple[Tensor, tuple[str, ...]]:
    """Labels [M] as class indices 0..C-1 and the class names (one class "points" when labels is None)."""
    if labels is None:
        return torch.zeros(m, dtype=torch.long), tuple(class_names or ("points",))
    y = torch.as_tensor(labels)
    if y.shape != (m,) or y.is_floating_point() and not torch.equal(y, y.round()):
        raise ValueError(f"labels must be {m} integers, one per point")
    y = y.long()
    if (y < 0).any():
        raise ValueError("labels must be non-negative integers")
    c = int(y.max()) + 1
    if c > MAX_CLASSES:
        raise ValueError(f"at most {MAX_CLASSES} classes are supported, got labels up to {c - 1}")
    names = tuple(class_names) if class_names is not None else tuple(str(k) for k in range(c))
    if len(names) < c:
        raise ValueError(f"{c} classes but only {len(names)} class names")
    used = torch.unique(y)                       # drop unused classes: labels become 0..C'-1
    return torch.searchsorted(used, y), tuple(names[k] for k in used.tolist())


def parse_csv(text: str | bytes) -> tuple[Tensor, Tensor | None, tuple[str, ...] | None]:
    """Rows "x,y" or "x,y,label" (an optional header row) -> (points [M, 2] float64, labels [M] or None, class names)."""
    if isinstance(text, bytes):
        if len(text) > MAX_CSV_BYTES:
            raise ValueError(f"the CSV is {len(text) / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("the CSV is not UTF-8 text") from None
    if len(text.encode("utf-8")) > MAX_CSV_BYTES:
        raise ValueError(f"the CSV is over {MAX_CSV_BYTES / 1e6:.0f} MB")
    rows = [(i + 1, [c.strip() for c in row]) for i, row in enumerate(csv.reader(io.StringIO(text)))]
    rows = [(i, r) for i, r in rows if any(r)]                       # skip blank lines
    if not rows:
        raise ValueError("the CSV is empty: expected rows of x,y or x,y,label")
    if not (_is_number(rows[0][1][0]) or _is_number(rows[0][1][-1] if len(rows[0][1]) > 1 else "")):
        rows = rows[1:]                                              # a header such as "x,y,label"
        if not rows:
            raise ValueError("the CSV has a header but no data rows")
    if len(rows) > MAX_POINTS:
        raise ValueError(f"the CSV has {len(rows):,} rows; at most {MAX_POINTS:,} are supported")
    n_cols = len(rows[0][1])
    if n_cols not in (2, 3):
        raise ValueError(f"line {rows[0][0]} has {n_cols} columns; expected 2 (x,y) or 3 (x,y,label)")
    xs, labels = [], []
    for line, r in rows:
        if len(r) != n_cols:
            raise ValueError(f"line {line} has {len(r)} columns; expected {n_cols} like the first row")
        point = []
        for col, cell in zip("xy", r[:2]):
            try:
                v = float(cell)
            except ValueError:
                raise ValueError(f"line {line}: {col} = {cell[:30]!r} is not a number") from None
            if not math.isfinite(v):
                raise ValueError(f"line {line}: {col} = {cell!r} is not a finite number (NaN and infinity are not allowed)")
            point.append(v)
        xs.append(point)
        if n_cols == 3:
            if not r[2]:
                raise ValueError(f"line {line}: the label is empty")
            labels.append(r[2])
    points = torch.tensor(xs, dtype=torch.float64)
    if n_cols == 2:
        return points, None, None
    y, names = _encode_labels(labels)
    return points, y, names


def _encode_labels(labels: list[str]) -> tuple[Tensor, tuple[str, ...]]:
    """Text labels -> indices 0..C-1 (integers in numeric order, otherwise alphabetical) and class names."""
    unique = sorted(set(labels), key=lambda s: (0, float(s), s) if _is_number(s) else (1, 0.0, s))
    if len(unique) > MAX_CLASSES:
        raise ValueError(f"found {len(unique)} different labels; at most {MAX_CLASSES} classes are supported")
    index = {s: k for k, s in enumerate(unique)}
    return torch.tensor([index[s] for s in labels], dtype=torch.long), tuple(unique)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def dataset_from_csv(text: str | bytes, *, jitter: float = 0.0, name: str = "custom_csv") -> Dataset:
    """A Dataset from CSV text of x,y[,label] rows; any problem raises ValueError naming the line and the problem."""
    points, y, names = parse_csv(text)
    return dataset_from_points(points, y, class_names=names, jitter=jitter, name=name,
                               label=f"CSV: {points.shape[0]} points")


def resample_strokes(strokes, *, n_points: int = 1000) -> tuple[Tensor, Tensor]:
    """Polylines [K_i, 2] -> (points [M, 2], stroke index [M]): points evenly spaced in arc length over all strokes.

    Each stroke of length L_i gets round(n_points L_i / sum L) points (at least one; a dot, L_i = 0, gives its point).
    """
    polys = []
    for i, s in enumerate(strokes):
        p = torch.as_tensor(s, dtype=torch.float64)
        if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
            raise ValueError(f"stroke {i} must be a list of (x, y) points, got shape {tuple(p.shape)}")
        if not torch.isfinite(p).all():
            raise ValueError(f"stroke {i} has a NaN or infinite coordinate")
        polys.append(p)
    n_vertices = sum(p.shape[0] for p in polys)
    if n_vertices < MIN_POINTS:
        raise ValueError(f"the drawing has {n_vertices} points; draw at least {MIN_POINTS}")
    if not 1 <= n_points <= MAX_POINTS:
        raise ValueError(f"n_points must be in [1, {MAX_POINTS}], got {n_points}")
    seg_lengths = [(p[1:] - p[:-1]).norm(dim=1) for p in polys]
    total = float(sum(float(s.sum()) for s in seg_lengths))
    out, idx = [], []
    for i, (p, seg) in enumerate(zip(polys, seg_lengths)):
        length = float(seg.sum())
        if total == 0.0 or length == 0.0:
            pts = p[:1]
        else:
            k = max(1, round(n_points * length / total))
            cum = torch.cat([torch.zeros(1, dtype=torch.float64), seg.cumsum(0)])
            s = (torch.arange(k, dtype=torch.float64) + 0.5) * (length / k)        # midpoints of k equal arcs
            j = torch.searchsorted(cum, s, right=True).clamp(1, len(cum) - 1) - 1
            frac = ((s - cum[j]) / seg[j].clamp_min(1e-300)).clamp(0, 1)[:, None]
            pts = p[j] + frac * (p[j + 1] - p[j])
        out.append(pts)
        idx.append(torch.full((pts.shape[0],), i, dtype=torch.long))
    return torch.cat(out), torch.cat(idx)


def dataset_from_strokes(strokes, *, stroke_labels: Sequence[int] | None = None, n_points: int = 1000,
                         jitter: float = 0.0, flip_y: bool = False, name: str = "custom_drawing") -> Dataset:
    """A Dataset from canvas strokes (polylines of (x, y)); stroke_labels gives each stroke a class (default: one class).

    flip_y=True turns image coordinates (y pointing down) into plot coordinates (y up).
    """
    points, stroke = resample_strokes(strokes, n_points=n_points)
    if flip_y:
        points = points * torch.tensor([1.0, -1.0], dtype=torch.float64)
    labels = None
    if stroke_labels is not None:
        if len(stroke_labels) != len(strokes):
            raise ValueError(f"give one label per stroke: {len(stroke_labels)} labels for {len(strokes)} strokes")
        labels = torch.as_tensor(list(stroke_labels), dtype=torch.long)[stroke]
    if points.shape[0] < MIN_POINTS:
        raise ValueError(f"the drawing gives {points.shape[0]} points; draw longer strokes (at least {MIN_POINTS} points)")
    return dataset_from_points(points, labels, jitter=jitter, name=name, label=f"drawing: {points.shape[0]} points")
