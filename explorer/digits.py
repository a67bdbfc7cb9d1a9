"""The built-in image data: scikit-learn's 1,797 handwritten 8×8 digits (shipped inside the package, no network).

Pixels 0..16 are mapped to x = p / 8 - 1 in [-1, 1] (the DDPM / score_sde convention) as [N, 1, H, W] float32,
at the native 8×8 or bilinearly upsampled to 16×16. A fixed, seeded, class-stratified split keeps
HELDOUT_FRACTION of every class out of training: the digit classifier's accuracy and the Fréchet distance of
samples are measured on those held-out digits only.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

Tensor = torch.Tensor

NUM_CLASSES = 10
SIZES = (8, 16)
DEFAULT_SIZE = 8           # the shipped model's size (see benchmarks/RESULTS_digits.md for why)
HELDOUT_FRACTION = 0.2
SPLIT_SEED = 0


@dataclass(frozen=True)
class DigitsSplit:
    """Images x [N, 1, H, W] float32 in [-1, 1] and labels y [N] int64 of one part of the data."""

    x: Tensor
    y: Tensor

    def __len__(self) -> int:
        return self.x.shape[0]

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """n (x, y) pairs drawn uniformly with replacement; ([n, 1, H, W], [n])."""
        idx = torch.randint(len(self), (n,), generator=generator)
        return self.x[idx], self.y[idx]


def check_size(size) -> int:
    """An image side in SIZES, else a ValueError with the choices."""
    if isinstance(size, bool) or size not in SIZES:
        raise ValueError(f"digits size must be one of {list(SIZES)}, got {size!r}")
    return int(size)


@lru_cache(maxsize=4)
def _load(size: int) -> tuple[Tensor, Tensor]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 8.0 - 1.0)[:, None]    # [1797, 1, 8, 8] in [-1, 1]
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(-1.0, 1.0)
    return x.contiguous(), torch.from_numpy(d.target.astype(np.int64))


def load_digits_tensor(size: int = DEFAULT_SIZE) -> DigitsSplit:
    """All 1,797 digits: x [1797, 1, size, size] in [-1, 1], y [1797] in 0..9 (a cached tensor: do not modify)."""
    x, y = _load(check_size(size))
    return DigitsSplit(x, y)


@lru_cache(maxsize=4)
def _split_indices(n: int, seed: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    labels = load_digits().target
    rng = np.random.default_rng(seed)
    train, held = [], []
    for c in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(fraction * len(idx)))
        held.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(held))


def digits_split(part: str = "train", size: int = DEFAULT_SIZE) -> DigitsSplit:
    """The fixed seeded split (20% of each class held out): part "train" (1,438 digits), "heldout" (359) or "all"."""
    data = load_digits_tensor(size)
    if part == "all":
        return data
    if part not in ("train", "heldout"):
        raise ValueError(f"unknown part {part!r}; expected one of ['train', 'heldout', 'all']")
    train, held = _split_indices(len(data), SPLIT_SEED, HELDOUT_FRACTION)
    idx = torch.from_numpy(train if part == "train" else held)
    return DigitsSplit(data.x[idx], data.y[idx])


def resize_digits(x: Tensor, size: int) -> Tensor:
    """Bilinear resize of x [N, 1, H, W] to [N, 1, size, size] (identity if already that size), clamped to [-1, 1]."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True).clamp(-1.0, 1.0)


def digit_from_image(rgb: Tensor, size: int = DEFAULT_SIZE) -> Tensor:
    """A photo or drawing [3, H, W] in [-1, 1] as a digit [1, 1, size, size]: grey, area-resized, bright ink on a dark
    background as in the data (dark ink on light paper is inverted)."""
    small = F.interpolate(rgb.mean(0, keepdim=True)[None], size=(size, size), mode="area")
    return -small if small.mean() > 0 else small
