"""Where a view's score comes from: exact, a shipped pretrained network, or the user's own (in gr.State)."""
from __future__ import annotations

import gradio as gr

from ..cost import mixture_cost, network_cost
from ..distributions import Dataset
from ..pretrained import has_pretrained, list_pretrained, load_pretrained
from ..scores import ScoreFn, exact_score
from ..process import Process

SCORE_SOURCES = [("Exact score", "exact"), ("Pretrained network", "pretrained"), ("My trained network", "trained")]


def resolve_score(source, ds: Dataset, sde: Process, trained=None) -> tuple[ScoreFn, str]:
    """(score_fn, a short description) for the chosen source; a clear gr.Error when it is not available."""
    if source == "exact":
        kind = "exact mixture score" if ds.is_mixture else "exact empirical score (ideal denoiser)"
        return exact_score(ds, sde), kind
    if source == "pretrained":
        if not has_pretrained(ds.name, sde.name):
            here = sorted(p for d, p in list_pretrained() if d == ds.name)
            hint = f"for this dataset pick the process {', '.join(here)}" if here else "use the exact score or train one"
            raise gr.Error(f"No pretrained network for {ds.label} under {sde.label}: {hint}.")
        return load_pretrained(ds.name, sde.name).score_fn(), "pretrained network"
    if source == "trained":
        if trained is None:
            raise gr.Error("No trained network in this session yet: train one in the 'Learned score' tab first.")
        cfg = trained.config
        if cfg.dataset != ds.name or cfg.process != sde.name:
            raise gr.Error(f"Your trained network is for dataset '{cfg.dataset}' under '{cfg.process}'; "
                           f"choose those above, or train a new one.")
        return trained.score_fn(), "your trained network"
    raise gr.Error(f"Unknown score source {source!r}; choose one of {[v for _, v in SCORE_SOURCES]}.")


def score_cost(source, ds: Dataset, sde: Process, trained=None) -> float:
    """Seconds per particle of one evaluation of the chosen score (call after resolve_score has accepted it)."""
    if source == "exact":
        return mixture_cost(ds.exact())
    net = load_pretrained(ds.name, sde.name).net if source == "pretrained" else trained.net
    return network_cost(net)
