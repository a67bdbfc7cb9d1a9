"""Optional: a DDPM-style diffusers UNet2DModel (a local folder or a Hugging Face Hub id) as an explorer ScoreFn.

    model = load_hub_unet("google/ddpm-cifar10-32")            # needs `pip install diffusers` (and network, once)
    res = sample("ddim", model.score_fn(), model.sde, model.prior_sample(16, generator=g), n_steps=50)

The network was trained at integer steps k = 0..K-1 of a discrete schedule alpha_bar_k (the scheduler's
alphas_cumprod), on x_k = sqrt(alpha_bar_k) x_0 + sqrt(1 - alpha_bar_k) eps, which is a VP marginal. The explorer
process is the continuous VP of that schedule (beta_schedule "linear": VPLinear(beta_min = K beta_start,
beta_max = K beta_end), the DDPM limit; "squaredcos_cap_v2": VPCosine; anything else: VPLinear of the same
endpoints). The network is then called at the fractional step k(t) where the schedule has the same noise level,
alpha_bar_{k(t)} = alpha(t)^2 (linear interpolation in log alpha_bar; clamped to [0, K-1]), so every explorer
sampler, on any time grid, gives it inputs at the noise level it was trained for: the discrete-schedule wrapper.
Outputs: prediction_type "epsilon" (score = -eps_hat / sigma), "sample" (x0_hat, Tweedie) or "v_prediction"
(eps_hat = sigma x_t + alpha v_hat); conversions through explorer.scores.

Local folders: from Python any folder loads (allow_local=True, the default). The app passes
allow_local=local_models_dir(): only folders inside the one directory named by the environment variable
EXPLORER_HUB_LOCAL_DIR, and none when it is unset or on a Hugging Face Space (SPACE_ID set); every other path gets one
message, NOT_AVAILABLE, whether or not it exists, so the app tells nobody which folders the server has.

Refused with a HubModelError (a ValueError whose message is meant for the user): diffusers not installed; a
folder that does not exist (or is not available); an id not on the Hub, or the Hub unreachable (offline) with the
model not cached; a repository that is not a diffusers UNet2DModel (a text-to-image / latent model, a
class-conditional UNet, a transformer, ...).
"""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .parameterisation import to_score
from .process import Process, VPCosine, VPLinear
from .tensors import as_time, default_device

Tensor = torch.Tensor
log = logging.getLogger("explorer.hub")

INSTALL_HINT = "loading Hub models needs the optional package diffusers: pip install diffusers"
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")
CONFIG_FILES = ["model_index.json", "config.json", "unet/config.json", "scheduler/scheduler_config.json",
                "scheduler_config.json"]
PREDICTIONS = ("epsilon", "sample", "v_prediction")
HUB_KINDS = {"epsilon": "eps", "sample": "x0", "v_prediction": "v"}     # diffusers name -> explorer.parameterisation
MAX_NAME = 1024                 # characters in a model id or folder (a Hub id is at most 193)
LATENT_PARTS = ("vae", "vqvae", "text_encoder", "tokenizer")
LOCAL_DIR_ENV = "EXPLORER_HUB_LOCAL_DIR"
NOT_AVAILABLE = ("that local folder is not available on this server; give a Hub model id such as "
                 "'google/ddpm-cifar10-32'")


class HubModelError(ValueError):
    """A Hub model that cannot be used here; the message says why and what is supported."""


def _require_diffusers():
    try:
        import diffusers
    except ImportError as err:
        raise HubModelError(INSTALL_HINT) from err
    return diffusers


@dataclass(eq=False)
class HubModel:
    """A diffusers UNet2DModel wrapped for the explorer: its process, image shape, and its own discrete schedule."""

    unet: torch.nn.Module
    sde: Process
    shape: tuple[int, int, int]                 # (C, H, W)
    alphas_cumprod: Tensor                      # [K] float64, the scheduler's alpha_bar_k
    prediction_type: str = "epsilon"
    source: str = ""
    info: dict = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        return next(self.unet.parameters()).device

    def timestep(self, t: Tensor) -> Tensor:
        """The fractional training step k(t) with alpha_bar_{k(t)} = alpha(t)^2 (interpolated in log alpha_bar); [N]."""
        target = (2.0 * torch.log(self.sde.mean_coef(t.detach().to("cpu", torch.float64)))).numpy()
        table = torch.log(self.alphas_cumprod).numpy()                           # decreasing in k
        k = np.interp(-target, -table, np.arange(table.shape[0], dtype=np.float64))
        return torch.from_numpy(k).to(device=t.device, dtype=torch.float32)

    def score_fn(self):
        """ScoreFn (x [N, C, H, W], t [N]) -> grad log p_t(x) from the network's output at step k(t)."""
        dtype = next(self.unet.parameters()).dtype

        def score_fn(x: Tensor, t) -> Tensor:
            t = as_time(t, x)
            out = self.unet(x.to(dtype), self.timestep(t)).sample.to(x.dtype)
            return to_score(HUB_KINDS[self.prediction_type], out, x, t, self.sde)

        return score_fn

    def prior_sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """x_T ~ N(0, sigma(T)^2 I) of shape [n, C, H, W] on the model's device."""
        return self.sde.prior_sample((n,) + self.shape, generator=generator).to(self.device)


# --- resolving a folder or a Hub id to local config files ---------------------------------------------------
def _on_disk(s: str, test: str = "exists") -> bool:
    """Path(s).exists() / .is_dir(), False for a name the file system refuses (too long, a NUL byte)."""
    try:
        return getattr(Path(s).expanduser(), test)()
    except (OSError, ValueError):
        return False


def _path_syntax(s: str) -> bool:
    """Written as a path (not as 'owner/name'), without asking the file system."""
    return s.startswith((".", "/", "~")) or os.sep in s.replace("/", "", 1) or "\\" in s


def _looks_like_path(s: str) -> bool:
    return _path_syntax(s) or _on_disk(s)


def local_models_dir() -> Path | bool:
    """The one directory the app may load local folders from (EXPLORER_HUB_LOCAL_DIR); False when unset or on a
    Hugging Face Space."""
    root = os.environ.get(LOCAL_DIR_ENV, "").strip()
    if not root or os.environ.get("SPACE_ID"):
        return False
    return Path(root).expanduser()


def _local_folder(name: str, allow_local: bool | str | os.PathLike) -> Path | None:
    """The folder `name` names, if it is one that may be loaded; None for a Hub id; NOT_AVAILABLE otherwise."""
    if allow_local is True:
        if _on_disk(name, "is_dir"):
            return Path(name).expanduser()
        if _looks_like_path(name):
            raise HubModelError(f"no such folder: {name!r}")
        return None
    if allow_local is False:
        if _path_syntax(name):
            raise HubModelError(NOT_AVAILABLE)
        return None
    try:
        root = Path(allow_local).expanduser().resolve()
        folder = (root / Path(name).expanduser()).resolve()      # an absolute name replaces root: checked below
        inside = folder.is_relative_to(root) and folder.is_dir()
    except (OSError, ValueError):
        inside = False
    if inside:
        return folder
    if _path_syntax(name):
        raise HubModelError(NOT_AVAILABLE)
    return None


def _fetch_configs(repo_id: str, *, local_files_only: bool) -> Path:
    """Download (or find in the cache) only the JSON configs of a Hub repository; errors -> HubModelError."""
    from huggingface_hub import snapshot_download
    from huggingface_hub import errors as hf_errors

    try:
        return Path(snapshot_download(repo_id, allow_patterns=CONFIG_FILES, local_files_only=local_files_only))
    except hf_errors.GatedRepoError as err:
        raise HubModelError(f"{repo_id!r} is gated on the Hub: accept its licence and log in first") from err
    except hf_errors.RepositoryNotFoundError as err:
        raise HubModelError(f"no model {repo_id!r} on the Hugging Face Hub (check the id; private models need a "
                            "login)") from err
    except (hf_errors.LocalEntryNotFoundError, hf_errors.OfflineModeIsEnabled) as err:
        raise HubModelError(f"cannot reach the Hugging Face Hub (offline?) and {repo_id!r} is not in the local cache; "
                            "connect to the internet once, or give a local folder") from err
    except hf_errors.HfHubHTTPError as err:
        raise HubModelError(f"the Hub refused {repo_id!r}: {str(err).splitlines()[0]}") from err
    except OSError as err:        # connection errors from the HTTP client (their text may name local cache paths)
        log.warning("fetching %s failed: %s", repo_id, err)
        raise HubModelError(f"cannot reach the Hugging Face Hub (offline?) to fetch {repo_id!r}") from err


def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise HubModelError(f"{path.name} is not valid JSON ({err})") from err


def _inspect(root: Path, name: str) -> tuple[str | None, dict, dict | None]:
    """(unet subfolder or None, unet config, scheduler config or None) of a diffusers folder; refusals explain why."""
    index = _read_json(root / "model_index.json")
    if index is not None:
        pipeline = index.get("_class_name", "a pipeline")
        latent = [p for p in LATENT_PARTS if p in index]
        if latent:
            raise HubModelError(f"{name!r} is a {pipeline} with {', '.join(latent)}: a latent or text-conditioned model, "
                                "not supported; use a pixel-space DDPM-style UNet2DModel (e.g. google/ddpm-cifar10-32)")
        if "unet" not in index:
            raise HubModelError(f"{name!r} ({pipeline}) has no UNet; expected a DDPM-style pipeline with a UNet2DModel")
    sub = "unet" if (root / "unet" / "config.json").is_file() else None
    config = _read_json(root / "unet" / "config.json") if sub else _read_json(root / "config.json")
    if config is None:
        raise HubModelError(f"{name!r} is not a diffusers model: no model_index.json, unet/config.json or config.json")
    cls = config.get("_class_name")
    if cls != "UNet2DModel":
        what = {"UNet2DConditionModel": "a text-conditioned (Stable Diffusion-style) UNet"}.get(cls, repr(cls) if cls
                                                                                                else "not a diffusers model")
        raise HubModelError(f"{name!r} is {what}; only unconditional pixel-space UNet2DModel (DDPM-style) models "
                            "are supported")
    if config.get("num_class_embeds") or config.get("class_embed_type"):
        raise HubModelError(f"{name!r} is a class-conditional UNet2DModel; only unconditional ones are supported")
    scheduler = _read_json(root / "scheduler" / "scheduler_config.json") or _read_json(root / "scheduler_config.json")
    return sub, config, scheduler


def _process_of(scheduler_config: dict, alphas_cumprod: Tensor) -> Process:
    """The continuous explorer process of a diffusers beta schedule (see the module docstring)."""
    k = alphas_cumprod.shape[0]
    kind = scheduler_config.get("beta_schedule", "linear")
    if kind == "squaredcos_cap_v2":
        return VPCosine()
    b0, b1 = float(scheduler_config.get("beta_start", 1e-4)), float(scheduler_config.get("beta_end", 0.02))
    return VPLinear(beta_min=k * b0, beta_max=k * b1)


def load_hub_unet(model_id_or_path: str, *, device=None, local_files_only: bool = False,
                  allow_local: bool | str | os.PathLike = True) -> HubModel:
    """A diffusers UNet2DModel (folder or Hub id, pipeline or bare layout) and its scheduler as a HubModel (eval mode).
    allow_local: True, any folder; False, none; a directory, only folders inside it (see the module docstring)."""
    if not isinstance(model_id_or_path, (str, os.PathLike)) or not str(model_id_or_path).strip():
        raise HubModelError("give a Hub model id such as 'google/ddpm-cifar10-32' or a local folder")
    name = str(model_id_or_path).strip()
    diffusers = _require_diffusers()
    if len(name) > MAX_NAME:
        raise HubModelError(f"a model id or folder name of {len(name)} characters is too long (at most {MAX_NAME})")
    folder = _local_folder(name, allow_local)
    if folder is not None:
        root, repo_id = folder, None
    elif not REPO_ID.match(name):
        raise HubModelError(f"{name!r} is not a Hub model id; expected 'owner/name', e.g. 'google/ddpm-cifar10-32'")
    else:
        root, repo_id = _fetch_configs(name, local_files_only=local_files_only), name
    sub, unet_config, scheduler_config = _inspect(root, name)
    try:
        kwargs = {"subfolder": sub, "low_cpu_mem_usage": False} if sub else {"low_cpu_mem_usage": False}
        if repo_id is None:
            unet = diffusers.UNet2DModel.from_pretrained(str(root), **kwargs)
        else:
            unet = diffusers.UNet2DModel.from_pretrained(repo_id, local_files_only=local_files_only, **kwargs)
    except (OSError, ValueError, RuntimeError) as err:     # their text names cache or folder paths: logged only
        log.warning("loading the UNet weights of %s failed: %s", name, err)
        raise HubModelError(f"could not load the UNet weights of {name!r}: missing, incomplete or not the weights of "
                            "this UNet") from err
    note = ""
    if scheduler_config is None:
        scheduler_config, note = {}, "no scheduler config: assumed DDPM's linear betas 1e-4..0.02 over 1000 steps"
    prediction = scheduler_config.get("prediction_type", "epsilon")
    if prediction not in PREDICTIONS:
        raise HubModelError(f"{name!r} predicts {prediction!r}; supported: {list(PREDICTIONS)}")
    scheduler = diffusers.DDPMScheduler.from_config({k: v for k, v in scheduler_config.items() if not k.startswith("_")})
    alphas_cumprod = scheduler.alphas_cumprod.to(torch.float64).clone()
    sde = _process_of(scheduler_config, alphas_cumprod)
    c, s = int(unet_config.get("in_channels", 3)), unet_config.get("sample_size", 32)
    h, w = (s, s) if isinstance(s, int) else (int(s[0]), int(s[1]))
    device = torch.device(device) if device is not None else default_device()
    unet = unet.to(device).requires_grad_(False).eval()
    info = {"beta_schedule": scheduler_config.get("beta_schedule", "linear"), "num_train_timesteps": len(alphas_cumprod),
            "parameters": sum(p.numel() for p in unet.parameters()), "note": note}
    return HubModel(unet, sde, (c, h, w), alphas_cumprod, prediction, name, info)
