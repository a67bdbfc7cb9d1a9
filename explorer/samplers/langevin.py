"""Langevin dynamics: plain (one fixed noise level) and annealed (Song & Ermon 2019, Alg. 1).

Both use the update x <- x + eps score(x, t) + sqrt(2 eps) z, z ~ N(0, I)  (Chan eq. 3.9; Song & Ermon
write alpha_i / 2 for our eps). Plain Langevin at a small noise level mixes within a mode but barely between
modes, so it gets unequal mode weights wrong (Song & Ermon §3.2.2); annealing through sigma_1 > ... > sigma_L
fixes that.
"""
from __future__ import annotations

import torch

from ..scores import ScoreFn
from ..process import Process
from .base import (Callback, Recorder, SampleResult, check_inputs, check_positive, check_steps, noise,
                   t_of_sigma)

Tensor = torch.Tensor

DEFAULT_STEP_SIZE = 1e-3        # plain Langevin: absolute eps (data are standardised to unit variance)
DEFAULT_STEP_RATIO = 0.1        # annealed: eps_L = ratio * sigma_L^2 (Song & Ermon: 2e-5 / 2 at sigma_L = 0.01)


@torch.no_grad()
def langevin(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
             callback: Callback | None = None, step_size: float = DEFAULT_STEP_SIZE, t_fixed: float | None = None,
             sigma: float | None = None) -> SampleResult:
    """Plain Langevin at one level t (Chan eq. 3.9): x <- x + eps score(x, t) + sqrt(2 eps) z, S = len(ts) - 1 steps; x [N, ...].

    The level is t_fixed, or the time whose sigma(t) = sigma, or by default ts[-1] (the smallest noise: the data score).
    The returned ts repeats that level for every frame.
    """
    ts64 = check_inputs(sde, x_init, ts)
    eps = check_positive("step_size", step_size)
    if t_fixed is not None and sigma is not None:
        raise ValueError("give either t_fixed or sigma, not both")
    if sigma is not None:
        t = float(t_of_sigma(sde, check_positive("sigma", sigma))[0])
    elif t_fixed is not None:
        t = check_positive("t_fixed", t_fixed)
        if t > sde.T:
            raise ValueError(f"t_fixed must lie in (0, T={sde.T}], got {t}")
    else:
        t = float(ts64[-1])
    n_steps = ts64.numel() - 1
    rec = Recorder("Langevin", sde, x_init, torch.full((n_steps + 1,), t, dtype=torch.float64), callback)
    t_vec = rec.ts[0].expand(x_init.shape[0])
    noise_scale = (2 * eps) ** 0.5
    x = x_init
    for i in range(1, n_steps + 1):
        x = x + eps * score_fn(x, t_vec) + noise_scale * noise(x, generator)
        rec.record(i, x)
    return rec.result(nfe=n_steps)


@torch.no_grad()
def annealed_langevin(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
                      callback: Callback | None = None, step_size: float | None = None, n_inner: int = 10) -> SampleResult:
    """Annealed Langevin (Song & Ermon Alg. 1): levels sigma_i = sigma(ts[i]), i = 1..S, K = n_inner steps each of
    eps_i = eps sigma_i^2 / sigma_L^2; x [N, ...] -> trajectory [S+1] (one frame per level), NFE = S K.

    step_size is eps, the step at the last (smallest) level; by default 0.1 sigma_L^2.
    """
    ts64 = check_inputs(sde, x_init, ts)
    n_inner = check_steps(n_inner, "n_inner", 1, 1000)
    sigma = sde.std(ts64)
    sigma_l2 = float(sigma[-1]) ** 2
    eps = DEFAULT_STEP_RATIO * sigma_l2 if step_size is None else check_positive("step_size", step_size)
    steps = (eps * sigma ** 2 / sigma_l2).tolist()
    n_levels = ts64.numel() - 1
    rec = Recorder("annealed Langevin", sde, x_init, ts64, callback, n_updates=n_levels * n_inner)
    x = x_init
    for i in range(1, n_levels + 1):
        t_vec = rec.ts[i].expand(x.shape[0])
        eps_i = steps[i]
        noise_scale = (2 * eps_i) ** 0.5
        for k in range(n_inner):
            x = x + eps_i * score_fn(x, t_vec) + noise_scale * noise(x, generator)
            if k < n_inner - 1:
                rec.check((i - 1) * n_inner + k + 1, x)
        rec.record(i, x, update=i * n_inner)
    return rec.result(nfe=n_levels * n_inner)
