"""The one training loop: Adam with linear warm-up and cosine decay, an optional EMA of the weights, divergence
detection, running means reported every `report_every` steps, early stop, and cooperative interruption.

    done = fit(net, loss_step, steps=1000, lr=1e-2, warmup=50, report_every=100, on_report=report, ema=ema)

loss_step(step) draws its own batch (with the trainer's seeded generator) and returns (loss [], metrics): metrics
are extra scalars (e.g. {"accuracy": acc}) averaged like the loss between two reports. on_report(done, means,
elapsed_s) receives {"loss": ..., **metrics}; returning False stops training. This is the only place in the backend
that builds an optimiser.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import torch
from torch import nn

from .. import interrupt

Tensor = torch.Tensor
LossStep = Callable[[int], "tuple[Tensor, dict[str, Tensor | float]]"]
OnReport = Callable[[int, "dict[str, float]", float], "bool | None"]
BLOW_UP = 1e4          # a loss this many times its first value (or NaN / inf) means training diverged


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite (or blew up); the message names the step and suggests a smaller learning rate."""


def lr_at(step: int, steps: int, lr: float, warmup: int) -> float:
    """Linear warm-up over `warmup` steps, then cosine decay to 0 at `steps`."""
    if step < warmup:
        return lr * (step + 1) / warmup
    return 0.5 * lr * (1 + math.cos(math.pi * (step - warmup) / max(steps - warmup, 1)))


def check_positive_int(name: str, v, lo: int = 1, hi: int = 1_000_000) -> int:
    """An int (not a bool) in [lo, hi], else a ValueError naming it."""
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
    return v


def fit(net: nn.Module, loss_step: LossStep, *, steps: int, lr: float, warmup: int = 0, report_every: int = 100,
        on_report: OnReport | None = None, ema=None, weight_decay: float = 0.0, blow_up: float | None = BLOW_UP,
        what: str = "the loss") -> int:
    """Minimise loss_step's loss over `steps` Adam steps on net's trainable weights; returns the steps done.

    Raises TrainingDiverged when the loss is NaN / inf, or (blow_up set) above blow_up x max(first loss, 1).
    """
    check_positive_int("steps", steps)
    check_positive_int("report_every", report_every)
    check_positive_int("warmup", warmup, 0)
    if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and 0 < lr <= 10):
        raise ValueError(f"lr must be a finite number in (0, 10], got {lr!r}")
    params = [p for p in net.parameters() if p.requires_grad]
    device = params[0].device if params else torch.device("cpu")
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=device.type in ("cpu", "cuda"))
    t0, sums, n_run, first, done = time.perf_counter(), {}, 0, None, 0
    for step in range(steps):
        interrupt.check()
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup)
        loss, metrics = loss_step(step)
        value = loss.item()
        first = value if first is None else first
        if not math.isfinite(value) or (blow_up is not None and value > blow_up * max(first, 1.0)):
            raise TrainingDiverged(f"{what} became {value:.3g} at step {step + 1} (it was {first:.3g} at step 1; "
                                   f"learning rate {lr:g}): training diverged; try a smaller learning rate")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema is not None:
            ema.update(net)
        for k, v in {"loss": value, **metrics}.items():
            sums[k] = sums.get(k, 0.0) + (v.item() if isinstance(v, Tensor) else float(v))
        n_run, done = n_run + 1, step + 1
        if done % report_every == 0 or done == steps:
            means = {k: v / n_run for k, v in sums.items()}
            sums, n_run = {}, 0
            if on_report is not None and on_report(done, means, time.perf_counter() - t0) is False:
                break
    return done
