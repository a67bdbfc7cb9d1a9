"""Classifier guidance and classifier-free guidance (Luo's gamma: 0 unconditional, 1 conditional, > 1 guided), checked
against the exact Gaussian-mixture conditional, and the fidelity-vs-diversity figures.

Energy-distance tolerance. For independent sets X (N points) and Y (M points) from the SAME distribution, the
V-statistic D^2 = 2 mean||X - Y|| - mean||X - X'|| - mean||Y - Y'|| has expectation (1/N + 1/M) E||X - X'|| (the
zero diagonal terms), and its standard deviation is of the same order. We measure this noise floor directly as the
mean distance between pairs of fresh class-y sets of the same size, and accept a sampler's output when its distance to
a fresh class-y set is below 3 floors: a distribution that is wrong by a visible amount (the unconditional one, or
gamma = 3) lies tens of floors away, which the test also checks, so the tolerance has power.
"""
import math

import pytest
import torch

from explorer.distributions import get_dataset
from explorer.guidance import (GAMMA_MAX, cfg_score, cfg_term, check_class, check_gamma, class_distance,
                               classifier_gradient, classifier_guided_score, classify, exact_classifier,
                               exact_conditional_score, fidelity_diversity, guidance_sweep, guidance_term,
                               knn_recall, network_cfg_score)
from explorer.metrics import energy_distance
from explorer.mixture import GaussianMixture
from explorer.nn.networks import network_score
from explorer.pretrained import has_pretrained, load_pretrained
from explorer.samplers import sample
from explorer.scores import mixture_score
from explorer.process import get_process

N = 2000


@pytest.fixture(scope="module")
def mix():
    """Three overlapping classes; class 0 has two components (so p(x | y=0) is bimodal)."""
    return GaussianMixture.create([0.25, 0.2, 0.3, 0.25], [[-1.0, 0.6], [1.0, 0.6], [0.0, -0.4], [0.0, 1.6]],
                                  [0.45, 0.45, 0.5, 0.4], labels=[0, 0, 1, 2])


def class_samples(m: GaussianMixture, y: int, n: int, seed: int) -> torch.Tensor:
    """n fresh samples of p_0(x | y), by rejection on the labels."""
    g, out, have = torch.Generator().manual_seed(seed), [], 0
    while have < n:
        x, lab = m.sample(4 * n, generator=g, dtype=torch.float64)
        out.append(x[lab == y])
        have += out[-1].shape[0]
    return torch.cat(out)[:n]


def labelled_reference(m: GaussianMixture, n: int, seed: int):
    return m.sample(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --- argument checks ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.5, GAMMA_MAX + 1, "2", None, True, torch.ones(2)])
def test_bad_guidance_scales_fail_with_the_range(bad, mix):
    with pytest.raises(ValueError, match=r"gamma must be"):
        check_gamma(bad)
    sde = get_process("vp_linear")
    with pytest.raises(ValueError, match=r"gamma must be"):
        cfg_score(mixture_score(mix, sde), mixture_score(mix, sde), bad)
    with pytest.raises(ValueError, match=r"gamma must be"):
        classifier_guided_score(mixture_score(mix, sde), exact_classifier(mix, sde), 0, bad)


def test_a_class_that_does_not_exist_fails(mix):
    sde = get_process("vp_linear")
    for bad in (3, -1, 1.5, "0", None):
        with pytest.raises(ValueError, match=r"class .* does not exist; expected an integer in \[0, 2\]"):
            check_class(bad, 3)
    with pytest.raises(ValueError, match="does not exist"):
        exact_conditional_score(mix, sde, 3)
    with pytest.raises(ValueError, match=r"class 3 does not exist; expected an integer in \[0, 2\]"):
        classifier_guided_score(mixture_score(mix, sde), exact_classifier(mix, sde), 3, 1.0)(torch.zeros(4, 2), 0.5)
    assert check_class(torch.tensor(2), 3) == 2


# --- pointwise identities (float tolerance) ------------------------------------------------------------
def test_exact_classifier_gradient_is_bayes(mix, gen):
    """grad_x log p_t(y | x) (autograd through class_log_posterior) = grad log p_t(x | y) - grad log p_t(x)."""
    sde = get_process("vp_linear")
    x = 2 * torch.randn(500, 2, generator=gen, dtype=torch.float64)
    for t in (0.01, 0.1, 0.4, 0.9):
        tt = torch.full((500,), t, dtype=torch.float64)
        for y in range(3):
            grad = classifier_gradient(exact_classifier(mix, sde), y, x, tt)
            bayes = mix.score(x, tt, sde, y=torch.full((500,), y)) - mix.score(x, tt, sde)
            torch.testing.assert_close(grad, bayes, rtol=1e-9, atol=1e-9)


def test_classifier_guidance_endpoints_are_exact(mix, gen):
    """gamma = 0 is the unconditional score; gamma = 1 with the exact classifier is the exact conditional score."""
    sde = get_process("vp_linear")
    x = 2 * torch.randn(400, 2, generator=gen, dtype=torch.float64)
    t = torch.rand(400, generator=gen, dtype=torch.float64) * 0.98 + 0.01
    uncond, clf = mixture_score(mix, sde), exact_classifier(mix, sde)
    for y in range(3):
        torch.testing.assert_close(classifier_guided_score(uncond, clf, y, 0.0)(x, t), uncond(x, t), rtol=0, atol=0)
        torch.testing.assert_close(classifier_guided_score(uncond, clf, y, 1.0)(x, t),
                                   exact_conditional_score(mix, sde, y)(x, t), rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(guidance_term(clf, y, 2.5)(x, t),
                                   2.5 * (exact_conditional_score(mix, sde, y)(x, t) - uncond(x, t)),
                                   rtol=1e-9, atol=1e-9)


def test_cfg_endpoints_with_exact_scores(mix, gen):
    """s + gamma (s_y - s): gamma = 1 gives s_y, gamma = 0 gives s, pointwise; Luo's form = gamma s_y + (1 - gamma) s."""
    sde = get_process("vp_linear")
    x = 2 * torch.randn(400, 2, generator=gen, dtype=torch.float64)
    t = torch.rand(400, generator=gen, dtype=torch.float64) * 0.98 + 0.01
    uncond = mixture_score(mix, sde)
    for y in range(3):
        cond = exact_conditional_score(mix, sde, y)
        torch.testing.assert_close(cfg_score(uncond, cond, 1.0)(x, t), cond(x, t), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(cfg_score(uncond, cond, 0.0)(x, t), uncond(x, t), rtol=0, atol=0)
        torch.testing.assert_close(cfg_score(uncond, cond, 4.0)(x, t), 4.0 * cond(x, t) - 3.0 * uncond(x, t))
        torch.testing.assert_close(cfg_term(uncond, cond, 4.0)(x, t), 4.0 * (cond(x, t) - uncond(x, t)))


# --- sampling: gamma = 1 reproduces p(x | y); larger gamma raises class accuracy ------------------------
def test_classifier_guidance_at_gamma_1_samples_the_class(mix):
    sde = get_process("vp_linear")
    y = 0
    x_init = sde.prior_sample((N, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    guided = classifier_guided_score(mixture_score(mix, sde), exact_classifier(mix, sde), y, 1.0)
    x = sample("pf_heun", guided, sde, x_init, n_steps=25).x
    target = class_samples(mix, y, N, seed=1)
    floor = sum(energy_distance(class_samples(mix, y, N, 10 + i), class_samples(mix, y, N, 20 + i))
                for i in range(3)) / 3
    tol = 3 * floor
    assert energy_distance(x, target) < tol
    # power: the unconditional distribution and over-guidance (gamma = 3) are far outside the tolerance
    x_uncond = sample("pf_heun", mixture_score(mix, sde), sde, x_init, n_steps=25).x
    x_over = sample("pf_heun", classifier_guided_score(mixture_score(mix, sde), exact_classifier(mix, sde), y, 3.0),
                    sde, x_init, n_steps=25).x
    assert energy_distance(x_uncond, target) > 10 * tol
    assert energy_distance(x_over, target) > 10 * tol


def test_larger_gamma_increases_class_accuracy(mix):
    """Accuracy (exact class posterior at t = 0) over gamma = 0, 1, 3, 8: never drops by more than 2 binomial sds and
    rises by more than 5 sds from 0 to 1 and from 1 to 8 (sd = sqrt(p (1 - p) / N) <= 0.011 at N = 2000)."""
    sde = get_process("vp_linear")
    y = 0
    x_init = sde.prior_sample((N, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ref = labelled_reference(mix, 4000, seed=3)
    rows = guidance_sweep(lambda g: classifier_guided_score(mixture_score(mix, sde), exact_classifier(mix, sde), y, g),
                          (0.0, 1.0, 3.0, 8.0), sde, x_init, y, mix, ref, n_steps=25)
    acc = [r["accuracy"] for r in rows]
    sd = [math.sqrt(max(a * (1 - a), 1e-4) / N) for a in acc]
    for i in range(len(acc) - 1):
        assert acc[i + 1] >= acc[i] - 2 * max(sd[i], sd[i + 1]), acc
    assert acc[1] > acc[0] + 5 * max(sd[:2]), acc
    assert acc[3] > acc[1] + 5 * max(sd[1], sd[3]), acc
    assert abs(acc[0] - float(mix.class_weights()[y])) < 0.05          # gamma = 0: the class's share of p(x)
    dist = [r["distance"] for r in rows]
    assert dist[1] == min(dist)                                         # gamma = 1 is closest to p(x | y)


# --- CFG with the shipped conditional network ------------------------------------------------------------
@pytest.mark.skipif(not has_pretrained("ring8"), reason="no shipped ring8 model")
def test_cfg_with_the_pretrained_network(gen):
    """Pointwise: gamma = 0 / 1 are the network's unconditional / conditional scores, and gamma is Ho & Salimans'
    w + 1 in network_score. Chart: from the same noise, accuracy rises with gamma while diversity (recall) falls."""
    ds, model = get_dataset("ring8"), load_pretrained("ring8")
    sde = model.sde
    x = 2 * torch.randn(300, 2, generator=gen)
    t = torch.rand(300, generator=gen) * 0.98 + 0.01
    torch.testing.assert_close(network_cfg_score(model, 2, 0.0)(x, t), model.score_fn(None)(x, t))
    torch.testing.assert_close(network_cfg_score(model, 2, 1.0)(x, t), model.score_fn(2)(x, t))
    torch.testing.assert_close(network_cfg_score(model, 2, 3.0)(x, t), network_score(model.net, 2, gamma=3.0)(x, t),
                               rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="does not exist"):
        network_cfg_score(model, 8, 1.0)

    n, y = 1000, 0
    ref = ds.sample(8000, generator=torch.Generator().manual_seed(1))
    x_init = sde.prior_sample((n, 2), generator=torch.Generator().manual_seed(0))
    rows = guidance_sweep(lambda g: network_cfg_score(model, y, g), (0.0, 1.0, 2.0, 4.0), sde, x_init, y, ds, ref,
                          n_steps=25)
    acc, div = [r["accuracy"] for r in rows], [r["diversity"] for r in rows]
    sd = 0.5 / math.sqrt(n)                                              # largest binomial sd at n samples
    assert all(b >= a - 2 * sd for a, b in zip(acc, acc[1:])), acc
    assert acc[0] < 0.3 and acc[1] > 0.95, acc                          # unconditional ~ 1/8; conditional ~ 1
    assert all(b <= a + 4 * sd for a, b in zip(div, div[1:])), div     # diversity never rises beyond noise
    assert div[1] > 0.9 and div[3] < div[1] - 0.3, div                  # and falls clearly once gamma > 1


# --- fidelity / diversity on shapes (nearest-neighbour labels) -------------------------------------------
def test_fidelity_diversity_on_a_shape():
    ds = get_dataset("moons")
    ref = ds.sample(4000, generator=torch.Generator().manual_seed(1))
    x, lab = ds.sample(3000, generator=torch.Generator().manual_seed(2))
    fresh = x[lab == 1][:1000]
    acc, div = fidelity_diversity(fresh, 1, ds, ref)
    assert acc > 0.97 and div > 0.9                               # the class's own data: right class, full coverage
    collapsed = fresh.mean(0, keepdim=True) + 0.01 * torch.randn(1000, 2, generator=torch.Generator().manual_seed(3))
    acc_c, div_c = fidelity_diversity(collapsed, 1, ds, ref)
    assert div_c < 0.05                                           # one tight blob covers almost nothing
    assert fidelity_diversity(x[lab == 0][:1000], 1, ds, ref).accuracy < 0.03
    assert class_distance(fresh, 1, ref) < class_distance(collapsed, 1, ref)
    with pytest.raises(ValueError, match="does not exist"):
        fidelity_diversity(fresh, 2, ds, ref)


def test_classify_with_a_classifier_and_recall_limits(mix, gen):
    sde = get_process("vp_linear")
    x, lab = labelled_reference(mix, 2000, seed=5)
    via_fn = classify(x, exact_classifier(mix, sde))                          # evaluated at t = 0
    via_mix = classify(x, mix)
    assert (via_fn == via_mix).float().mean() > 0.99
    assert knn_recall(x, x) == 1.0
    with pytest.raises(ValueError, match="recall needs"):
        knn_recall(x[:3], x)
