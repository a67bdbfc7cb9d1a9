"""Bring your own data: a point set (from CSV text or canvas strokes) becomes a Dataset with an exact empirical score.

The points x_1..x_M are standardised (mean 0, average per-dimension variance 1, like the built-in toys) and the
dataset is p_0 = (1/M) sum_i N(x_i, h^2 I): sampling is a bootstrap of the points (plus N(0, h^2) jitter when
h > 0), and its exact noisy score is the ideal denoiser's, GaussianMixture.from_points (explorer.mixture).
"""
from __future__ import annotations

import contextlib
import csv
import io
import math
import os
from pathlib import Path
from typing import Sequence

import torch

from .distributions import Dataset
from .mixture import GaussianMixture

Tensor = torch.Tensor

MIN_POINTS = 20
MAX_POINTS = 20_000          # the exact empirical score costs O(M) per query point
MAX_CSV_BYTES = 5_000_000
MAX_LINE_CHARS = 1_000       # a row of two numbers and a label; longer lines are refused before they are parsed
MAX_CSV_LINES = 5 * MAX_POINTS   # blank lines included
EXCERPT = 30                 # characters of a cell quoted in an error message
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


def parse_csv(source) -> tuple[Tensor, Tensor | None, tuple[str, ...] | None]:
    """Rows "x,y" or "x,y,label" (an optional header row) -> (points [M, 2] float64, labels [M] or None, class names).

    source: text, UTF-8 bytes, a path or a binary file. It is read line by line and refused as soon as a limit is passed:
    MAX_CSV_BYTES in all, MAX_LINE_CHARS per line, MAX_POINTS data rows, MAX_CSV_LINES lines; any line ending works
    (LF, CRLF, CR). Error messages name the line and quote at most an excerpt of the offending cell.
    """
    xs, labels, n_cols = [], [], None
    with _text_stream(source) as stream:
        reader = csv.reader(_bounded_lines(stream))
        try:
            for row in reader:
                cells = [c.strip() for c in row]
                if not any(cells):
                    continue                                                 # blank lines
                if n_cols is None and not xs and not _looks_numeric(cells):
                    n_cols = 0                                               # a header such as "x,y,label"
                    continue
                n_cols = _parse_row(cells, reader.line_num, n_cols or None, xs, labels)
        except csv.Error as err:
            raise ValueError(f"line {reader.line_num}: this is not CSV the reader understands "
                             f"({_excerpt(str(err), 60)})") from None
    if not xs:
        raise ValueError("the CSV has a header but no data rows" if n_cols == 0 else
                         "the CSV is empty: expected rows of x,y or x,y,label")
    points = torch.tensor(xs, dtype=torch.float64)
    if n_cols == 2:
        return points, None, None
    y, names = _encode_labels(labels)
    return points, y, names


def _looks_numeric(cells: list[str]) -> bool:
    """Whether a first row is data (its first or last cell a number) rather than a header."""
    return _is_number(cells[0]) or (len(cells) > 1 and _is_number(cells[-1]))


def _parse_row(cells: list[str], line: int, n_cols: int | None, xs: list, labels: list) -> int:
    """Append one data row's (x, y) to xs and its label to labels; returns the number of columns (2 or 3)."""
    if n_cols is None:
        if len(cells) not in (2, 3):
            raise ValueError(f"line {line} has {len(cells)} columns; expected 2 (x,y) or 3 (x,y,label)")
        n_cols = len(cells)
    elif len(cells) != n_cols:
        raise ValueError(f"line {line} has {len(cells)} columns; expected {n_cols} like the first row")
    if len(xs) >= MAX_POINTS:
        raise ValueError(f"the CSV has more than {MAX_POINTS:,} rows; at most {MAX_POINTS:,} are supported")
    xs.append([_number(cell, col, line) for col, cell in zip("xy", cells)])
    if n_cols == 3:
        if not cells[2]:
            raise ValueError(f"line {line}: the label is empty")
        labels.append(cells[2])
    return n_cols


def _number(cell: str, col: str, line: int) -> float:
    """One coordinate cell as a finite float, or a ValueError quoting an excerpt of the cell."""
    try:
        v = float(cell)
    except ValueError:
        raise ValueError(f"line {line}: {col} = {_excerpt(cell)} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"line {line}: {col} = {_excerpt(cell)} is not a finite number (NaN and infinity are not "
                         f"allowed)")
    return v


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    """repr of text, cut to limit characters with an ellipsis and its full length when longer."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


@contextlib.contextmanager
def _text_stream(source):
    """A text stream over source (str, bytes, a path or a binary file) with newline="" so csv sees every line ending."""
    if isinstance(source, str):
        if len(source) > MAX_CSV_BYTES:
            raise ValueError(f"the CSV is over {MAX_CSV_BYTES / 1e6:.0f} MB")
        yield io.StringIO(source, newline="")
        return
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > MAX_CSV_BYTES:
            raise ValueError(f"the CSV is {len(source) / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB")
        source = io.BytesIO(bytes(source))
    if isinstance(source, (os.PathLike, Path)):
        with open(source, "rb") as f, _text_stream(f) as stream:
            yield stream
        return
    stream = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    try:
        yield stream
    except UnicodeDecodeError:
        raise ValueError("the CSV is not UTF-8 text") from None
    finally:
        stream.detach()


def _bounded_lines(stream):
    """The stream's lines (endings kept), refused past MAX_LINE_CHARS each, MAX_CSV_LINES lines or MAX_CSV_BYTES in all."""
    total = 0
    for number in range(1, MAX_CSV_LINES + 2):
        line = stream.readline(MAX_LINE_CHARS + 2)
        if not line:
            return
        if number > MAX_CSV_LINES:
            raise ValueError(f"the CSV has more than {MAX_CSV_LINES:,} lines; at most {MAX_POINTS:,} rows are supported")
        if len(line) > MAX_LINE_CHARS and not _ends_line(line):
            raise ValueError(f"line {number} is longer than {MAX_LINE_CHARS:,} characters; expected short rows "
                             f"of x,y or x,y,label")
        total += len(line)
        if total > MAX_CSV_BYTES:
            raise ValueError(f"the CSV is over {MAX_CSV_BYTES / 1e6:.0f} MB")
        yield line


def _ends_line(line: str) -> bool:
    """Whether a line read with a length limit is complete (it has its ending, at most MAX_LINE_CHARS before it)."""
    body = line.rstrip("\r\n")
    return len(body) <= MAX_LINE_CHARS and len(body) < len(line)


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
