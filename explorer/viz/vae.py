"""Figures of the VAE: ELBO and its terms over training, the latent space, samples next to diffusion's."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .images import png_data_uri
from .learned import distance_traces, samples_traces
from .style import CLASS_COLORS, FONT, layout_defaults

ELBO_TERMS = (("ELBO", CLASS_COLORS[0], "solid"), ("reconstruction E_q log p(x|z)", CLASS_COLORS[2], "dot"),
              ("KL(q(z|x) ‖ p(z))", CLASS_COLORS[3], "dash"))


def elbo_figure(steps: np.ndarray, elbo: np.ndarray, recon: np.ndarray, kl: np.ndarray, *, title: str = "") -> go.Figure:
    """ELBO = E_q log p(x | z) − KL(q(z | x) ‖ p(z)) and its two terms against the step (nats per sample)."""
    fig = go.Figure()
    for (name, color, dash), y in zip(ELBO_TERMS, (elbo, recon, kl)):
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


def elbo_live_figure(steps: np.ndarray, elbo: np.ndarray, recon: np.ndarray, kl: np.ndarray, ed_steps, distances,
                     floor: float, samples: np.ndarray | None, data: np.ndarray, *, image: np.ndarray | None = None,
                     title: str = "", total_steps: int | None = None, samples_title: str = "samples") -> go.Figure:
    """Training you can watch: the ELBO and its terms; the energy distance of the VAE's samples (one fixed z, ε) to the
    data against the step, with the noise floor; the samples themselves (2D: over the data; 1D: histograms; images:
    `image`, a uint8 [H, W, 3] grid, drawn in place of the points)."""
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, column_widths=[0.37, 0.33, 0.30],
                        subplot_titles=("ELBO and its terms (nats)", "energy distance of the samples to the data",
                                        samples_title))
    fig.update_annotations(font_size=FONT["base"])
    for (name, color, dash), y in zip(ELBO_TERMS, (elbo, recon, kl)):
        fig.add_trace(go.Scatter(x=steps, y=y, name=name, mode="lines", line={"color": color, "width": 3, "dash": dash}),
                      row=1, col=1)
    distance_traces(fig, ed_steps, distances, floor, x_end=total_steps, row=1, col=2)
    fig.add_annotation(x=0, y=float(np.log10(max(floor, 1e-6))), xref="x2", yref="y2", text="noise floor",
                       showarrow=False, xanchor="left", yanchor="top", font={"size": FONT["small"], "color": "#555"})
    for col in (1, 2):
        fig.update_xaxes(title="step", row=1, col=col, **({"range": [0, total_steps]} if total_steps else {}))
    fig.update_yaxes(title="nats per sample", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", dtick="D2", row=1, col=2)    # its panel title names it
    if image is not None:
        fig.add_trace(go.Image(source=png_data_uri(image, max_side=max(image.shape[:2])), hoverinfo="skip"), row=1, col=3)
        fig.update_xaxes(visible=False, row=1, col=3)
        fig.update_yaxes(visible=False, row=1, col=3)
    else:
        samples_traces(fig, samples, data, row=1, col=3)
        if data.shape[1] == 2:
            lim = float(max(3.5, np.quantile(np.abs(data), 0.995) * 1.15))
            fig.update_xaxes(range=[-lim, lim], constrain="domain", row=1, col=3)
            fig.update_yaxes(range=[-lim, lim], scaleanchor="x3", scaleratio=1, constrain="domain", row=1, col=3)
        else:
            fig.update_layout(barmode="overlay")
    fig.update_layout(**layout_defaults(title, height=380), legend={"orientation": "h", "y": -0.25, "x": 0})
    return fig
