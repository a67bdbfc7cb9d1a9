"""A noise-conditional classifier p_phi(y | x_t, t) for classifier guidance (Dhariwal & Nichol 2021; Luo §"Guidance").

    clf = train_classifier(dataset, sde, steps=1000, seed=0, callback=report)
    guided = classifier_guided_score(score_fn, clf.log_classifier(), y, gamma)     # explorer.guidance

Training minimises the cross-entropy E_{t, x_0, y, eps} [-log p_phi(y | alpha(t) x_0 + sigma(t) eps, t)] with
t ~ U[t_min, T] (stratified), fresh batches from dataset.sample and a seeded generator (deterministic given seed, no
I/O). The network reads x_t and t exactly as the score networks do (explorer.nn.networks: c_in(t) scaling, Fourier
features of c_in x, sinusoidal embedding of t) and outputs C logits.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from .trained import TrainedNet
from .losses import sample_times
from .networks import NoisyMLP
from .config import NetConfig, for_data
from .loop import check_positive_int, fit
from ..process import Process
from ..tensors import append_dims, as_time, default_device, seeded

Tensor = torch.Tensor

DEFAULTS = dict(steps=1000, lr=3e-3, batch_size=512, warmup=50, width=128, depth=2)


@dataclass(frozen=True)
class ClassifierConfig(NetConfig):
    """Sizes of the classifier and the process/data it was made for."""

    dim: int = 2
    num_classes: int = 2
    width: int = DEFAULTS["width"]
    depth: int = DEFAULTS["depth"]
    time_features: int = 16
    x_features: int = 4

    INTEGERS = (("dim", 1), ("width", 1), ("depth", 1), ("time_features", 1), ("x_features", 0))

    def __post_init__(self):
        n = self.num_classes
        if not isinstance(n, int) or isinstance(n, bool) or n < 2:
            raise ValueError(f"a classifier needs at least two classes, got num_classes = {n!r}")
        super().__post_init__()


class NoisyClassifier(NoisyMLP):
    """The toy trunk (explorer.nn.networks.NoisyMLP) with C logits out: p_phi(y | x_t, t); [N, D], [N] -> [N, C]."""

    def __init__(self, config: ClassifierConfig):
        super().__init__(config, config.num_classes)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        """Logits of p_phi(y | x_t, t); x [N, D], t [N] or [] -> [N, C]."""
        t = as_time(t, x)
        return self.head(self.embed(x, t))


@dataclass(eq=False)
class TrainedClassifier(TrainedNet):
    """A trained noise-conditional classifier: config, network (eval mode), how it was trained, and its reports."""

    config: ClassifierConfig
    net: NoisyClassifier
    info: dict = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)       # mean cross-entropy per report (nats)
    accuracies: list[float] = field(default_factory=list)   # mean batch accuracy per report (over all t)

    def log_prob(self, x: Tensor, t) -> Tensor:
        """log p_phi(y | x_t, t) for every class; x [N, D] (any float dtype), t float or [N] -> [N, C] in x's dtype."""
        dtype = next(self.net.parameters()).dtype
        t = as_time(t, x)
        return torch.log_softmax(self.net(x.to(dtype), t.to(dtype)), dim=1).to(x.dtype)

    def log_classifier(self) -> Callable[[Tensor, Tensor], Tensor]:
        """This model as an explorer.guidance LogClassifier (x, t) -> [N, C] (differentiable in x)."""
        return self.log_prob

    def copy(self) -> "TrainedClassifier":
        return TrainedClassifier(self.config, copy.deepcopy(self.net), dict(self.info), list(self.losses),
                                 list(self.accuracies))


@dataclass(frozen=True)
class ClassifierProgress:
    """What the callback receives: step of steps, mean cross-entropy and batch accuracy since the last report, the model."""

    step: int
    steps: int
    loss: float
    accuracy: float
    model: TrainedClassifier      # live model: valid during the callback; .copy() it to keep it
    elapsed_s: float


def build_classifier(config: ClassifierConfig, seed: int) -> NoisyClassifier:
    """A freshly initialised classifier; the weights depend on the seed only (global RNG untouched)."""
    return seeded(lambda: NoisyClassifier(config), seed)


def config_for(dataset, sde: Process, **overrides) -> ClassifierConfig:
    """The config matching a dataset (dim, classes, name, sigma_data = RMS of x) and a process."""
    if dataset.num_classes < 2:
        raise ValueError(f"a classifier needs at least two classes; dataset {dataset.name!r} has {dataset.num_classes}")
    return for_data(ClassifierConfig, dataset, sde, **{"dim": dataset.dim, "num_classes": dataset.num_classes,
                                                        **overrides})


def cross_entropy(net: NoisyClassifier, x0: Tensor, y: Tensor, *, generator=None) -> tuple[Tensor, Tensor]:
    """(E -log p_phi(y | x_t, t) [], batch accuracy []), x_t = alpha x_0 + sigma eps, t stratified; x0 [N, D], y [N]."""
    sde = net.sde
    t = sample_times(x0.shape[0], sde, generator=generator, device=x0.device, dtype=x0.dtype)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
    x_t = append_dims(sde.mean_coef(t), x0.ndim) * x0 + append_dims(sde.std(t), x0.ndim) * eps
    logits = net(x_t, t)
    return nn.functional.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()


def train_classifier(dataset, sde: Process, *, steps: int = DEFAULTS["steps"], lr: float = DEFAULTS["lr"],
                     batch_size: int = DEFAULTS["batch_size"], seed: int = 0,
                     callback: Callable[[ClassifierProgress], "bool | None"] | None = None, report_every: int = 100,
                     warmup: int = DEFAULTS["warmup"], device=None, **config_overrides) -> TrainedClassifier:
    """Minimise the cross-entropy of p_phi(y | x_t, t) with Adam (warm-up, cosine decay); deterministic given seed.

    callback(ClassifierProgress) runs every report_every steps and at the end; returning False stops training (the
    model so far is returned). A dataset with fewer than two classes raises ValueError; a NaN/inf loss raises
    explorer.nn.loop.TrainingDiverged.
    """
    config = config_for(dataset, sde, **config_overrides)
    check_positive_int("batch_size", batch_size)
    device = torch.device(device) if device is not None else default_device()
    net = build_classifier(config, seed).to(device).train()
    g = torch.Generator().manual_seed(seed)
    info = dict(steps=0, lr=lr, batch_size=batch_size, seed=seed, warmup=warmup, dataset=dataset.name)
    model = TrainedClassifier(config, net, info)

    def loss_step(step):
        x0, y = dataset.sample(batch_size, generator=g)
        loss, acc = cross_entropy(net, x0.to(device), y.to(device), generator=g)
        return loss, {"accuracy": acc}

    def on_report(done, means, elapsed):
        model.losses.append(means["loss"])
        model.accuracies.append(means["accuracy"])
        info["steps"] = done
        progress = ClassifierProgress(done, steps, means["loss"], means["accuracy"], model, elapsed)
        return None if callback is None else callback(progress)

    info["steps"] = fit(net, loss_step, steps=steps, lr=lr, warmup=warmup, report_every=report_every,
                        on_report=on_report, blow_up=None, what="the classifier's loss")
    net.requires_grad_(False).eval()
    return model


@torch.no_grad()
def classifier_accuracy(model: TrainedClassifier, dataset, t: float, *, n: int = 2000,
                        generator: torch.Generator | None = None) -> float:
    """Fraction of fresh x_t = alpha(t) x_0 + sigma(t) eps (x_0, y ~ data) with argmax p_phi(. | x_t, t) = y."""
    x0, y = dataset.sample(n, generator=generator)
    device = next(model.net.parameters()).device
    x0, y = x0.to(device), y.to(device)
    tt = torch.full((n,), float(t), dtype=x0.dtype, device=device)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(device)
    x_t = append_dims(model.sde.mean_coef(tt), 2) * x0 + append_dims(model.sde.std(tt), 2) * eps
    return float((model.log_prob(x_t, tt).argmax(1) == y).float().mean())
