"""Figures of samplers: final samples over the data, quality against NFE, 1D paths over the density river."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import CLASS_COLORS, FONT, layout_defaults


def final_samples_figure(panels: list[tuple[str, np.ndarray]], data: np.ndarray, *, half_width: float = 3.5,
                         title: str = "") -> go.Figure:
    """Each sampler's final samples [N, 2] (coloured) over fresh data [M, 2] (grey), one panel per sampler."""
    k = len(panels)
    fig = make_subplots(rows=1, cols=k, subplot_titles=[name for name, _ in panels], horizontal_spacing=0.02)
    for i, (_, x) in enumerate(panels):
        fig.add_trace(go.Scattergl(x=data[:, 0], y=data[:, 1], mode="markers", name="data",
                                   marker={"size": 3, "color": "#BBBBBB"}, showlegend=i == 0, hoverinfo="skip"), 1, i + 1)
        fig.add_trace(go.Scattergl(x=x[:, 0], y=x[:, 1], mode="markers", name="samples",
                                   marker={"size": 3, "color": CLASS_COLORS[0], "opacity": 0.7},
                                   showlegend=i == 0, hoverinfo="skip"), 1, i + 1)
        fig.update_xaxes(range=[-half_width, half_width], constrain="domain", row=1, col=i + 1)
        fig.update_yaxes(range=[-half_width, half_width], scaleanchor=f"x{i + 1 if i else ''}", scaleratio=1,
                         constrain="domain", showticklabels=i == 0, row=1, col=i + 1)
    fig.update_layout(**layout_defaults(title, height=360), legend={"orientation": "h", "y": -0.08})
    fig.update_annotations(font_size=FONT["base"])
    return fig


def quality_figure(rows: list[dict], floor: float, *, title: str = "") -> go.Figure:
    """Energy distance to the data against NFE (log-log), one line per sampler, the noise floor dashed."""
    fig = go.Figure()
    names = list(dict.fromkeys(r["sampler"] for r in rows))
    for i, name in enumerate(names):
        rs = [r for r in rows if r["sampler"] == name]
        fig.add_trace(go.Scatter(x=[r["nfe"] for r in rs], y=[max(r["energy"], 1e-6) for r in rs],
                                 mode="lines+markers", name=name, text=[f"{r['steps']} steps" for r in rs],
                                 line={"color": CLASS_COLORS[i % len(CLASS_COLORS)], "width": 3}, marker={"size": 8}))
    fig.add_hline(y=max(floor, 1e-6), line={"dash": "dash", "color": "#555"},
                  annotation_text="noise floor (two data sets)", annotation_position="bottom left")
    fig.update_xaxes(type="log", title="score evaluations (NFE)")
    fig.update_yaxes(type="log", title="energy distance to data", exponentformat="power")
    fig.update_layout(**layout_defaults(title, height=420))
    return fig


def paths_over_river(panels: list[tuple[str, np.ndarray, np.ndarray]], xs: np.ndarray, ts: np.ndarray,
                     density: np.ndarray, *, title: str = "") -> go.Figure:
    """1D: for each sampler (name, times [S+1], paths [S+1, P]) its paths over the exact river p_t(x) (density [F, G])."""
    k = len(panels)
    fig = make_subplots(rows=k, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[name for name, _, _ in panels])
    col_max = density.max(axis=1, keepdims=True)
    z = (density / np.where(col_max > 0, col_max, 1)).T.astype(np.float32)
    for i, (_, t, paths) in enumerate(panels):
        fig.add_trace(go.Heatmap(x=ts.astype(np.float32), y=xs.astype(np.float32), z=z, colorscale="Viridis",
                                 zmin=0, zmax=1, showscale=i == 0, hoverinfo="skip",
                                 colorbar={"title": {"text": "p_t / max", "side": "right"}, "thickness": 12}), i + 1, 1)
        for j in range(paths.shape[1]):
            fig.add_trace(go.Scatter(x=t.astype(np.float32), y=paths[:, j].astype(np.float32), mode="lines",
                                     line={"color": "white", "width": 1.4}, opacity=0.9, hoverinfo="skip",
                                     showlegend=False), i + 1, 1)
        fig.update_yaxes(title="x", range=[float(xs[0]), float(xs[-1])], row=i + 1, col=1)
    fig.update_xaxes(title="t  (samplers run from t = 1 down to 0)", row=k, col=1)
    fig.update_xaxes(range=[float(ts[-1]), float(ts[0])] if ts[0] > ts[-1] else [float(ts[0]), float(ts[-1])])
    fig.update_layout(**layout_defaults(title, height=260 * k + 80), showlegend=False)
    fig.update_annotations(font_size=FONT["base"])
    return fig
