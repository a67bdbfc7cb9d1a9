"""The shipped toy models: one per built-in dataset (vp_linear) and per 2D dataset (ve, and linear: velocity nets); they load, match their
config, stay small, and sample well: energy distance < 0.01 between 2,000 PF-ODE Heun (100 steps) samples and
2,000 fresh data samples (the exact-score sampler and two fresh data sets give 0.001-0.004 here: see
benchmarks/RESULTS_training.md). Timings (load < 0.2 s) live in benchmarks/bench_training.py."""
import json

import pytest
import torch

from explorer.distributions import DATASETS
from explorer.metrics import energy_distance
from explorer.pretrained import TOY_MODELS_DIR, list_pretrained, load_pretrained, model_dir
from explorer.samplers import sample

EXPECTED = sorted([(n, "vp_linear") for n in DATASETS] + [(n, p) for n, d in DATASETS.items() if d.dim == 2
                                                         for p in ("ve", "linear")])   # linear: velocity nets (#14)


def test_every_builtin_dataset_has_its_models():
    assert list_pretrained() == EXPECTED


def test_all_models_together_are_small():
    total = sum(f.stat().st_size for f in TOY_MODELS_DIR.rglob("*") if f.is_file())
    assert total < 20e6


@pytest.mark.parametrize("dataset, process", EXPECTED)
def test_model_loads_and_matches_its_config(dataset, process):
    m = load_pretrained(dataset, process)
    ds = DATASETS[dataset]
    c = m.config
    assert (c.dataset, c.process, c.dim, c.num_classes) == (dataset, process, ds.dim, ds.num_classes)
    assert c.parameterisation == ("u" if process == "linear" else "eps") and m.sde.name == process
    meta = json.loads((model_dir(dataset, process) / "config.json").read_text())
    assert meta["config"] == c.to_dict()
    state = torch.load(model_dir(dataset, process) / "weights.pt", weights_only=True)
    assert state.keys() == m.net.state_dict().keys()
    assert not any(p.requires_grad for p in m.net.parameters())
    assert load_pretrained(dataset, process) is m                        # read-only cache


def test_unknown_model_fails_with_the_choices():
    with pytest.raises(ValueError, match="no pretrained model.*available"):
        load_pretrained("moons", "subvp")


@pytest.mark.parametrize("dataset, process", EXPECTED)
def test_model_samples_match_the_data(dataset, process):
    """Energy distance < 0.01 (the issue's bar, set for 2D; the 1D models meet it too) for 2,000 samples vs 2,000
    fresh; fixed seeds, so no flakiness."""
    m, ds = load_pretrained(dataset, process), DATASETS[dataset]
    x_init = m.sde.prior_sample((2000, ds.dim), generator=torch.Generator().manual_seed(1))
    x = sample("pf_heun", m.score_fn(), m.sde, x_init, n_steps=100).x
    ref, _ = ds.sample(2000, generator=torch.Generator().manual_seed(2))
    assert energy_distance(x, ref) < 0.01


@pytest.mark.parametrize("dataset", [n for n, d in DATASETS.items() if d.dim == 2][:3])
def test_guidance_moves_samples_into_the_requested_class(dataset):
    """Conditional on y (with classifier-free guidance w = 1), most samples land in class y (exact posterior argmax)."""
    m, ds = load_pretrained(dataset), DATASETS[dataset]
    x_init = m.sde.prior_sample((500, 2), generator=torch.Generator().manual_seed(1))
    x = sample("pf_heun", m.score_fn(0, gamma=2.0), m.sde, x_init, n_steps=50).x
    y_hat = ds.exact().class_log_posterior(x.double()).argmax(1)
    assert float((y_hat == 0).float().mean()) > 0.9
