"""Small figures for the course (explorer.lessons): point clouds, curves and bars, in the app's one look."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import CLASS_COLORS, EXACT_COLOR, FONT, LEARNED_COLOR, layout_defaults

GREY = "#BBBBBB"
HEIGHT = 420


def clouds_figure(panels: list[tuple[str, np.ndarray, np.ndarray | None]], *, background: np.ndarray | None = None,
                  half_width: float | list[float] = 3.5, title: str = "", marker_size: float = 4.0) -> go.Figure:
    """Point clouds side by side: each panel (title, points [N, 2], class labels [N] or None) over grey background
    points [M, 2]; square axes of half-width half_width (one per panel, or shared)."""
    k = len(panels)
    halves = half_width if isinstance(half_width, (list, tuple)) else [half_width] * k
    fig = make_subplots(rows=1, cols=k, subplot_titles=[p[0] for p in panels], horizontal_spacing=0.04)
    for i, (_, x, labels) in enumerate(panels):
        if background is not None:
            fig.add_trace(go.Scattergl(x=background[:, 0], y=background[:, 1], mode="markers", name="data",
                                       marker={"size": 3, "color": GREY}, showlegend=i == 0, hoverinfo="skip"),
                          1, i + 1)
        colors = CLASS_COLORS[0] if labels is None else [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in labels]
        fig.add_trace(go.Scattergl(x=x[:, 0], y=x[:, 1], mode="markers", name="samples", showlegend=i == 0,
                                   marker={"size": marker_size, "color": colors, "opacity": 0.75}, hoverinfo="skip"),
                      1, i + 1)
        h = float(halves[i])
        fig.update_xaxes(range=[-h, h], constrain="domain", row=1, col=i + 1)
        fig.update_yaxes(range=[-h, h], scaleanchor=f"x{i + 1 if i else ''}", scaleratio=1, constrain="domain",
                         row=1, col=i + 1)
    fig.update_layout(**layout_defaults(title, height=HEIGHT), legend={"orientation": "h", "y": -0.1})
    fig.update_annotations(font_size=FONT["base"])
    return fig


def curves_figure(x: np.ndarray, series: list[tuple[str, np.ndarray]], *, x_title: str, y_title: str,
                  title: str = "", log_y: bool = False, log_x: bool = False, hlines: list[tuple[float, str]] = (),
                  vline: tuple[float, str] | None = None, dashed: tuple[str, ...] = (),
                  markers: bool = False) -> go.Figure:
    """Curves y(x) on one chart (series: (name, y [len(x)])), with labelled horizontal lines and one vertical line."""
    fig = go.Figure()
    for i, (name, y) in enumerate(series):
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines+markers" if markers else "lines",
                                 line={"color": CLASS_COLORS[i % len(CLASS_COLORS)], "width": 3,
                                       "dash": "dash" if name in dashed else "solid"}))
    for y, label in hlines:     # a trace, not add_hline: its annotation lands at the wrong height on a log axis
        fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[y, y], mode="lines", name=label, hoverinfo="skip",
                                 line={"dash": "dot", "color": "#555", "width": 2}))
    if vline is not None:
        fig.add_vline(x=vline[0], line={"dash": "dot", "color": EXACT_COLOR, "width": 2}, annotation_text=vline[1],
                      annotation_position="top left")
    fig.update_xaxes(title=x_title, type="log" if log_x else "linear")
    fig.update_yaxes(title=y_title, type="log" if log_y else "linear", exponentformat="power")
    fig.update_layout(**layout_defaults(title, height=HEIGHT), legend={"orientation": "h", "y": -0.2})
    return fig


def cloud_and_curve(cloud: tuple[str, np.ndarray, np.ndarray | None], half_width: float, x: np.ndarray,
                    series: list[tuple[str, np.ndarray]], *, x_title: str, y_title: str, title: str = "",
                    log_y: bool = False, marker: tuple[float, float] | None = None,
                    hlines: list[tuple[float, str]] = ()) -> go.Figure:
    """A point cloud (left) next to curves (right), with one highlighted point on the curves."""
    name, pts, labels = cloud
    fig = make_subplots(rows=1, cols=2, subplot_titles=[name, y_title], horizontal_spacing=0.1,
                        column_widths=[0.45, 0.55])
    colors = CLASS_COLORS[0] if labels is None else [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in labels]
    fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", marker={"size": 3.5, "color": colors,
                                                                              "opacity": 0.7},
                               hoverinfo="skip", showlegend=False), 1, 1)
    fig.update_xaxes(range=[-half_width, half_width], constrain="domain", row=1, col=1)
    fig.update_yaxes(range=[-half_width, half_width], scaleanchor="x", scaleratio=1, constrain="domain", row=1, col=1)
    for i, (sname, y) in enumerate(series):
        fig.add_trace(go.Scatter(x=x, y=y, name=sname, line={"color": CLASS_COLORS[i % len(CLASS_COLORS)],
                                                             "width": 3}), 1, 2)
    for y, label in hlines:     # a trace, not add_hline (see curves_figure)
        fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[y, y], mode="lines", name=label, hoverinfo="skip",
                                 line={"dash": "dot", "color": "#555", "width": 2}), 1, 2)
    if marker is not None:
        fig.add_trace(go.Scatter(x=[marker[0]], y=[marker[1]], mode="markers", name="now",
                                 marker={"size": 14, "color": EXACT_COLOR, "symbol": "diamond"}), 1, 2)
    fig.update_xaxes(title=x_title, row=1, col=2)
    fig.update_yaxes(type="log" if log_y else "linear", exponentformat="power", row=1, col=2)
    fig.update_layout(**layout_defaults(title, height=HEIGHT), legend={"orientation": "h", "y": -0.2})
    fig.update_annotations(font_size=FONT["base"])
    return fig


def bars_and_clouds(panels: list[tuple[str, np.ndarray]], background: np.ndarray, half_width: float,
                    categories: list[str], bars: list[tuple[str, np.ndarray]], *, title: str = "",
                    bar_title: str = "") -> go.Figure:
    """Sample clouds (one panel each, over grey data) and a grouped bar chart (e.g. the share of each mode)."""
    k = len(panels)
    fig = make_subplots(rows=1, cols=k + 1, subplot_titles=[p[0] for p in panels] + [bar_title],
                        horizontal_spacing=0.05)
    for i, (_, x) in enumerate(panels):
        fig.add_trace(go.Scattergl(x=background[:, 0], y=background[:, 1], mode="markers", showlegend=False,
                                   marker={"size": 3, "color": GREY}, hoverinfo="skip"), 1, i + 1)
        fig.add_trace(go.Scattergl(x=x[:, 0], y=x[:, 1], mode="markers", showlegend=False,
                                   marker={"size": 3.5, "color": CLASS_COLORS[i], "opacity": 0.7}, hoverinfo="skip"),
                      1, i + 1)
        fig.update_xaxes(range=[-half_width, half_width], constrain="domain", row=1, col=i + 1)
        fig.update_yaxes(range=[-half_width, half_width], scaleanchor=f"x{i + 1 if i else ''}", scaleratio=1,
                         constrain="domain", row=1, col=i + 1)
    for j, (name, values) in enumerate(bars):
        color = "#555555" if j == 0 else CLASS_COLORS[(j - 1) % len(CLASS_COLORS)]
        fig.add_trace(go.Bar(x=categories, y=values, name=name, marker_color=color), 1, k + 1)
    fig.update_layout(**layout_defaults(title, height=HEIGHT), barmode="group", legend={"orientation": "h", "y": -0.15})
    fig.update_annotations(font_size=FONT["base"])
    return fig


def histograms_figure(x: np.ndarray, density: np.ndarray, samples: list[tuple[str, np.ndarray]], *, title: str = "",
                      bins: int = 60) -> go.Figure:
    """1D: the exact density p(x) (line) over normalised histograms of sample sets."""
    fig = go.Figure()
    edges = np.linspace(float(x[0]), float(x[-1]), bins + 1)
    for i, (name, s) in enumerate(samples):
        h, _ = np.histogram(s, bins=edges, density=True)
        fig.add_trace(go.Bar(x=0.5 * (edges[1:] + edges[:-1]), y=h, name=name, opacity=0.55,
                             marker_color=CLASS_COLORS[i % len(CLASS_COLORS)]))
    fig.add_trace(go.Scatter(x=x, y=density, name="exact p₀", line={"color": EXACT_COLOR, "width": 3}))
    fig.update_xaxes(title="x")
    fig.update_yaxes(title="density")
    fig.update_layout(**layout_defaults(title, height=HEIGHT), barmode="overlay", bargap=0,
                      legend={"orientation": "h", "y": -0.2})
    return fig


def heatmap_figure(axis: np.ndarray, z: np.ndarray, *, title: str = "", colorbar: str = "", log: bool = True,
                   overlay: np.ndarray | None = None) -> go.Figure:
    """A square map z [G, G] on axis [G] (log10 colour scale when log), with optional points [N, 2] on top."""
    zz = np.log10(np.maximum(z, 1e-12)) if log else z
    fig = go.Figure(go.Heatmap(x=axis, y=axis, z=zz.astype(np.float32), colorscale="Magma", hoverinfo="skip",
                               colorbar={"title": {"text": colorbar, "side": "right"}, "thickness": 14}))
    if overlay is not None:
        fig.add_trace(go.Scattergl(x=overlay[:, 0], y=overlay[:, 1], mode="markers", hoverinfo="skip",
                                   marker={"size": 3, "color": "#9ecae1", "opacity": 0.6}, showlegend=False))
    lim = float(axis[-1])
    fig.update_xaxes(range=[-lim, lim], constrain="domain")
    fig.update_yaxes(range=[-lim, lim], scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_layout(**layout_defaults(title, height=HEIGHT + 40))
    return fig


def arrows_figure(background: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, half_width: float,
                  title: str = "", start_name: str = "x_t", end_name: str = "x̂₀") -> go.Figure:
    """Segments from starts [N, 2] to ends [N, 2] (e.g. x_t to its denoised x̂₀) over grey data points [M, 2]."""
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=background[:, 0], y=background[:, 1], mode="markers", name="data x₀",
                               marker={"size": 3, "color": GREY}, hoverinfo="skip"))
    xs = np.stack([starts[:, 0], ends[:, 0], np.full(len(starts), np.nan)], 1).reshape(-1)
    ys = np.stack([starts[:, 1], ends[:, 1], np.full(len(starts), np.nan)], 1).reshape(-1)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#666", "width": 1}, hoverinfo="skip",
                             showlegend=False))
    fig.add_trace(go.Scattergl(x=starts[:, 0], y=starts[:, 1], mode="markers", name=start_name,
                               marker={"size": 5, "color": LEARNED_COLOR}, hoverinfo="skip"))
    fig.add_trace(go.Scattergl(x=ends[:, 0], y=ends[:, 1], mode="markers", name=end_name,
                               marker={"size": 6, "color": EXACT_COLOR, "symbol": "x"}, hoverinfo="skip"))
    fig.update_xaxes(range=[-half_width, half_width], constrain="domain")
    fig.update_yaxes(range=[-half_width, half_width], scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_layout(**layout_defaults(title, height=HEIGHT + 40), legend={"orientation": "h", "y": -0.1})
    return fig


def image_rows_figure(rows: list[tuple[str, np.ndarray]], *, title: str = "") -> go.Figure:
    """Rows of images: each (title, an RGB strip uint8 [H, W, 3]) stacked vertically, titled above."""
    fig = make_subplots(rows=len(rows), cols=1, subplot_titles=[r[0] for r in rows], vertical_spacing=0.1)
    for i, (_, img) in enumerate(rows):
        fig.add_trace(go.Image(z=img, hoverinfo="skip"), i + 1, 1)
        fig.update_xaxes(visible=False, row=i + 1, col=1)
        fig.update_yaxes(visible=False, row=i + 1, col=1)
    fig.update_layout(**layout_defaults(title, height=130 * len(rows) + 80))
    fig.update_annotations(font_size=FONT["base"])
    return fig


def pairs_figure(panels: list[tuple[str, np.ndarray, np.ndarray]], background: np.ndarray, *, half_width: float,
                 title: str = "") -> go.Figure:
    """Side by side: each panel (title, x0 [K, 2], eps [K, 2]) draws the straight segments x0 -> eps over grey data."""
    k = len(panels)
    fig = make_subplots(rows=1, cols=k, subplot_titles=[p[0] for p in panels], horizontal_spacing=0.04)
    for i, (_, a, b) in enumerate(panels):
        fig.add_trace(go.Scattergl(x=background[:, 0], y=background[:, 1], mode="markers", showlegend=False,
                                   marker={"size": 3, "color": GREY}, hoverinfo="skip"), 1, i + 1)
        xs = np.stack([a[:, 0], b[:, 0], np.full(len(a), np.nan)], 1).reshape(-1)
        ys = np.stack([a[:, 1], b[:, 1], np.full(len(a), np.nan)], 1).reshape(-1)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": LEARNED_COLOR, "width": 1}, hoverinfo="skip",
                                 name="x₀ → ε", showlegend=i == 0), 1, i + 1)
        fig.add_trace(go.Scatter(x=b[:, 0], y=b[:, 1], mode="markers", marker={"size": 5, "color": EXACT_COLOR},
                                 name="ε", showlegend=i == 0, hoverinfo="skip"), 1, i + 1)
        fig.update_xaxes(range=[-half_width, half_width], constrain="domain", row=1, col=i + 1)
        fig.update_yaxes(range=[-half_width, half_width], scaleanchor=f"x{i + 1 if i else ''}", scaleratio=1,
                         constrain="domain", row=1, col=i + 1)
    fig.update_layout(**layout_defaults(title, height=HEIGHT), legend={"orientation": "h", "y": -0.1})
    fig.update_annotations(font_size=FONT["base"])
    return fig
