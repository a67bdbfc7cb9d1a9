"""Probability-flow ODE solvers: all match the target; with the same x_init, Euler's error shrinks as 1/N and
Heun's as 1/N^2; RK45's error follows its tolerance and its NFE is what it reports."""
import numpy as np
import pytest
import torch

from _sampler_utils import K_ED, N_PARTICLES, Counted, energy_ratio, one_torch_thread  # noqa: F401 (autouse fixture)
from explorer.distributions import get_dataset
from explorer.samplers import dpm_solver_pp_2m, pf_euler, pf_heun, pf_rk45, sample, time_grid
from explorer.scores import exact_score
from explorer.process import get_process

CASES = [("ring8", "vp_linear"), ("three_modes_1d", "ve")]
ODE_SAMPLERS = ["pf_euler", "pf_heun", "dpm_solver_pp_2m", "pf_rk45"]


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_the_energy_criterion_rejects_a_three_step_solve():
    """Negative control for the acceptance rule: PF-ODE Euler with 3 steps on ring8 is visibly off."""
    ds, sde = get_dataset("ring8"), get_process("vp_linear")
    x_init = sde.prior_sample((N_PARTICLES, 2), generator=gen(0))
    res = sample("pf_euler", exact_score(ds, sde), sde, x_init, n_steps=3)
    assert energy_ratio(res.x, ds) > 2 * K_ED


@pytest.fixture(scope="module")
def smooth_problem():
    """VP-linear, asym3 (components of std 0.2-0.5 before standardising), 64 particles in float64, and the
    reference PF-ODE solution by RK45 at rtol = atol = 1e-10."""
    ds, sde = get_dataset("asym3"), get_process("vp_linear")
    score = exact_score(ds, sde)
    x_init = sde.prior_sample((64, 2), generator=gen(0), dtype=torch.float64)
    ref = pf_rk45(score, sde, x_init, time_grid(sde, 1, dtype=torch.float64), rtol=1e-10, atol=1e-10).x
    return score, sde, x_init, ref


def _error(fn, problem, n, spacing="uniform"):
    """Mean |x_N - x_ref| over the particles for fn with n steps on the given grid."""
    score, sde, x_init, ref = problem
    ts = time_grid(sde, n, spacing=spacing, dtype=torch.float64)
    return float((fn(score, sde, x_init, ts).x - ref).norm(dim=1).mean())


@pytest.mark.parametrize("name", ODE_SAMPLERS)
@pytest.mark.parametrize("dataset,process", CASES)
def test_matches_target_at_default_settings(name, dataset, process):
    ds, sde = get_dataset(dataset), get_process(process)
    x_init = sde.prior_sample((N_PARTICLES, ds.dim), generator=gen(0))
    res = sample(name, exact_score(ds, sde), sde, x_init)
    assert energy_ratio(res.x, ds) < K_ED


@pytest.mark.parametrize("fn,steps,order,spacing", [
    (pf_euler, [50, 100, 200, 400], 1.0, "uniform"),
    (pf_heun, [40, 80, 160, 320], 2.0, "uniform"),
    (dpm_solver_pp_2m, [20, 40, 80, 160], 2.0, "log_snr"),
])
def test_convergence_order(smooth_problem, fn, steps, order, spacing):
    """Steps chosen in the asymptotic regime (measured local orders: Euler 0.97-1.04 from 25 steps, Heun 1.83-1.96
    from 20, DPM-Solver++(2M) 1.98-2.03 from 20 on its log-SNR grid); the order is the slope of a least-squares
    fit of log error against log N."""
    errs = [_error(fn, smooth_problem, n, spacing) for n in steps]
    fitted = -np.polyfit(np.log(steps), np.log(errs), 1)[0]
    assert abs(fitted - order) < 0.3, (errs, fitted)


def test_second_order_solvers_beat_euler_at_equal_nfe(smooth_problem):
    """At 160 NFE Heun (80 steps) is ~3x closer than Euler (160 steps); at 80 NFE DPM-Solver++(2M) ~5x."""
    assert _error(pf_heun, smooth_problem, 80) < _error(pf_euler, smooth_problem, 160) / 2
    assert _error(dpm_solver_pp_2m, smooth_problem, 80, "log_snr") < _error(pf_euler, smooth_problem, 80) / 3


def test_heun_last_step_euler_saves_one_evaluation(smooth_problem):
    score, sde, x_init, _ = smooth_problem
    counted = Counted(score)
    res = pf_heun(counted, sde, x_init, time_grid(sde, 10, dtype=torch.float64), last_step_euler=True)
    assert res.nfe == counted.calls == 19


def test_rk45_error_follows_tolerance_and_nfe_is_counted(smooth_problem):
    score, sde, x_init, ref = smooth_problem
    errors, nfes = [], []
    for tol in (1e-3, 1e-5, 1e-7):
        counted = Counted(score)
        res = pf_rk45(counted, sde, x_init, time_grid(sde, 20, dtype=torch.float64), rtol=tol, atol=tol)
        assert res.nfe == counted.calls
        assert res.trajectory.shape == (21, 64, 2) and torch.equal(res.trajectory[0], x_init)
        errors.append(float((res.x - ref).norm(dim=1).mean()))
        nfes.append(res.nfe)
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-5, errors
    assert nfes[0] < nfes[1] < nfes[2]


def test_rk45_frames_are_the_ode_solution_at_the_grid_times(smooth_problem):
    """Frame i of RK45 equals a fine Heun solve stopped at ts[i] (t_eval is honoured)."""
    score, sde, x_init, _ = smooth_problem
    ts = time_grid(sde, 4, dtype=torch.float64)
    res = pf_rk45(score, sde, x_init, ts, rtol=1e-9, atol=1e-9)
    fine = torch.linspace(float(ts[0]), float(ts[2]), 801, dtype=torch.float64)
    mid = pf_heun(score, sde, x_init, fine).x
    assert torch.allclose(res.trajectory[2], mid, atol=1e-5)
    assert torch.equal(res.ts, ts)


def test_rk45_rejects_bad_tolerance():
    ds, sde = get_dataset("two_modes_1d"), get_process("ve")
    for bad in (0.0, -1e-5, float("nan")):
        with pytest.raises(ValueError, match="rtol"):
            sample("pf_rk45", exact_score(ds, sde), sde, torch.zeros(4, 1), n_steps=5, rtol=bad)
