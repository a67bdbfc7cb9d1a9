"""Training loop for the score networks (pure: no I/O; progress goes through a callback), and checkpoints on disk.

    model = train(ScoreNetConfig.for_data(ds, sde), ds, sde, steps=1000, seed=0, callback=report)

Each step draws a fresh batch x_0 ~ p_data from dataset.sample with a seeded torch.Generator and takes an Adam
step on the DSM loss (explorer.nn.losses). The learning rate warms up linearly, then decays by a cosine to 0;
an EMA of the weights is what samplers use.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from .trained import TrainedNet
from .losses import dsm_loss
from .networks import EMA, ScoreNet, ScoreNetConfig, network_score
from .checkpoints import read_checkpoint, write_checkpoint
from .config import process_fields
from .loop import BLOW_UP, TrainingDiverged, check_positive_int, fit, lr_at  # noqa: F401 (re-exported)
from ..process import Process
from ..tensors import default_device, seeded
from ..weighting import check_weighting

Tensor = torch.Tensor

# The live defaults (benchmarks/RESULTS_training.md, "Faster live training", one thread): 1,000 steps of 1,024 reach
# energy distance <= 0.005 after 100-500 steps on moons, ring8, checkerboard, swiss roll and spirals and end at
# 0.0013-0.0027; the former 2,000 steps at lr 3e-3 with p_uncond 0.1 needed 400-1,400 steps. What was wasted: the
# unconditional branch (the null label, which the field and unconditional samples use) saw 10% of each batch; at 50% it
# learns about as fast as an unconditional net while the class-conditional samples stay near the floor. lr 1e-2 after a
# 50-step warm-up converges in fewer steps, with no divergence at width 16-512 or under any process. A batch of 512 is
# as quick to the bar in 2D but leaves the 1D mode weights noisier (ED 0.005-0.007 vs 0.003); 600-800 steps end
# higher (the ED curves flatten by 1,000). The loop's own per-step work (batch, times, EMA, checks) is < 0.3 ms of a
# step, so it stays as it is. Up to ~900 steps the EMA's warm-up d_n = (1 + n) / (10 + n) governs (0.991 at step
# 1,000, an average over the last ~10% of the run); ema_decay caps longer runs.
DEFAULTS = dict(steps=1000, lr=1e-2, batch_size=1024, ema_decay=0.995, p_uncond=0.5, warmup=50)


@dataclass(eq=False)
class TrainedModel(TrainedNet):
    """A trained score network: its config, the EMA network used for sampling, and how it was trained."""

    config: ScoreNetConfig
    net: ScoreNet                                        # EMA weights, eval mode, requires_grad False
    info: dict = field(default_factory=dict)             # steps, lr, batch_size, seed, ... (JSON-able)
    losses: list[float] = field(default_factory=list)    # mean loss per reporting interval
    raw: ScoreNet | None = None                          # the last raw (non-EMA) weights while/after training; not saved
    serve_sde: Process | None = None                     # read under another process at matched log-SNR (pretrained.py)

    def score_fn(self, y: Tensor | int | None = None, *, gamma: float = 1.0):
        """ScoreFn (x, t) -> score of this model: unconditional (y=None), conditional, or guided with Luo's gamma (see network_score)."""
        return network_score(self.net, y, gamma=gamma, sde=self.serve_sde)

    @property
    def sde(self) -> Process:
        """The process this model is read under (its net's own unless served under another)."""
        return self.net.sde if self.serve_sde is None else self.serve_sde

    def copy(self) -> "TrainedModel":
        """An independent copy (the callback's model keeps changing while training runs)."""
        raw = None if self.raw is None else copy.deepcopy(self.raw).requires_grad_(False).eval()
        return TrainedModel(self.config, copy.deepcopy(self.net), dict(self.info), list(self.losses), raw, self.serve_sde)

    def to(self, device) -> "TrainedModel":
        """The same model on another device (a copy if the device differs)."""
        if torch.device(device) == self.device:
            return self
        return TrainedModel(self.config, copy.deepcopy(self.net).to(device), dict(self.info), list(self.losses),  # EMA only
                            serve_sde=self.serve_sde)


@dataclass(frozen=True)
class Progress:
    """What the callback receives every `report_every` steps: step of steps, mean loss since the last report, the EMA model."""

    step: int
    steps: int
    loss: float
    model: TrainedModel      # live EMA model: valid during the callback; .copy() it to keep it
    elapsed_s: float


Callback = Callable[[Progress], "bool | None"]    # return False to stop training early


def build_net(config: ScoreNetConfig, seed: int) -> ScoreNet:
    """A freshly initialised network; the initial weights depend on the seed only (global RNG state restored)."""
    return seeded(lambda: ScoreNet(config), seed)


def train(config: ScoreNetConfig, dataset, sde: Process, *, steps: int = DEFAULTS["steps"], lr: float = DEFAULTS["lr"],
          batch_size: int = DEFAULTS["batch_size"], seed: int = 0, callback: Callback | None = None,
          report_every: int = 100, device=None, ema_decay: float = DEFAULTS["ema_decay"],
          p_uncond: float = DEFAULTS["p_uncond"], warmup: int = DEFAULTS["warmup"], coupling=None,
          weighting: str | None = None) -> TrainedModel:
    """Minimise the DSM loss of explorer.nn.losses with Adam; deterministic given seed; returns the EMA model.
    `weighting` names the loss's weight over log-SNR (explorer.weighting; None: the parameterisation's own loss).
    A config with parameterisation "u" is a velocity network (flow matching); `coupling` (explorer.couplings) pairs
    each x_0 with its eps (None: independent, as before).

    callback(Progress) runs every report_every steps and at the end; returning False stops training (the model
    so far is returned). A NaN/inf loss, or one BLOW_UP times its first value, raises TrainingDiverged (the caller
    keeps its previous model).
    """
    _check_args(config, dataset, sde, batch_size=batch_size, ema_decay=ema_decay, p_uncond=p_uncond)
    device = torch.device(device) if device is not None else default_device()
    net = build_net(config, seed).to(device).train()
    sde = net.sde
    ema = EMA(net, ema_decay)
    g = torch.Generator().manual_seed(seed)
    conditional = config.num_classes > 0
    info = dict(steps=0, lr=lr, batch_size=batch_size, seed=seed, ema_decay=ema_decay, warmup=warmup,
                p_uncond=p_uncond if conditional else 0.0, dataset=dataset.name)
    if weighting is not None:    # the loss's weight over log-SNR (explorer/weighting.py); None: the net's own loss
        info["weighting"] = check_weighting(weighting)
    if coupling is not None:     # flow matching's pairing of x_0 and eps (explorer/couplings.py); None: independent
        info["coupling"] = coupling.name
    model = TrainedModel(config, ema.net, info, [], raw=net)

    def loss_step(step):
        x0, y, eps = (*dataset.sample(batch_size, generator=g), None) if coupling is None else \
            coupling.batch(dataset, batch_size, generator=g)
        x0, y = x0.to(device), (y.to(device) if conditional and y is not None else None)   # reflow: no labels
        return dsm_loss(net, x0, y, sde=sde, p_uncond=p_uncond, generator=g,
                        eps=None if eps is None else eps.to(device), weighting=weighting), {}

    def on_report(done, means, elapsed):
        model.losses.append(means["loss"])
        info["steps"] = done
        return None if callback is None else callback(Progress(done, steps, means["loss"], model, elapsed))

    info["steps"] = fit(net, loss_step, steps=steps, lr=lr, warmup=warmup, report_every=report_every,
                        on_report=on_report, ema=ema)
    net.requires_grad_(False).eval()
    return model


def _check_args(config, dataset, sde, *, batch_size, ema_decay, p_uncond):
    """Fail loudly, naming the bad value, before any work is done (steps, lr, warm-up: explorer.nn.loop.fit)."""
    if config.dim != dataset.dim:
        raise ValueError(f"config.dim = {config.dim} but dataset {dataset.name!r} is {dataset.dim}D")
    if config.num_classes not in (0, dataset.num_classes):
        raise ValueError(f"config.num_classes = {config.num_classes} but dataset {dataset.name!r} has "
                         f"{dataset.num_classes} classes (use 0 for an unconditional model)")
    fields = process_fields(sde)
    if (config.process, config.process_params) != (fields["process"], fields["process_params"]):
        raise ValueError(f"config is for process {config.process!r} {dict(config.process_params)} but the sde is "
                         f"{fields['process']!r} {dict(fields['process_params'])}; use ScoreNetConfig.for_data(dataset, sde)")
    check_positive_int("batch_size", batch_size)
    for name, v in (("ema_decay", ema_decay), ("p_uncond", p_uncond)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and 0.0 <= v <= 1.0):
            raise ValueError(f"{name} must be a finite number in [0.0, 1.0], got {v!r}")
    if ema_decay >= 1.0:
        raise ValueError(f"ema_decay must be < 1, got {ema_decay}")


# --- checkpoints ----------------------------------------------------------------------------------
def save_checkpoint(model: TrainedModel, folder, *, half: bool = False) -> Path:
    """Write folder/config.json ({"config", "training", "losses"}) and folder/weights.pt (EMA weights, float32 or float16)."""
    meta = {"config": model.config.to_dict(), "training": model.info, "losses": [round(v, 6) for v in model.losses]}
    return write_checkpoint(folder, model.net, meta, half=half)


def load_checkpoint(folder, *, device=None) -> TrainedModel:
    """Read a checkpoint written by save_checkpoint; returns an eval-mode model."""
    config, net, meta = read_checkpoint(folder, ScoreNetConfig.from_dict, build_net, device=device)
    return TrainedModel(config, net, dict(meta.get("training", {})), list(meta.get("losses", [])))
