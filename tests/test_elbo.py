"""The ELBO term by term (explorer/elbo.py) against closed forms: exact reverse kernels of Gaussian data, the true NLL
of mixtures as a floor, and the discretisation gap shrinking with the number of levels."""
import math

import pytest
import torch

from explorer.distributions import DATASETS
from explorer.elbo import elbo_terms, elbo_vs_levels, level_times, model_variances
from explorer.mixture import GaussianMixture
from explorer.process import PROCESSES, get_process
from explorer.scores import exact_score, mixture_score


def _paired(elbo, nll):
    """mean and standard error of -ELBO(x0) - NLL(x0) over the same x0 (the data's own spread cancels)."""
    diff = elbo.per_sample - nll
    return float(diff.mean()), float(diff.std() / math.sqrt(diff.numel()))


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_exact_reverse_kernels_of_gaussian_data_give_nll_plus_prior_kl(name):
    """Data N(m, s^2 I): q(x_{i-1} | x_i) = N(mu_tilde(x_i, E[x0 | x_i]), beta_tilde_i + c_i^2 Var[x0 | x_i]) exactly.
    With these kernels as the model, E[-ELBO] = E[-log q(x_0)] + KL(q(x_N) || p(x_N)) (the sum telescopes, Luo eq. 58)."""
    sde = get_process(name)
    m = torch.tensor([0.7, -0.4], dtype=torch.float64)
    n = 50
    ts = level_times(sde, n)
    t_prev, t_cur = ts[:-1], ts[1:]
    alpha, sigma = sde.mean_coef(t_cur), sde.std(t_cur)
    _, s_step = sde.transition(t_prev, t_cur)
    c = sde.mean_coef(t_prev) * s_step ** 2 / sigma ** 2
    beta_tilde = (s_step * sde.std(t_prev) / sigma) ** 2
    gm = GaussianMixture.create([1.0], m[None], torch.full((1, 2), 0.8, dtype=torch.float64))   # isotropic: one variance
    var_x0 = 0.8 ** 2 * sigma ** 2 / (alpha ** 2 * 0.8 ** 2 + sigma ** 2)
    var = beta_tilde + c ** 2 * var_x0
    g = torch.Generator().manual_seed(0)
    x0, _ = gm.sample(6000, generator=g, dtype=torch.float64)
    terms = elbo_terms(mixture_score(gm, sde), sde, x0, n, variance=var, generator=g)
    nll = -gm.log_prob(x0, 0.0, sde)
    a_N, s_N, s_p = float(alpha[-1]), float(sigma[-1]), sde.prior_std()
    q_var = a_N ** 2 * 0.8 ** 2 + s_N ** 2
    kl_prior = 0.5 * float(((q_var + (a_N * m) ** 2) / s_p ** 2 - 1 - math.log(q_var / s_p ** 2)).sum())
    mean, se = _paired(terms, nll)
    assert se < 0.04       # precise enough to see a mismatch of 0.1 nats
    assert abs(mean - kl_prior) < 3.5 * se + 1e-3


@pytest.mark.parametrize("dataset", ["two_modes_1d", "ring8"])
def test_elbo_of_the_exact_score_bounds_the_true_nll_and_tightens_with_levels(dataset):
    """For the exact mixture score, E[-ELBO] >= E[-log p_0] (a bound on any model) within 3 paired standard errors at
    every N, and the gap falls from N = 10 to 30 to 100 by more than its error (the gap is the discretisation's)."""
    ds, sde = DATASETS[dataset], get_process("vp_linear")
    g = torch.Generator().manual_seed(1)
    x0, _ = ds.sample(3000 if ds.dim == 1 else 600, generator=g)
    nll = -ds.exact().log_prob(x0.double(), 0.0, sde)
    fn = exact_score(ds, sde)
    gaps = []
    for n in (10, 30, 100):
        terms = elbo_terms(fn, sde, x0, n, variance="beta", generator=g)
        assert torch.isfinite(terms.levels).all() and torch.isfinite(terms.prior).all()
        gaps.append(_paired(terms, nll))
    for mean, se in gaps:
        assert mean > -3 * se
    for (m1, s1), (m2, s2) in zip(gaps, gaps[1:]):
        assert m2 < m1 - 2 * math.hypot(s1, s2)


def test_beta_is_the_tighter_choice_for_a_continuous_density():
    """The true reverse kernel of a smooth density has variance ~ beta_i at small noise, so sigma_i^2 = beta_tilde_i
    (about half of beta_i in the first levels) pays a variance mismatch there: its -ELBO is larger, by most in the first
    levels."""
    ds, sde = DATASETS["ring8"], get_process("ddpm_discrete")
    g = torch.Generator().manual_seed(2)
    x0, _ = ds.sample(300, generator=g)
    fn = exact_score(ds, sde)
    beta = elbo_terms(fn, sde, x0, 100, variance="beta", generator=torch.Generator().manual_seed(3))
    post = elbo_terms(fn, sde, x0, 100, variance="posterior", generator=torch.Generator().manual_seed(3))
    (mb, sb), (mp, sp) = beta.mean_and_stderr(), post.mean_and_stderr()
    assert mp > mb + 3 * math.hypot(sb, sp)
    diff = post.level_means() - beta.level_means()
    assert float(diff[:10].sum()) > 0.5 * float(diff.sum())


def test_units_and_bad_input():
    ds, sde = DATASETS["ring8"], get_process("vp_linear")
    x0, _ = ds.sample(20, generator=torch.Generator().manual_seed(0))
    terms = elbo_terms(exact_score(ds, sde), sde, x0, 5)
    mean, _ = terms.mean_and_stderr()
    assert terms.bits_per_dim(mean) == pytest.approx(mean / (2 * math.log(2)))
    assert terms.levels.shape == (5, 20) and terms.t.shape == (6,)
    with pytest.raises(ValueError, match="integer in"):
        level_times(sde, 0)
    with pytest.raises(ValueError, match="expected one of"):
        model_variances(sde, level_times(sde, 5), "large")
    with pytest.raises(ValueError, match="finite"):
        elbo_terms(exact_score(ds, sde), sde, x0 * float("nan"), 5)


def test_the_bound_against_levels_lists_each_n():
    ds, sde = DATASETS["two_modes_1d"], get_process("vp_linear")
    x0, _ = ds.sample(50, generator=torch.Generator().manual_seed(0))
    out = elbo_vs_levels(exact_score(ds, sde), sde, x0, levels=(3, 9))
    assert [n for n, _, _ in out] == [3, 9] and all(math.isfinite(m) and se > 0 for _, m, se in out)


def test_the_discretised_decoder_is_a_probability_over_the_bins():
    """Ho et al.'s decoder: the bins' probabilities of one pixel sum to 1 (end bins open), and it is close to the
    Gaussian density times the bin width when the std is much wider than a bin."""
    from explorer.elbo import discretised_gaussian_nll

    levels = torch.arange(17, dtype=torch.float64) / 8 - 1                  # the digits' grid p / 8 - 1
    mean = torch.full((17, 1), 0.13, dtype=torch.float64)
    p = torch.exp(-discretised_gaussian_nll(levels[:, None], mean, 0.3, 1 / 8, (-1.0, 1.0)))
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-12)
    dens = torch.exp(-0.5 * ((levels[5:12] - 0.13) / 0.3) ** 2) / (0.3 * math.sqrt(2 * math.pi)) / 8
    torch.testing.assert_close(p[5:12], dens, rtol=0.02, atol=0)   # midpoint rule: w^2/24 |f''/f| <= 1.3% here
    with pytest.raises(ValueError, match="bin_width"):
        discretised_gaussian_nll(levels[:, None], mean, 0.3, 0.0, (-1.0, 1.0))


def test_several_variance_choices_from_one_pass_equal_separate_passes():
    """elbo_terms_each shares the x_i draws and the score evaluations: each choice equals its own elbo_terms call
    with the same generator seed."""
    from explorer.elbo import elbo_terms_each

    ds, sde = DATASETS["ring8"], get_process("vp_linear")
    x0, _ = ds.sample(50, generator=torch.Generator().manual_seed(0))
    fn = exact_score(ds, sde)
    both = elbo_terms_each(fn, sde, x0, 20, ("beta", "posterior"), generator=torch.Generator().manual_seed(5))
    for terms, variance in zip(both, ("beta", "posterior")):
        alone = elbo_terms(fn, sde, x0, 20, variance=variance, generator=torch.Generator().manual_seed(5))
        torch.testing.assert_close(terms.levels, alone.levels, rtol=1e-12, atol=1e-12)
        assert terms.variance == variance
