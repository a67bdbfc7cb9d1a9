"""Every sampler through the registry: same seed -> same trajectory, the generator is the only randomness, shapes
and NFE are what they say, any rank of x works, and bad input fails with a clear message."""
import re

import pytest
import torch

from _sampler_utils import Counted, gaussian_score, one_torch_thread  # noqa: F401 (autouse fixture)
from explorer.distributions import get_dataset
from explorer.samplers import SAMPLERS, SamplerDiverged, get_sampler, sample, time_grid
from explorer.scores import exact_score
from explorer.process import get_process

SMALL_STEPS = {name: 12 for name in SAMPLERS}


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def problem():
    ds, sde = get_dataset("asym3"), get_process("vp_linear")
    return exact_score(ds, sde), sde, sde.prior_sample((64, 2), generator=gen(0))


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_same_seed_same_trajectory_and_only_the_generator_is_random(problem, name):
    score, sde, x_init = problem
    runs = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)                             # the global RNG must not matter
        runs.append(sample(name, score, sde, x_init, n_steps=12, generator=gen(5)))
    assert torch.equal(runs[0].trajectory, runs[1].trajectory)
    other = sample(name, score, sde, x_init, n_steps=12, generator=gen(6))
    assert torch.equal(other.x, runs[0].x) != get_sampler(name).stochastic


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_result_shapes_nfe_and_callback(problem, name):
    score, sde, x_init = problem
    counted, calls = Counted(score), []
    res = sample(name, counted, sde, x_init, n_steps=12, generator=gen(1), callback=lambda i, t, x: calls.append((i, float(t))))
    assert res.trajectory.shape == (13, 64, 2) and res.ts.shape == (13,)
    assert torch.equal(res.trajectory[0], x_init) and torch.equal(res.x, res.trajectory[-1])
    assert res.nfe == counted.calls > 0
    assert [i for i, _ in calls] == list(range(1, 13))
    assert res.x.dtype == x_init.dtype and torch.isfinite(res.trajectory).all()
    if get_sampler(name).uses_grid:
        assert torch.allclose(res.ts.double(), time_grid(sde, 12, spacing=get_sampler(name).spacing, dtype=torch.float64))


@pytest.mark.parametrize("name", list(SAMPLERS))
@pytest.mark.parametrize("shape", [(32, 1), (32, 3), (8, 1, 3, 3)])
def test_any_rank_and_dtype(name, shape):
    """Broadcasting by rank: [N, 1], [N, D] and image-shaped [N, C, H, W] in float64, with N(0, I) data."""
    sde = get_process("ve")
    x_init = sde.prior_sample(shape, generator=gen(0), dtype=torch.float64)
    res = sample(name, gaussian_score(sde), sde, x_init, n_steps=20, generator=gen(1))
    assert res.trajectory.shape == (21,) + shape and res.x.dtype == torch.float64
    assert torch.isfinite(res.x).all()


def test_registry_entries_and_unknown_names(problem):
    for name, spec in SAMPLERS.items():
        assert spec.name == name and 1 <= spec.default_steps <= 5000 and spec.label
    assert get_sampler("ddim").options == {"eta": 0.0}
    score, sde, x_init = problem
    with pytest.raises(ValueError, match=r"unknown sampler 'dmm'; expected .*'ddpm'"):
        sample("dmm", score, sde, x_init)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['etta'\].*'eta'"):
        sample("ddim", score, sde, x_init, etta=0.5)
    with pytest.raises(ValueError, match="unknown time spacing"):
        sample("ddim", score, sde, x_init, spacing="cosine")


@pytest.mark.parametrize("n_steps", [0, -3, 5001, 2.5, True, "10", float("nan")])
def test_bad_step_counts(problem, n_steps):
    score, sde, x_init = problem
    with pytest.raises(ValueError, match=r"n_steps must be .*\[1, 5000\]"):
        sample("ddpm", score, sde, x_init, n_steps=n_steps)


@pytest.mark.parametrize("name,opts,match", [
    ("ddim", {"eta": -0.1}, "eta"), ("ddim", {"eta": 1.5}, "eta"), ("ddim", {"eta": float("nan")}, "eta"),
    ("langevin", {"step_size": float("nan")}, "step_size"), ("langevin", {"step_size": -1.0}, "step_size"),
    ("langevin", {"step_size": float("inf")}, "step_size"), ("annealed_langevin", {"step_size": float("nan")}, "step_size"),
    ("annealed_langevin", {"n_inner": 0}, "n_inner"), ("pc", {"n_corrector": -1}, "n_corrector"),
    ("pf_rk45", {"atol": float("nan")}, "atol"), ("pf_rk45", {"max_nfe": 0}, "max_nfe"),
])
def test_bad_options(problem, name, opts, match):
    score, sde, x_init = problem
    with pytest.raises(ValueError, match=match):
        sample(name, score, sde, x_init, n_steps=5, **opts)


def test_bad_x_init_and_grid(problem):
    score, sde, x_init = problem
    with pytest.raises(ValueError, match="x_init must be finite"):
        sample("ddpm", score, sde, torch.full((4, 2), float("nan")), n_steps=5)
    with pytest.raises(ValueError, match="x_init must be"):
        sample("ddpm", score, sde, torch.zeros(4), n_steps=5)
    with pytest.raises(ValueError, match="strictly decreasing"):
        SAMPLERS["ddpm"].fn(score, sde, x_init, torch.tensor([0.001, 0.5, 1.0]))


@pytest.mark.parametrize("name", [n for n, s in SAMPLERS.items() if n not in ("langevin", "annealed_langevin")])
def test_divergence_is_caught_with_its_step(name):
    """A score that blows up after t < 0.5 (a broken network, say): the sampler stops with the step, never a NaN plot."""
    sde = get_process("vp_linear")

    def exploding(x, t):
        return torch.where(t[:, None] < 0.5, torch.full_like(x, 1e30), -x)

    x_init = sde.prior_sample((16, 2), generator=gen(0), dtype=torch.float64)
    with pytest.raises(SamplerDiverged, match=r"diverged (at step \d+ of \d+|at t = )") as err:
        sample(name, exploding, sde, x_init, n_steps=20, generator=gen(1))
    found = re.search(r"step (\d+) of 20", str(err.value))
    if found:   # update i evaluates the score at ts[i-1] (and at ts[i] for Heun's corrector and PC's Langevin steps)
        ts = time_grid(sde, 20, spacing=get_sampler(name).spacing, dtype=torch.float64)
        k = int((ts >= 0.5).sum())                                    # ts[k] is the first time below 0.5
        assert int(found.group(1)) in (k, k + 1), str(err.value)
    else:
        assert name == "pf_rk45"


def test_time_grids():
    sde = get_process("vp_linear")
    for spacing in ("uniform", "log_sigma", "log_snr"):
        ts = time_grid(sde, 30, spacing=spacing, dtype=torch.float64)
        assert ts[0] == sde.T and ts[-1] == sde.t_min and (ts[1:] < ts[:-1]).all()
    sig = sde.std(time_grid(sde, 30, spacing="log_sigma", dtype=torch.float64)).log().diff()
    assert torch.allclose(sig, sig.mean().expand(30), rtol=1e-6)            # geometric sigma (SMLD)
    lam = sde.snr(time_grid(sde, 30, spacing="log_snr", dtype=torch.float64)).log().diff()
    assert torch.allclose(lam, lam.mean().expand(30), rtol=1e-6)            # uniform log-SNR (DPM-Solver)
