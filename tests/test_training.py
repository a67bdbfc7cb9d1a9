"""Losses and the training loop: weightings, label dropout, determinism, callback stop, EMA vs raw, divergence,
argument checks, checkpoints."""
import json

import pytest
import torch

from explorer.distributions import get_dataset
from explorer.nn.losses import drop_labels, dsm_loss, dsm_target, sample_times
from explorer.nn.networks import ScoreNet, ScoreNetConfig
from explorer.parameterisation import score_to_eps
from explorer.process import VE, get_process
from explorer.metrics import energy_distance
from explorer.samplers import sample
from explorer.nn.training import (DEFAULTS, TrainingDiverged, build_net, load_checkpoint, lr_at, save_checkpoint, train)

SMALL = dict(width=32, depth=2)


def _small_run(seed=0, steps=30, **kw):
    ds, sde = get_dataset("moons"), get_process("vp_linear")
    cfg = ScoreNetConfig.for_data(ds, sde, **SMALL)
    return train(cfg, ds, sde, steps=steps, batch_size=64, seed=seed, report_every=10, device="cpu", **kw)


# --- losses ------------------------------------------------------------------------------------------
def test_score_loss_with_sigma2_weight_is_the_eps_loss(gen):
    """sigma^2 || s - (-eps / sigma) ||^2 = || -sigma s - eps ||^2: Song's lambda = sigma^2 is DDPM's loss in eps units."""
    sde = get_process("vp_linear")
    x0, eps, s_hat = (torch.randn(64, 2, generator=gen) for _ in range(3))
    t = torch.rand(64, generator=gen) * 0.99 + 0.01
    x_t = sde.mean_coef(t)[:, None] * x0 + sde.std(t)[:, None] * eps
    target, w = dsm_target(x0, eps, x_t, t, sde, "score")
    lhs = w * ((s_hat - target) ** 2).sum(1)
    rhs = ((score_to_eps(s_hat, x_t, t, sde) - eps) ** 2).sum(1)
    torch.testing.assert_close(lhs, rhs)
    for p, expected in (("eps", eps), ("x0", x0)):
        target, w = dsm_target(x0, eps, x_t, t, sde, p)
        assert torch.equal(target, expected) and torch.equal(w, torch.ones_like(t))
    with pytest.raises(ValueError, match="unknown parameterisation"):
        dsm_target(x0, eps, x_t, t, sde, "v")


def test_stratified_times_cover_the_interval(gen):
    sde = get_process("vp_linear")
    t = sample_times(1000, sde, generator=gen)
    assert t.min() >= sde.t_min and t.max() <= sde.T
    counts = torch.histc(t, bins=10, min=sde.t_min, max=sde.T)
    assert counts.min() >= 99 and counts.max() <= 101            # one draw per bin of width (T - t_min) / 1000


def test_label_dropout(gen):
    y = torch.randint(0, 3, (10_000,), generator=gen)
    assert torch.equal(drop_labels(y, 3, 0.0, generator=gen), y)
    assert (drop_labels(y, 3, 1.0, generator=gen) == 3).all()
    dropped = drop_labels(y, 3, 0.2, generator=gen)
    frac = float((dropped == 3).float().mean())
    assert abs(frac - 0.2) < 0.02                                # binomial sd 0.004
    assert torch.equal(dropped[dropped != 3], y[dropped != 3])
    assert drop_labels(y, 0, 0.5) is None                        # an unconditional net takes no labels


def test_dsm_loss_is_finite_scalar_and_seeded():
    net = ScoreNet(ScoreNetConfig(dim=2, num_classes=2, **SMALL))
    x0, y = get_dataset("moons").sample(128, generator=torch.Generator().manual_seed(0))
    a = dsm_loss(net, x0, y, p_uncond=0.1, generator=torch.Generator().manual_seed(1))
    b = dsm_loss(net, x0, y, p_uncond=0.1, generator=torch.Generator().manual_seed(1))
    assert a.ndim == 0 and torch.isfinite(a) and a.item() == b.item()


# --- training loop -----------------------------------------------------------------------------------
def test_training_is_deterministic_given_the_seed():
    a, b, c = _small_run(0), _small_run(0), _small_run(1)
    for (k, va), vb in zip(a.net.state_dict().items(), b.net.state_dict().values()):
        assert torch.equal(va, vb), k
    assert a.losses == b.losses and a.losses != c.losses
    assert not torch.equal(a.net.in_x.weight, c.net.in_x.weight)


def test_concurrent_trainings_do_not_interfere():
    """Two sessions training in threads at once get exactly what each gets alone (no shared state)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(_small_run, [0, 1])
    for m, seed in ((a, 0), (b, 1)):
        alone = _small_run(seed)
        assert m.losses == alone.losses
        assert all(torch.equal(p, q) for p, q in zip(m.net.parameters(), alone.net.parameters()))


def test_init_does_not_touch_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_net(ScoreNetConfig(**SMALL), seed=5)
    assert torch.equal(torch.rand(3), expected)


def test_callback_reports_and_can_stop():
    seen = []

    def cb(p):
        seen.append((p.step, p.steps, p.loss))
        assert p.model.net is not None and p.elapsed_s >= 0
        return False if p.step >= 20 else None

    m = _small_run(steps=100, callback=cb)
    assert [s for s, _, _ in seen] == [10, 20] and all(n == 100 for _, n, _ in seen)
    assert m.info["steps"] == 20 and len(m.losses) == 2


def test_callback_runs_at_the_last_step():
    steps = []
    _small_run(steps=25, callback=lambda p: steps.append(p.step))
    assert steps == [10, 20, 25]


def test_ema_differs_from_raw_weights_as_expected():
    """EMA(decay 0.9) lags the raw weights; decay 0 makes it equal to them."""
    m = _small_run(ema_decay=0.9)
    diffs = [float((pe - pr).abs().max()) for pe, pr in zip(m.net.parameters(), m.raw.parameters())]
    assert max(diffs) > 1e-4
    m0 = _small_run(ema_decay=0.0)
    for pe, pr in zip(m0.net.parameters(), m0.raw.parameters()):
        torch.testing.assert_close(pe, pr)
    assert not any(p.requires_grad for p in m.net.parameters())


def test_lr_schedule_warms_up_then_decays_to_zero():
    assert lr_at(0, 1000, 1.0, 100) == pytest.approx(0.01)
    assert lr_at(100, 1000, 1.0, 100) == pytest.approx(1.0)
    assert lr_at(550, 1000, 1.0, 100) == pytest.approx(0.5)
    assert lr_at(1000, 1000, 1.0, 100) == pytest.approx(0.0, abs=1e-12)


def test_the_default_run_reaches_the_stated_energy_distance():
    """The live default run (DEFAULTS, seed 0) on ring8 under vp_linear: 2,000 PF-ODE Heun-100 samples (null label)
    against 2,000 fresh data are at energy distance <= 0.005, as benchmarks/bench_training.py measures it (0.0013 here
    on one thread). Why 0.005: the ED of two fresh 2,000-point ring8 sets, the noise floor, is 0.0005-0.0041 over 20
    pairs (median 0.0013), so a perfect sampler passes with any reference set, while an under-trained network fails
    (the settings before #12 run for 1,000 steps: 0.0092). Quality, not time: nothing here is timed."""
    ds, sde = get_dataset("ring8"), get_process("vp_linear")
    model = train(ScoreNetConfig.for_data(ds, sde), ds, sde, seed=0, device="cpu", report_every=DEFAULTS["steps"])
    assert model.info["steps"] == DEFAULTS["steps"]
    x_init = sde.prior_sample((2000, 2), generator=torch.Generator().manual_seed(1))
    x = sample("pf_heun", model.score_fn(), sde, x_init, n_steps=100).x.float()
    ref = ds.sample(2000, generator=torch.Generator().manual_seed(2))[0]
    floor = energy_distance(ds.sample(2000, generator=torch.Generator().manual_seed(3))[0], ref)
    ed = energy_distance(x, ref)
    assert ed <= 0.005, f"energy distance {ed:.4f} after the default run (noise floor with this reference set {floor:.4f})"


class _NaNData:
    """A dataset whose samples are NaN: the loss is NaN at the first step."""
    name, dim, num_classes = "nan", 2, 1

    def sample(self, n, *, generator=None):
        return torch.full((n, 2), float("nan")), torch.zeros(n, dtype=torch.long)


def test_nan_loss_stops_with_a_clear_message():
    sde = get_process("vp_linear")
    with pytest.raises(TrainingDiverged, match="loss became nan at step 1.*smaller learning rate"):
        train(ScoreNetConfig(dim=2, **SMALL), _NaNData(), sde, steps=10, device="cpu")


def test_exploding_loss_stops_with_a_clear_message():
    """lr = 10 with no warm-up: Adam's first steps move every weight by ~10 and the loss grows by orders of magnitude."""
    with pytest.raises(TrainingDiverged, match="diverged; try a smaller learning rate"):
        _small_run(steps=200, lr=10.0, warmup=0)


@pytest.mark.parametrize("kw, match", [
    (dict(lr=float("nan")), "lr must be"), (dict(lr=-1.0), "lr must be"), (dict(lr=100.0), "lr must be"),
    (dict(steps=0), "steps must be"), (dict(steps=2.5), "steps must be"), (dict(batch_size=0), "batch_size"),
    (dict(ema_decay=1.0), "ema_decay"), (dict(p_uncond=1.5), "p_uncond"),
])
def test_bad_arguments_fail_before_training(kw, match):
    ds, sde = get_dataset("moons"), get_process("vp_linear")
    with pytest.raises(ValueError, match=match):
        train(ScoreNetConfig.for_data(ds, sde, **SMALL), ds, sde, **{"steps": 5, **kw})


def test_config_must_match_data_and_process():
    ds, sde = get_dataset("moons"), get_process("vp_linear")
    with pytest.raises(ValueError, match="1D"):
        train(ScoreNetConfig.for_data(ds, sde, **SMALL), get_dataset("two_modes_1d"), sde, steps=5)
    with pytest.raises(ValueError, match="process"):
        train(ScoreNetConfig.for_data(ds, sde, **SMALL), ds, VE(sigma_max=5.0), steps=5)
    with pytest.raises(ValueError, match="classes"):
        train(ScoreNetConfig.for_data(get_dataset("ring8"), sde, **SMALL), ds, sde, steps=5)


def test_non_default_process_trains_and_round_trips(tmp_path):
    ds, sde = get_dataset("ring8"), VE(sigma_max=5.0)
    m = train(ScoreNetConfig.for_data(ds, sde, **SMALL), ds, sde, steps=5, batch_size=32, device="cpu")
    assert m.sde == sde
    assert load_checkpoint(save_checkpoint(m, tmp_path / "m"), device="cpu").sde == sde


# --- checkpoints -------------------------------------------------------------------------------------
def test_checkpoint_round_trip(tmp_path):
    m = _small_run()
    folder = save_checkpoint(m, tmp_path / "model")
    meta = json.loads((folder / "config.json").read_text())
    assert meta["config"]["dataset"] == "moons" and meta["training"]["steps"] == 30
    torch.load(folder / "weights.pt", weights_only=True)              # plain tensors only
    loaded = load_checkpoint(folder, device="cpu")
    assert loaded.config == m.config and loaded.info == m.info
    x, t = torch.randn(16, 2), torch.rand(16)
    torch.testing.assert_close(loaded.score_fn()(x, t), m.score_fn()(x, t))
    assert not any(p.requires_grad for p in loaded.net.parameters())


def test_half_precision_checkpoint_is_smaller_and_close(tmp_path):
    m = _small_run()
    full, half = save_checkpoint(m, tmp_path / "f"), save_checkpoint(m, tmp_path / "h", half=True)
    assert (half / "weights.pt").stat().st_size < 0.75 * (full / "weights.pt").stat().st_size
    x, t = torch.randn(16, 2), torch.rand(16) * 0.9 + 0.1
    eps_f = load_checkpoint(full).net(x, t)
    eps_h = load_checkpoint(half).net(x, t)
    torch.testing.assert_close(eps_h, eps_f, atol=1e-2, rtol=1e-2)    # float16 keeps ~3 significant digits


def test_missing_checkpoint_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_checkpoint(tmp_path)
