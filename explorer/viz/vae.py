"""Figures of the VAE: ELBO and its terms over training, the latent space, samples next to diffusion's."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .style import CLASS_COLORS, layout_defaults


def elbo_figure(steps: np.ndarray, elbo: np.ndarray, recon: np.ndarray, kl: np.ndarray, *, title: str = "") -> go.Figure:
    """ELBO = E_q log p(x | z) − KL(q(z | x) ‖ p(z)) and its two terms against the step (nats per sample)."""
    fig = go.Figure()
    for name, y, color, dash in (("ELBO", elbo, CLASS_COLORS[0], "solid"), ("reconstruction E_q log p(x|z)", recon,
                                 CLASS_COLORS[2], "dot"), ("KL(q(z|x) ‖ p(z))", kl, CLASS_COLORS[3], "dash")):
        fig.add_trace(go.Scatter(x=steps, y=y, name=name, mode="lines", line={"color": color, "width": 3, "dash": dash}))
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="nats per sample")
    fig.update_layout(**layout_defaults(title, height=360), legend={"orientation": "h", "y": -0.25})
    return fig


def latent_figure(mu: np.ndarray, labels: np.ndarray, *, title: str = "") -> go.Figure:
    """Encoded data (posterior means [N, 2]) coloured by class, over the prior N(0, I)'s 1σ and 2σ circles."""
    fig = go.Figure()
    a = np.linspace(0, 2 * np.pi, 100)
    for r in (1, 2):
        fig.add_trace(go.Scatter(x=r * np.cos(a), y=r * np.sin(a), mode="lines", line={"color": "#999", "dash": "dot"},
                                 name=f"prior {r}σ", hoverinfo="skip"))
    fig.add_trace(go.Scattergl(x=mu[:, 0], y=mu[:, 1], mode="markers", name="encoded data", hoverinfo="skip",
                               marker={"size": 4, "color": [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in labels]}))
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain", title="z₂")
    fig.update_xaxes(constrain="domain", title="z₁")
    fig.update_layout(**layout_defaults(title, height=420), showlegend=False)
    return fig
