"""Figures of the ELBO: each level's term over i and over log-SNR, the bound against the number of levels, and the
objectives' weights w(lambda) over log-SNR."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import CLASS_COLORS, EXACT_COLOR, FONT, layout_defaults

VARIANCE_LABELS = {"beta": "σ²ᵢ = βᵢ", "posterior": "σ²ᵢ = β̃ᵢ"}


def elbo_terms_figure(curves: list[tuple[str, np.ndarray, np.ndarray]], *, title: str = "") -> go.Figure:
    """Mean KL term per level i = 2..N against level i (log axis) and against log-SNR λ_i; curves: (variance, λ [N],
    terms [N]); the decoder L_0 (level 1, a negative log-density: it can be negative) is given in the legend, not drawn."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=["term L_{i−1} against level i", "the same against log-SNR λᵢ"])
    for k, (variance, lam, terms) in enumerate(curves):
        color = CLASS_COLORS[k]
        i = np.arange(1, terms.size + 1)
        name = f"{VARIANCE_LABELS.get(variance, variance)}  (L₀ = {float(terms[0]):.3f})"
        y = np.clip(terms[1:], 1e-7, None).astype(np.float32)
        fig.add_trace(go.Scatter(x=i[1:], y=y, mode="lines", name=name, line={"color": color, "width": 3},
                                 legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=lam[1:].astype(np.float32), y=y, mode="lines", name=name, showlegend=False,
                                 line={"color": color, "width": 3}, legendgroup=name), 1, 2)
    fig.update_xaxes(type="log", title_text="level i", row=1, col=1)
    fig.update_xaxes(title_text="λ = log(α²/σ²)", autorange="reversed", row=1, col=2)
    fig.update_yaxes(type="log", title_text="nats per sample", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(**layout_defaults(title, height=420), legend={"orientation": "h", "y": -0.2})
    fig.update_annotations(font_size=FONT["base"])
    return fig


def elbo_levels_figure(rows: dict[str, list[tuple[int, float, float]]], true_nll: float | None, *,
                       title: str = "") -> go.Figure:
    """E[-ELBO] ± 2 standard errors against the number of levels N (log axis), one line per variance choice, and the
    true NLL as a horizontal line: the gap is the discretisation's."""
    fig = go.Figure()
    for k, (variance, pts) in enumerate(rows.items()):
        n, m, se = (np.array(v, dtype=np.float64) for v in zip(*pts))
        fig.add_trace(go.Scatter(x=n, y=m, mode="lines+markers", name=f"−ELBO, {VARIANCE_LABELS.get(variance, variance)}",
                                 error_y={"type": "data", "array": 2 * se, "visible": True},
                                 line={"color": CLASS_COLORS[k], "width": 3}, marker={"size": 9}))
    if true_nll is not None:
        fig.add_hline(y=true_nll, line={"color": EXACT_COLOR, "dash": "dash", "width": 3},
                      annotation_text=f"exact NLL {true_nll:.3f}", annotation_position="bottom left")
    fig.update_xaxes(type="log", title_text="number of levels N")
    fig.update_yaxes(title_text="nats per sample")
    fig.update_layout(**layout_defaults(title, height=400), legend={"orientation": "h", "y": -0.25})
    return fig


def weighting_figure(curves: list[tuple[str, np.ndarray, np.ndarray]], *, title: str = "") -> go.Figure:
    """w(λ) of each objective (normalised to 1 at λ = 0) over log-SNR; curves: (label, λ [K], w [K])."""
    fig = go.Figure()
    for k, (label, lam, w) in enumerate(curves):
        dash = "dash" if label.startswith("ELBO") else None
        fig.add_trace(go.Scatter(x=lam.astype(np.float32), y=w.astype(np.float32), mode="lines", name=label,
                                 line={"color": "#000000" if dash else CLASS_COLORS[k], "width": 3, "dash": dash}))
    fig.update_xaxes(title_text="λ = log(α²/σ²)  (noisier →)", autorange="reversed")
    fig.update_yaxes(type="log", title_text="w(λ), 1 at λ = 0", exponentformat="power")
    fig.update_layout(**layout_defaults(title, height=400), legend={"orientation": "h", "y": -0.25})
    return fig
