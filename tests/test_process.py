"""Forward processes against their closed forms: alpha, sigma, f, g consistency, moments, DDPM schedule."""
import math

import pytest
import torch

from explorer.process import PROCESSES, VE, SubVP, VPCosine, VPLinear, get_process

ALL = [cls() for cls in PROCESSES.values()]
IDS = [s.name for s in ALL]


def _ddt(fn, t):
    """Central finite difference of fn at t (float64): error O(h^2) ~ 1e-10 here."""
    h = 1e-6
    return (fn(t + h) - fn(t - h)) / (2 * h)


@pytest.mark.parametrize("sde", ALL, ids=IDS)
def test_drift_and_diffusion_match_marginals(sde):
    """d log alpha/dt = f(t) and d sigma^2/dt = 2 f sigma^2 + g^2: the SDE really has these marginals."""
    t = torch.linspace(0.02, 0.98, 49, dtype=torch.float64) + 4e-4     # off the DDPM chain's grid t_i = i / 1000 (kinks)
    dlog_alpha = _ddt(lambda s: torch.log(sde.mean_coef(s)), t)
    dvar = _ddt(lambda s: sde.std(s) ** 2, t)
    f, g2 = sde.drift_coef(t), sde.diffusion(t) ** 2
    torch.testing.assert_close(dlog_alpha, f, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(dvar, 2 * f * sde.std(t) ** 2 + g2, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("sde", ALL, ids=IDS)
def test_endpoints(sde):
    """x_0 is the data (alpha=1, sigma=0); at T unit-variance data is drowned: SNR(T) <= 0.01 (VE: (1/sigma_max)^2)."""
    zero, one = torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    assert float(sde.mean_coef(zero)) == pytest.approx(1.0)
    assert float(sde.std(zero)) == pytest.approx(0.0, abs=1e-12)
    assert float(sde.snr(one)) <= 0.0100001
    # the prior is N(0, sigma(T)^2): T = 1 for most processes, 0.999 for the linear path (alpha(1) = 0)
    assert sde.prior_std() == pytest.approx(float(sde.std(torch.tensor(sde.T, dtype=torch.float64))))


@pytest.mark.parametrize("sde", ALL, ids=IDS)
def test_forward_samples_have_alpha_sigma_moments(sde, gen):
    """x_t = alpha x0 + sigma eps from a fixed x0: sample mean/std within 5 standard errors of alpha x0, sigma."""
    n = 200_000
    x0 = torch.full((n, 1), 0.7, dtype=torch.float64)
    for t in (0.1, 0.5, 0.9):
        t_ = torch.tensor(t, dtype=torch.float64)
        xt, eps = sde.marginal_sample(x0, t_, generator=gen)
        a, s = float(sde.mean_coef(t_)), float(sde.std(t_))
        assert abs(float(xt.mean()) - a * 0.7) < 5 * s / math.sqrt(n)
        # std of a Gaussian's sample std is sigma / sqrt(2n)
        assert abs(float(xt.std()) - s) < 5 * s / math.sqrt(2 * n)
        torch.testing.assert_close(xt, a * x0 + s * eps)


@pytest.mark.parametrize("sde", ALL, ids=IDS)
def test_euler_maruyama_of_the_sde_reaches_the_marginal_moments(sde, gen):
    """Simulating dx = f x dt + g dw from x0 gives mean alpha x0 and variance sigma^2 (VE and VP alike).

    Tolerance: 5 standard errors plus the Euler-Maruyama bias, which is O(dt) relative; 4,000 steps make it < 1%.
    """
    n, steps, t_end = 20_000, 4000, 0.9
    x = torch.full((n, 1), 1.5, dtype=torch.float64)
    dt = t_end / steps
    for i in range(steps):
        t = torch.tensor(i * dt, dtype=torch.float64)
        x = x + sde.drift(x, t) * dt + sde.diffusion(t) * math.sqrt(dt) * torch.randn(x.shape, generator=gen, dtype=x.dtype)
    t = torch.tensor(t_end, dtype=torch.float64)
    a, s = float(sde.mean_coef(t)), float(sde.std(t))
    assert abs(float(x.mean()) - 1.5 * a) < 5 * s / math.sqrt(n) + 0.01 * abs(1.5 * a)
    assert float(x.var()) == pytest.approx(s ** 2, rel=5 * math.sqrt(2 / n) + 0.01)


@pytest.mark.parametrize("sde", [VPLinear(), VPCosine(), SubVP()], ids=["vp_linear", "vp_cosine", "subvp"])
def test_ddpm_schedule_is_the_running_product(sde):
    """alpha_bar_i = prod_{j<=i} (1 - beta_i), read off the same process."""
    sched = sde.discrete_schedule(1000)
    torch.testing.assert_close(sched.alpha_bar, torch.cumprod(1 - sched.beta, 0), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(sched.alpha_bar, sde.mean_coef(sched.t) ** 2)
    assert (sched.beta > 0).all() and (sched.beta < 1).all()


def test_linear_vp_gives_ddpm_betas():
    """With N=1000 the derived beta_i are DDPM's linear 1e-4 ... 0.02 (beta_i ~ beta(t_i) / N, to 1%)."""
    sde = VPLinear()
    sched = sde.discrete_schedule(1000)
    torch.testing.assert_close(sched.beta, sde.beta(sched.t - 0.5e-3) / 1000, rtol=1e-2, atol=0)
    assert float(sched.beta[0]) == pytest.approx(1e-4, rel=0.1)
    assert float(sched.beta[-1]) == pytest.approx(0.02, rel=0.02)


def test_ve_sigma_is_geometric():
    """sigma(t)^2 + sigma_min^2 = sigma_min^2 (sigma_max/sigma_min)^(2t): a geometric sequence of noise levels."""
    sde = VE(sigma_min=0.01, sigma_max=10.0)
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    total = torch.sqrt(sde.std(t) ** 2 + sde.sigma_min ** 2)
    ratios = total[1:] / total[:-1]
    torch.testing.assert_close(ratios, torch.full_like(ratios, 1000 ** 0.1))


@pytest.mark.parametrize("sde", ALL, ids=IDS)
def test_prior_log_prob_is_gaussian(sde, gen):
    x = sde.prior_sample((5, 2), generator=gen, dtype=torch.float64)
    ref = torch.distributions.Normal(0.0, sde.prior_std()).log_prob(x).sum(1)
    torch.testing.assert_close(sde.prior_log_prob(x), ref)


def test_unknown_process_lists_choices():
    with pytest.raises(ValueError, match=r"unknown process 'vpp'; expected one of \['ddpm_discrete', 'linear', 'subvp', 've', 'vp_cosine', 'vp_linear'\]"):
        get_process("vpp")
