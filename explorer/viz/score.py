"""Figures of score fields: arrows over the density in 2D, the score curve beside the density in 1D."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import EXACT_COLOR, layout_defaults


def arrow_trace(points: np.ndarray, vectors: np.ndarray, *, color: str = "#222222", name: str = "score") -> go.Scatter:
    """Arrows from points [N, 2] along vectors [N, 2]: one line trace, arrow-head markers at the tips."""
    n = points.shape[0]
    xs = np.full(3 * n, np.nan, dtype=np.float32)
    ys = np.full(3 * n, np.nan, dtype=np.float32)
    xs[0::3], ys[0::3] = points[:, 0], points[:, 1]
    xs[1::3], ys[1::3] = points[:, 0] + vectors[:, 0], points[:, 1] + vectors[:, 1]
    sizes = np.zeros(3 * n, dtype=np.float32)
    sizes[1::3] = 9
    return go.Scatter(x=xs, y=ys, mode="lines+markers", name=name, hoverinfo="skip", connectgaps=False,
                      line={"color": color, "width": 1.5},
                      marker={"symbol": "arrow", "angleref": "previous", "size": sizes, "color": color,
                              "line": {"width": 0}})


def field_figure(axis: np.ndarray, log_density: np.ndarray | None, points: np.ndarray, vectors: np.ndarray,
                 *, title: str = "", floor: float = -6.0) -> go.Figure:
    """2D: arrows (points, vectors [N, 2]) over log p_t on the grid (axis [G], log_density [G, G])."""
    fig = go.Figure()
    if log_density is not None:
        rel = np.clip(log_density - log_density.max(), floor, 0).astype(np.float32)
        fig.add_trace(go.Contour(x=axis.astype(np.float32), y=axis.astype(np.float32), z=rel, colorscale="Blues",
                                 contours={"coloring": "fill", "showlines": False}, ncontours=12, opacity=0.55,
                                 colorbar={"title": {"text": "log p_t − max", "side": "right"}, "thickness": 14},
                                 hoverinfo="skip", name="log p_t"))
    fig.add_trace(arrow_trace(points, vectors))
    lim = float(axis[-1])
    fig.update_layout(**layout_defaults(title, height=560), showlegend=False)
    fig.update_xaxes(range=[-lim, lim], zeroline=False, constrain="domain")
    fig.update_yaxes(range=[-lim, lim], zeroline=False, scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def curve_figure(x: np.ndarray, density: np.ndarray, score: np.ndarray, *, title: str = "") -> go.Figure:
    """1D: p_t(x) on the left, the score d/dx log p_t(x) on the right, same x axis."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("density p_t(x)", "score ∂/∂x log p_t(x)"),
                        horizontal_spacing=0.1)
    fig.add_trace(go.Scatter(x=x, y=density, fill="tozeroy", line={"color": "#0072B2", "width": 3}, name="p_t"), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=score, line={"color": EXACT_COLOR, "width": 3}, name="exact score"), 1, 2)
    fig.add_hline(y=0, line={"color": "#999", "width": 1}, row=1, col=2)
    fig.update_xaxes(title="x")
    fig.update_layout(**layout_defaults(title, height=420), showlegend=False)
    return fig
