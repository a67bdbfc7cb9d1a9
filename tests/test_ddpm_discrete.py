"""Ho et al.'s discrete DDPM chain (process "ddpm_discrete") against diffusers' DDPMScheduler, an independent implementation."""
import pytest
import torch

from explorer.process import DDPMDiscrete, get_process
from explorer.samplers.ddpm import ddpm, reverse_std

diffusers = pytest.importorskip("diffusers")   # a test requirement (requirements-test.txt): never skipped in CI

N = 1000


def _scheduler(variance_type: str):
    return diffusers.DDPMScheduler(num_train_timesteps=N, beta_start=1e-4, beta_end=0.02, beta_schedule="linear",
                                   variance_type=variance_type, clip_sample=False, prediction_type="epsilon")


def test_tables_equal_diffusers():
    """beta_i and alpha_bar_i = prod (1 - beta_j): diffusers computes them in float32, so agreement to float32 precision
    (a cumulative product of 1,000 factors: relative error <= ~1e3 * 6e-8 = 6e-5)."""
    sched, proc = _scheduler("fixed_small"), get_process("ddpm_discrete")
    table = proc.discrete_schedule(N)
    torch.testing.assert_close(table.beta, sched.betas.double(), rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(table.alpha_bar, sched.alphas_cumprod.double(), rtol=1e-4, atol=0)
    # and the float64 table is the running product itself
    torch.testing.assert_close(table.alpha_bar, torch.cumprod(1 - proc.betas(), 0), rtol=1e-13, atol=0)


@pytest.mark.parametrize("variance, variance_type", [("posterior", "fixed_small"), ("beta", "fixed_large")])
@pytest.mark.parametrize("k", [0, 1, 17, 500, 999])
def test_one_reverse_step_equals_the_schedulers_step(variance, variance_type, k):
    """From the same x_i and eps_hat, with the same noise: x_{i-1} equals DDPMScheduler.step's prev_sample
    (diffusers' timestep k is our level i = k + 1, t_i = i / N)."""
    sched, proc = _scheduler(variance_type), DDPMDiscrete()
    g = torch.Generator().manual_seed(k)
    x = torch.randn(64, 2, generator=g)
    eps_hat = torch.randn(64, 2, generator=g)
    t_i = (k + 1) / N
    score_fn = lambda x_, t_: -eps_hat / proc.std(t_)[:, None]     # noqa: E731  the eps_hat the model predicts
    ts = torch.tensor([t_i, k / N], dtype=torch.float64)
    ours = ddpm(score_fn, proc, x, ts, generator=torch.Generator().manual_seed(123), variance=variance).x
    ref = sched.step(eps_hat, k, x, generator=torch.Generator().manual_seed(123)).prev_sample
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-5)


def test_the_two_variances_differ_most_in_the_first_steps():
    """beta_tilde_i = beta_i (1 - alpha_bar_{i-1}) / (1 - alpha_bar_i): half of beta_i at i = 2, -> beta_i for large i."""
    proc = DDPMDiscrete()
    ts = torch.arange(N, -1, -1, dtype=torch.float64) / N
    ratio = (reverse_std(proc, ts, "posterior") / reverse_std(proc, ts, "beta").clamp_min(1e-300)).flip(0) ** 2   # level i = 1..N
    assert float(ratio[0]) == 0.0        # the last step returns the mean under either choice (Ho et al. Alg. 2)
    b1, b2 = proc.betas()[:2].tolist()
    assert float(ratio[1]) == pytest.approx(b1 / (b1 + b2 - b1 * b2), rel=1e-9)     # = 0.45: about half
    assert float(ratio[-1]) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ValueError, match="expected one of"):
        reverse_std(proc, ts, "large")


def test_bad_chain_settings_are_refused():
    with pytest.raises(ValueError, match="integer N >= 2"):
        DDPMDiscrete(N=1)
    with pytest.raises(ValueError, match="beta_1 <= beta_N"):
        DDPMDiscrete(beta_1=0.03)


def test_the_vp_linear_networks_serve_the_chain_at_matched_log_snr():
    """The shipped VP-linear eps-net read under the DDPM chain: at chain time t it is evaluated at the VP time t' with the
    same log-SNR (both VP, so the same alpha and x), and its samples reach the energy-distance noise floor
    (PF-ODE Heun 50 steps, 2,000 vs 2,000: the net under its own process scores 0.001; the floor of two data draws ~0.001)."""
    from explorer.distributions import DATASETS
    from explorer.metrics import energy_distance
    from explorer.pretrained import has_pretrained, load_pretrained
    from explorer.samplers import sample

    assert has_pretrained("moons", "ddpm_discrete") and not has_pretrained("moons", "vp_cosine")
    chain, model = DDPMDiscrete(), load_pretrained("moons", "ddpm_discrete")
    assert model.sde == chain and model.info["served_by"] == "vp_linear"
    vp = model.net.sde
    t = torch.tensor([0.05, 0.3, 0.8], dtype=torch.float64)
    t_vp = vp.t_of_log_snr(chain.log_snr(t))
    torch.testing.assert_close(vp.log_snr(t_vp), chain.log_snr(t), rtol=0, atol=1e-9)
    x = torch.randn(3, 2, generator=torch.Generator().manual_seed(0))
    own = load_pretrained("moons", "vp_linear").score_fn()
    want = own(x, t_vp.float()) * vp.std(t_vp).float()[:, None] / chain.std(t).float()[:, None]   # same eps_hat
    torch.testing.assert_close(model.score_fn()(x, t.float()), want, rtol=1e-4, atol=1e-5)
    g = torch.Generator().manual_seed(1)
    res = sample("pf_heun", model.score_fn(), chain, chain.prior_sample((2000, 2), generator=g), n_steps=50)
    x0, _ = DATASETS["moons"].sample(2000, generator=torch.Generator().manual_seed(2))
    assert float(energy_distance(res.x, x0)) < 0.005
