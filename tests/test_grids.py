"""Step grids in every process: monotone, N + 1 points, the right ends, lossless through log-SNR, the closed forms
of each spacing (Karras eq. 5, rho = 1 uniform in sigma_tilde), and clear messages for bad settings."""
import math

import pytest
import torch

from explorer.process import PROCESSES, get_process
from explorer.samplers import GRIDS, Grid, sample, time_grid
from explorer.samplers.grids import (LAMBDA_FLOOR, lambda_start, sigma_range, sigma_tilde, t_of_log_snr,
                                     t_of_sigma_tilde)

PROCESS_NAMES = list(PROCESSES)


@pytest.mark.parametrize("process", PROCESS_NAMES)
@pytest.mark.parametrize("kind", GRIDS)
@pytest.mark.parametrize("n", [1, 7, 200])
def test_monotone_with_n_plus_one_points_and_the_right_ends(process, kind, n):
    sde = get_process(process)
    ts = Grid(kind).times(sde, n)
    assert ts.shape == (n + 1,) and ts.dtype == torch.float64 and (ts[1:] < ts[:-1]).all()
    assert ts[-1] == sde.t_min
    if lambda_start(sde) == float(sde.log_snr(torch.tensor(sde.T, dtype=torch.float64))) or kind in ("uniform", "quadratic", "log_sigma"):
        assert ts[0] == sde.T
    else:                                           # lambda(T) = -inf (alpha(T) = 0): start at the floor
        assert math.isclose(float(sde.log_snr(ts[:1])), LAMBDA_FLOOR, rel_tol=1e-9)
    if kind == "karras":
        s = sigma_tilde(sde, ts)
        lo, hi = sigma_range(sde)
        assert math.isclose(float(s[0]), hi, rel_tol=1e-9) and math.isclose(float(s[-1]), lo, rel_tol=1e-9)


@pytest.mark.parametrize("process", PROCESS_NAMES)
@pytest.mark.parametrize("kind", GRIDS)
def test_lossless_through_log_snr(process, kind):
    """t -> lambda(t) -> t and t -> sigma_tilde(t) -> t return the grid to rounding level."""
    sde = get_process(process)
    ts = Grid(kind).times(sde, 40)
    assert torch.allclose(t_of_log_snr(sde, sde.log_snr(ts)), ts, rtol=1e-12, atol=1e-15)
    assert torch.allclose(t_of_sigma_tilde(sde, sigma_tilde(sde, ts)), ts, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("process", PROCESS_NAMES)
def test_closed_forms_of_each_spacing(process):
    sde, n = get_process(process), 30
    lam = sde.log_snr(Grid("log_snr").times(sde, n))
    assert torch.allclose(lam.diff(), lam.diff().mean().expand(n), rtol=1e-9)             # uniform in lambda
    s1 = sigma_tilde(sde, Grid("karras", rho=1.0).times(sde, n))
    assert torch.allclose(s1.diff(), s1.diff().mean().expand(n), rtol=1e-9)               # rho = 1: uniform in sigma
    s_min, s_max, rho = 0.03, 5.0, 7.0
    s7 = sigma_tilde(sde, Grid("karras", sigma_min=s_min, sigma_max=s_max, rho=rho).times(sde, n))
    i = torch.arange(n + 1, dtype=torch.float64) / n
    eq5 = (s_max ** (1 / rho) + i * (s_min ** (1 / rho) - s_max ** (1 / rho))) ** rho       # Karras et al. eq. 5
    assert torch.allclose(s7, eq5, rtol=1e-12)
    tq = Grid("quadratic").times(sde, n)
    assert torch.allclose(tq, sde.t_min + (sde.T - sde.t_min) * (1 - i) ** 2, rtol=1e-12)
    ls = sde.std(Grid("log_sigma").times(sde, n)).log()
    assert torch.allclose(ls.diff(), ls.diff().mean().expand(n), rtol=1e-9)


def test_rho_puts_steps_near_the_data():
    """Larger rho shortens the last steps in sigma_tilde (Karras et al.: rho = 7 spends steps at low noise)."""
    sde = get_process("vp_linear")
    last = [float(-sigma_tilde(sde, Grid("karras", rho=r).times(sde, 20)).diff()[-1]) for r in (1.0, 3.0, 7.0)]
    assert last[0] > last[1] > last[2]


def test_time_grid_and_sample_take_a_grid():
    sde = get_process("ve")
    g = Grid("karras", sigma_min=0.05, sigma_max=5.0, rho=3.0)
    assert torch.equal(time_grid(sde, 9, spacing=g, dtype=torch.float64), g.times(sde, 9))
    res = sample("ddim", lambda x, t: -x / (1 + sde.std(t)[:, None] ** 2), sde, sde.prior_sample((5, 2)), n_steps=9,
                 spacing=g)
    assert torch.allclose(res.ts.double(), g.times(sde, 9).float().double())


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="karras", sigma_min=2.0, sigma_max=1.0), "σ_min .* below σ_max"),
    (dict(kind="karras", sigma_min=1.0, sigma_max=1.0), "σ_min .* below σ_max"),
    (dict(kind="karras", rho=0.0), "ρ"), (dict(kind="karras", rho=-2.0), "ρ"),
    (dict(kind="karras", rho=float("nan")), "ρ"), (dict(kind="karras", sigma_min=float("nan")), "σ_min"),
    (dict(kind="karras", sigma_max=float("inf")), "σ_max"), (dict(kind="karras", sigma_max=True), "σ_max"),
    (dict(kind="cosine"), "unknown time spacing 'cosine'; expected one of"),
])
def test_bad_settings_fail_with_a_clear_message(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Grid(**kwargs)


def test_sigmas_outside_the_process_fail_with_its_range():
    sde = get_process("ve")                                  # sigma_tilde in (0, ~10]
    with pytest.raises(ValueError, match="beyond the process's largest noise level"):
        Grid("karras", sigma_max=80.0).times(sde, 10)
    with pytest.raises(ValueError, match="below σ_max"):
        Grid("karras", sigma_min=20.0).times(sde, 10)
