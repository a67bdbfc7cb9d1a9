"""Exact noisy densities and scores of Gaussian mixtures against autograd, quadrature and the plain formula."""
import math

import pytest
import torch

import explorer.mixture as mixture_mod
from explorer.distributions import DATASETS, get_dataset
from explorer.mixture import GaussianMixture
from explorer.process import PROCESSES

SDES = [cls() for cls in PROCESSES.values()]
MIXTURES = [name for name, d in DATASETS.items() if d.is_mixture]
TIMES = (0.0, 0.01, 0.3, 0.7, 1.0)


@pytest.mark.parametrize("sde", SDES, ids=[s.name for s in SDES])
@pytest.mark.parametrize("name", MIXTURES)
def test_score_is_gradient_of_log_p_t(name, sde, gen):
    """grad_x log p_t(x) from the closed form equals autograd of log p_t, for every process and several t."""
    m = get_dataset(name).mixture
    x = (2 * torch.randn(64, m.dim, generator=gen, dtype=torch.float64)).requires_grad_(True)
    for t in TIMES:
        logp = m.log_prob(x, t, sde)
        (grad,) = torch.autograd.grad(logp.sum(), x)
        torch.testing.assert_close(m.score(x.detach(), t, sde), grad, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("sde", SDES, ids=[s.name for s in SDES])
def test_conditional_score_is_gradient_of_conditional_log_p(sde, gen):
    m = get_dataset("asym3").mixture
    x = torch.randn(30, 2, generator=gen, dtype=torch.float64).requires_grad_(True)
    y = torch.arange(30) % 3
    for t in TIMES:
        (grad,) = torch.autograd.grad(m.log_prob(x, t, sde, y=y).sum(), x)
        torch.testing.assert_close(m.score(x.detach(), t, sde, y=y), grad, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("sde", SDES, ids=[s.name for s in SDES])
def test_1d_density_integrates_to_one_with_noisy_moments(sde):
    """p_t integrates to 1 and has mean alpha E[x0] and variance alpha^2 Var[x0] + sigma^2 (trapezoid on a fine grid)."""
    m = get_dataset("three_modes_1d").mixture
    for t in (0.0, 0.2, 0.6, 1.0):
        tt = torch.tensor(t, dtype=torch.float64)
        a, s = float(sde.mean_coef(tt)), float(sde.std(tt))
        half_width = 8 * math.sqrt(a * a * 4 + s * s) + 1
        x = torch.linspace(-half_width, half_width, 200_001, dtype=torch.float64)[:, None]
        p = m.log_prob(x, t, sde).exp()
        xs = x[:, 0]
        mass = torch.trapezoid(p, xs)
        mean = torch.trapezoid(p * xs, xs)
        var = torch.trapezoid(p * xs ** 2, xs) - mean ** 2
        assert float(mass) == pytest.approx(1.0, abs=1e-6)
        assert float(mean) == pytest.approx(a * float(m.mean()), abs=1e-6)
        assert float(var) == pytest.approx(a * a * float(m.variance()) + s * s, rel=1e-5)


def test_empirical_score_matches_equal_weight_formula_in_chunks(monkeypatch, gen):
    """The chunked empirical score equals the plain equal-weight mixture formula computed in one block."""
    monkeypatch.setattr(mixture_mod, "_CHUNK_ELEMENTS", 10_000)   # force many chunks
    pts = torch.randn(3000, 2, generator=gen, dtype=torch.float64)
    emp = GaussianMixture.from_points(pts)
    sde = PROCESSES["vp_linear"]()
    x = torch.randn(500, 2, generator=gen, dtype=torch.float64)
    for t in (0.05, 0.5):
        tt = torch.tensor(t, dtype=torch.float64)
        a, s = sde.mean_coef(tt), sde.std(tt)
        d = x[:, None, :] - a * pts[None]                         # [N, M, 2]
        logits = -0.5 * (d ** 2).sum(-1) / s ** 2
        w = torch.softmax(logits, 1)
        plain = -(w[..., None] * d).sum(1) / s ** 2
        torch.testing.assert_close(emp.score(x, t, sde), plain, rtol=1e-9, atol=1e-9)
        log_p = torch.logsumexp(logits, 1) - math.log(3000) - math.log(2 * math.pi * s ** 2)
        torch.testing.assert_close(emp.log_prob(x, t, sde), log_p, rtol=1e-9, atol=1e-9)


def test_class_posterior_is_bayes_rule(gen):
    """log p_t(y | x) = log p_t(x | y) + log p(y) - log p_t(x); rows sum to one."""
    m = get_dataset("ring8").mixture
    sde = PROCESSES["ve"]()
    x = torch.randn(40, 2, generator=gen, dtype=torch.float64)
    for t in (0.0, 0.4):
        post = m.class_log_posterior(x, t, sde)
        torch.testing.assert_close(post.exp().sum(1), torch.ones(40, dtype=torch.float64))
        for c in range(m.num_classes):
            y = torch.full((40,), c)
            bayes = m.log_prob(x, t, sde, y=y) + torch.log(m.class_weights()[c]) - m.log_prob(x, t, sde)
            torch.testing.assert_close(post[:, c], bayes)


def test_samples_follow_the_weights(gen):
    """Component frequencies match the weights within 5 binomial standard errors."""
    m = get_dataset("three_modes_1d").mixture
    n = 50_000
    _, y = m.sample(n, generator=gen)
    freq = torch.bincount(y, minlength=3).double() / n
    se = torch.sqrt(m.weights * (1 - m.weights) / n)
    assert ((freq - m.weights).abs() < 5 * se).all()


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        (dict(weights=[1, 1], means=[[0.0], [float("nan")]], stds=[1, 1]), "finite"),
        (dict(weights=[-1, 2], means=[[0.0], [1.0]], stds=[1, 1]), "non-negative"),
        (dict(weights=[1], means=[[0.0], [1.0]], stds=[1, 1]), "one weight"),
    ],
)
def test_bad_mixtures_fail_clearly(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        GaussianMixture.create(**kwargs)
