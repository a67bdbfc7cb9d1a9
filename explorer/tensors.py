"""Small tensor helpers shared by the backend: rank-broadcasting and device choice."""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

import torch

T = TypeVar("T")
_SEED_LOCK = threading.Lock()     # two sessions building networks at once must not interleave their seeded inits


def append_dims(v: torch.Tensor, ndim: int) -> torch.Tensor:
    """Append trailing singleton dims so v [N] (or []) broadcasts against x of rank ndim."""
    v = torch.as_tensor(v)
    if v.ndim > ndim:
        raise ValueError(f"cannot broadcast a rank-{v.ndim} tensor to rank {ndim}")
    return v.reshape(v.shape + (1,) * (ndim - v.ndim))


def seeded(make: Callable[[], T], seed: int) -> T:
    """make() under torch's global RNG seeded to `seed` and restored after, one thread at a time: initial weights
    depend on the seed only."""
    with _SEED_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


def default_device() -> torch.device:
    """CUDA when torch sees one, else the CPU; nothing else assumes a GPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


CACHE_ROWS = 2048                 # rows of a toy MLP's [rows, 128] float32 activations (1 MB) that stay in a CPU core's cache


def by_rows(fn: Callable[..., torch.Tensor], *tensors: torch.Tensor | None, rows: int = CACHE_ROWS) -> torch.Tensor:
    """fn(*tensors) over blocks of `rows` rows (each tensor [N, ...] or None), concatenated -> [N, ...]. On the CPU a big
    batch through an MLP is bound by memory, not arithmetic (2.5x slower at 131,072 rows than in blocks of 2,048 here);
    a GPU takes the batch whole."""
    n = next(t.shape[0] for t in tensors if t is not None)
    if any(t is not None and (t.ndim == 0 or t.shape[0] != n) for t in tensors):
        raise ValueError(f"by_rows needs every tensor with the same {n} rows, got shapes "
                         f"{[None if t is None else tuple(t.shape) for t in tensors]}")
    if n <= rows or tensors[0].device.type != "cpu":
        return fn(*tensors)
    return torch.cat([fn(*(None if t is None else t[i:i + rows] for t in tensors)) for i in range(0, n, rows)])


def as_time(t, x: torch.Tensor) -> torch.Tensor:
    """A time t (float, [], [1] or [N]) as a float tensor [N] on x's device and dtype."""
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    if t.ndim == 0 or t.shape == (1,):
        t = t.reshape(()).expand(x.shape[0])
    return t
