"""Autoguidance (Karras et al. 2024) next to classifier-free guidance, and the support figure.

The exact setting of the EDM2 toy: the good model is the exact conditional score of a mixture's class, the weak one
the exact conditional score of the same mixture with every component widened by 0.1. Autoguidance sharpens the class
without leaving the data; CFG at the same w pushes the class away from the others and off the data (and so does
classifier guidance: the guidance tab's claim that guidance moves a ring8 class outward, #17 item 1).

Tolerances: "outside the support" is the fraction of N = 1000 samples below the data's own 1% log-density quantile;
for samples from the data it is ~0.01 with binomial sd 0.003, so <= 0.02 is 3 sd above a perfect sampler.
"""
import pytest
import torch

from _sampler_utils import one_torch_thread  # noqa: F401 (autouse fixture)
from explorer.distributions import get_dataset
from explorer.guidance import (SUPPORT_QUANTILE, autoguided_score, blurred_mixture, cfg_score, classifier_guided_score,
                               exact_classifier, exact_conditional_score, guidance_figures, network_autoguided_score,
                               support_density, support_figures)
from explorer.pretrained import list_weak, load_pretrained, load_weak
from explorer.process import get_process
from explorer.samplers import sample
from explorer.scores import mixture_score

N = 1000


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def setting():
    sde = get_process("vp_linear")
    x_init = sde.prior_sample((N, 2), generator=gen(0), dtype=torch.float64)
    return sde, x_init


def run(fn, sde, x_init):
    return sample("edm", fn, sde, x_init, n_steps=32).x


def test_w_one_is_the_good_model_exactly(setting):
    sde, x_init = setting
    mix = get_dataset("ring8").mixture
    good = exact_conditional_score(mix, sde, 0)
    weak = exact_conditional_score(blurred_mixture(mix, 0.1), sde, 0)
    x, t = 2 * torch.randn(200, 2, generator=gen(1), dtype=torch.float64), torch.rand(200, generator=gen(2)) * 0.9 + 0.05
    assert torch.equal(autoguided_score(good, weak, 1.0)(x, t), good(x, t))
    assert torch.equal(autoguided_score(good, weak, 0.0)(x, t), weak(x, t))
    assert torch.equal(run(autoguided_score(good, weak, 1.0), sde, x_init), run(good, sde, x_init))


@pytest.mark.parametrize("dataset", ["ring8", "grid25", "asym3"])
def test_autoguidance_stays_on_the_data_where_cfg_leaves_it(setting, dataset):
    """At w = 3 and 5: autoguidance leaves at most 2% of samples outside the support and moves the class mean by
    < 0.03; CFG at the same w moves it outward by > 0.1 and (at w = 5) leaves more samples outside than autoguidance;
    autoguidance is also closer to the class (energy distance)."""
    sde, x_init = setting
    ds = get_dataset(dataset)
    ref = ds.sample(4000, generator=gen(1))
    density = support_density(ds, ref)
    good = exact_conditional_score(ds.mixture, sde, 0)
    weak = exact_conditional_score(blurred_mixture(ds.mixture, 0.1), sde, 0)
    uncond = mixture_score(ds.mixture, sde)
    for w in (3.0, 5.0):
        auto = guidance_figures(run(autoguided_score(good, weak, w), sde, x_init), 0, ds, ref, density)
        cfg = guidance_figures(run(cfg_score(uncond, good, w), sde, x_init), 0, ds, ref, density)
        assert auto["outside"] <= 0.02 and abs(auto["shift"]) < 0.03, auto
        assert cfg["shift"] > 0.1 and cfg["outside"] >= auto["outside"], cfg
        assert auto["distance"] < cfg["distance"]
    assert cfg["outside"] > auto["outside"] + 0.01                      # at w = 5


def test_guidance_moves_a_ring8_class_outward(setting):
    """#17 item 1, the guidance text's claim: on ring8, class 0, both classifier guidance (exact classifier) and CFG
    (exact scores) move the class mean outward (away from the other classes) at gamma = 3, further at gamma = 8."""
    sde, x_init = setting
    ds = get_dataset("ring8")
    ref = ds.sample(4000, generator=gen(1))
    density = support_density(ds, ref)
    uncond, cond = mixture_score(ds.mixture, sde), exact_conditional_score(ds.mixture, sde, 0)
    for make in (lambda g: cfg_score(uncond, cond, g),
                 lambda g: classifier_guided_score(uncond, exact_classifier(ds.mixture, sde), 0, g)):
        shifts = [support_figures(run(make(g), sde, x_init), 0, ds, ref, density).shift for g in (1.0, 3.0, 8.0)]
        assert abs(shifts[0]) < 0.03 and shifts[1] > 0.1 and shifts[2] > shifts[1] + 0.05, shifts


def test_support_figure_of_the_data_itself():
    """Fresh data score ~SUPPORT_QUANTILE outside (mixture: exact p_0; shape: held-out smoothed points), a shift of ~0
    and their own spread."""
    for name in ("asym3", "moons"):
        ds = get_dataset(name)
        ref = ds.sample(4000, generator=gen(1))
        x, y = ds.sample(4000, generator=gen(2))
        fig = support_figures(x[y == 0], 0, ds, ref)
        assert abs(fig.outside - SUPPORT_QUANTILE) < 0.01 and abs(fig.shift) < 0.05, fig
    far = support_figures(torch.full((100, 2), 8.0), 0, get_dataset("asym3"), get_dataset("asym3").sample(4000))
    assert far.outside == 1.0


def test_shipped_weak_models_and_network_autoguidance():
    """A weak model for every labelled 2D dataset under vp_linear; it is smaller than the good one; network autoguidance
    at w = 1 is the good network's conditional score and mixes with the weak one otherwise."""
    from explorer.distributions import DATASETS
    assert list_weak() == sorted((n, "vp_linear") for n, d in DATASETS.items() if d.dim == 2 and d.num_classes > 1)
    good, weak = load_pretrained("ring8"), load_weak("ring8")
    assert sum(p.numel() for p in weak.net.parameters()) < sum(p.numel() for p in good.net.parameters()) / 4
    assert weak.info["steps"] < good.info["steps"]
    x, t = 2 * torch.randn(100, 2, generator=gen(3)), torch.rand(100, generator=gen(4)) * 0.9 + 0.05
    torch.testing.assert_close(network_autoguided_score(good, weak, 3, 1.0)(x, t), good.score_fn(3)(x, t))
    s2 = network_autoguided_score(good, weak, 3, 2.0)(x, t)
    torch.testing.assert_close(s2, 2 * good.score_fn(3)(x, t) - weak.score_fn(3)(x, t), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="no weak model"):
        load_weak("ring8", "ve")
    with pytest.raises(ValueError, match="does not exist"):
        network_autoguided_score(good, weak, 8, 2.0)
    with pytest.raises(ValueError, match="weak model is for"):
        network_autoguided_score(good, load_weak("asym3"), 0, 2.0)


def test_half_guidance_strands_samples_between_the_modes(setting):
    """The guidance text's claim: with the exact scores, CFG at gamma = 0.5 on ring8 (class 0) leaves about 40% of the
    samples outside the support (0.44 measured; > 0.3 is 8 binomial sds above the data's own 1%), against <= 2% at
    gamma = 0 and 1."""
    sde, x_init = setting
    ds = get_dataset("ring8")
    ref = ds.sample(4000, generator=gen(1))
    density = support_density(ds, ref)
    uncond, cond = mixture_score(ds.mixture, sde), exact_conditional_score(ds.mixture, sde, 0)
    out = [support_figures(run(cfg_score(uncond, cond, g), sde, x_init), 0, ds, ref, density).outside
           for g in (0.0, 0.5, 1.0)]
    assert out[1] > 0.3 and out[0] <= 0.02 and out[2] <= 0.02, out
