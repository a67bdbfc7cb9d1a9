"""Training loop of the image UNet (pure: no I/O; progress through a callback), mirroring explorer.training.

    model = train_digits(DigitsConfig(), digits_split("train"), steps=6000, seed=0, callback=report)

Each step draws a batch (x_0 [B, 1, H, W], y [B]) with a seeded torch.Generator, drops each label to the "no label"
token with probability p_uncond (classifier-free guidance), and takes an Adam step on the DSM loss of
explorer.losses (eps-prediction: E || eps_hat(alpha x_0 + sigma eps, t, y) - eps ||^2, Ho et al. eq. 14).
The learning rate warms up, then decays by a cosine; an EMA of the weights is what samplers use.
"""
from __future__ import annotations

import math
import platform
import time

import torch

from . import interrupt
from .digits import DigitsSplit
from .losses import dsm_loss
from .networks import EMA
from .training import Callback, Progress, TrainingDiverged, lr_at
from .unet import DigitsConfig, DigitsModel, build_unet
from .tensors import default_device

DEFAULTS = dict(steps=6000, lr=2e-3, batch_size=128, ema_decay=0.999, p_uncond=0.2, warmup=100)
BLOW_UP = 1e4


def train_digits(config: DigitsConfig, data: DigitsSplit, *, steps: int = DEFAULTS["steps"], lr: float = DEFAULTS["lr"],
                 batch_size: int = DEFAULTS["batch_size"], seed: int = 0, callback: Callback | None = None,
                 report_every: int = 100, device=None, ema_decay: float = DEFAULTS["ema_decay"],
                 p_uncond: float = DEFAULTS["p_uncond"], warmup: int = DEFAULTS["warmup"]) -> DigitsModel:
    """Minimise the eps-DSM loss with Adam on images [N, C, H, W]; deterministic given seed and thread count; the EMA model.

    callback(Progress) runs every report_every steps and at the end; returning False stops early.
    """
    if tuple(data.x.shape[1:]) != config.shape:
        raise ValueError(f"data images are {tuple(data.x.shape[1:])} but the config expects {config.shape}")
    for name, v in (("steps", steps), ("batch_size", batch_size), ("report_every", report_every)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not (0.0 < lr <= 1.0 and 0.0 <= ema_decay < 1.0 and 0.0 <= p_uncond <= 1.0):
        raise ValueError(f"need 0 < lr <= 1, 0 <= ema_decay < 1, 0 <= p_uncond <= 1; got {lr}, {ema_decay}, {p_uncond}")
    device = torch.device(device) if device is not None else default_device()
    net = build_unet(config, seed).to(device).train()
    ema = EMA(net, ema_decay)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    conditional = config.num_classes > 0
    info = dict(steps=0, lr=lr, batch_size=batch_size, seed=seed, ema_decay=ema_decay, warmup=warmup,
                p_uncond=p_uncond if conditional else 0.0, dataset=config.dataset, n_train=len(data),
                threads=torch.get_num_threads(), torch=torch.__version__, machine=platform.machine())
    model = DigitsModel(config, ema.net, info, [])
    t0, running, n_running, first, done = time.perf_counter(), 0.0, 0, None, 0
    for step in range(steps):
        interrupt.check()
        x0, y = data.sample(batch_size, generator=g)
        x0, y = x0.to(device), (y.to(device) if conditional else None)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup)
        loss = dsm_loss(net, x0, y, p_uncond=p_uncond, generator=g)
        value = loss.item()
        first = value if first is None else first
        if not math.isfinite(value) or value > BLOW_UP * max(first, 1.0):
            raise TrainingDiverged(f"the loss became {value:.3g} at step {step + 1} (learning rate {lr:g}): "
                                   "training diverged; try a smaller learning rate")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(net)
        running, n_running, done = running + value, n_running + 1, step + 1
        if done % report_every == 0 or done == steps:
            model.losses.append(running / n_running)
            info["steps"], info["train_seconds"] = done, round(time.perf_counter() - t0, 1)
            progress = Progress(done, steps, running / n_running, model, time.perf_counter() - t0)
            running, n_running = 0.0, 0
            if callback is not None and callback(progress) is False:
                break
    info["steps"], info["train_seconds"] = done, round(time.perf_counter() - t0, 1)
    return model
