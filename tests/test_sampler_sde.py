"""Reverse-time SDE samplers (Euler–Maruyama, predictor–corrector): they match the target, and the reverse SDE's
marginals are the forward process's p_t at every time (Anderson 1982; Song et al. 2021 eq. 6)."""
import pytest
import torch

from _sampler_utils import K_ED, N_PARTICLES, Counted, energy_ratio, null_energy, one_torch_thread  # noqa: F401 (autouse fixture)
from explorer.distributions import get_dataset
from explorer.metrics import energy_distance
from explorer.samplers import sample
from explorer.scores import exact_score
from explorer.process import get_process

CASES = [("ring8", "vp_linear"), ("three_modes_1d", "ve")]


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", ["reverse_sde", "pc"])
@pytest.mark.parametrize("dataset,process", CASES)
def test_matches_target_at_default_settings(name, dataset, process):
    ds, sde = get_dataset(dataset), get_process(process)
    x_init = sde.prior_sample((N_PARTICLES, ds.dim), generator=gen(0))
    res = sample(name, exact_score(ds, sde), sde, x_init, generator=gen(1))
    assert energy_ratio(res.x, ds) < K_ED


def test_reverse_sde_marginals_are_the_forward_marginals():
    """Frame i of the reverse SDE is distributed as p_{t_i} = law of alpha x_0 + sigma eps: check t ~ 0.5 and 0.1."""
    ds, sde = get_dataset("asym3"), get_process("vp_cosine")
    x_init = sde.prior_sample((N_PARTICLES, 2), generator=gen(0))
    res = sample("reverse_sde", exact_score(ds, sde), sde, x_init, n_steps=500, generator=gen(1))
    for i in (250, 450):
        t = res.ts[i].double()
        fresh, _ = sde.marginal_sample(ds.sample(N_PARTICLES, generator=gen(2), dtype=torch.float64)[0], t, generator=gen(3))
        big, _ = sde.marginal_sample(ds.sample(4000, generator=gen(4), dtype=torch.float64)[0], t, generator=gen(5))
        assert energy_distance(res.trajectory[i].double(), fresh) < K_ED * null_energy(big, N_PARTICLES)


def test_pc_nfe_counts_the_corrector_and_zero_corrector_is_the_predictor():
    ds, sde = get_dataset("two_modes_1d"), get_process("subvp")
    x_init = sde.prior_sample((16, 1), generator=gen(0))
    for m in (0, 1, 3):
        score = Counted(exact_score(ds, sde))
        res = sample("pc", score, sde, x_init, n_steps=20, n_corrector=m, generator=gen(1))
        assert res.nfe == score.calls == 20 * (1 + m)
    # n_corrector = 0: reverse diffusion only, x <- (2 - alpha_{t|s}) x + sigma_{t|s}^2 score + sigma_{t|s} z,
    # which agrees with Euler–Maruyama to first order in the step: both converge to the same law
    x_init = sde.prior_sample((N_PARTICLES, 1), generator=gen(0))
    p = sample("pc", exact_score(ds, sde), sde, x_init, n_steps=400, n_corrector=0, generator=gen(1))
    assert energy_ratio(p.x, ds) < K_ED


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), float("inf")])
def test_pc_rejects_bad_snr(bad):
    ds, sde = get_dataset("two_modes_1d"), get_process("ve")
    with pytest.raises(ValueError, match="snr"):
        sample("pc", exact_score(ds, sde), sde, torch.zeros(4, 1), n_steps=5, snr=bad)
