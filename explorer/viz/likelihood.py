"""Figures of likelihoods: PF-ODE log-density next to the exact one (2D heatmaps, 1D curves)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import EXACT_COLOR, FONT, LEARNED_COLOR, layout_defaults


def log_density_maps(axis: np.ndarray, estimated: np.ndarray, exact: np.ndarray | None, *, floor: float,
                     title: str = "") -> go.Figure:
    """2D: log p by the PF-ODE and (when known) the exact log p on the same grid (axis [G], maps [G, G])."""
    maps = [("log p by the probability-flow ODE", estimated)]
    if exact is not None:
        maps.append(("exact log p", exact))
        maps.append(("difference (ODE − exact)", estimated - exact))
    fig = make_subplots(rows=1, cols=len(maps), subplot_titles=[m[0] for m in maps], horizontal_spacing=0.06)
    top = float(np.max(exact if exact is not None else estimated))
    for i, (_, z) in enumerate(maps):
        is_diff = i == 2
        lim = float(np.max(np.abs(z))) if is_diff else None
        fig.add_trace(go.Heatmap(x=axis.astype(np.float32), y=axis.astype(np.float32), z=z.astype(np.float32),
                                 colorscale="RdBu" if is_diff else "Viridis",
                                 zmin=-lim if is_diff else max(floor, top - 12), zmax=lim if is_diff else top,
                                 colorbar={"x": (i + 1) / len(maps) - 0.01, "thickness": 10, "len": 0.9},
                                 zsmooth="best", hoverinfo="x+y+z"), 1, i + 1)
        fig.update_yaxes(scaleanchor=f"x{i + 1 if i else ''}", scaleratio=1, constrain="domain", row=1, col=i + 1)
        fig.update_xaxes(constrain="domain", row=1, col=i + 1)
    fig.update_layout(**layout_defaults(title, height=420))
    fig.update_annotations(font_size=FONT["base"])
    return fig


def log_density_curves(x: np.ndarray, estimated: np.ndarray, exact: np.ndarray | None, *, title: str = "") -> go.Figure:
    """1D: log p(x) by the PF-ODE (markers) over the exact curve."""
    fig = go.Figure()
    if exact is not None:
        fig.add_trace(go.Scatter(x=x, y=exact, mode="lines", name="exact log p", line={"color": EXACT_COLOR, "width": 3}))
    fig.add_trace(go.Scatter(x=x, y=estimated, mode="markers", name="PF-ODE log p",
                             marker={"color": LEARNED_COLOR, "size": 6}))
    fig.update_xaxes(title="x")
    fig.update_yaxes(title="log p(x)")
    fig.update_layout(**layout_defaults(title, height=420), legend={"x": 0.01, "y": 0.01, "yanchor": "bottom"})
    return fig
