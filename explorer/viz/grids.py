"""Figure of step grids: where the steps land on the log-SNR axis, and the local error of one step there."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import CLASS_COLORS, FONT, layout_defaults


def steps_land_figure(grids: list[tuple[str, list[dict]]], *, title: str = "") -> go.Figure:
    """For each grid (label, step_errors rows): its points on the log-SNR axis (top), and the local error of one step
    as a step function over [lambda_i, lambda_{i+1}] (bottom, log scale); lambda grows from noise (left) to data."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7], vertical_spacing=0.06,
                        subplot_titles=["grid points λ_i (one row per grid)", "error of one step from exact x_t"])
    for k, (label, rows) in enumerate(grids):
        color = CLASS_COLORS[k % len(CLASS_COLORS)]
        lam = np.array([rows[0]["lam"]] + [r["lam_next"] for r in rows])
        fig.add_trace(go.Scatter(x=lam, y=np.full(lam.shape, -k, dtype=float), mode="markers", name=label,
                                 legendgroup=label, marker={"size": 9, "color": color, "symbol": "line-ns-open",
                                                            "line": {"width": 2, "color": color}},
                                 hovertemplate="λ = %{x:.2f}<extra>" + label + "</extra>"), 1, 1)
        xs, ys = [], []
        for r in rows:
            xs += [r["lam"], r["lam_next"], None]
            ys += [max(r["error"], 1e-12)] * 2 + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=label, legendgroup=label, showlegend=False,
                                 line={"color": color, "width": 3},
                                 hovertemplate="error %{y:.2e}<extra>" + label + "</extra>"), 2, 1)
    fig.update_yaxes(showticklabels=False, range=[-len(grids) + 0.5, 0.5], row=1, col=1)
    fig.update_yaxes(type="log", title="mean |x − x_ref|", exponentformat="power", row=2, col=1)
    fig.update_xaxes(title="log-SNR λ = log(α²/σ²)   (noise → data)", row=2, col=1)
    fig.update_layout(**layout_defaults(title, height=470), legend={"orientation": "h", "y": -0.2})
    fig.update_annotations(font_size=FONT["base"])
    return fig
