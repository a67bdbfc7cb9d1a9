"""Probability-flow ODE solvers (Song et al. 2021 eq. 13): dx/dt = f(t) x - 1/2 g(t)^2 score(x, t), from T down to t_min.

Euler (order 1), Heun (order 2, EDM Alg. 1), DPM-Solver++(2M) (Lu et al. 2022, Alg. 2, in log-SNR with x0-prediction)
and adaptive RK45 (scipy.integrate.solve_ivp). All deterministic given x_init.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.integrate import solve_ivp

from .. import interrupt
from ..parameterisation import score_to_x0
from ..scores import ScoreFn
from ..process import Process
from .base import (Callback, Recorder, SampleResult, SamplerDiverged, check_inputs, check_positive, check_steps,
                   grid_coefficients)

Tensor = torch.Tensor


def pf_velocity(score_fn: ScoreFn, x: Tensor, t: Tensor, f: float, g2: float) -> Tensor:
    """dx/dt = f(t) x - 1/2 g(t)^2 score(x, t) (Song et al. eq. 13) with f, g^2 read at t; x [N, ...], t [N]."""
    return f * x - (0.5 * g2) * score_fn(x, t)


@torch.no_grad()
def pf_euler(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
             callback: Callback | None = None) -> SampleResult:
    """Euler on the PF-ODE: x_{i+1} = x_i + (t_{i+1} - t_i) v(x_i, t_i); x [N, ...], NFE = S, global error O(1/S)."""
    ts64 = check_inputs(sde, x_init, ts)
    c = grid_coefficients(sde, ts64)
    f, g2, dt = c["f"].tolist(), c["g2"].tolist(), (ts64[1:] - ts64[:-1]).tolist()
    rec = Recorder("PF-ODE Euler", sde, x_init, ts64, callback, hint="try more steps")
    x = x_init
    for i in range(len(dt)):
        x = x + dt[i] * pf_velocity(score_fn, x, rec.ts[i].expand(x.shape[0]), f[i], g2[i])
        rec.record(i + 1, x)
    return rec.result(nfe=len(dt))


@torch.no_grad()
def pf_heun(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
            callback: Callback | None = None, last_step_euler: bool = False) -> SampleResult:
    """Heun on the PF-ODE (EDM Alg. 1): d1 = v(x_i, t_i), x' = x_i + h d1, x_{i+1} = x_i + h (d1 + v(x', t_{i+1})) / 2;
    x [N, ...], NFE = 2S (2S - 1 with last_step_euler, as EDM does when the grid ends at sigma = 0), error O(1/S^2)."""
    ts64 = check_inputs(sde, x_init, ts)
    c = grid_coefficients(sde, ts64)
    f, g2, dt = c["f"].tolist(), c["g2"].tolist(), (ts64[1:] - ts64[:-1]).tolist()
    rec = Recorder("PF-ODE Heun", sde, x_init, ts64, callback, hint="try more steps")
    n, nfe, x = x_init.shape[0], 0, x_init
    for i in range(len(dt)):
        d1 = pf_velocity(score_fn, x, rec.ts[i].expand(n), f[i], g2[i])
        x_euler = x + dt[i] * d1
        nfe += 1
        if last_step_euler and i == len(dt) - 1:
            x = x_euler
        else:
            d2 = pf_velocity(score_fn, x_euler, rec.ts[i + 1].expand(n), f[i + 1], g2[i + 1])
            x = x + (0.5 * dt[i]) * (d1 + d2)
            nfe += 1
        rec.record(i + 1, x)
    return rec.result(nfe=nfe)


@torch.no_grad()
def dpm_solver_pp_2m(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
                     callback: Callback | None = None) -> SampleResult:
    """DPM-Solver++(2M) (Lu et al. 2022, Alg. 2), lambda = log(alpha / sigma), h_i = lambda_{i+1} - lambda_i:
    x_{i+1} = (sigma_{i+1} / sigma_i) x_i + alpha_{i+1} (1 - e^{-h_i}) D_i, D_0 = x0_hat_0,
    D_i = (1 + 1/(2 r_i)) x0_hat_i - 1/(2 r_i) x0_hat_{i-1}, r_i = h_{i-1} / h_i; x [N, ...], NFE = S."""
    ts64 = check_inputs(sde, x_init, ts)
    alpha, sigma = sde.mean_coef(ts64), sde.std(ts64)
    lam = torch.log(alpha) - torch.log(sigma)
    h = lam[1:] - lam[:-1]
    ratio = (sigma[1:] / sigma[:-1]).tolist()
    phi = (alpha[1:] * -torch.expm1(-h)).tolist()
    h = h.tolist()
    rec = Recorder("DPM-Solver++(2M)", sde, x_init, ts64, callback, hint="try more steps")
    x, x0_prev = x_init, None
    for i in range(len(h)):
        t = rec.ts[i]
        x0_hat = score_to_x0(score_fn(x, t.expand(x.shape[0])), x, t, sde)
        if x0_prev is None:
            d = x0_hat
        else:
            half_inv_r = 0.5 * h[i] / h[i - 1]
            d = (1 + half_inv_r) * x0_hat - half_inv_r * x0_prev
        x = ratio[i] * x + phi[i] * d
        x0_prev = x0_hat
        rec.record(i + 1, x)
    return rec.result(nfe=len(h))


@torch.no_grad()
def pf_rk45(score_fn: ScoreFn, sde: Process, x_init: Tensor, ts: Tensor, *, generator: torch.Generator | None = None,
            callback: Callback | None = None, rtol: float = 1e-5, atol: float = 1e-5, max_nfe: int = 20_000) -> SampleResult:
    """Adaptive Dormand–Prince RK45 (scipy solve_ivp) on the PF-ODE, read out at ts (t_eval); x [N, ...],
    NFE = scipy's nfev (adaptive: set by rtol/atol, not by len(ts)). The callback runs after the solve, once per frame."""
    ts64 = check_inputs(sde, x_init, ts)
    rtol, atol = check_positive("rtol", rtol), check_positive("atol", atol)
    max_nfe = check_steps(max_nfe, "max_nfe", 1, 10_000_000)
    shape, dtype, device = x_init.shape, x_init.dtype, x_init.device
    rec = Recorder("PF-ODE RK45", sde, x_init, ts64, callback, hint="try a tighter rtol/atol")
    t64 = torch.zeros((), dtype=torch.float64)                     # this call's buffers for t
    t_vec = torch.zeros(shape[0], dtype=dtype, device=device)
    nfe = 0

    def fun(t: float, y: np.ndarray) -> np.ndarray:
        nonlocal nfe
        nfe += 1
        interrupt.check()
        if nfe > max_nfe:
            raise SamplerDiverged(f"PF-ODE RK45 stopped at t = {t:.4g} after {max_nfe} evaluations (max_nfe): "
                                  "loosen rtol/atol or raise max_nfe")
        if not np.abs(y).max() <= rec.bound:
            raise SamplerDiverged(f"PF-ODE RK45 diverged at t = {t:.4g} (evaluation {nfe}): try a tighter rtol/atol")
        x = torch.from_numpy(y).view(shape).to(device=device, dtype=dtype)
        t64.fill_(t)
        t_vec.fill_(t)
        f, g2 = float(sde.drift_coef(t64)), float(sde.diffusion(t64)) ** 2
        v = pf_velocity(score_fn, x, t_vec, f, g2)
        return v.to(device="cpu", dtype=torch.float64).numpy().reshape(-1)

    t_eval = ts64.numpy()
    y0 = x_init.detach().to(device="cpu", dtype=torch.float64).numpy().reshape(-1)
    sol = solve_ivp(fun, (t_eval[0], t_eval[-1]), y0, method="RK45", t_eval=t_eval, rtol=rtol, atol=atol)
    if sol.status != 0:
        raise SamplerDiverged(f"PF-ODE RK45 failed: {sol.message}")
    frames = torch.from_numpy(sol.y[:, 1:]).T.to(device=device, dtype=dtype).reshape((-1,) + tuple(shape))
    rec.record_all(frames)
    return rec.result(nfe=nfe)
