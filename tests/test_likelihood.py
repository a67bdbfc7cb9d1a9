"""PF-ODE log-likelihood (instantaneous change of variables, exact divergence) against closed forms."""
import math

import pytest
import torch
from torch import nn

from _sampler_utils import one_torch_thread  # noqa: F401 (autouse fixture: one torch thread)
from explorer.distributions import get_dataset
from explorer.likelihood import bits_per_dim, log_likelihood
from explorer.process import get_process
from explorer.scores import exact_score
from explorer.tensors import append_dims


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("process", ["vp_linear", "ve"])
@pytest.mark.parametrize("dataset", ["three_modes_1d", "asym3"])
def test_matches_true_log_density_of_mixtures(dataset, process):
    """Mean |log p_ODE(x) - log p_0(x)| < 0.02 nats at rtol = atol = 1e-6 (measured 0.001-0.009: the rest is the
    blur of sigma(t_min) and, for VE, the prior N(0, sigma_max^2) standing in for p_T)."""
    ds, sde = get_dataset(dataset), get_process(process)
    x, _ = ds.sample(200, generator=gen(0), dtype=torch.float64)
    res = log_likelihood(exact_score(ds, sde), sde, x, rtol=1e-6, atol=1e-6)
    true = ds.mixture.log_prob(x)
    assert res.log_prob.shape == (200,) and res.nfe > 0
    assert float((res.log_prob - true).abs().mean()) < 0.02


@pytest.mark.parametrize("process", ["vp_linear", "ve", "subvp"])
def test_divergence_integral_is_exact(process):
    """Without the prior stand-in: delta = log p_{t_min}(x) - log p_T(x_T), both exact for a mixture (to 1e-4 nats)."""
    ds, sde = get_dataset("ring8"), get_process(process)
    x, _ = ds.sample(100, generator=gen(1), dtype=torch.float64)
    res = log_likelihood(exact_score(ds, sde), sde, x, rtol=1e-8, atol=1e-8)
    m = ds.mixture
    lhs = m.log_prob(x, sde.t_min, sde) - m.log_prob(res.x_T, sde.T, sde)
    assert float((res.delta - lhs).abs().max()) < 1e-4
    assert torch.allclose(res.log_prob, res.prior_log_prob + res.delta)


class GaussianScoreNet(nn.Module):
    """A torch module with the exact score of N(0, v I) data: -x / (alpha^2 v + sigma^2), any shape, float32."""

    def __init__(self, sde, v):
        super().__init__()
        self.sde, self.v = sde, nn.Parameter(torch.tensor(float(v)))

    def forward(self, x, t):
        a, s = self.sde.mean_coef(t), self.sde.std(t)
        return -x / append_dims(a ** 2 * self.v + s ** 2, x.ndim)


def test_any_score_module_and_shape_closed_form_gaussian():
    """A float32 nn.Module score on image-shaped x [N, 1, 2, 2] (D = 4): log p_{t_min} = log N(x; 0, (alpha^2 v + sigma^2) I)."""
    sde, v = get_process("vp_cosine"), 0.5
    x = torch.randn((50, 1, 2, 2), generator=gen(2)) * math.sqrt(v)
    res = log_likelihood(GaussianScoreNet(sde, v), sde, x, rtol=1e-6, atol=1e-6)
    t = torch.tensor(sde.t_min, dtype=torch.float64)
    var = float(sde.mean_coef(t) ** 2 * v + sde.std(t) ** 2)
    true = -0.5 * (x.double().flatten(1) ** 2).sum(1) / var - 2 * math.log(2 * math.pi * var)
    assert res.log_prob.dtype == torch.float32 and res.x_T.shape == x.shape
    assert float((res.log_prob.double() - true).abs().max()) < 1e-3


def test_bits_per_dim():
    lp = torch.tensor([-2 * math.log(2.0), 0.0])
    assert torch.allclose(bits_per_dim(lp, 2), torch.tensor([1.0, 0.0]))


def test_bad_inputs():
    ds, sde = get_dataset("two_modes_1d"), get_process("ve")
    score = exact_score(ds, sde)
    with pytest.raises(ValueError, match="finite"):
        log_likelihood(score, sde, torch.tensor([[float("nan")]]))
    with pytest.raises(ValueError, match="rtol"):
        log_likelihood(score, sde, torch.zeros(3, 1), rtol=float("nan"))
    with pytest.raises(ValueError, match="t_start"):
        log_likelihood(score, sde, torch.zeros(3, 1), t_start=2.0)


def test_too_sharp_a_density_is_a_clear_error_not_a_long_wait():
    """Two spikes (std 0.001) 2,000 apart: RK45 needs ever smaller steps; past max_nfe it stops with a message that
    says what to do (a ValueError, which the app shows as it is; found by fuzzing the likelihood endpoint)."""
    from explorer.distributions import custom_1d
    from explorer.likelihood import LikelihoodODEError

    ds, sde = custom_1d([1000.0, -1000.0], [0.001, 0.001], [1.0, 1.0]), get_process("vp_linear")
    x = torch.linspace(-3, 3, 8, dtype=torch.float64)[:, None]
    with pytest.raises(LikelihoodODEError, match="more than 500 evaluations.*loosen the tolerance") as err:
        log_likelihood(exact_score(ds, sde), sde, x, rtol=1e-2, atol=1e-2, max_nfe=500)
    assert isinstance(err.value, ValueError)
