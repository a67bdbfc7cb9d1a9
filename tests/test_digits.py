"""The digits data, the shipped digit classifier (the judge of the image model) and the Fréchet distance."""
import json

import numpy as np
import pytest
import torch
from scipy import linalg

from explorer.nn.digit_classifier import (CLASSIFIER_DIR, frechet_distance, load_classifier, shipped_classifier)
from explorer.digits import SIZES, check_size, digits_split, load_digits_tensor, resize_digits


def test_digits_shapes_range_and_labels():
    for size in SIZES:
        d = load_digits_tensor(size)
        assert d.x.shape == (1797, 1, size, size) and d.x.dtype == torch.float32
        assert float(d.x.min()) == -1.0 and float(d.x.max()) == 1.0
        assert d.y.shape == (1797,) and set(d.y.tolist()) == set(range(10))
    with pytest.raises(ValueError, match="one of"):
        check_size(12)
    with pytest.raises(ValueError, match="unknown part"):
        digits_split("test")


def test_split_is_fixed_disjoint_and_stratified():
    train, held = digits_split("train"), digits_split("heldout")
    assert len(train) + len(held) == 1797
    # stratified: every class has 20% +- one digit held out
    all_counts, held_counts = load_digits_tensor(8).y.bincount(), held.y.bincount()
    assert ((held_counts - 0.2 * all_counts).abs() <= 1).all()
    # disjoint: no held-out image appears among the training images with the same index set (compare bytes)
    train_set = {bytes(r.numpy().tobytes()) + bytes([int(c)]) for r, c in zip(train.x, train.y)}
    dup = sum(bytes(r.numpy().tobytes()) + bytes([int(c)]) in train_set for r, c in zip(held.x, held.y))
    assert dup <= 2            # sklearn's digits contain a handful of exact duplicates; the split itself is by index
    assert torch.equal(digits_split("heldout").x, held.x)          # fixed across calls


def test_resize_roundtrip_shape():
    x = digits_split("heldout").x[:5]
    up = resize_digits(x, 16)
    assert up.shape == (5, 1, 16, 16) and up.abs().max() <= 1.0
    assert resize_digits(x, 8) is x


def test_shipped_classifier_loads_with_weights_only_and_has_its_recorded_accuracy():
    meta = json.loads((CLASSIFIER_DIR / "config.json").read_text())
    torch.load(CLASSIFIER_DIR / "weights.pt", weights_only=True)
    clf = load_classifier()
    held = digits_split("heldout")
    acc = clf.accuracy(held.x, held.y)
    assert acc == pytest.approx(meta["training"]["heldout_accuracy"], abs=1e-6)
    assert acc >= 0.95
    f = shipped_classifier().features(held.x[:7])
    assert f.shape == (7, clf.config.feature_dim) and torch.isfinite(f).all()


def test_frechet_distance_matches_sqrtm_formula_and_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(300, 6)) * 1.5 + 0.3
    mu_a, mu_b, s_a, s_b = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = ((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * linalg.sqrtm(s_a @ s_b).real)
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-8)
    assert frechet_distance(torch.from_numpy(b), torch.from_numpy(a)) == pytest.approx(ref, rel=1e-8)   # symmetric
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = np.arange(6.0)
    assert frechet_distance(a, a + shift) == pytest.approx((shift ** 2).sum(), rel=1e-9)   # equal covariances
    # rank-deficient covariances (N < D) stay finite and non-negative
    assert frechet_distance(rng.normal(size=(3, 20)), rng.normal(size=(4, 20))) >= 0.0
    with pytest.raises(ValueError):
        frechet_distance(a, b[:, :5])
    with pytest.raises(ValueError):
        frechet_distance(a[:1], b)
