"""The optional diffusers path, offline: a tiny random UNet2DModel saved in diffusers' format, loaded and sampled."""
import builtins
import json

import pytest
import torch

from explorer.hub import HubModelError, load_hub_unet
from explorer.samplers import sample

import diffusers  # noqa: E402  a test requirement (requirements-test.txt): fail, never skip, when it is missing


def _tiny_unet():
    torch.manual_seed(0)
    return diffusers.UNet2DModel(sample_size=8, in_channels=1, out_channels=1, block_out_channels=(8, 16),
                                 layers_per_block=1, down_block_types=("DownBlock2D", "DownBlock2D"),
                                 up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4)


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory):
    """A DDPM pipeline layout: model_index.json, unet/, scheduler/."""
    root = tmp_path_factory.mktemp("ddpm_tiny")
    _tiny_unet().save_pretrained(root / "unet")
    diffusers.DDPMScheduler(num_train_timesteps=1000).save_pretrained(root / "scheduler")
    (root / "model_index.json").write_text(json.dumps(
        {"_class_name": "DDPMPipeline", "unet": ["diffusers", "UNet2DModel"], "scheduler": ["diffusers", "DDPMScheduler"]}))
    return root


def test_load_and_sample_through_the_explorer_samplers(pipeline_dir):
    model = load_hub_unet(str(pipeline_dir), device="cpu")
    assert model.shape == (1, 8, 8) and model.prediction_type == "epsilon"
    assert model.sde.name == "vp_linear" and model.sde.beta_min == pytest.approx(0.1) and model.sde.beta_max == pytest.approx(20.0)
    g = torch.Generator().manual_seed(0)
    for name in ("ddim", "ddpm", "pf_heun"):
        res = sample(name, model.score_fn(), model.sde, model.prior_sample(2, generator=g), n_steps=4, generator=g)
        assert res.x.shape == (2, 1, 8, 8) and torch.isfinite(res.x).all()


def test_timestep_matches_the_discrete_noise_level(pipeline_dir):
    """alpha_bar at the fractional step k(t) equals alpha(t)^2 of the explorer process (the discrete-schedule wrapper)."""
    model = load_hub_unet(str(pipeline_dir), device="cpu")
    t = torch.tensor([0.01, 0.2, 0.5, 0.8, 0.99], dtype=torch.float64)
    k = model.timestep(t).double()
    table = torch.log(model.alphas_cumprod)
    lo = k.floor().long().clamp(max=len(table) - 2)
    interp = table[lo] + (k - lo) * (table[lo + 1] - table[lo])
    assert torch.allclose(interp, 2 * torch.log(model.sde.mean_coef(t)), atol=1e-3)
    # DDPM's linear schedule discretises VPLinear(0.1, 20): k(t) ~ 1000 t - 1, up to the O(sum beta^2) gap between
    # log prod(1 - beta_j) and -sum beta_j (0.07 nats at the end, i.e. ~3.5 steps where beta = 0.02)
    assert torch.allclose(k, 1000 * t - 1, atol=5.0)


def test_bare_unet_folder_without_scheduler(tmp_path):
    _tiny_unet().save_pretrained(tmp_path)
    model = load_hub_unet(str(tmp_path), device="cpu")
    assert "assumed DDPM" in model.info["note"]
    x = model.prior_sample(1)
    assert model.score_fn()(x, torch.tensor([0.5])).shape == x.shape


def test_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(HubModelError, match="no such folder"):
        load_hub_unet(str(tmp_path / "missing"))
    with pytest.raises(HubModelError, match="not a Hub model id"):
        load_hub_unet("not a model id")
    with pytest.raises(HubModelError, match="offline|not in the local cache|no model"):
        load_hub_unet("explorer-tests/no-such-model-xyz", local_files_only=True)
    (tmp_path / "sd").mkdir()
    (tmp_path / "sd" / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline",
                                                                  "unet": [], "vae": [], "text_encoder": []}))
    with pytest.raises(HubModelError, match="latent or text-conditioned"):
        load_hub_unet(str(tmp_path / "sd"))
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(HubModelError, match="only unconditional pixel-space UNet2DModel"):
        load_hub_unet(str(tmp_path / "bert"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(HubModelError, match="not a diffusers model"):
        load_hub_unet(str(tmp_path / "empty"))


@pytest.mark.parametrize("name, message", [("x" * 300, "not a Hub model id"), ("/" + "x" * 300, "no such folder"),
                                           ("x" * 20_000, "too long")])
def test_names_the_file_system_refuses_get_a_clear_error(name, message):
    """A name longer than the file system takes (an OSError from Path.exists) was a 'Something went wrong' (fuzzing)."""
    with pytest.raises(HubModelError, match=message):
        load_hub_unet(name, local_files_only=True)


def test_diffusers_missing_gives_the_install_hint(monkeypatch):
    real_import = builtins.__import__

    def no_diffusers(name, *args, **kwargs):
        if name == "diffusers" or name.startswith("diffusers."):
            raise ImportError("No module named 'diffusers'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_diffusers)
    with pytest.raises(HubModelError, match="pip install diffusers"):
        load_hub_unet("google/ddpm-cifar10-32")


def test_the_app_loads_no_local_folder_unless_one_directory_is_configured(pipeline_dir, tmp_path, monkeypatch):
    """allow_local=False (the app without EXPLORER_HUB_LOCAL_DIR): one message for every path, existing or not, a
    model folder or not; nothing on the server is told apart."""
    from explorer.hub import NOT_AVAILABLE, local_models_dir

    monkeypatch.delenv("EXPLORER_HUB_LOCAL_DIR", raising=False)
    assert local_models_dir() is False
    (tmp_path / "empty").mkdir()
    messages = set()
    for name in (str(pipeline_dir), str(tmp_path / "empty"), str(tmp_path / "missing"), "/etc", "/root/.cache",
                 "./assets", "~/", "../" * 5, "C:\\models", "/" + "x" * 300):
        with pytest.raises(HubModelError) as err:
            load_hub_unet(name, allow_local=local_models_dir(), local_files_only=True)
        messages.add(str(err.value))
    assert messages == {NOT_AVAILABLE}


def test_a_configured_directory_serves_only_its_own_folders(tmp_path, monkeypatch):
    from explorer.hub import NOT_AVAILABLE, local_models_dir

    root, outside = tmp_path / "models", tmp_path / "outside"
    _tiny_unet().save_pretrained(root / "mine")
    _tiny_unet().save_pretrained(outside)                     # a real model, but outside the directory
    (root / "link").symlink_to(outside)                       # a link inside pointing outside does not count
    monkeypatch.setenv("EXPLORER_HUB_LOCAL_DIR", str(root))
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert local_models_dir() == root
    assert load_hub_unet("mine", allow_local=root, device="cpu").shape == (1, 8, 8)   # by its name in the directory
    assert load_hub_unet(str(root / "mine"), allow_local=root, device="cpu").shape == (1, 8, 8)   # or its full path
    for name in (str(outside), "mine/../../outside", "../outside", "./link", "link", "./no-such-model"):
        with pytest.raises(HubModelError) as err:
            load_hub_unet(name, allow_local=root, device="cpu", local_files_only=True)
        assert str(err.value) == NOT_AVAILABLE or name == "link" and "not a Hub model id" in str(err.value), name
    monkeypatch.setenv("SPACE_ID", "someone/diffusion-explorer")
    assert local_models_dir() is False, "never on a Space"
