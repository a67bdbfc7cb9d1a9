"""The toy datasets: labels, standardisation, determinism, validation."""
import pytest
import torch

from explorer.distributions import DATASETS, MAX_REFERENCE, custom_1d, get_dataset


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_dataset_is_standardised_and_labelled(name, gen):
    """Mean ~0 and average per-dim variance ~1 (within 5%: 20k samples give ~1-2% sampling error); every class occurs."""
    d = get_dataset(name)
    x, y = d.sample(20_000, generator=gen)
    assert x.shape == (20_000, d.dim) and x.dtype == torch.float32 and y.shape == (20_000,)
    assert torch.isfinite(x).all()
    assert x.mean(0).abs().max() < 0.05
    assert float(x.var(0).mean()) == pytest.approx(1.0, abs=0.05)
    assert set(y.tolist()) == set(range(d.num_classes))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_generator_is_the_only_randomness(name):
    d = get_dataset(name)
    a, ya = d.sample(100, generator=torch.Generator().manual_seed(3))
    b, yb = d.sample(100, generator=torch.Generator().manual_seed(3))
    c, _ = d.sample(100, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and torch.equal(ya, yb) and not torch.equal(a, c)


def test_shape_exact_distribution_is_its_reference_set():
    d = get_dataset("moons")
    m = d.exact(500)
    assert m.means.shape == (500, 2) and torch.allclose(m.weights, torch.full((500,), 1 / 500, dtype=torch.float64))
    with pytest.raises(ValueError, match="reference set size"):
        d.exact(MAX_REFERENCE + 1)


def test_custom_1d_validation():
    ds = custom_1d([-1, 2], [0.5, 0.2], [1, 3])
    assert ds.dim == 1 and ds.num_classes == 2
    torch.testing.assert_close(ds.mixture.weights, torch.tensor([0.25, 0.75], dtype=torch.float64))
    for bad, msg in [(([0, 1], [0.5], [1, 1]), "same number"), (([0], [0.0], [1]), "positive"),
                     (([0], [float("nan")], [1]), "positive"), (([float("inf")], [1.0], [1]), "finite")]:
        with pytest.raises(ValueError, match=msg):
            custom_1d(*bad)


def test_unknown_dataset_lists_choices():
    with pytest.raises(ValueError, match="unknown dataset 'mooons'; expected one of"):
        get_dataset("mooons")
