"""Figures of the forward process: the 1D density river and the schedule panel."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import CLASS_COLORS, FONT, layout_defaults


def river_figure(ts: np.ndarray, xs: np.ndarray, density: np.ndarray, paths: np.ndarray | None = None,
                 *, title: str = "", path_name: str = "forward paths", path_color: str = "white") -> go.Figure:
    """Heatmap of p_t(x) / max_x p_t over (t [F], x [G]) with density [F, G], and paths [F, P] drawn on top."""
    col_max = density.max(axis=1, keepdims=True)
    z = (density / np.where(col_max > 0, col_max, 1)).T.astype(np.float32)      # [G, F]
    fig = go.Figure(go.Heatmap(x=ts.astype(np.float32), y=xs.astype(np.float32), z=z, colorscale="Viridis",
                               zmin=0, zmax=1, colorbar={"title": {"text": "p_t(x) / max p_t", "side": "right"},
                                                          "thickness": 14}, hoverinfo="skip"))
    if paths is not None:
        for k in range(paths.shape[1]):
            fig.add_trace(go.Scatter(x=ts.astype(np.float32), y=paths[:, k].astype(np.float32), mode="lines",
                                     line={"color": path_color, "width": 1.6}, opacity=0.85, hoverinfo="skip",
                                     name=path_name, showlegend=k == 0))
    fig.update_layout(**layout_defaults(title, height=460),
                      legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.7)"})
    fig.update_xaxes(title="t  (0 = data, 1 = noise)", range=[float(ts[0]), float(ts[-1])])
    fig.update_yaxes(title="x", range=[float(xs[0]), float(xs[-1])])
    return fig


def schedule_figure(t: np.ndarray, alpha: np.ndarray, sigma: np.ndarray, snr: np.ndarray,
                    steps: np.ndarray, beta: np.ndarray | None, sigma_i: np.ndarray, *, title: str = "") -> go.Figure:
    """Four panels: alpha(t) and sigma(t); SNR(t) on a log axis; DDPM beta_i (VP kinds) or the noise levels sigma_i."""
    right = "DDPM β_i (N = %d)" % len(steps) if beta is not None else "noise levels σ(t_i) (N = %d)" % len(steps)
    fig = make_subplots(rows=1, cols=3, subplot_titles=("α(t) and σ(t)", "SNR(t) = α²/σ²", right),
                        horizontal_spacing=0.08)
    fig.add_trace(go.Scatter(x=t, y=alpha, name="α(t)", line={"color": CLASS_COLORS[0], "width": 3}), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=sigma, name="σ(t)", line={"color": CLASS_COLORS[3], "width": 3}), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=snr, name="SNR(t)", showlegend=False, line={"color": CLASS_COLORS[2], "width": 3}), 1, 2)
    y_right = beta if beta is not None else sigma_i
    fig.add_trace(go.Scatter(x=steps, y=y_right, name="β_i" if beta is not None else "σ(t_i)", showlegend=False,
                             line={"color": CLASS_COLORS[4], "width": 3}), 1, 3)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=2)
    if beta is None:
        fig.update_yaxes(type="log", exponentformat="power", row=1, col=3)
    fig.update_xaxes(title="t", row=1, col=1)
    fig.update_xaxes(title="t", row=1, col=2)
    fig.update_xaxes(title="step i", row=1, col=3)
    fig.update_layout(**layout_defaults(title, height=330), legend={"x": 0.2, "y": 0.5, "xanchor": "left",
                                                                      "bgcolor": "rgba(255,255,255,0.8)"})
    fig.update_annotations(font_size=FONT["base"])
    return fig
