"""Langevin dynamics: annealed Langevin matches the target; plain Langevin at one small noise level gets unequal
mode weights wrong (Song & Ermon 2019 §3.2.2; Chan §3.3) in the NFE annealed Langevin needs to get them right."""
import math
import re

import pytest
import torch

from _sampler_utils import K_ED, N_PARTICLES, energy_ratio, one_torch_thread  # noqa: F401 (autouse fixture)
from explorer.distributions import get_dataset
from explorer.mixture import GaussianMixture
from explorer.samplers import SamplerDiverged, sample, t_of_sigma
from explorer.scores import exact_score, mixture_score
from explorer.process import get_process


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("dataset,process", [("ring8", "vp_linear"), ("three_modes_1d", "ve")])
def test_annealed_langevin_matches_target(dataset, process):
    ds, sde = get_dataset(dataset), get_process(process)
    x_init = sde.prior_sample((N_PARTICLES, ds.dim), generator=gen(0))
    res = sample("annealed_langevin", exact_score(ds, sde), sde, x_init, generator=gen(1))
    assert res.nfe == 100 * 10
    assert energy_ratio(res.x, ds) < K_ED


def test_plain_langevin_gets_unequal_weights_wrong_where_annealed_gets_them_right():
    """Weights 0.8 / 0.2 on N(-2.5, 0.5^2) and N(2.5, 0.5^2); chains start from the VP prior N(0, 1).

    At sigma(t_min) ~ 0.01 the density between the modes is e^-12.5 of the peaks, so a chain never crosses: plain
    Langevin keeps the split of its starting points across the basin boundary x* = ln 4 / 20 (where both
    components' responsibilities are equal), P(N(0, 1) < x*) ~ 0.53, instead of 0.8, although within each mode it
    is correct. Annealed Langevin, with the same number of score evaluations (1,000), sees merged modes at high
    noise and carries the right weights down. With 2,000 chains a fraction has sd <= 0.011.
    """
    mix = GaussianMixture.create([0.8, 0.2], [[-2.5], [2.5]], [0.5, 0.5])
    sde = get_process("vp_linear")
    score = mixture_score(mix, sde)
    x_init = sde.prior_sample((N_PARTICLES, 1), generator=gen(0))
    boundary = math.log(4) / 20

    annealed = sample("annealed_langevin", score, sde, x_init, generator=gen(1))
    # the largest step that is still accurate in a mode of variance 0.25 (5% of it: ~20 steps per relaxation time)
    plain = sample("langevin", score, sde, x_init, n_steps=annealed.nfe, step_size=0.0125, generator=gen(1))
    assert plain.nfe == annealed.nfe == 1000

    def left(x):
        return float((x[:, 0] < boundary).double().mean())

    assert abs(left(annealed.x) - 0.8) < 0.035
    assert abs(left(plain.x) - 0.8) > 0.2                            # measurably wrong ...
    prior_split = 0.5 * (1 + math.erf(boundary / (sde.prior_std() * math.sqrt(2))))
    assert abs(left(plain.x) - prior_split) < 0.035                  # ... it is the starting split
    for mask, mean in ((plain.x[:, 0] < boundary, -2.5), (plain.x[:, 0] >= boundary, 2.5)):
        mode = plain.x[mask, 0].double()                            # ... and it is right inside each mode
        assert abs(float(mode.mean()) - mean) < 0.1
        assert abs(float(mode.std()) - 0.5) < 0.05


def test_langevin_runs_at_the_requested_level():
    ds, sde = get_dataset("two_modes_1d"), get_process("ve")
    score_calls = []

    def score(x, t):
        score_calls.append(float(t[0]))
        return exact_score(ds, sde)(x, t)

    x_init = sde.prior_sample((8, 1), generator=gen(0))
    res = sample("langevin", score, sde, x_init, n_steps=5, sigma=0.5, generator=gen(1))
    t_half = float(t_of_sigma(sde, 0.5)[0])
    assert float(sde.std(torch.tensor(t_half, dtype=torch.float64))) == pytest.approx(0.5, rel=1e-9)
    assert score_calls == pytest.approx([t_half] * 5, rel=1e-6)
    assert torch.allclose(res.ts, torch.full((6,), t_half))
    res = sample("langevin", score, sde, x_init, n_steps=3, t_fixed=0.25, generator=gen(1))
    assert res.ts.tolist() == pytest.approx([0.25] * 4)
    with pytest.raises(ValueError, match="either t_fixed or sigma"):
        sample("langevin", score, sde, x_init, n_steps=3, t_fixed=0.25, sigma=0.5)
    with pytest.raises(ValueError, match="sigma must lie in"):
        sample("langevin", score, sde, x_init, n_steps=3, sigma=1e3)


@pytest.mark.parametrize("name", ["langevin", "annealed_langevin"])
def test_exploding_step_size_is_reported_with_its_step(name):
    ds, sde = get_dataset("ring8"), get_process("vp_linear")
    x_init = sde.prior_sample((64, 2), generator=gen(0))
    seen = []
    with pytest.raises(SamplerDiverged, match=r"diverged at step \d+ of \d+.*smaller step size") as err:
        sample(name, exact_score(ds, sde), sde, x_init, n_steps=200, step_size=10.0, generator=gen(1),
               callback=lambda i, t, x: seen.append(i))
    step, total = map(int, re.search(r"step (\d+) of (\d+)", str(err.value)).groups())
    assert 1 <= step <= 10 and total == (200 if name == "langevin" else 2000)
    if name == "langevin":
        assert seen == list(range(1, step))                          # every step before it was recorded


def test_the_energy_criterion_rejects_plain_langevin_on_unequal_weights():
    """Negative control for the acceptance rule: plain Langevin (default level and step) on asym3 (weights 0.5/0.3/0.2)."""
    ds, sde = get_dataset("asym3"), get_process("vp_linear")
    x_init = sde.prior_sample((N_PARTICLES, 2), generator=gen(0))
    res = sample("langevin", exact_score(ds, sde), sde, x_init, generator=gen(1))
    assert energy_ratio(res.x, ds) > 2 * K_ED
