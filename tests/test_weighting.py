"""The objectives as weightings (explorer/weighting.py): -dlambda/dt in closed form, each loss equals its eps-unit
weighting on the same batch, and likelihood weighting is the ELBO's weighting reached by sampling lambda uniformly."""
import math

import pytest
import torch

from explorer.distributions import DATASETS
from explorer.nn.losses import dsm_loss
from explorer.nn.networks import ScoreNet, ScoreNetConfig
from explorer.process import PROCESSES, get_process
from explorer.weighting import (WEIGHTINGS, elbo_weight, loss_weight, neg_dlog_snr,
                                sample_times_uniform_log_snr)

ALL = [cls() for cls in PROCESSES.values()]


@pytest.mark.parametrize("sde", ALL, ids=[s.name for s in ALL])
def test_neg_dlog_snr_is_the_derivative(sde):
    """-dlambda/dt = g^2 / sigma^2 against a central difference of lambda (off the DDPM chain's grid kinks)."""
    t = torch.linspace(0.05, 0.95, 19, dtype=torch.float64) * sde.T + 4e-4
    h = 1e-6
    fd = -(sde.log_snr(t + h) - sde.log_snr(t - h)) / (2 * h)
    torch.testing.assert_close(neg_dlog_snr(sde, t), fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("param", ["eps", "x0", "score", "u"])
@pytest.mark.parametrize("process", ["vp_linear", "ve", "linear"])
def test_each_loss_is_its_weighting_in_eps_units(param, process):
    """On the same batch (same generator draws), the parameterisation's own loss equals c(t) || eps_hat - eps ||^2."""
    if process not in PROCESSES:
        pytest.fail(f"process {process!r} missing")
    ds, sde = DATASETS["moons"], get_process(process)
    torch.manual_seed(0)
    net = ScoreNet(ScoreNetConfig.for_data(ds, sde, conditional=False, parameterisation=param, width=32, depth=2))
    x0, _ = ds.sample(256, generator=torch.Generator().manual_seed(1))
    native = dsm_loss(net, x0, sde=sde, generator=torch.Generator().manual_seed(2))
    weighted = dsm_loss(net, x0, sde=sde, generator=torch.Generator().manual_seed(2), weighting=param)
    torch.testing.assert_close(weighted, native, rtol=2e-4, atol=1e-6)


def test_likelihood_weighting_is_importance_sampling_of_the_elbo_weight():
    """E_{lambda uniform}[ ||eps_hat - eps||^2 ] (lambda_max - lambda_min) = (T - t_min) E_{t uniform}[ g^2/sigma^2 ||.||^2 ]:
    the same integral, estimated two ways on a fixed random network (within 4 combined standard errors)."""
    ds, sde = DATASETS["moons"], get_process("vp_linear")
    torch.manual_seed(0)
    net = ScoreNet(ScoreNetConfig.for_data(ds, sde, conditional=False, width=32, depth=2)).requires_grad_(False)
    n = 20000
    x0, _ = ds.sample(n, generator=torch.Generator().manual_seed(3))

    def per_sample(t, g):
        eps = torch.randn(x0.shape, generator=g)
        x_t = sde.mean_coef(t)[:, None] * x0 + sde.std(t)[:, None] * eps
        return ((net(x_t, t) - eps) ** 2).sum(1)

    lam = sde.log_snr(torch.tensor([sde.t_min, sde.T], dtype=torch.float64))
    t_is = sample_times_uniform_log_snr(n, sde, generator=torch.Generator().manual_seed(4))
    a = per_sample(t_is, torch.Generator().manual_seed(5)).double() * float(lam[0] - lam[1])
    t_u = sde.t_min + (sde.T - sde.t_min) * torch.rand(n, generator=torch.Generator().manual_seed(6))
    b = per_sample(t_u, torch.Generator().manual_seed(7)).double() * neg_dlog_snr(sde, t_u.double()) * (sde.T - sde.t_min)
    se = math.hypot(float(a.std()), float(b.std())) / math.sqrt(n)
    assert abs(float(a.mean() - b.mean())) < 4 * se
    # and lambda is uniform: its empirical quantiles match
    lam_t = sde.log_snr(t_is.double()).sort().values
    q = torch.linspace(0, 1, n, dtype=torch.float64)
    assert float((lam_t - (lam[1] + q * (lam[0] - lam[1]))).abs().max()) < 0.01 * float(lam[0] - lam[1])


def test_elbo_weights_on_log_snr():
    """w(lambda) = c / (-dlambda/dt): 1 for likelihood weighting; under VP the eps loss gives w = sigma^2 / g^2 ... and
    x0-prediction is eps weighted by exp(-lambda): their ratio is exp(-lambda) at every t."""
    sde = get_process("vp_linear")
    t = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)
    torch.testing.assert_close(elbo_weight("likelihood", sde, t), torch.ones_like(t))
    torch.testing.assert_close(elbo_weight("x0", sde, t) / elbo_weight("eps", sde, t), torch.exp(-sde.log_snr(t)))
    torch.testing.assert_close(elbo_weight("v", sde, t) / elbo_weight("eps", sde, t), 1 + torch.exp(-sde.log_snr(t)))
    for kind in WEIGHTINGS:
        assert torch.isfinite(loss_weight(kind, sde, t)).all()
    with pytest.raises(ValueError, match="expected one of"):
        loss_weight("elbo", sde, t)
