"""A noise-conditional classifier p_phi(y | x_t, t) for classifier guidance (Dhariwal & Nichol 2021; Luo §"Guidance").

    clf = train_classifier(dataset, sde, steps=1000, seed=0, callback=report)
    guided = classifier_guided_score(score_fn, clf.log_classifier(), y, gamma)     # explorer.guidance

Training minimises the cross-entropy E_{t, x_0, y, eps} [-log p_phi(y | alpha(t) x_0 + sigma(t) eps, t)] with
t ~ U[t_min, T] (stratified), fresh batches from dataset.sample and a seeded generator (deterministic given seed, no
I/O). The network reads x_t and t exactly as the score networks do (explorer.networks: c_in(t) scaling, Fourier
features of c_in x, sinusoidal embedding of t) and outputs C logits.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from . import interrupt
from .losses import sample_times
from .networks import fourier_features, process_fields, time_embedding
from .sde import PROCESSES, SDE
from .tensors import append_dims, as_time, default_device, seeded
from .training import TrainingDiverged, lr_at

Tensor = torch.Tensor

DEFAULTS = dict(steps=1000, lr=3e-3, batch_size=512, warmup=50, width=128, depth=2)


@dataclass(frozen=True)
class ClassifierConfig:
    """Sizes of the classifier and the process/data it was made for."""

    dim: int = 2
    num_classes: int = 2
    width: int = DEFAULTS["width"]
    depth: int = DEFAULTS["depth"]
    process: str = "vp_linear"
    process_params: tuple = ()
    dataset: str = ""
    data_std: float = 1.0                 # sigma_data in c_in(t) = 1 / sqrt(alpha^2 sigma_data^2 + sigma^2)
    time_features: int = 16
    x_features: int = 4

    def __post_init__(self):
        if self.process not in PROCESSES:
            raise ValueError(f"unknown process {self.process!r}; expected one of {sorted(PROCESSES)}")
        for name, lo in (("dim", 1), ("num_classes", 2), ("width", 1), ("depth", 1), ("time_features", 1),
                         ("x_features", 0)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                if name == "num_classes":
                    raise ValueError(f"a classifier needs at least two classes, got num_classes = {v!r}")
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        if not (math.isfinite(self.data_std) and self.data_std > 0):
            raise ValueError(f"data_std must be positive and finite, got {self.data_std!r}")
        object.__setattr__(self, "process_params", tuple((str(k), float(v)) for k, v in self.process_params))

    def make_sde(self) -> SDE:
        return PROCESSES[self.process](**dict(self.process_params))


class NoisyClassifier(nn.Module):
    """MLP: h = W_x ff(c_in x) + W_t emb(t); residual blocks h += W SiLU(h); logits = W_o SiLU(h); [N, D], [N] -> [N, C]."""

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        self.sde = config.make_sde()
        w = config.width
        self.in_x = nn.Linear(config.dim * (2 * config.x_features + 1), w)
        self.in_t = nn.Linear(2 * config.time_features, w)
        self.blocks = nn.ModuleList(nn.Sequential(nn.SiLU(), nn.Linear(w, w)) for _ in range(config.depth))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(w, config.num_classes))

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        """Logits of p_phi(y | x_t, t); x [N, D], t [N] or [] -> [N, C]."""
        t = as_time(t, x)
        c_in = torch.rsqrt((self.sde.mean_coef(t) * self.config.data_std) ** 2 + self.sde.std(t) ** 2)
        h = self.in_x(fourier_features(append_dims(c_in, x.ndim) * x, self.config.x_features))
        h = h + self.in_t(time_embedding(t, self.config.time_features))
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


@dataclass(eq=False)
class TrainedClassifier:
    """A trained noise-conditional classifier: config, network (eval mode), how it was trained, and its reports."""

    config: ClassifierConfig
    net: NoisyClassifier
    info: dict = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)       # mean cross-entropy per report (nats)
    accuracies: list[float] = field(default_factory=list)   # mean batch accuracy per report (over all t)

    @property
    def sde(self) -> SDE:
        return self.net.sde

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


def config_for(dataset, sde: SDE, **overrides) -> ClassifierConfig:
    """The config matching a dataset (dim, classes, name, sigma_data = RMS of x) and a process."""
    if dataset.num_classes < 2:
        raise ValueError(f"a classifier needs at least two classes; dataset {dataset.name!r} has {dataset.num_classes}")
    exact = getattr(dataset, "mixture", None) or getattr(dataset, "empirical", None)
    data_std = float((exact.variance() + exact.mean() ** 2).mean().sqrt()) if exact is not None else 1.0
    return ClassifierConfig(**{"dim": dataset.dim, "num_classes": dataset.num_classes, "dataset": dataset.name,
                               "data_std": data_std, **process_fields(sde), **overrides})


def cross_entropy(net: NoisyClassifier, x0: Tensor, y: Tensor, *, generator=None) -> tuple[Tensor, Tensor]:
    """(E -log p_phi(y | x_t, t) [], batch accuracy []), x_t = alpha x_0 + sigma eps, t stratified; x0 [N, D], y [N]."""
    sde = net.sde
    t = sample_times(x0.shape[0], sde, generator=generator, device=x0.device, dtype=x0.dtype)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
    x_t = append_dims(sde.mean_coef(t), x0.ndim) * x0 + append_dims(sde.std(t), x0.ndim) * eps
    logits = net(x_t, t)
    return nn.functional.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()


def train_classifier(dataset, sde: SDE, *, steps: int = DEFAULTS["steps"], lr: float = DEFAULTS["lr"],
                     batch_size: int = DEFAULTS["batch_size"], seed: int = 0,
                     callback: Callable[[ClassifierProgress], "bool | None"] | None = None, report_every: int = 100,
                     warmup: int = DEFAULTS["warmup"], device=None, **config_overrides) -> TrainedClassifier:
    """Minimise the cross-entropy of p_phi(y | x_t, t) with Adam (warm-up, cosine decay); deterministic given seed.

    callback(ClassifierProgress) runs every report_every steps and at the end; returning False stops training (the
    model so far is returned). A dataset with fewer than two classes raises ValueError; a NaN/inf loss raises
    explorer.training.TrainingDiverged.
    """
    config = config_for(dataset, sde, **config_overrides)
    for name, v, lo in (("steps", steps, 1), ("batch_size", batch_size, 1), ("report_every", report_every, 1),
                        ("warmup", warmup, 0)):
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= 1_000_000:
            raise ValueError(f"{name} must be an integer in [{lo}, 1000000], got {v!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and 0 < lr <= 10):
        raise ValueError(f"lr must be a finite number in (0, 10], got {lr!r}")
    device = torch.device(device) if device is not None else default_device()
    net = build_classifier(config, seed).to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    info = dict(steps=0, lr=lr, batch_size=batch_size, seed=seed, warmup=warmup, dataset=dataset.name)
    model = TrainedClassifier(config, net, info)
    t0, run_loss, run_acc, n_run, done = time.perf_counter(), 0.0, 0.0, 0, 0
    for step in range(steps):
        interrupt.check()
        x0, y = dataset.sample(batch_size, generator=g)
        x0, y = x0.to(device), y.to(device)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup)
        loss, acc = cross_entropy(net, x0, y, generator=g)
        value = loss.item()
        if not math.isfinite(value):
            raise TrainingDiverged(f"the classifier's loss became {value} at step {step + 1} (learning rate {lr:g}): "
                                   "training diverged; try a smaller learning rate")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run_loss, run_acc, n_run, done = run_loss + value, run_acc + acc.item(), n_run + 1, step + 1
        if done % report_every == 0 or done == steps:
            model.losses.append(run_loss / n_run)
            model.accuracies.append(run_acc / n_run)
            info["steps"] = done
            progress = ClassifierProgress(done, steps, run_loss / n_run, run_acc / n_run, model,
                                          time.perf_counter() - t0)
            run_loss, run_acc, n_run = 0.0, 0.0, 0
            if callback is not None and callback(progress) is False:
                break
    info["steps"] = done
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
