"""The image UNet: shapes under every sampler, guidance in Luo's convention, checkpoints, and the shipped model's quality."""
import pytest
import torch

from explorer.nn.digit_classifier import shipped_classifier
from explorer.samplers import SAMPLERS, sample
from explorer.parameterisation import score_to_x0
from explorer.nn.unet import (DIGITS_MODEL_DIR, DigitsConfig, X0Tap, build_unet, digits_score, guided_eps,
                           load_digits_model, save_digits_model, shipped_digits_model)
from explorer.nn.unet_training import train_digits
from explorer.digits import digits_split

TINY = dict(base_width=8, groups=4, emb_dim=16, time_features=4)


@pytest.fixture(scope="module")
def tiny_net():
    return build_unet(DigitsConfig(**TINY), seed=0).eval().requires_grad_(False)


def test_config_checks_and_roundtrip():
    c = DigitsConfig(**TINY, channel_mults=[1, 2, 2])
    assert c.channel_mults == (1, 2, 2)
    assert DigitsConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="divisible"):
        DigitsConfig(image_size=8, channel_mults=(1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="eps"):
        DigitsConfig(parameterisation="x0")
    with pytest.raises(ValueError, match="unknown process"):
        DigitsConfig(process="vp_quadratic")
    with pytest.raises(ValueError, match="unknown config keys"):
        DigitsConfig.from_dict({"widht": 3})


@pytest.mark.parametrize("size", [8, 16])
def test_unet_shapes(size):
    net = build_unet(DigitsConfig(**TINY, image_size=size), seed=1)
    x = torch.randn(3, 1, size, size)
    for t in (0.3, torch.tensor(0.3), torch.rand(3)):
        assert net(x, t).shape == x.shape
    assert net(x, torch.rand(3), torch.tensor([0, 9, 10])).shape == x.shape      # 10 = "no label"
    # the output layer starts at zero: eps_hat = 0 at initialisation
    assert net(x, torch.rand(3)).abs().max() == 0


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_every_sampler_runs_on_images(name, tiny_net):
    """Samplers broadcast by rank: [N, 1, H, W] goes through unchanged (a few steps, random net, guided score)."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():   # give the random net a non-zero output so the score is not trivially 0
        tiny_net.conv_out.weight.normal_(0, 0.01, generator=g)
    sde = tiny_net.sde
    x_init = sde.prior_sample((4, 1, 8, 8), generator=g)
    score = digits_score(tiny_net, torch.tensor([0, 1, 2, 3]), gamma=3.0)
    opts = {"rtol": 1e-2, "atol": 1e-2} if name == "pf_rk45" else {}     # adaptive: keep its NFE small
    res = sample(name, score, sde, x_init, n_steps=3, generator=g, **opts)
    assert res.x.shape == (4, 1, 8, 8) and res.trajectory.shape[1:] == (4, 1, 8, 8)
    assert torch.isfinite(res.x).all() and res.nfe >= 3


def test_guidance_convention(tiny_net):
    """gamma = 0: unconditional; 1: conditional; gamma: s + gamma (s(y) - s), linear in gamma (Luo)."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        tiny_net.conv_out.weight.normal_(0, 0.05, generator=g)
    x, t, y = torch.randn(5, 1, 8, 8, generator=g), torch.rand(5, generator=g) * 0.9 + 0.05, torch.arange(5)
    s_u = digits_score(tiny_net)(x, t)
    s_c = digits_score(tiny_net, y, gamma=1.0)(x, t)
    assert torch.allclose(digits_score(tiny_net, y, gamma=0.0)(x, t), s_u)
    assert not torch.allclose(s_u, s_c)
    s_3 = digits_score(tiny_net, y, gamma=3.0)(x, t)
    assert torch.allclose(s_3, s_u + 3.0 * (s_c - s_u), atol=1e-5, rtol=1e-4)
    assert torch.allclose(guided_eps(tiny_net, x, t, 4, 2.0), guided_eps(tiny_net, x, t, torch.full((5,), 4), 2.0))
    for bad in (-0.5, float("nan"), 1e9, True, "3"):
        with pytest.raises(ValueError, match="gamma"):
            digits_score(tiny_net, y, gamma=bad)
    for bad_y in (10, -1, 2.5):
        with pytest.raises(ValueError, match="labels"):
            digits_score(tiny_net, bad_y)(x, t)


def test_x0_tap_is_tweedie(tiny_net):
    sde = tiny_net.sde
    score = digits_score(tiny_net)
    tap = X0Tap(score, sde)
    x, t = torch.randn(2, 1, 8, 8), torch.full((2,), 0.4)
    s = tap(x, t)
    assert torch.allclose(tap.x0_hat, score_to_x0(s, x, t, sde))


def test_training_is_deterministic_and_checkpoint_roundtrips(tmp_path):
    data = digits_split("train")
    cfg = DigitsConfig(**TINY)
    a = train_digits(cfg, data, steps=3, batch_size=8, seed=5, device="cpu", report_every=1)
    b = train_digits(cfg, data, steps=3, batch_size=8, seed=5, device="cpu")
    for (k, va), vb in zip(a.net.state_dict().items(), b.net.state_dict().values()):
        assert torch.equal(va, vb), k
    assert len(a.losses) == 3 and a.info["steps"] == 3
    save_digits_model(a, tmp_path)
    c = load_digits_model(tmp_path, device="cpu")
    x, t = torch.randn(2, 1, 8, 8), torch.full((2,), 0.5)
    assert torch.equal(c.net(x, t), a.net(x, t))
    with pytest.raises(FileNotFoundError):
        load_digits_model(tmp_path / "nothing")
    with pytest.raises(ValueError, match="expects"):
        train_digits(DigitsConfig(**TINY, image_size=16), data, steps=1)


def test_shipped_model_loads_with_weights_only():
    assert (DIGITS_MODEL_DIR / "weights.pt").stat().st_size < 10e6
    state = torch.load(DIGITS_MODEL_DIR / "weights.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    model = shipped_digits_model()
    assert model.config.image_size == 8 and model.config.num_classes == 10
    assert model.info["train_seconds"] > 0


def test_guided_samples_are_the_asked_class():
    """gamma = 3, DDIM 50 steps, 20 samples per class, fixed seed: the shipped classifier agrees >= 90% of the time."""
    model, clf = shipped_digits_model(), shipped_classifier()
    g = torch.Generator().manual_seed(0)
    y = torch.arange(10).repeat_interleave(20)
    x_init = model.prior_sample(len(y), generator=g)
    res = sample("ddim", model.score_fn(y, gamma=3.0), model.sde, x_init, n_steps=50)
    acc = float((clf.predict(res.x.clamp(-1, 1)) == y).double().mean())
    assert acc >= 0.9, acc
