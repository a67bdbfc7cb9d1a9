"""The conversions between eps, x0, score, v and u (explorer/parameterisation.py): round trips on every process, and
each prediction equal to its definition for a known (x0, eps) pair."""
import pytest
import torch

from explorer.parameterisation import PARAMETERISATIONS, coefficients, from_score, to_score, to_x0_eps
from explorer.process import PROCESSES

TIMES = torch.tensor([0.02, 0.1, 0.3, 0.6, 0.9, 1.0], dtype=torch.float64)


@pytest.fixture(params=list(PROCESSES))
def sde(request):
    return PROCESSES[request.param]()


def _times(sde):
    """TIMES within the process's range [0, T]: the linear path ends at T = 0.999 (alpha(1) = 0, f infinite)."""
    return TIMES.clamp(max=sde.T)


@pytest.mark.parametrize("kind", PARAMETERISATIONS)
def test_to_and_from_score_invert_each_other(sde, kind, gen):
    times = _times(sde)
    x = torch.randn(len(times), 3, generator=gen, dtype=torch.float64)
    score = torch.randn(len(times), 3, generator=gen, dtype=torch.float64)
    pred = from_score(kind, score, x, times, sde)
    torch.testing.assert_close(to_score(kind, pred, x, times, sde), score, rtol=1e-9, atol=1e-9)


def test_each_prediction_is_its_definition(sde, gen):
    """With x_t = alpha x0 + sigma eps and the conditional score -eps / sigma, every kind is what its formula says."""
    times = _times(sde)
    x0 = torch.randn(len(times), 2, generator=gen, dtype=torch.float64)
    eps = torch.randn(len(times), 2, generator=gen, dtype=torch.float64)
    a, s, da, ds = coefficients(times, sde, 2)
    x = a * x0 + s * eps
    score = -eps / s
    expected = {"eps": eps, "x0": x0, "score": score, "v": a * eps - s * x0, "u": da * x0 + ds * eps}
    for kind in PARAMETERISATIONS:
        torch.testing.assert_close(from_score(kind, score, x, times, sde), expected[kind], rtol=1e-9, atol=1e-9)
        x0_hat, eps_hat = to_x0_eps(kind, expected[kind], x, times, sde)
        torch.testing.assert_close(x0_hat, x0, rtol=1e-7, atol=1e-7)
        torch.testing.assert_close(eps_hat, eps, rtol=1e-7, atol=1e-7)


def test_the_velocity_is_the_time_derivative_of_the_path(sde):
    """alpha', sigma' from the SDE (f alpha and f sigma + g^2 / 2 sigma) equal finite differences of alpha(t), sigma(t)."""
    t, h = TIMES[1:-1] + 4e-4, 1e-6           # off the DDPM chain's grid t_i = i / 1000, where alpha(t) has kinks
    _, _, da, ds = coefficients(t, sde, 1)                  # rank 1: each [N]
    torch.testing.assert_close(da, (sde.mean_coef(t + h) - sde.mean_coef(t - h)) / (2 * h), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ds, (sde.std(t + h) - sde.std(t - h)) / (2 * h), rtol=1e-5, atol=1e-6)


def test_unknown_kind_names_the_choices():
    x = torch.zeros(2, 2)
    with pytest.raises(ValueError, match=r"unknown parameterisation 'w'.*'eps', 'x0', 'score', 'v', 'u'"):
        to_score("w", x, x, torch.full((2,), 0.5), PROCESSES["vp_linear"]())
