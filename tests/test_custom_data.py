"""Bring your own data: CSV parsing, canvas strokes, and the point dataset's sampling and exact empirical score."""
import math

import pytest
import torch

from explorer.custom_data import (MAX_CSV_BYTES, MAX_POINTS, MIN_POINTS, dataset_from_csv, dataset_from_points, parse_csv)
from explorer.scores import exact_score
from explorer.process import get_process


def _csv(n=50, label=True, header=True):
    rows = ["x,y,label" if label else "x,y"] if header else []
    for i in range(n):
        a = 2 * math.pi * i / n
        rows.append(f"{math.cos(a):.6f},{math.sin(a):.6f}" + (f",{'inner' if i % 2 else 'outer'}" if label else ""))
    return "\n".join(rows) + "\n"


# --- CSV: happy paths --------------------------------------------------------------------------------
def test_csv_with_header_and_text_labels():
    points, y, names = parse_csv(_csv(50))
    assert points.shape == (50, 2) and points.dtype == torch.float64
    assert names == ("inner", "outer") and y.tolist()[:4] == [1, 0, 1, 0]
    assert points[0].tolist() == [1.0, 0.0]


def test_csv_without_header_or_labels_and_bytes_input():
    points, y, names = parse_csv(_csv(30, label=False, header=False).encode())
    assert points.shape == (30, 2) and y is None and names is None


def test_csv_numeric_labels_sort_numerically_and_blank_lines_are_skipped():
    text = "\n".join(f"{i},{i * i},{10 if i % 2 else 2}" for i in range(25)) + "\n\n\n"
    points, y, names = parse_csv(text)
    assert names == ("2", "10") and y[:2].tolist() == [0, 1] and points.shape == (25, 2)


def test_csv_dataset_is_standardised_with_classes():
    ds = dataset_from_csv(_csv(200))
    assert ds.dim == 2 and ds.num_classes == 2 and ds.class_names == ("inner", "outer")
    x, y = ds.sample(5000, generator=torch.Generator().manual_seed(0))
    assert abs(float(x.mean(0).abs().max())) < 0.05 and float(x.var(0).mean()) == pytest.approx(1.0, abs=0.05)
    assert set(y.tolist()) == {0, 1}


# --- CSV: each bad input, a clear ValueError -----------------------------------------------------------
@pytest.mark.parametrize("text, match", [
    ("", "empty"),
    ("\n\n  \n", "empty"),
    ("x,y\n", "header but no data"),
    ("1,2\n3,abc\n", r"line 2: y = 'abc' is not a number"),
    ("1,2\nhello,3\n", r"line 2: x = 'hello' is not a number"),
    ("1,2\nnan,3\n", r"line 2: x = 'nan' is not a finite number"),
    ("1,2\n3,inf\n", r"line 2: y = 'inf' is not a finite number"),
    ("1,2\n3,-Infinity\n", "not a finite number"),
    ("1\n2\n3\n", "1 columns; expected 2"),
    ("1,2,3,4\n", "4 columns; expected 2"),
    ("1,2\n3,4,5\n", "line 2 has 3 columns; expected 2"),
    ("1,2,a\n3,4,\n", "line 2: the label is empty"),
])
def test_bad_csv(text, match):
    with pytest.raises(ValueError, match=match):
        parse_csv(text)


def test_csv_too_many_rows_too_big_too_few_points_and_not_utf8():
    with pytest.raises(ValueError, match=f"at most {MAX_POINTS:,}"):
        parse_csv("1,2\n" * (MAX_POINTS + 1))
    with pytest.raises(ValueError, match="MB"):
        parse_csv(b"1,2\n" * (MAX_CSV_BYTES // 4 + 1))
    with pytest.raises(ValueError, match=f"at least {MIN_POINTS}"):
        dataset_from_csv(_csv(MIN_POINTS - 1))
    with pytest.raises(ValueError, match="UTF-8"):
        parse_csv(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="different labels"):
        parse_csv("".join(f"{i},{i},class{i}\n" for i in range(30)))


def test_points_must_have_spread():
    with pytest.raises(ValueError, match="no spread"):
        dataset_from_points(torch.ones(30, 2))


# --- the point dataset ---------------------------------------------------------------------------------
def test_bootstrap_sampling_returns_the_points_and_jitter_blurs_them():
    pts = torch.randn(40, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ds = dataset_from_points(pts)
    standardised = (pts - ds.shift) / ds.scale
    x, y = ds.sample(500, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    dist = (x[:, None] - standardised[None]).norm(dim=-1).min(1).values
    assert dist.max() < 1e-12                                              # every sample is one of the points
    assert (y == 0).all() and ds.num_classes == 1
    xj, _ = dataset_from_points(pts, jitter=0.1).sample(500, generator=torch.Generator().manual_seed(1))
    assert (xj.double()[:, None] - standardised[None]).norm(dim=-1).min(1).values.median() > 0.02


def test_exact_score_is_the_empirical_ideal_denoiser():
    """grad log p_t for p_0 = (1/M) sum delta(x - x_i): sum_i r_i (alpha x_i - x) / sigma^2, r = softmax_i(-|x - alpha x_i|^2 / 2 sigma^2)."""
    pts = torch.randn(25, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ds = dataset_from_points(pts)
    sde = get_process("vp_linear")
    xi = (pts - ds.shift) / ds.scale
    x, t = torch.randn(8, 2, dtype=torch.float64), torch.full((8,), 0.2, dtype=torch.float64)
    a, s = sde.mean_coef(t)[:, None, None], sde.std(t)[:, None, None]
    d = a * xi[None] - x[:, None]                                          # [8, M, 2]
    r = torch.softmax(-(d ** 2).sum(-1) / (2 * s[..., 0] ** 2), dim=1)
    expected = (r[..., None] * d).sum(1) / s[:, 0] ** 2
    torch.testing.assert_close(exact_score(ds, sde)(x, t), expected)
    assert ds.exact() is ds.exact(500)                                     # the points themselves, any n_reference


def test_points_labels_are_compacted():
    pts = torch.randn(30, 2, generator=torch.Generator().manual_seed(0))
    ds = dataset_from_points(pts, torch.tensor([0, 4] * 15), class_names=[f"c{k}" for k in range(5)])
    assert ds.class_names == ("c0", "c4") and set(ds.empirical.labels.tolist()) == {0, 1}
    with pytest.raises(ValueError, match="integers"):
        dataset_from_points(pts, torch.full((30,), 0.5))
    with pytest.raises(ValueError, match="finite"):
        dataset_from_points(torch.full((30, 2), float("nan")))


