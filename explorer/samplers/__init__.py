"""The samplers, one function each, in an explicit registry; `sample` builds the time grid and checks the options.

    from explorer.samplers import sample
    res = sample("pf_heun", score_fn, sde, sde.prior_sample((2000, 2), generator=g), n_steps=50, generator=g)
    res.x [N, D], res.trajectory [S+1, N, D], res.ts [S+1], res.nfe
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import torch

from ..scores import ScoreFn
from ..process import Process
from .base import (MAX_STEPS, SPACINGS, Callback, SampleResult, SamplerDiverged, check_steps, t_of_sigma,
                   time_grid)
from .ddpm import ddim, ddpm
from .edm import edm
from .grids import GRIDS, Grid
from .langevin import annealed_langevin, langevin
from .ode import dpm_solver_pp_2m, pf_euler, pf_heun, pf_rk45
from .reverse_sde import pc, reverse_sde

Tensor = torch.Tensor


@dataclass(frozen=True)
class SamplerSpec:
    """A registry entry: the function, its defaults, and what it is (callers ask these, never the name)."""

    name: str
    label: str
    fn: Callable[..., SampleResult]
    default_steps: int
    stochastic: bool                # draws noise at its default options (DDIM: only when eta > 0)
    order: int = 1                  # convergence order in the step size of its deterministic part (RK45: 5)
    uses_grid: bool = True          # False: the grid only sets the number of steps / output frames (Langevin, RK45)
    single_step: bool = True        # one grid step t_i -> t_{i+1} can be taken alone, no state carried (inpainting)
    reverses_time: bool = True      # runs the process backwards from some t (False: Langevin at one noise level)
    spacing: str = "uniform"        # the default time grid (a name in grids.GRIDS; see base.time_grid)
    nfe_per_step: int = 1           # score evaluations per grid step at the default options (cost estimates)

    @property
    def options(self) -> dict[str, object]:
        """The sampler's keyword options and their defaults (beyond generator and callback)."""
        params = inspect.signature(self.fn).parameters.values()
        return {p.name: p.default for p in params
                if p.kind is p.KEYWORD_ONLY and p.name not in ("generator", "callback")}


SAMPLERS: dict[str, SamplerSpec] = {
    "langevin": SamplerSpec("langevin", "Langevin dynamics (one noise level)", langevin, 1000, True, uses_grid=False,
                            single_step=False, reverses_time=False),
    "annealed_langevin": SamplerSpec("annealed_langevin", "Annealed Langevin (SMLD)", annealed_langevin, 100, True,
                                     single_step=False, spacing="log_sigma", nfe_per_step=10),
    "reverse_sde": SamplerSpec("reverse_sde", "Reverse SDE (Euler–Maruyama)", reverse_sde, 1000, True),
    "pc": SamplerSpec("pc", "Predictor–corrector", pc, 500, True, nfe_per_step=2),
    "ddpm": SamplerSpec("ddpm", "DDPM (ancestral)", ddpm, 1000, True),
    "ddim": SamplerSpec("ddim", "DDIM", ddim, 100, False),
    "pf_euler": SamplerSpec("pf_euler", "PF-ODE, Euler", pf_euler, 500, False),
    "pf_heun": SamplerSpec("pf_heun", "PF-ODE, Heun", pf_heun, 50, False, order=2, nfe_per_step=2),
    "dpm_solver_pp_2m": SamplerSpec("dpm_solver_pp_2m", "DPM-Solver++(2M)", dpm_solver_pp_2m, 25, False, order=2,
                                    single_step=False, spacing="log_snr"),
    "edm": SamplerSpec("edm", "EDM (Karras et al., Heun in σ + churn)", edm, 32, False, order=2, nfe_per_step=2,
                       spacing="karras"),
    "pf_rk45": SamplerSpec("pf_rk45", "PF-ODE, adaptive RK45", pf_rk45, 100, False, order=5, uses_grid=False,
                           single_step=False),
}


def samplers_where(**capabilities) -> tuple[str, ...]:
    """The registry's names whose specs have every given capability, e.g. samplers_where(single_step=True)."""
    return tuple(n for n, spec in SAMPLERS.items() if all(getattr(spec, k) == v for k, v in capabilities.items()))


def get_sampler(name: str) -> SamplerSpec:
    """The registry entry of that name; unknown names fail with the choices."""
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; expected one of {list(SAMPLERS)}")
    return SAMPLERS[name]


def check_options(spec: SamplerSpec, opts: dict) -> None:
    """Refuse keyword options the sampler does not take, naming the ones it does."""
    unknown = sorted(set(opts) - set(spec.options))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for sampler {spec.name!r}; expected some of {sorted(spec.options)}")


def sample(name: str, score_fn: ScoreFn, sde: Process, x_init: Tensor, *, n_steps: int | None = None,
           generator: torch.Generator | None = None, callback: Callback | None = None, spacing: str | Grid | None = None,
           **opts) -> SampleResult:
    """Run sampler `name` from x_init [N, ...] on a grid of n_steps (default: the sampler's); spacing a name in GRIDS or a
    Grid (default: the sampler's own); checked options."""
    spec = get_sampler(name)
    n_steps = spec.default_steps if n_steps is None else check_steps(n_steps)
    check_options(spec, opts)
    if not isinstance(x_init, Tensor):
        raise ValueError("x_init must be a torch tensor [N, ...]")
    ts = time_grid(sde, n_steps, spacing=spec.spacing if spacing is None else spacing, dtype=torch.float64)
    return spec.fn(score_fn, sde, x_init, ts, generator=generator, callback=callback, **opts)


__all__ = [
    "GRIDS", "Grid", "MAX_STEPS", "SAMPLERS", "SPACINGS", "Callback", "check_options", "SampleResult", "SamplerDiverged", "SamplerSpec", "get_sampler",
    "sample", "samplers_where", "t_of_sigma", "time_grid",
    "langevin", "annealed_langevin", "reverse_sde", "pc", "ddpm", "ddim", "pf_euler", "pf_heun", "dpm_solver_pp_2m",
    "edm", "pf_rk45",
]
