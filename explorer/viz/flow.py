"""Figures of flows: velocity arrows and streamlines over p_t (next to the score), conditional vs marginal paths,
quality at a few Euler steps per coupling."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .learned import DENSITY_GREYS
from .score import arrow_trace
from .style import CLASS_COLORS, EXACT_COLOR, FONT, LEARNED_COLOR, layout_defaults

STREAM_COLOR = "rgba(0, 114, 178, 0.35)"


def _lines(paths: np.ndarray, *, color: str, width: float = 1.2, name: str = "", dash: str | None = None) -> go.Scatter:
    """Many polylines [S, K, 2] as one trace (NaN-separated)."""
    s, k, _ = paths.shape
    xy = np.full((s, k + 1, 2), np.nan, dtype=np.float32)
    xy[:, :k] = paths
    xy = xy.reshape(-1, 2)
    line = {"color": color, "width": width}
    if dash:
        line["dash"] = dash
    return go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="lines", line=line, name=name, hoverinfo="skip", connectgaps=False)


def field_panels(axis: np.ndarray, log_p: np.ndarray, pts: np.ndarray, panels, *, title: str = "",
                 floor: float = -6.0, height: int = 470) -> go.Figure:
    """2D: one panel per (subtitle, vectors [M, 2] at pts [M, 2], colour, streamlines [S, K, 2] or None, log_p or None)
    over log p_t (axis [G], log_p [G, G]; a panel's own log_p overrides it)."""
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[0] for p in panels], horizontal_spacing=0.03)
    lim = float(axis[-1])
    for col, (_, vec, color, stream, own_log_p) in enumerate(panels, start=1):
        lp = log_p if own_log_p is None else own_log_p
        rel = np.clip(lp - lp.max(), floor, 0).astype(np.float32)
        fig.add_trace(go.Contour(x=axis.astype(np.float32), y=axis.astype(np.float32), z=rel, colorscale=DENSITY_GREYS,
                                 contours={"coloring": "fill", "showlines": False}, ncontours=10, opacity=0.35,
                                 showscale=False, hoverinfo="skip"), 1, col)
        if stream is not None:
            fig.add_trace(_lines(stream, color=STREAM_COLOR, width=1.0, name="streamlines"), 1, col)
        fig.add_trace(arrow_trace(pts, vec, color=color), 1, col)
        fig.update_xaxes(range=[-lim, lim], constrain="domain", row=1, col=col)
        fig.update_yaxes(range=[-lim, lim], scaleanchor=f"x{col if col > 1 else ''}", scaleratio=1,
                         constrain="domain", row=1, col=col)
    fig.update_layout(**layout_defaults(title, height=height), showlegend=False)
    fig.update_annotations(font_size=FONT["base"])
    return fig


def curves_1d(x: np.ndarray, density: np.ndarray, curves, *, title: str = "", y_title: str = "velocity") -> go.Figure:
    """1D: curves (name, values [X], colour, dash) over x with p_t shaded on a second axis."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=x, y=density, fill="tozeroy", line={"color": "#CCCCCC"}, name="p_t(x)"),
                  secondary_y=True)
    for name, values, color, dash in curves:
        fig.add_trace(go.Scatter(x=x, y=values, name=name, line={"color": color, "width": 3, "dash": dash}))
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    fig.update_yaxes(title=y_title, secondary_y=False)
    fig.update_yaxes(title="p_t(x)", secondary_y=True, showgrid=False)
    fig.update_xaxes(title="x")
    fig.update_layout(**layout_defaults(title, height=420), legend={"x": 0.01, "y": 0.99})
    return fig


def paths_figure(conditional: np.ndarray, marginal: np.ndarray, x0: np.ndarray, *, axis=None, log_p0=None,
                 title: str = "", floor: float = -6.0, straight: bool = True) -> go.Figure:
    """2D: conditional paths [K, n, 2] (dashed, x_0 -> its x_T) and the marginal ODE paths [K, n, 2] from the same
    x_T (solid), one colour per particle, over log p_0 when given; x0 [n, 2] marked."""
    fig = go.Figure()
    if axis is not None and log_p0 is not None:
        rel = np.clip(log_p0 - log_p0.max(), floor, 0).astype(np.float32)
        fig.add_trace(go.Contour(x=axis.astype(np.float32), y=axis.astype(np.float32), z=rel, colorscale=DENSITY_GREYS,
                                 contours={"coloring": "fill", "showlines": False}, ncontours=10, opacity=0.35,
                                 showscale=False, hoverinfo="skip"))
    n = conditional.shape[1]
    for i in range(n):
        c = CLASS_COLORS[i % len(CLASS_COLORS)]
        fig.add_trace(go.Scatter(x=conditional[:, i, 0], y=conditional[:, i, 1], mode="lines", hoverinfo="skip",
                                 line={"color": c, "width": 1.5, "dash": "dash"}, legendgroup="cond",
                                 name="conditional path x₀ → x_T" + (" (straight)" if straight else ""),
                                 showlegend=i == 0))
        fig.add_trace(go.Scatter(x=marginal[:, i, 0], y=marginal[:, i, 1], mode="lines", hoverinfo="skip",
                                 line={"color": c, "width": 2.5}, legendgroup="marg",
                                 name="marginal ODE path from the same x_T", showlegend=i == 0))
    fig.add_trace(go.Scatter(x=x0[:, 0], y=x0[:, 1], mode="markers", name="x₀ of the pair",
                             marker={"color": "#222", "size": 7, "symbol": "x"}))
    fig.add_trace(go.Scatter(x=marginal[0, :, 0], y=marginal[0, :, 1], mode="markers", name="x_T (start of both)",
                             marker={"color": "#222", "size": 7, "symbol": "circle-open"}))
    fig.add_trace(go.Scatter(x=marginal[-1, :, 0], y=marginal[-1, :, 1], mode="markers", name="where the ODE lands",
                             marker={"color": EXACT_COLOR, "size": 8, "symbol": "diamond"}))
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_xaxes(constrain="domain")
    fig.update_layout(**layout_defaults(title, height=560), legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.7)"})
    return fig


def few_steps_figure(steps, rows, *, floor: float | None = None, title: str = "") -> go.Figure:
    """Energy distance against Euler steps (log-log) for each row (name, eds [len(steps)]); the noise floor dotted."""
    fig = go.Figure()
    for i, (name, eds) in enumerate(rows):
        fig.add_trace(go.Scatter(x=list(steps), y=[max(float(e), 1e-6) for e in eds], mode="lines+markers", name=name,
                                 line={"color": CLASS_COLORS[i % len(CLASS_COLORS)], "width": 3}))
    if floor is not None:       # a trace, not add_hline: its annotation lands at the wrong height on a log axis
        fig.add_trace(go.Scatter(x=[steps[0], steps[-1]], y=[floor, floor], mode="lines", name="noise floor (two data sets)",
                                 line={"color": "#777", "dash": "dot", "width": 2}, hoverinfo="skip"))
    fig.update_xaxes(title="Euler steps (NFE)", type="log", tickvals=list(steps))
    fig.update_yaxes(title="energy distance to the data", type="log", exponentformat="power")
    fig.update_layout(**layout_defaults(title, height=430), legend={"x": 0.55, "y": 0.99})
    return fig


def velocity_error_map(axis: np.ndarray, error: np.ndarray, log_p: np.ndarray, *, title: str = "") -> go.Figure:
    """2D: ||u_θ − u_t|| weighted by p_t / max p_t on the grid (axis [G], maps [G, G])."""
    w = np.exp(log_p - log_p.max())
    fig = go.Figure(go.Heatmap(x=axis.astype(np.float32), y=axis.astype(np.float32), z=(error * w).astype(np.float32),
                               colorscale="Inferno", colorbar={"title": {"text": "‖u_θ − u_t‖ · p_t/max p_t",
                                                                          "side": "right"}, "thickness": 12}))
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_xaxes(constrain="domain")
    fig.update_layout(**layout_defaults(title, height=440))
    return fig


LEARNED, EXACT = LEARNED_COLOR, EXACT_COLOR
