"""A small CNN that labels clean digits [N, 1, 8, 8], its penultimate-layer features, and the Fréchet distance on them.

It is the judge of the image model, never part of it: trained on the real training digits only (clean, t = 0),
shipped in assets/digit_classifier/ with its accuracy on the held-out digits. Images of another size are resized
to 8×8 first (explorer.digits.resize_digits).

Fréchet distance (Heusel et al. 2017, FID's formula on these features):
  FD = ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2),
computed in float64 with symmetric eigendecompositions (S_a^1/2 S_b S_a^1/2 is symmetric PSD, so its square root's
trace is the sum of the square roots of its eigenvalues, negatives from rounding clipped to 0).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..digits import DigitsSplit, NUM_CLASSES, resize_digits
from .checkpoints import read_checkpoint, write_checkpoint
from .loop import fit
from ..tensors import seeded

Tensor = torch.Tensor

CLASSIFIER_DIR = Path(__file__).resolve().parents[2] / "assets" / "digit_classifier"


@dataclass(frozen=True)
class DigitClassifierConfig:
    """Sizes of the classifier: conv widths and the feature (penultimate) dimension."""

    image_size: int = 8
    width: int = 32
    feature_dim: int = 64
    num_classes: int = NUM_CLASSES
    dropout: float = 0.2


class DigitClassifier(nn.Module):
    """conv32-conv32-pool-conv64-conv64-pool (8→4→2) -> 256 -> feature_dim (the features) -> logits; [N, 1, 8, 8] -> [N, 10]."""

    def __init__(self, config: DigitClassifierConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.convs = nn.ModuleList([nn.Conv2d(1, w, 3, padding=1), nn.Conv2d(w, w, 3, padding=1),
                                    nn.Conv2d(w, 2 * w, 3, padding=1), nn.Conv2d(2 * w, 2 * w, 3, padding=1)])
        self.fc = nn.Linear(2 * w * (config.image_size // 4) ** 2, config.feature_dim)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.feature_dim, config.num_classes)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate-layer embedding phi(x) [N, feature_dim] of clean digits x [N, 1, H, W] in [-1, 1]."""
        h = resize_digits(x.float(), self.config.image_size)
        for i, conv in enumerate(self.convs):
            h = F.relu(conv(h))
            if i % 2 == 1:
                h = F.max_pool2d(h, 2)
        return F.relu(self.fc(h.flatten(1)))

    def forward(self, x: Tensor) -> Tensor:
        """Logits [N, num_classes]."""
        return self.head(self.drop(self.features(x)))

    @torch.no_grad()
    def predict(self, x: Tensor, batch_size: int = 1024) -> Tensor:
        """argmax class [N] of digits x [N, 1, H, W] (eval mode, batched)."""
        was = self.training
        self.eval()
        out = torch.cat([self(x[i:i + batch_size]).argmax(1) for i in range(0, x.shape[0], batch_size)])
        self.train(was)
        return out

    @torch.no_grad()
    def embed(self, x: Tensor, batch_size: int = 1024) -> Tensor:
        """features(x) [N, feature_dim] in eval mode, batched."""
        was = self.training
        self.eval()
        out = torch.cat([self.features(x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)])
        self.train(was)
        return out


@dataclass(eq=False)
class TrainedDigitClassifier:
    """The classifier (eval mode) with its config and training record (held-out accuracy included)."""

    config: DigitClassifierConfig
    net: DigitClassifier
    info: dict = field(default_factory=dict)

    def predict(self, x: Tensor) -> Tensor:
        return self.net.predict(x)

    def features(self, x: Tensor) -> Tensor:
        return self.net.embed(x)

    def accuracy(self, x: Tensor, y: Tensor) -> float:
        """mean 1[predict(x) = y] over digits x [N, 1, H, W], labels y [N]."""
        return float((self.predict(x) == y.to(x.device)).double().mean())


# --- training ------------------------------------------------------------------------------------------
def _augment(x: Tensor, generator: torch.Generator) -> Tensor:
    """Random shifts of up to one pixel (zero-padded with the background value -1); [B, 1, H, W]."""
    b, _, h, w = x.shape
    pad = F.pad(x, (1, 1, 1, 1), value=-1.0)
    dx = torch.randint(0, 3, (b,), generator=generator)
    dy = torch.randint(0, 3, (b,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None].expand(b, 1, h, w + 2)
    out = pad.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w)[None])[:, None, None, :].expand(b, 1, h, w)
    return out.gather(3, cols)


def train_digit_classifier(train: DigitsSplit, heldout: DigitsSplit, *, config: DigitClassifierConfig | None = None,
                           epochs: int = 60, batch_size: int = 64, lr: float = 2e-3, seed: int = 0,
                           callback=None) -> TrainedDigitClassifier:
    """Cross-entropy with Adam (cosine-decayed lr, one-pixel shift augmentation); deterministic given seed.

    callback(epoch, train_loss, heldout_accuracy) runs after each epoch. The held-out accuracy is stored in info.
    """
    config = config or DigitClassifierConfig(image_size=train.x.shape[-1])
    net = seeded(lambda: DigitClassifier(config), seed).train()
    g = torch.Generator().manual_seed(seed)
    n = len(train)
    steps_per_epoch = math.ceil(n / batch_size)
    model = TrainedDigitClassifier(config, net, {})
    order: list[Tensor] = []

    def loss_step(step):
        k = step % steps_per_epoch
        if k == 0:
            order[:] = [torch.randperm(n, generator=g)]               # a new pass over the data
        idx = order[0][k * batch_size:(k + 1) * batch_size]
        x = _augment(train.x[idx], g)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed * 100_003 + step)                   # dropout masks, reproducible
            return F.cross_entropy(net(x), train.y[idx]), {}

    def on_report(done, means, elapsed):
        if callback is not None:
            callback(done // steps_per_epoch, means["loss"], model.accuracy(heldout.x, heldout.y))
        net.train()                                                   # accuracy() evaluates in eval mode

    fit(net, loss_step, steps=epochs * steps_per_epoch, lr=lr, report_every=steps_per_epoch, on_report=on_report,
        weight_decay=1e-4, blow_up=None, what="the digit classifier's loss")
    net.requires_grad_(False).eval()
    model.info.update(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, n_train=n, n_heldout=len(heldout),
                      heldout_accuracy=round(model.accuracy(heldout.x, heldout.y), 6))
    return model


# --- checkpoints ------------------------------------------------------------------------------------------
def save_classifier(model: TrainedDigitClassifier, folder=CLASSIFIER_DIR) -> Path:
    """folder/config.json ({"kind", "config", "training"} with the held-out accuracy) and folder/weights.pt."""
    meta = {"kind": "digit_classifier", "config": dataclasses.asdict(model.config), "training": model.info}
    return write_checkpoint(folder, model.net, meta)


def load_classifier(folder=CLASSIFIER_DIR) -> TrainedDigitClassifier:
    """Read a checkpoint of save_classifier (weights_only=True), on the CPU, eval mode."""
    config, net, meta = read_checkpoint(folder, lambda d: DigitClassifierConfig(**d),
                                        lambda c, _: DigitClassifier(c), device="cpu",
                                        hint=" (retrain: python scripts/train_digit_classifier.py)")
    return TrainedDigitClassifier(config, net, dict(meta.get("training", {})))


@lru_cache(maxsize=1)
def shipped_classifier() -> TrainedDigitClassifier:
    """The shipped classifier (assets/digit_classifier); cached: treat as read-only."""
    return load_classifier(CLASSIFIER_DIR)


# --- Fréchet distance ---------------------------------------------------------------------------------------
def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix by eigh (negative eigenvalues from rounding clipped to 0)."""
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(feats_a, feats_b) -> float:
    """FD = ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2) between feature sets [N_a, D] and [N_b, D]."""
    a = np.asarray(feats_a.detach().cpu() if isinstance(feats_a, Tensor) else feats_a, dtype=np.float64)
    b = np.asarray(feats_b.detach().cpu() if isinstance(feats_b, Tensor) else feats_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be [N, D] with the same D, got {a.shape} and {b.shape}")
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError("each feature set needs at least 2 rows to estimate a covariance")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("features must be finite")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    s_a, s_b = np.atleast_2d(0.5 * (s_a + s_a.T)), np.atleast_2d(0.5 * (s_b + s_b.T))
    root_a = _sqrt_psd(s_a)
    m = root_a @ s_b @ root_a
    eig = np.linalg.eigvalsh(0.5 * (m + m.T))
    tr_cross = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    fd = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2.0 * tr_cross)
    return max(fd, 0.0)
