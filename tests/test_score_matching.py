"""Denoising score matching = explicit score matching + a constant (explorer/score_matching.py)."""
import pytest
import torch

from explorer.distributions import DATASETS
from explorer.nn.networks import ScoreNet, ScoreNetConfig, network_score
from explorer.nn.training import train
from explorer.process import get_process
from explorer.scores import exact_score
from explorer.score_matching import score_matching_batch, score_matching_losses


@pytest.mark.parametrize("process", ["vp_linear", "ve"])
def test_dsm_minus_esm_is_the_constant_for_any_model(process):
    """On one fixed batch, DSM - ESM = C within 4 standard errors of the cross term, for an untrained net, the exact
    score (ESM = 0) and a scaled exact score; C itself does not depend on the model."""
    ds, sde = DATASETS["ring8"], get_process(process)
    batch = score_matching_batch(ds, sde, 4096, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    untrained = network_score(ScoreNet(ScoreNetConfig.for_data(ds, sde, conditional=False, width=32, depth=2)))
    exact = exact_score(ds, sde)
    scaled = lambda x, t: 0.7 * exact(x, t)      # noqa: E731
    for fn in (untrained, exact, scaled):
        r = score_matching_losses(fn, batch, sde)
        assert r.constant == pytest.approx(batch.constant)
        assert abs(r.dsm - r.esm - r.constant) < 4 * r.stderr + 1e-9
    assert score_matching_losses(exact, batch, sde).esm == pytest.approx(0.0, abs=1e-10)


def test_training_lowers_both_losses_in_parallel():
    """A short training run lowers ESM towards 0 while DSM falls to C: their gap stays C (a few hundred steps)."""
    ds, sde = DATASETS["two_modes_1d"], get_process("vp_linear")
    batch = score_matching_batch(ds, sde, 4096, generator=torch.Generator().manual_seed(1))
    seen = []

    def report(p):
        seen.append(score_matching_losses(p.model.score_fn(), batch, sde))

    train(ScoreNetConfig.for_data(ds, sde, conditional=False, width=64, depth=2), ds, sde, steps=300, seed=0,
          report_every=100, callback=report)
    assert seen[-1].esm < 0.5 * seen[0].esm
    for r in seen:
        assert abs(r.dsm - r.esm - r.constant) < 4 * r.stderr + 1e-9


def test_only_mixtures_have_an_explicit_score_matching_loss():
    with pytest.raises(ValueError, match="not a Gaussian mixture"):
        score_matching_batch(DATASETS["moons"], get_process("vp_linear"), 10)
