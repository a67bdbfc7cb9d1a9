"""The GPU path: ZeroGPU wrappers are a no-op off ZeroGPU; a CPU generator drives runs on any device.

On a machine with CUDA the last tests also run the samplers and training there and compare with the CPU; CI has no
GPU, so they are skipped there (what was run on a GPU is recorded in benchmarks/RESULTS.md).
"""
from __future__ import annotations

import sys
import types

import pytest
import torch

from explorer import gpu
from explorer.distributions import get_dataset
from explorer.samplers import sample
from explorer.samplers.base import noise
from explorer.scores import exact_score
from explorer.process import get_process
from explorer.nn.unet import shipped_digits_model

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (CI has none)")


def test_gpu_call_is_the_function_itself_off_zero_gpu(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    monkeypatch.setitem(sys.modules, "spaces", None)            # importing it would fail: it must not be imported

    def f(x):
        return x + 1
    assert gpu.gpu_call(duration=60)(f) is f


def test_gpu_call_wraps_with_spaces_gpu_on_zero_gpu(monkeypatch):
    calls = []

    def GPU(duration):                                        # noqa: N802 - the name spaces uses
        def deco(fn):
            calls.append((duration, fn))
            return lambda *a, **k: ("on the gpu", fn(*a, **k))
        return deco
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=GPU))

    def f(x):
        return 2 * x
    wrapped = gpu.gpu_call(duration=90)(f)
    assert calls == [(90, f)] and wrapped(3) == ("on the gpu", 6)


def test_model_copy_on_another_device_leaves_the_shared_model(monkeypatch):
    model = shipped_digits_model()
    monkeypatch.setattr(gpu, "default_device", lambda: torch.device("cpu"))
    assert gpu.model_on_default_device(model) is model            # the CPU path makes no copy
    monkeypatch.setattr(gpu, "default_device", lambda: torch.device("meta"))
    moved = gpu.model_on_default_device(model)
    assert moved.device.type == "meta" and model.device.type == "cpu"
    assert moved.config is model.config


def test_noise_is_drawn_on_the_generator_device_then_moved():
    g = torch.Generator().manual_seed(3)
    z = noise(torch.empty(5, 2, device="meta"), g)               # a CPU generator with tensors elsewhere: no error
    assert z.device.type == "meta" and z.shape == (5, 2)
    a = noise(torch.empty(4, 3), torch.Generator().manual_seed(7))
    assert torch.equal(a, torch.randn(4, 3, generator=torch.Generator().manual_seed(7)))


@CUDA
@pytest.mark.parametrize("name", ["ddpm", "ddim", "pf_heun", "reverse_sde", "pc"])
def test_samplers_on_cuda_match_the_cpu(name):
    ds, sde = get_dataset("ring8"), get_process("vp_linear")
    score = exact_score(ds, sde)
    x_init = sde.prior_sample((500, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    cpu = sample(name, score, sde, x_init, n_steps=50, generator=torch.Generator().manual_seed(1)).x
    gpu_x = sample(name, score, sde, x_init.cuda(), n_steps=50, generator=torch.Generator().manual_seed(1)).x
    assert gpu_x.device.type == "cuda"
    torch.testing.assert_close(gpu_x.cpu(), cpu, rtol=1e-6, atol=1e-6)


@CUDA
def test_training_on_cuda_learns_like_the_cpu():
    from explorer.nn.networks import ScoreNetConfig
    from explorer.nn.training import train

    ds, sde = get_dataset("moons"), get_process("vp_linear")
    config = ScoreNetConfig.for_data(ds, sde)
    losses = {}
    for device in ("cpu", "cuda"):
        m = train(config, ds, sde, steps=300, seed=0, device=device)
        assert next(m.net.parameters()).device.type == device
        losses[device] = sum(m.losses[-3:]) / 3
    assert abs(losses["cuda"] - losses["cpu"]) < 0.1 * losses["cpu"]
