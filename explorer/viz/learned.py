"""Figures of learned score fields: the loss curve, learned next to exact arrows, the error map, error over t."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .score import arrow_trace
from .style import CLASS_COLORS, EXACT_COLOR, FONT, LEARNED_COLOR, layout_defaults

DENSITY_GREYS = [[0.0, "#FFFFFF"], [1.0, "#555555"]]    # low density white, high density grey (spelled out)


def loss_figure(steps: np.ndarray, losses: np.ndarray, *, title: str = "Training loss") -> go.Figure:
    """The mean DSM loss per reporting interval against the step, log y."""
    fig = go.Figure(go.Scatter(x=steps, y=losses, mode="lines+markers", line={"color": LEARNED_COLOR, "width": 3}))
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="loss", type="log", exponentformat="power", dtick="D2")
    fig.update_layout(**layout_defaults(title, height=320))
    return fig


def fields_side_by_side(axis: np.ndarray, log_p: np.ndarray, pts: np.ndarray, learned: np.ndarray,
                        exact: np.ndarray, *, title: str = "", floor: float = -6.0,
                        titles: tuple[str, str] = ("learned score s_θ(x, t)", "exact score ∇ log p_t(x)")) -> go.Figure:
    """2D: learned (left) and exact (right) arrows (vectors [M, 2] at pts [M, 2]) over log p_t (axis [G], log_p [G, G])."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.04)
    rel = np.clip(log_p - log_p.max(), floor, 0).astype(np.float32)
    lim = float(axis[-1])
    for col, (vec, color) in enumerate(((learned, LEARNED_COLOR), (exact, EXACT_COLOR)), start=1):
        fig.add_trace(go.Contour(x=axis.astype(np.float32), y=axis.astype(np.float32), z=rel, colorscale=DENSITY_GREYS, contours={"coloring": "fill", "showlines": False}, ncontours=10,
                                 opacity=0.35,
                                 showscale=False, hoverinfo="skip"), 1, col)
        fig.add_trace(arrow_trace(pts, vec, color=color), 1, col)
        fig.update_xaxes(range=[-lim, lim], constrain="domain", row=1, col=col)
        fig.update_yaxes(range=[-lim, lim], scaleanchor=f"x{col if col > 1 else ''}", scaleratio=1,
                         constrain="domain", row=1, col=col)
    fig.update_layout(**layout_defaults(title, height=480), showlegend=False)
    fig.update_annotations(font_size=FONT["base"])
    return fig


def curves_side_by_side(x: np.ndarray, density: np.ndarray, learned: np.ndarray, exact: np.ndarray,
                        *, title: str = "") -> go.Figure:
    """1D: the learned and exact score curves over x, with p_t shaded on a second axis."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=x, y=density, fill="tozeroy", line={"color": "#CCCCCC"}, name="p_t(x)"),
                  secondary_y=True)
    fig.add_trace(go.Scatter(x=x, y=exact, line={"color": EXACT_COLOR, "width": 3}, name="exact ∇ log p_t"))
    fig.add_trace(go.Scatter(x=x, y=learned, line={"color": LEARNED_COLOR, "width": 3, "dash": "dash"},
                             name="learned s_θ"))
    fig.update_yaxes(title="score", secondary_y=False)
    fig.update_yaxes(title="p_t(x)", secondary_y=True, showgrid=False)
    fig.update_xaxes(title="x")
    fig.update_layout(**layout_defaults(title, height=420), legend={"x": 0.01, "y": 0.99})
    return fig


def error_map(axis: np.ndarray, error: np.ndarray, log_p: np.ndarray, *, title: str = "") -> go.Figure:
    """2D: ||s_θ − ∇ log p_t|| weighted by p_t / max p_t on the grid (axis [G], maps [G, G])."""
    w = np.exp(log_p - log_p.max())
    fig = go.Figure(go.Heatmap(x=axis.astype(np.float32), y=axis.astype(np.float32), z=(error * w).astype(np.float32),
                               colorscale="Inferno", colorbar={"title": {"text": "‖s_θ − ∇log p_t‖ · p_t/max p_t",
                                                                          "side": "right"}, "thickness": 12}))
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_xaxes(constrain="domain")
    fig.update_layout(**layout_defaults(title, height=420))
    return fig


def error_curve(ts: np.ndarray, rms: np.ndarray, rel: np.ndarray, *, title: str = "") -> go.Figure:
    """Error averaged over x_t ~ p_t against t: RMS (log axis) and relative to the exact score's RMS."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=ts, y=rms, mode="lines+markers", name="RMS ‖s_θ − ∇log p_t‖",
                             line={"color": CLASS_COLORS[3], "width": 3}))
    fig.add_trace(go.Scatter(x=ts, y=rel, mode="lines+markers", name="relative to RMS ‖∇log p_t‖",
                             line={"color": CLASS_COLORS[0], "width": 3, "dash": "dot"}), secondary_y=True)
    fig.update_xaxes(title="t")
    fig.update_yaxes(title="RMS error", type="log", exponentformat="power", dtick="D2", secondary_y=False)
    fig.update_yaxes(title="relative error", type="log", exponentformat="power", dtick="D2", secondary_y=True,
                     showgrid=False)
    fig.update_layout(**layout_defaults(title, height=380), legend={"x": 0.35, "y": 0.99})
    return fig
