"""DDPM ancestral sampling and DDIM for any Gaussian process: both match the target; DDIM with eta = 1 is the
DDPM posterior step (Song et al. 2021a eq. 16), with eta = 0 it is deterministic given x_init and converges to
the probability-flow ODE at first order (it is DPM-Solver-1, Lu et al. 2022 §3.3)."""
import numpy as np
import pytest
import torch

from _sampler_utils import K_ED, N_PARTICLES, energy_ratio, one_torch_thread  # noqa: F401 (autouse fixture)
from explorer.distributions import get_dataset
from explorer.samplers import ddim, pf_rk45, sample, time_grid
from explorer.scores import exact_score
from explorer.process import PROCESSES, get_process

CASES = [("ring8", "vp_linear"), ("three_modes_1d", "ve")]


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name,opts", [("ddpm", {}), ("ddim", {}), ("ddim", {"eta": 0.5})])
@pytest.mark.parametrize("dataset,process", CASES)
def test_matches_target_at_default_settings(name, opts, dataset, process):
    ds, sde = get_dataset(dataset), get_process(process)
    x_init = sde.prior_sample((N_PARTICLES, ds.dim), generator=gen(0))
    res = sample(name, exact_score(ds, sde), sde, x_init, generator=gen(1), **opts)
    assert energy_ratio(res.x, ds) < K_ED


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_ddim_eta_one_is_ddpm(process):
    """Same generator, same noise draws: DDIM(eta=1) and DDPM take the same step (to rounding), for every process."""
    ds, sde = get_dataset("asym3"), get_process(process)
    x_init = sde.prior_sample((256, 2), generator=gen(0), dtype=torch.float64)
    score = exact_score(ds, sde)
    a = sample("ddpm", score, sde, x_init, n_steps=50, generator=gen(1))
    b = sample("ddim", score, sde, x_init, n_steps=50, eta=1.0, generator=gen(1))
    assert torch.allclose(a.trajectory, b.trajectory, rtol=1e-8, atol=1e-8)


def test_ddim_eta_zero_is_deterministic_given_x_init():
    ds, sde = get_dataset("ring8"), get_process("vp_linear")
    x_init = sde.prior_sample((128, 2), generator=gen(0))
    score = exact_score(ds, sde)
    runs = [sample("ddim", score, sde, x_init, n_steps=30, eta=0.0, generator=g).trajectory
            for g in (gen(1), gen(2), None)]
    assert torch.equal(runs[0], runs[1]) and torch.equal(runs[0], runs[2])
    noisy = [sample("ddim", score, sde, x_init, n_steps=30, eta=0.3, generator=gen(s)).x for s in (1, 2)]
    assert not torch.equal(noisy[0], noisy[1])


def test_ddim_eta_zero_is_a_first_order_pf_ode_solver():
    """|DDIM_N - x_ODE| ~ C / N: fitted order within 0.3 of 1 (float64, VP-linear, a smooth 2D mixture)."""
    ds, sde = get_dataset("asym3"), get_process("vp_linear")
    score = exact_score(ds, sde)
    x_init = sde.prior_sample((64, 2), generator=gen(0), dtype=torch.float64)
    ref = pf_rk45(score, sde, x_init, time_grid(sde, 1, dtype=torch.float64), rtol=1e-10, atol=1e-10).x
    steps = [50, 100, 200, 400]
    errs = [float((ddim(score, sde, x_init, time_grid(sde, n, dtype=torch.float64)).x - ref).norm(dim=1).mean())
            for n in steps]
    order = -np.polyfit(np.log(steps), np.log(errs), 1)[0]
    assert abs(order - 1) < 0.3, (errs, order)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "0.5"])
def test_ddim_rejects_eta_outside_unit_interval(bad):
    ds, sde = get_dataset("two_modes_1d"), get_process("vp_linear")
    with pytest.raises(ValueError, match="eta"):
        sample("ddim", exact_score(ds, sde), sde, torch.zeros(4, 1), n_steps=5, eta=bad)
