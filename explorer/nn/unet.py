"""A small class-conditional UNet for [N, 1, H, W] images that predicts eps_hat(x_t, t, y), its ScoreFn, and checkpoints.

Architecture (Ho et al. 2020, shrunk): a 3×3 conv in, then per resolution level `num_res_blocks` residual blocks
(GroupNorm, SiLU, 3×3 conv; the embedding added between the convs), a stride-2 conv down; a middle block; the
mirror path up with skip connections (nearest upsampling + conv); GroupNorm, SiLU, a zero-initialised 3×3 conv out.
The embedding is MLP(sinusoid(t)) + E[y], y in {0..C-1} or the "no label" token C (classifier-free guidance,
Ho & Salimans 2022: trained with label dropout). The input is scaled by c_in(t) = 1 / sqrt(alpha^2 sigma_data^2 +
sigma^2) as in explorer.nn.networks, so the same network works under VP and VE.

Score (explorer.scores, the only place the conversions live): score = -eps_hat / sigma(t); guidance in Luo's
convention, s_gamma = s(x, t) + gamma (s(x, t, y) - s(x, t)): gamma = 0 unconditional, 1 conditional, > 1 guided.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .. import parameterisation as conv
from .trained import TrainedNet
from .networks import time_embedding
from ..process import Process
from ..tensors import append_dims, as_time, seeded
from .checkpoints import read_checkpoint, write_checkpoint
from .config import NetConfig

Tensor = torch.Tensor

DIGITS_MODEL_DIR = Path(__file__).resolve().parents[2] / "assets" / "digits_model"
GAMMA_MAX = 20.0          # guidance scales lie in [0, GAMMA_MAX], as in the toy guidance tab


@dataclass(frozen=True)
class DigitsConfig(NetConfig):
    """Everything needed to rebuild the image UNet: image shape, widths, classes, and the process it was trained under."""

    image_size: int = 8
    channels: int = 1
    base_width: int = 32
    channel_mults: tuple = (1, 2)        # width multiplier of each resolution level (image_size / 2^level)
    num_res_blocks: int = 1
    num_classes: int = 10                # 0: unconditional; C > 0: labels 0..C-1 plus the "no label" token C
    time_features: int = 16              # sinusoidal embedding of t with 2 * time_features entries
    emb_dim: int = 128
    groups: int = 8                      # GroupNorm groups
    data_std: float = 0.85               # sigma_data in c_in(t) (RMS pixel of the digits in [-1, 1])
    dataset: str = "sklearn_digits"
    parameterisation: str = "eps"        # the only one: the network predicts eps_hat

    INTEGERS = (("image_size", 4), ("channels", 1), ("base_width", 1), ("num_res_blocks", 1), ("num_classes", 0),
                ("time_features", 1), ("emb_dim", 1), ("groups", 1))

    def __post_init__(self):
        if self.parameterisation != "eps":
            raise ValueError(f"the image UNet predicts eps; parameterisation must be 'eps', got {self.parameterisation!r}")
        super().__post_init__()
        mults = tuple(int(m) for m in self.channel_mults)
        if not mults or min(mults) < 1:
            raise ValueError(f"channel_mults must be a non-empty list of positive integers, got {self.channel_mults!r}")
        if self.image_size % 2 ** (len(mults) - 1):
            raise ValueError(f"image_size {self.image_size} is not divisible by 2^{len(mults) - 1} ({len(mults)} levels)")
        if any((self.base_width * m) % self.groups for m in mults):
            raise ValueError(f"every level's width (base_width * mult) must be divisible by groups = {self.groups}")
        object.__setattr__(self, "channel_mults", mults)

    @property
    def shape(self) -> tuple[int, int, int]:
        """One image's shape (C, H, W)."""
        return (self.channels, self.image_size, self.image_size)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "channel_mults": list(self.channel_mults)}


# --- the network ----------------------------------------------------------------------------------------
class ResBlock(nn.Module):
    """h = conv(SiLU(GN(x))) + W emb;  out = skip(x) + conv(SiLU(GN(h))); [N, C_in, H, W] -> [N, C_out, H, W]."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(groups, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(emb)[:, :, None, None]
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class DigitsUNet(nn.Module):
    """eps_hat(x_t, t, y): x [N, C, H, W], t [N] or [], y [N] or None ("no label") -> [N, C, H, W]."""

    def __init__(self, config: DigitsConfig):
        super().__init__()
        self.config = config
        self.sde = config.make_sde()
        c, e, g = config.base_width, config.emb_dim, config.groups
        widths = [c * m for m in config.channel_mults]
        self.time_mlp = nn.Sequential(nn.Linear(2 * config.time_features, e), nn.SiLU(), nn.Linear(e, e))
        self.label = nn.Embedding(config.num_classes + 1, e) if config.num_classes > 0 else None
        self.conv_in = nn.Conv2d(config.channels, c, 3, padding=1)
        self.down, self.downsample = nn.ModuleList(), nn.ModuleList()
        skips, w_prev = [c], c
        for level, w in enumerate(widths):
            for _ in range(config.num_res_blocks):
                self.down.append(ResBlock(w_prev, w, e, g))
                w_prev = w
                skips.append(w)
            if level < len(widths) - 1:
                self.downsample.append(nn.Conv2d(w, w, 3, stride=2, padding=1))
                skips.append(w)
        self.mid = nn.ModuleList([ResBlock(w_prev, w_prev, e, g), ResBlock(w_prev, w_prev, e, g)])
        self.up, self.upsample = nn.ModuleList(), nn.ModuleList()
        for level, w in reversed(list(enumerate(widths))):
            for _ in range(config.num_res_blocks + 1):
                self.up.append(ResBlock(w_prev + skips.pop(), w, e, g))
                w_prev = w
            if level > 0:
                self.upsample.append(nn.Conv2d(w, w, 3, padding=1))
        self.norm_out = nn.GroupNorm(g, w_prev)
        self.conv_out = nn.Conv2d(w_prev, config.channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    @property
    def null_label(self) -> int:
        """The "no label" token index C (the unconditional branch of classifier-free guidance)."""
        return self.config.num_classes

    def embedding(self, t: Tensor, y: Tensor | None, n: int, device) -> Tensor:
        """MLP(sinusoid(t)) + E[y]; y None -> the "no label" token; [N, emb_dim]."""
        emb = self.time_mlp(time_embedding(t, self.config.time_features))
        if self.label is not None:
            if y is None:
                y = torch.full((n,), self.null_label, dtype=torch.long, device=device)
            emb = emb + self.label(y)
        return emb

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        """eps_hat [N, C, H, W] from x_t [N, C, H, W], t [N] or [], labels y [N] (C = "no label") or None."""
        t = as_time(t, x)
        a, s = self.sde.mean_coef(t), self.sde.std(t)
        c_in = torch.rsqrt((a * self.config.data_std) ** 2 + s ** 2)
        emb = F.silu(self.embedding(t, y, x.shape[0], x.device))
        h = self.conv_in(append_dims(c_in, x.ndim) * x)
        hs, down, n_blocks = [h], iter(self.down), self.config.num_res_blocks
        for level in range(len(self.config.channel_mults)):
            for _ in range(n_blocks):
                h = next(down)(h, emb)
                hs.append(h)
            if level < len(self.downsample):
                h = self.downsample[level](h)
                hs.append(h)
        for block in self.mid:
            h = block(h, emb)
        up = iter(self.up)
        for j in range(len(self.config.channel_mults)):
            for _ in range(n_blocks + 1):
                h = next(up)(torch.cat([h, hs.pop()], dim=1), emb)
            if j < len(self.upsample):
                h = self.upsample[j](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def build_unet(config: DigitsConfig, seed: int = 0) -> DigitsUNet:
    """A freshly initialised UNet; the initial weights depend on the seed only (the global RNG is untouched)."""
    return seeded(lambda: DigitsUNet(config), seed)


# --- score functions --------------------------------------------------------------------------------------
def check_gamma(gamma) -> float:
    """A guidance scale in [0, GAMMA_MAX] (the same range as explorer.guidance); NaN, inf and non-numbers fail."""
    if isinstance(gamma, bool) or not isinstance(gamma, (numbers.Real, Tensor)):
        raise ValueError(f"guidance scale gamma must be a number in [0, {GAMMA_MAX:g}], got {gamma!r}")
    g = float(gamma)
    if not (math.isfinite(g) and 0.0 <= g <= GAMMA_MAX):
        raise ValueError(f"guidance scale gamma must be in [0, {GAMMA_MAX:g}], got {gamma!r}")
    return g


def _labels(y, n: int, num_classes: int, device) -> Tensor:
    """y (int, [] or [N]) as long [N] on device, each in [0, num_classes - 1]."""
    if isinstance(y, bool) or (isinstance(y, float)) or (isinstance(y, Tensor) and y.is_floating_point()):
        raise ValueError(f"class labels must be integers in [0, {num_classes - 1}], got {y!r}")
    labels = torch.as_tensor(y, dtype=torch.long, device=device)
    if labels.ndim > 1 or (labels.ndim == 1 and labels.shape[0] not in (1, n)):
        raise ValueError(f"labels must be one int or a tensor [N] with N = {n}, got shape {tuple(labels.shape)}")
    labels = labels.expand(n).clone()
    if ((labels < 0) | (labels >= num_classes)).any():
        raise ValueError(f"class labels must be integers in [0, {num_classes - 1}]")
    return labels


def guided_eps(net: DigitsUNet, x: Tensor, t, y=None, gamma: float = 1.0) -> Tensor:
    """eps_gamma = eps(x, t) + gamma (eps(x, t, y) - eps(x, t)) (Luo's CFG in eps units); one batched pass; [N, C, H, W]."""
    t = as_time(t, x)
    if y is None or gamma == 0.0:
        return net(x, t, None)
    labels = _labels(y, x.shape[0], net.config.num_classes, x.device)
    if gamma == 1.0:
        return net(x, t, labels)
    null = torch.full_like(labels, net.null_label)
    eps = net(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))
    eps_c, eps_u = eps.chunk(2)
    return eps_u + gamma * (eps_c - eps_u)


def digits_score(net: DigitsUNet, y=None, *, gamma: float = 1.0, sde: Process | None = None):
    """ScoreFn (x [N, C, H, W], t [N]) -> s_gamma = -eps_gamma / sigma(t): y None unconditional; else Luo's guidance gamma."""
    sde = net.sde if sde is None else sde
    gamma = check_gamma(gamma)
    if y is not None and net.config.num_classes == 0:
        raise ValueError("this network is unconditional: it takes no label y")
    if y is not None:
        _labels(y, 1 if torch.as_tensor(y).ndim == 0 else torch.as_tensor(y).shape[0], net.config.num_classes, "cpu")
    dtype = next(net.parameters()).dtype

    def score_fn(x: Tensor, t) -> Tensor:
        t = as_time(t, x)
        x_in, t_in = x.to(dtype), t.to(dtype)
        eps = guided_eps(net, x_in, t_in, y, gamma)
        return conv.eps_to_score(eps, x_in, t_in, sde).to(x.dtype)

    return score_fn


class X0Tap:
    """Wraps a ScoreFn and keeps its last x0_hat = (x_t + sigma^2 score) / alpha (Tweedie), for a "current estimate" view.

    The caller owns the tap (no hidden global state): tap = X0Tap(score_fn, sde); sample(..., tap, ...); in the
    sampler's callback tap.x0_hat [N, C, H, W] is the estimate made from the last evaluated x_t at time tap.t.
    """

    def __init__(self, score_fn, sde: Process):
        self.score_fn, self.sde = score_fn, sde
        self.x0_hat: Tensor | None = None
        self.t: Tensor | None = None

    def __call__(self, x: Tensor, t) -> Tensor:
        t = as_time(t, x)
        s = self.score_fn(x, t)
        self.x0_hat, self.t = conv.score_to_x0(s, x, t, self.sde), t
        return s


# --- a trained model and its checkpoint ---------------------------------------------------------------------
@dataclass(eq=False)
class DigitsModel(TrainedNet):
    """A trained image UNet: its config, the EMA network used for sampling, and how it was trained."""

    config: DigitsConfig
    net: DigitsUNet                                      # EMA weights, eval mode, requires_grad False
    info: dict = field(default_factory=dict)             # steps, lr, batch size, seed, seconds, ... (JSON-able)
    losses: list[float] = field(default_factory=list)

    def score_fn(self, y=None, *, gamma: float = 1.0):
        """ScoreFn of this model: unconditional (y None), conditional (gamma 1) or guided (gamma > 1); see digits_score."""
        return digits_score(self.net, y, gamma=gamma)

    @torch.no_grad()
    def x0_hat(self, x: Tensor, t, y=None, *, gamma: float = 1.0) -> Tensor:
        """The model's current estimate x0_hat = (x_t - sigma eps_gamma) / alpha (Luo eq. 115); [N, C, H, W]."""
        t = as_time(t, x)
        return conv.score_to_x0(self.score_fn(y, gamma=gamma)(x, t), x, t, self.sde)

    def prior_sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """x_T ~ N(0, sigma(T)^2 I) of shape [n, C, H, W] on the model's device."""
        return self.sde.prior_sample((n,) + self.config.shape, generator=generator).to(self.device)


def save_digits_model(model: DigitsModel, folder, *, half: bool = False) -> Path:
    """Write folder/config.json ({"kind", "config", "training", "losses"}) and folder/weights.pt (EMA state dict)."""
    meta = {"kind": "digits_unet", "config": model.config.to_dict(), "training": model.info,
            "losses": [round(v, 6) for v in model.losses]}
    return write_checkpoint(folder, model.net, meta, half=half)


def load_digits_model(folder=DIGITS_MODEL_DIR, *, device=None) -> DigitsModel:
    """Read a checkpoint of save_digits_model (torch.load with weights_only=True); an eval-mode model."""
    config, net, meta = read_checkpoint(folder, DigitsConfig.from_dict, build_unet, device=device,
                                        hint=" (retrain: python scripts/train_digits.py)")
    return DigitsModel(config, net, dict(meta.get("training", {})), list(meta.get("losses", [])))


@lru_cache(maxsize=1)
def shipped_digits_model() -> DigitsModel:
    """The shipped model (assets/digits_model), on the CPU; cached and shared: treat as read-only."""
    return load_digits_model(DIGITS_MODEL_DIR, device="cpu")
