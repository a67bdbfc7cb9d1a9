"""Figures of learned score fields: the loss curve, learned next to exact arrows, the error map, error over t."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .score import arrow_trace
from .style import CLASS_COLORS, EXACT_COLOR, FONT, LEARNED_COLOR, layout_defaults

DENSITY_GREYS = [[0.0, "#FFFFFF"], [1.0, "#555555"]]    # low density white, high density grey (spelled out)


def loss_figure(steps: np.ndarray, losses, *, title: str = "Training loss") -> go.Figure:
    """The mean loss per reporting interval against the step, log y; losses [K] or {name: [K]} (one curve each)."""
    fig = go.Figure()
    _loss_traces(fig, steps, losses)
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="loss", type="log", exponentformat="power", dtick="D2")
    fig.update_layout(**layout_defaults(title, height=320))
    return fig


def _curves(losses) -> dict[str, np.ndarray]:
    return {"DSM loss": np.asarray(losses)} if not isinstance(losses, dict) else {k: np.asarray(v) for k, v in losses.items()}


def _loss_traces(fig: go.Figure, steps: np.ndarray, losses, **where) -> None:
    """One line per loss curve (the first solid, further ones, e.g. the explicit score-matching loss, dashed)."""
    curves = _curves(losses)
    for i, (name, y) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=steps[: len(y)], y=y, mode="lines+markers" if len(y) < 60 else "lines", name=name,
                                 showlegend=len(curves) > 1, marker={"size": 5},
                                 line={"color": LEARNED_COLOR if i == 0 else CLASS_COLORS[(i + 2) % len(CLASS_COLORS)],
                                       "width": 3, "dash": "solid" if i == 0 else "dash"}), **where)


def distance_traces(fig: go.Figure, steps, distances, floor: float, *, x_end: float | None = None, **where) -> None:
    """Energy distance of the live samples to the data against the step, and the noise floor as a dashed line."""
    d = np.asarray(distances, dtype=np.float64)
    steps = np.asarray(steps)
    fig.add_trace(go.Scatter(x=steps, y=np.where(np.isfinite(d), np.maximum(d, 1e-6), np.nan), mode="lines+markers",
                             name="samples to data", showlegend=False, marker={"size": 6},
                             line={"color": CLASS_COLORS[2], "width": 3}), **where)
    x_end = float(x_end or max(steps.max() if steps.size else 1, 1))
    fig.add_trace(go.Scatter(x=[0, x_end], y=[max(floor, 1e-6)] * 2, mode="lines", name="noise floor",
                             showlegend=False, hoverinfo="skip", line={"color": "#555555", "dash": "dash", "width": 2}),
                  **where)


def training_figure(steps: np.ndarray, losses, ed_steps, distances, floor: float, *, title: str = "",
                    total_steps: int | None = None) -> go.Figure:
    """Left: the loss curve(s) (log y; losses [K] or {name: [K]}); right: the energy distance of the live samples
    (one fixed noise batch) to the data at ed_steps, falling towards the noise floor (dashed; two fresh data sets).
    total_steps fixes both step axes to [0, total_steps] (the charts fill in, they do not rescale)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("training loss", "energy distance of the samples to the data"))
    fig.update_annotations(font_size=FONT["base"])
    _loss_traces(fig, steps, losses, row=1, col=1)
    distance_traces(fig, ed_steps, distances, floor, x_end=total_steps, row=1, col=2)
    fig.add_annotation(x=0, y=float(np.log10(max(floor, 1e-6))), xref="x2", yref="y2", text="noise floor",
                       showarrow=False, xanchor="left", yanchor="top", font={"size": FONT["small"], "color": "#555"})
    for col, name in ((1, "loss"), (2, None)):          # the right panel's title names its axis
        fig.update_xaxes(title="step", row=1, col=col, **({"range": [0, total_steps]} if total_steps else {}))
        fig.update_yaxes(title=name, type="log", exponentformat="power", dtick="D2", row=1, col=col)
    fig.update_layout(**layout_defaults(title, height=330), legend={"x": 0.01, "y": 0.99})
    return fig


def samples_traces(fig: go.Figure, samples: np.ndarray | None, data: np.ndarray, **where) -> None:
    """Samples (blue) over data (grey): a scatter in 2D, two density histograms in 1D."""
    if data.shape[1] == 1:
        lo, hi = float(np.quantile(data, 0.001)), float(np.quantile(data, 0.999))
        pad = 0.15 * (hi - lo)
        bins = {"start": lo - pad, "end": hi + pad, "size": (hi - lo + 2 * pad) / 60}     # the same bins for both
        fig.add_trace(go.Histogram(x=data[:, 0], histnorm="probability density", name="data", xbins=bins,
                                   marker={"color": "#BBBBBB"}, opacity=0.7, showlegend=False), **where)
        if samples is not None and len(samples):
            fig.add_trace(go.Histogram(x=samples[:, 0], histnorm="probability density", name="live samples",
                                       xbins=bins, marker={"color": LEARNED_COLOR}, opacity=0.6, showlegend=False),
                          **where)
        return
    fig.add_trace(go.Scatter(x=data[:, 0].astype(np.float32), y=data[:, 1].astype(np.float32), mode="markers",
                             name="data", hoverinfo="skip", showlegend=False,
                             marker={"size": 6, "color": "#C8C8C8"}), **where)      # larger: it shows round good samples
    s = samples if samples is not None and len(samples) else np.zeros((0, 2))
    fig.add_trace(go.Scatter(x=s[:, 0].astype(np.float32), y=s[:, 1].astype(np.float32), mode="markers",
                             name="live samples", hoverinfo="skip", showlegend=False,
                             marker={"size": 3.5, "color": LEARNED_COLOR, "opacity": 0.7}), **where)


def fields_side_by_side(axis: np.ndarray, log_p: np.ndarray, pts: np.ndarray, learned: np.ndarray,
                        exact: np.ndarray, *, title: str = "", floor: float = -6.0,
                        titles: tuple[str, str] = ("learned score s_θ(x, t)", "exact score ∇ log p_t(x)"),
                        samples: np.ndarray | None = None, data: np.ndarray | None = None,
                        samples_title: str = "samples") -> go.Figure:
    """2D: learned (left) and exact (right) arrows (vectors [M, 2] at pts [M, 2]) over log p_t (axis [G], log_p [G, G]);
    with data [K, 2], a third panel of samples [n, 2] (blue) over the data (grey)."""
    cols = 2 if data is None else 3
    fig = make_subplots(rows=1, cols=cols, subplot_titles=(*titles, samples_title)[:cols], horizontal_spacing=0.04)
    rel = np.clip(log_p - log_p.max(), floor, 0).astype(np.float32)
    lim = float(axis[-1])
    for col, (vec, color) in enumerate(((learned, LEARNED_COLOR), (exact, EXACT_COLOR)), start=1):
        fig.add_trace(go.Contour(x=axis.astype(np.float32), y=axis.astype(np.float32), z=rel, colorscale=DENSITY_GREYS, contours={"coloring": "fill", "showlines": False}, ncontours=10,
                                 opacity=0.35,
                                 showscale=False, hoverinfo="skip"), 1, col)
        fig.add_trace(arrow_trace(pts, vec, color=color), 1, col)
    if data is not None:
        samples_traces(fig, samples, data, row=1, col=3)
    for col in range(1, cols + 1):
        fig.update_xaxes(range=[-lim, lim], constrain="domain", row=1, col=col)
        fig.update_yaxes(range=[-lim, lim], scaleanchor=f"x{col if col > 1 else ''}", scaleratio=1,
                         constrain="domain", showticklabels=col == 1, row=1, col=col)
    fig.update_layout(**layout_defaults(title, height=480 if cols == 2 else 420), showlegend=False)
    fig.update_annotations(font_size=FONT["base"])
    return fig


def curves_side_by_side(x: np.ndarray, density: np.ndarray, learned: np.ndarray, exact: np.ndarray,
                        *, title: str = "", samples: np.ndarray | None = None, data: np.ndarray | None = None,
                        samples_title: str = "samples") -> go.Figure:
    """1D: the learned and exact score curves over x, with p_t shaded on a second axis; with data [K, 1], a second
    panel of the samples' histogram [n, 1] over the data's."""
    cols = 1 if data is None else 2
    specs = [[{"secondary_y": True}] + ([{}] if cols == 2 else [])]
    fig = make_subplots(rows=1, cols=cols, specs=specs, horizontal_spacing=0.1,
                        subplot_titles=("score at t", samples_title) if cols == 2 else None,
                        column_widths=[0.62, 0.38] if cols == 2 else None)
    fig.add_trace(go.Scatter(x=x, y=density, fill="tozeroy", line={"color": "#CCCCCC"}, name="p_t(x)"),
                  row=1, col=1, secondary_y=True)
    fig.add_trace(go.Scatter(x=x, y=exact, line={"color": EXACT_COLOR, "width": 3}, name="exact ∇ log p_t"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=learned, line={"color": LEARNED_COLOR, "width": 3, "dash": "dash"},
                             name="learned s_θ"), row=1, col=1)
    fig.update_yaxes(title="score", secondary_y=False, row=1, col=1)
    fig.update_yaxes(title="p_t(x)", secondary_y=True, showgrid=False, row=1, col=1)
    fig.update_xaxes(title="x", row=1, col=1)
    if cols == 2:
        samples_traces(fig, samples, data, row=1, col=2)
        fig.update_layout(barmode="overlay")
        fig.update_xaxes(title="x", range=[float(x[0]), float(x[-1])], row=1, col=2)
        fig.update_annotations(font_size=FONT["base"])
    fig.update_layout(**layout_defaults(title, height=420), legend={"x": 0.01, "y": 0.99})
    return fig


def error_map(axis: np.ndarray, error: np.ndarray, log_p: np.ndarray, *, title: str = "",
              reference: str = "the exact score") -> go.Figure:
    """2D, two panels: ||s_θ − ∇ log p_t|| weighted by p_t / max p_t (where samples go), and unweighted on a log colour
    scale (far from the data too); axis [G], maps [G, G]."""
    w = np.exp(log_p - log_p.max())
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("weighted by p_t (where x_t lands)", f"not weighted, log₁₀ (reference: {reference})"))
    xy = dict(x=axis.astype(np.float32), y=axis.astype(np.float32))
    fig.add_trace(go.Heatmap(**xy, z=(error * w).astype(np.float32), colorscale="Inferno",
                             colorbar={"title": {"text": "· p_t/max", "side": "right"}, "thickness": 10, "x": 0.44}), 1, 1)
    fig.add_trace(go.Heatmap(**xy, z=np.log10(np.maximum(error, 1e-6)).astype(np.float32), colorscale="Magma",
                             colorbar={"title": {"text": "log₁₀", "side": "right"}, "thickness": 10}), 1, 2)
    for col in (1, 2):
        fig.update_yaxes(scaleanchor=f"x{col if col > 1 else ''}", scaleratio=1, constrain="domain", row=1, col=col)
        fig.update_xaxes(constrain="domain", row=1, col=col)
    fig.update_layout(**layout_defaults(title, height=420))
    fig.update_annotations(font_size=FONT["small"])
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
