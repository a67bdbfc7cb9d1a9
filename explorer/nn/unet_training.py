"""Training of the image UNet (pure: no I/O; progress through a callback), through the one loop explorer.nn.loop.fit.

    model = train_digits(DigitsConfig(), digits_split("train"), steps=6000, seed=0, callback=report)

Each step draws a batch (x_0 [B, 1, H, W], y [B]) with a seeded torch.Generator, drops each label to the "no label"
token with probability p_uncond (classifier-free guidance), and takes an Adam step on the DSM loss of
explorer.nn.losses (eps-prediction: E || eps_hat(alpha x_0 + sigma eps, t, y) - eps ||^2, Ho et al. eq. 14).
The learning rate warms up, then decays by a cosine; an EMA of the weights is what samplers use.
"""
from __future__ import annotations

import platform

import torch

from ..digits import DigitsSplit
from .losses import dsm_loss
from .networks import EMA
from .loop import check_positive_int, fit
from .training import Callback, Progress
from .unet import DigitsConfig, DigitsModel, build_unet
from ..tensors import default_device

DEFAULTS = dict(steps=6000, lr=2e-3, batch_size=128, ema_decay=0.999, p_uncond=0.2, warmup=100)


def train_digits(config: DigitsConfig, data: DigitsSplit, *, steps: int = DEFAULTS["steps"], lr: float = DEFAULTS["lr"],
                 batch_size: int = DEFAULTS["batch_size"], seed: int = 0, callback: Callback | None = None,
                 report_every: int = 100, device=None, ema_decay: float = DEFAULTS["ema_decay"],
                 p_uncond: float = DEFAULTS["p_uncond"], warmup: int = DEFAULTS["warmup"]) -> DigitsModel:
    """Minimise the eps-DSM loss with Adam on images [N, C, H, W]; deterministic given seed and thread count; the EMA model.

    callback(Progress) runs every report_every steps and at the end; returning False stops early.
    """
    if tuple(data.x.shape[1:]) != config.shape:
        raise ValueError(f"data images are {tuple(data.x.shape[1:])} but the config expects {config.shape}")
    check_positive_int("batch_size", batch_size)
    if not (0.0 <= ema_decay < 1.0 and 0.0 <= p_uncond <= 1.0):
        raise ValueError(f"need 0 <= ema_decay < 1, 0 <= p_uncond <= 1; got {ema_decay}, {p_uncond}")
    device = torch.device(device) if device is not None else default_device()
    net = build_unet(config, seed).to(device).train()
    ema = EMA(net, ema_decay)
    g = torch.Generator().manual_seed(seed)
    conditional = config.num_classes > 0
    info = dict(steps=0, lr=lr, batch_size=batch_size, seed=seed, ema_decay=ema_decay, warmup=warmup,
                p_uncond=p_uncond if conditional else 0.0, dataset=config.dataset, n_train=len(data),
                threads=torch.get_num_threads(), torch=torch.__version__, machine=platform.machine())
    model = DigitsModel(config, ema.net, info, [])

    def loss_step(step):
        x0, y = data.sample(batch_size, generator=g)
        x0, y = x0.to(device), (y.to(device) if conditional else None)
        return dsm_loss(net, x0, y, p_uncond=p_uncond, generator=g), {}

    def on_report(done, means, elapsed):
        model.losses.append(means["loss"])
        info["steps"], info["train_seconds"] = done, round(elapsed, 1)
        return None if callback is None else callback(Progress(done, steps, means["loss"], model, elapsed))

    fit(net, loss_step, steps=steps, lr=lr, warmup=warmup, report_every=report_every, on_report=on_report, ema=ema)
    return model
