"""How straight a flow is, and what it buys: Liu et al.'s straightness, quality at a few Euler steps, and the
conditional (straight) paths next to the marginal (curved) ODE paths through the same noise.

  straightness S = (1 / (T - t_min)) int_{t_min}^{T} E || u(x_t, t) - (x_T - x_end) / (T - t_min) ||^2 dt
      along ODE trajectories x_t (Liu et al. 2023, eq. 3, time rescaled to [t_min, T]); S = 0 iff every trajectory
      is a straight line run at constant speed, which one Euler step then integrates exactly.
  quality at k steps: energy distance between k-step PF-ODE Euler samples and reference data (explorer.metrics).
Every function takes the flow as a ScoreFn (a velocity net's score_fn(), an exact score): the velocity is
u = alpha' x0_hat + sigma' eps_hat through explorer.parameterisation, the same for every process.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from . import interrupt
from .metrics import energy_distance
from .process import Process
from .samplers import sample
from .scores import ScoreFn
from .velocity import velocity_from_score

Tensor = torch.Tensor
FEW_STEPS = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class Straightness:
    """S (the mean over t) and its profile: ts [S+1] (T down to t_min), per_time [S+1] = E ||u - (x_T - x_end)/(T - t_min)||^2."""

    value: float
    ts: Tensor
    per_time: Tensor


@torch.no_grad()
def straightness(score_fn: ScoreFn, sde: Process, x_init: Tensor, *, n_steps: int = 100) -> Straightness:
    """Liu et al.'s straightness of the PF-ODE from x_init [N, D] (x_T samples), Heun on n_steps uniform steps."""
    res = sample("pf_heun", score_fn, sde, x_init, n_steps=n_steps)
    traj, ts = res.trajectory.double(), res.ts.double()
    duration = float(ts[0] - ts[-1])
    chord = (traj[0] - traj[-1]) / duration                    # the straight line's velocity dx/dt [N, D]
    u_fn = velocity_from_score(score_fn, sde)
    per_time = torch.empty(len(ts), dtype=torch.float64)
    for i in range(len(ts)):
        interrupt.check()
        u = u_fn(traj[i].to(x_init.dtype), ts[i].to(x_init.dtype)).double()
        per_time[i] = ((u - chord) ** 2).sum(1).mean()
    h = (ts[:-1] - ts[1:])
    value = float((0.5 * (per_time[:-1] + per_time[1:]) * h).sum() / duration)     # trapezoid rule
    return Straightness(value, ts, per_time)


@torch.no_grad()
def quality_vs_steps(score_fn: ScoreFn, sde: Process, x_init: Tensor, reference: Tensor, *,
                     steps=FEW_STEPS, sampler: str = "pf_euler") -> list[float]:
    """Energy distance to reference [M, D] of the ODE's samples from x_init [N, D] at each number of steps."""
    out = []
    for k in steps:
        x = sample(sampler, score_fn, sde, x_init, n_steps=int(k)).x
        out.append(energy_distance(x, reference))
    return out


@dataclass(frozen=True)
class PathPair:
    """ts [K] (T down to t_min); conditional [K, n, D]: x_t = alpha x_0 + sigma eps (straight for the linear path);
    marginal [K, n, D]: the exact PF-ODE path from the same x_T, which lands elsewhere; x0, eps [n, D]."""

    ts: Tensor
    conditional: Tensor
    marginal: Tensor
    x0: Tensor
    eps: Tensor

    def landing_distance(self) -> Tensor:
        """||where the marginal ODE lands - the pair's x_0|| [n]: 0 would mean the flow follows each pair's path."""
        return (self.marginal[-1] - self.x0).norm(dim=1)


@torch.no_grad()
def conditional_and_marginal_paths(exact_score_fn: ScoreFn, sde: Process, x0: Tensor, eps: Tensor, *,
                                   n_steps: int = 60) -> PathPair:
    """The conditional paths of the pairs (x0, eps) [n, D] and the marginal ODE paths through their x_T, on one grid.

    Cost: 2 n_steps exact-score evaluations of n points (Heun)."""
    t_end = torch.tensor(sde.T, dtype=torch.float64)
    x_T = sde.mean_coef(t_end) * x0.double() + sde.std(t_end) * eps.double()
    res = sample("pf_heun", exact_score_fn, sde, x_T, n_steps=n_steps)
    ts = res.ts.double()
    a, s = sde.mean_coef(ts)[:, None, None], sde.std(ts)[:, None, None]
    conditional = a * x0.double()[None] + s * eps.double()[None]
    return PathPair(ts, conditional, res.trajectory.double(), x0.double(), eps.double())
