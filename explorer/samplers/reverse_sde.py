"""Reverse-time SDE samplers (Song et al. 2021): Euler–Maruyama, and predictor–corrector.

Reverse SDE (Song et al. eq. 6): dx = [f(t) x - g(t)^2 score(x, t)] dt + g(t) dw_bar, run from T down to t_min.
"""
from __future__ import annotations

import torch

from ..scores import ScoreFn
from ..process import Process
from .base import (Callback, Recorder, SampleResult, check_inputs, check_positive, check_steps, grid_coefficients,
                   noise)

Tensor = torch.Tensor


@torch.no_grad()
def reverse_sde(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
                callback: Callback | None = None) -> SampleResult:
    """Euler–Maruyama on Song et al. eq. 6 with h = t_i - t_{i+1} > 0:
    x <- x - [f x - g^2 score] h + g sqrt(h) z; x [N, ...], NFE = S."""
    ts64 = check_inputs(sde, x_init, ts)
    c = grid_coefficients(sde, ts64)
    f, g2, h = c["f"].tolist(), c["g2"].tolist(), (ts64[:-1] - ts64[1:]).tolist()
    rec = Recorder("reverse SDE (Euler–Maruyama)", sde, x_init, ts64, callback, hint="try more steps")
    x = x_init
    for i in range(len(h)):
        score = score_fn(x, rec.ts[i].expand(x.shape[0]))
        x = (1 - f[i] * h[i]) * x + (g2[i] * h[i]) * score + (g2[i] * h[i]) ** 0.5 * noise(x, generator)
        rec.record(i + 1, x)
    return rec.result(nfe=len(h))


@torch.no_grad()
def pc(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
       callback: Callback | None = None, snr: float = 0.16, n_corrector: int = 1) -> SampleResult:
    """Predictor–corrector (Song et al. Alg. 4/5) for any Gaussian process; x [N, ...], NFE = S (1 + n_corrector).

    Predictor, reverse diffusion from t to s: x <- (2 - alpha_{t|s}) x + sigma_{t|s}^2 score(x, t) + sigma_{t|s} z.
    Corrector, n_corrector Langevin steps at s: eps = 2 alpha_{t|s}^2 (snr ||z|| / ||score||)^2,
    x <- x + eps score(x, s) + sqrt(2 eps) z, with the norms averaged over the batch as in score_sde.
    """
    ts64 = check_inputs(sde, x_init, ts)
    snr = check_positive("snr", snr)
    n_corrector = check_steps(n_corrector, "n_corrector", 0, 100)
    a_ts, s_ts = sde.transition(ts64[1:], ts64[:-1])          # alpha_{t|s}, sigma_{t|s} for t = ts[i], s = ts[i+1]
    a_ts, var_ts, s_ts = a_ts.tolist(), (s_ts ** 2).tolist(), s_ts.tolist()
    n_steps = ts64.numel() - 1
    rec = Recorder("predictor–corrector", sde, x_init, ts64, callback, n_updates=n_steps,
                   hint="try more steps or a smaller snr")
    n = x_init.shape[0]
    x = x_init
    for i in range(n_steps):
        score = score_fn(x, rec.ts[i].expand(n))
        x = (2 - a_ts[i]) * x + var_ts[i] * score + s_ts[i] * noise(x, generator)
        t_next = rec.ts[i + 1].expand(n)
        for _ in range(n_corrector):
            score = score_fn(x, t_next)
            z = noise(x, generator)
            ratio = z.flatten(1).norm(dim=1).mean() / score.flatten(1).norm(dim=1).mean().clamp_min(1e-30)
            eps = 2 * a_ts[i] ** 2 * (snr * ratio) ** 2
            x = x + eps * score + (2 * eps).sqrt() * z
            rec.check(i + 1, x)
        rec.record(i + 1, x)
    return rec.result(nfe=n_steps * (1 + n_corrector))
