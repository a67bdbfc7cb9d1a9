"""The 1D and 2D toy datasets: Gaussian mixtures (exact p_t) and sample-based shapes (exact empirical score).

Every dataset samples (x [n, D], y [n]) with class labels (mixture component or shape part),
scaled to mean 0 and average per-dimension variance 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import torch

from .mixture import GaussianMixture

Tensor = torch.Tensor
ShapeSampler = Callable[[int, torch.Generator], tuple[Tensor, Tensor]]

N_REFERENCE = 2000       # reference points behind a shape's exact (empirical) score by default
MAX_REFERENCE = 10_000


@dataclass(frozen=True, eq=False)
class Dataset:
    """A named toy: either an exact mixture or a shape sampler, with its class names."""

    name: str
    label: str
    dim: int
    class_names: tuple[str, ...]
    mixture: GaussianMixture | None = None
    shape: ShapeSampler | None = field(default=None, repr=False)
    shift: Tensor | None = None     # shapes only: standardisation x -> (x - shift) / scale
    scale: float = 1.0
    empirical: GaussianMixture | None = None   # point sets (explorer.custom_data): (1/M) sum_i N(x_i, h^2 I), bootstrap-sampled

    @property
    def is_mixture(self) -> bool:
        return self.mixture is not None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def sample(self, n: int, *, generator: torch.Generator | None = None, device=None, dtype=torch.float32):
        """(x [n, D], y [n]) fresh samples; the generator is the only randomness."""
        if self.mixture is not None:
            return self.mixture.sample(n, generator=generator, device=device, dtype=dtype)
        if self.empirical is not None:
            return self.empirical.sample(n, generator=generator, device=device, dtype=dtype)
        x, y = self.shape(n, generator)         # None: torch's global generator, as torch.randn would
        x = (x - self.shift) / self.scale
        return x.to(device=device, dtype=dtype), y.to(device)

    def exact(self, n_reference: int = N_REFERENCE, seed: int = 0) -> GaussianMixture:
        """The distribution whose score is exact: the mixture itself, or the empirical one of a fixed reference set."""
        if self.mixture is not None:
            return self.mixture
        if self.empirical is not None:
            return self.empirical
        if not 1 <= n_reference <= MAX_REFERENCE:
            raise ValueError(f"reference set size must be in [1, {MAX_REFERENCE}], got {n_reference}")
        return _reference(self.name, n_reference, seed)


# --- sample-based shapes (raw, before standardisation) ---------------------------------------
def _rand(n, g):
    return torch.rand(n, generator=g, dtype=torch.float64)


def _randn(*shape, g):
    return torch.randn(shape, generator=g, dtype=torch.float64)


def two_moons(n, g, noise=0.1):
    y = (_rand(n, g) < 0.5).long()
    a = math.pi * _rand(n, g)
    x = torch.stack([torch.cos(a), torch.sin(a)], 1)
    x = torch.where(y[:, None] == 1, torch.stack([1 - x[:, 0], 0.5 - x[:, 1]], 1), x)
    return x + noise * _randn(n, 2, g=g), y


def swiss_roll(n, g, noise=0.3):
    u = _rand(n, g)
    a = 1.5 * math.pi * (1 + 2 * u)
    x = torch.stack([a * torch.cos(a), a * torch.sin(a)], 1)
    return x + noise * _randn(n, 2, g=g), torch.clamp((u * 3).long(), max=2)


def circles(n, g, noise=0.05):
    y = (_rand(n, g) < 0.5).long()
    a = 2 * math.pi * _rand(n, g)
    r = torch.where(y == 1, 0.5, 1.0).double()
    return r[:, None] * torch.stack([torch.cos(a), torch.sin(a)], 1) + noise * _randn(n, 2, g=g), y


def checkerboard(n, g):
    cells = torch.tensor([(i, j) for i in range(4) for j in range(4) if (i + j) % 2 == 0], dtype=torch.float64)
    y = torch.randint(0, len(cells), (n,), generator=g)
    return cells[y] + torch.rand((n, 2), generator=g, dtype=torch.float64), y


def two_spirals(n, g, noise=0.3):
    y = (_rand(n, g) < 0.5).long()
    a = torch.sqrt(_rand(n, g)) * 3 * math.pi
    x = torch.stack([-a * torch.cos(a), a * torch.sin(a)], 1)
    x = torch.where(y[:, None] == 1, -x, x)
    return x + noise * _randn(n, 2, g=g), y


def pinwheel(n, g, arms=5, radial_std=0.3, tangential_std=0.1, rate=0.25):
    y = torch.randint(0, arms, (n,), generator=g)
    f = _randn(n, 2, g=g) * torch.tensor([radial_std, tangential_std], dtype=torch.float64)
    f[:, 0] += 1.0
    a = 2 * math.pi * y / arms + rate * torch.exp(f[:, 0])
    rot = torch.stack([torch.stack([torch.cos(a), -torch.sin(a)], -1), torch.stack([torch.sin(a), torch.cos(a)], -1)], -2)
    return torch.einsum("nij,nj->ni", rot, f), y


# --- presets -------------------------------------------------------------------------------
def mixture_1d(means, stds, weights) -> GaussianMixture:
    """A user-set 1D mixture; validated (finite, stds > 0, weights >= 0 with positive sum)."""
    means, stds, weights = (torch.as_tensor(v, dtype=torch.float64).reshape(-1) for v in (means, stds, weights))
    if not (len(means) == len(stds) == len(weights)) or len(means) == 0:
        raise ValueError("give the same number (at least one) of means, stds and weights")
    if not torch.isfinite(stds).all() or (stds <= 0).any():
        raise ValueError("every std must be positive and finite")
    return GaussianMixture.create(weights, means[:, None], stds)


def _ring(k=8, radius=2.0, std=0.15):
    a = 2 * math.pi * torch.arange(k, dtype=torch.float64) / k
    return GaussianMixture.create(torch.ones(k), radius * torch.stack([torch.cos(a), torch.sin(a)], 1), torch.full((k,), std))


def _grid(side=5, std=0.1):
    v = torch.arange(side, dtype=torch.float64) - (side - 1) / 2
    means = torch.cartesian_prod(v, v)
    return GaussianMixture.create(torch.ones(side * side), means, torch.full((side * side,), std))


def _asym3():
    return GaussianMixture.create(
        [0.5, 0.3, 0.2],
        [[-1.0, -0.5], [1.5, 0.5], [0.0, 1.8]],
        [[0.4, 0.2], [0.2, 0.5], [0.3, 0.3]],
    )


def _overlap3(std=0.6):
    """Three equal round classes on a unit triangle that overlap (Bayes accuracy 0.87): the data where classifier(-free)
    guidance trades recall for accuracy, as in Ho & Salimans (2022), Fig. 2."""
    a = 2 * math.pi * torch.arange(3, dtype=torch.float64) / 3 + math.pi / 2
    return GaussianMixture.create(torch.ones(3), torch.stack([torch.cos(a), torch.sin(a)], 1), torch.full((3,), std))


def _mix(name, label, m: GaussianMixture, class_names=None) -> Dataset:
    m = m.standardized()
    names = class_names or tuple(f"mode {k + 1}" for k in range(m.num_classes))
    return Dataset(name, label, m.dim, tuple(names), mixture=m)


def _shape(name, label, fn, class_names) -> Dataset:
    x, _ = fn(50_000, torch.Generator().manual_seed(1234))   # scale to ~0.3%: "roughly unit variance"
    shift = x.mean(0)
    scale = float((x - shift).var(0).mean().sqrt())
    return Dataset(name, label, 2, tuple(class_names), shape=fn, shift=shift, scale=scale)


def _build_registry() -> dict[str, Dataset]:
    ds = [
        _mix("two_modes_1d", "1D: two equal modes", GaussianMixture.create([1, 1], [[-1.0], [1.0]], [0.25, 0.25])),
        _mix("three_modes_1d", "1D: three unequal modes",
             GaussianMixture.create([0.2, 0.5, 0.3], [[-2.0], [0.0], [2.5]], [0.3, 0.6, 0.2])),
        _mix("far_mode_1d", "1D: a far, light mode", GaussianMixture.create([0.9, 0.1], [[0.0], [6.0]], [0.5, 0.5]),
             ("near mode", "far mode")),
        _mix("ring8", "2D: 8 Gaussians on a ring", _ring()),
        _mix("grid25", "2D: 5×5 grid of Gaussians", _grid()),
        _mix("asym3", "2D: asymmetric 3-mode mixture", _asym3()),
        _mix("overlap3", "2D: three overlapping classes", _overlap3(), ("top", "lower left", "lower right")),
        _shape("moons", "2D: two moons", two_moons, ("upper moon", "lower moon")),
        _shape("swiss_roll", "2D: swiss roll", swiss_roll, ("inner turn", "middle turn", "outer turn")),
        _shape("circles", "2D: concentric circles", circles, ("outer circle", "inner circle")),
        _shape("checkerboard", "2D: checkerboard", checkerboard, tuple(f"square {k + 1}" for k in range(8))),
        _shape("spirals", "2D: two spirals", two_spirals, ("spiral 1", "spiral 2")),
        _shape("pinwheel", "2D: pinwheel", pinwheel, tuple(f"arm {k + 1}" for k in range(5))),
    ]
    return {d.name: d for d in ds}


DATASETS: dict[str, Dataset] = _build_registry()


def get_dataset(name: str) -> Dataset:
    """The built-in dataset of that name; unknown names fail with the choices."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
    return DATASETS[name]


def custom_1d(means, stds, weights) -> Dataset:
    """A dataset from a user-set 1D mixture (kept as typed: not standardised)."""
    m = mixture_1d(means, stds, weights)
    return Dataset("custom_1d", "1D: custom mixture", 1, tuple(f"mode {k + 1}" for k in range(m.num_classes)), mixture=m)


@lru_cache(maxsize=32)
def _reference(name: str, n: int, seed: int) -> GaussianMixture:
    x, y = get_dataset(name).sample(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return GaussianMixture.from_points(x, y)
