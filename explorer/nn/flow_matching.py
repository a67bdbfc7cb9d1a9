"""Flow matching: a velocity network is a ScoreNet that predicts u (parameterisation "u"), trained by the one loop
(explorer.nn.training.train) on the conditional flow-matching loss E || u_theta(x_t, t) - (alpha' x_0 + sigma' eps) ||^2
(Lipman et al. 2023; linear path: eps - x_0, Liu et al. 2023), with a coupling of x_0 and eps (explorer.couplings).

    flow = train_flow(dataset, get_process("linear"), coupling="minibatch_ot", steps=1000, seed=0)
    flow2 = train_flow(dataset, sde, coupling="reflow", previous=flow)          # rectify the first flow
    u = network_velocity(flow)                                                  # (x [N, D], t [N]) -> [N, D]
"""
from __future__ import annotations

import torch

from ..couplings import COUPLINGS, check_coupling, get_coupling
from ..process import Process
from ..tensors import as_time
from ..velocity import VelocityFn, velocity_from_score
from .networks import ScoreNetConfig
from .training import DEFAULTS, TrainedModel, train

REFLOW_PAIRS = 20_000      # (noise, sample) pairs drawn once from the previous flow (100 Heun steps each)


def velocity_config(dataset, sde: Process, **overrides) -> ScoreNetConfig:
    """An unconditional velocity network's config for a dataset and process (parameterisation "u")."""
    return ScoreNetConfig.for_data(dataset, sde, conditional=False, **{"parameterisation": "u", **overrides})


def is_flow(model) -> bool:
    """Whether a trained model is a velocity network (predicts u)."""
    return model is not None and getattr(model.config, "parameterisation", None) == "u"


def train_flow(dataset, sde: Process, *, coupling: str = "independent", previous: TrainedModel | None = None,
               config: ScoreNetConfig | None = None, n_pairs: int = REFLOW_PAIRS, seed: int = 0,
               **train_kwargs) -> TrainedModel:
    """Train a velocity network with the coupling "independent", "minibatch_ot" or "reflow" (which needs `previous`,
    a trained flow for the same data and process); the rest goes to explorer.nn.training.train."""
    coupling = check_coupling(coupling)
    config = velocity_config(dataset, sde) if config is None else config
    if config.parameterisation != "u":
        raise ValueError(f"a flow predicts the velocity: parameterisation 'u', got {config.parameterisation!r}")
    previous_fn = None
    if coupling == "reflow":
        check_previous(previous, dataset, sde)
        previous_fn = previous.to("cpu").score_fn()
    pairs = get_coupling(coupling, previous=previous_fn, sde=sde, dim=dataset.dim, n_pairs=n_pairs,
                         generator=torch.Generator().manual_seed(seed + 1))
    model = train(config, dataset, sde, seed=seed, coupling=None if coupling == "independent" else pairs,
                  **{"steps": DEFAULTS["steps"], **train_kwargs})
    model.info["coupling"] = coupling
    if previous is not None and coupling == "reflow":
        model.info["reflow_of"] = previous.info.get("coupling", "independent")
        model.info["reflow_round"] = int(previous.info.get("reflow_round", 0)) + 1
    return model


def check_previous(previous, dataset, sde: Process) -> None:
    """Reflow's teacher must be a trained flow for this dataset and process, else a ValueError that says so."""
    if previous is None:
        raise ValueError("reflow needs a trained flow to generate its pairs: train one with the 'independent' or "
                         "'minibatch_ot' coupling first")
    if not is_flow(previous):
        raise ValueError("reflow needs a flow (a velocity network, predicting u) as its teacher; this network "
                         f"predicts {previous.config.parameterisation!r}")
    if previous.config.dataset != dataset.name or previous.config.process != sde.name:
        raise ValueError(f"the flow to reflow is for dataset {previous.config.dataset!r} under "
                         f"{previous.config.process!r}, not {dataset.name!r} under {sde.name!r}")


def network_velocity(model: TrainedModel, y=None) -> VelocityFn:
    """The model's velocity u_theta(x, t): the raw output of a velocity net, else alpha' x0_hat + sigma' eps_hat from its score."""
    if not is_flow(model) or y is not None or model.sde is not model.net.sde:
        return velocity_from_score(model.score_fn(y), model.sde)
    net = model.net

    @torch.no_grad()
    def velocity_fn(x, t):
        t = as_time(t, x)
        dtype = next(net.parameters()).dtype
        return net(x.to(dtype), t.to(dtype)).to(x.dtype)

    return velocity_fn


__all__ = ["COUPLINGS", "REFLOW_PAIRS", "check_previous", "is_flow", "network_velocity", "train_flow", "velocity_config"]
