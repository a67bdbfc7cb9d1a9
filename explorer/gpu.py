"""The GPU path: ZeroGPU's `spaces.GPU` around the heavy calls on a ZeroGPU Space, a no-op everywhere else."""
from __future__ import annotations

import copy
import os

from .tensors import default_device


def on_zero_gpu() -> bool:
    """True on a Hugging Face ZeroGPU Space (which sets SPACES_ZERO_GPU)."""
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true")


def gpu_call(duration: int = 60):
    """Decorator: `spaces.GPU(duration=...)(fn)` on ZeroGPU, `fn` itself elsewhere (nothing is imported)."""
    def wrap(fn):
        if not on_zero_gpu():
            return fn
        import spaces           # installed on every Space; only imported there
        return spaces.GPU(duration=duration)(fn)
    return wrap


def model_on_default_device(model):
    """A copy of a shared model whose `.net` is on the default device; the model itself when that is the CPU."""
    device = default_device()
    if device.type == "cpu":
        return model
    moved = copy.copy(model)
    moved.net = copy.deepcopy(model.net).to(device)
    return moved
