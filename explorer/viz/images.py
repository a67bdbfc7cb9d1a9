"""Figures of noised images: a row of x_t at several t, and the pixel histogram against N(0, sigma^2)."""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from .style import CLASS_COLORS, EXACT_COLOR, FONT, layout_defaults


def png_data_uri(img: np.ndarray, max_side: int = 256) -> str:
    """uint8 [H, W, 3] -> 'data:image/png;base64,...' (downscaled for display; PNG keeps the payload small)."""
    im = Image.fromarray(img)
    if max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def image_row_figure(images: np.ndarray, ts: list[float], *, title: str = "") -> go.Figure:
    """images uint8 [K, H, W, 3] side by side, each titled with its t."""
    k = len(images)
    fig = make_subplots(rows=1, cols=k, subplot_titles=[f"t = {t:.2f}" for t in ts], horizontal_spacing=0.01)
    for i, img in enumerate(images):
        fig.add_trace(go.Image(source=png_data_uri(img), hoverinfo="skip"), 1, i + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(**layout_defaults(title, height=300))
    fig.update_annotations(font_size=FONT["base"])
    return fig


def histogram_figure(centres: np.ndarray, density: np.ndarray, gaussian: np.ndarray, t: float, sigma: float,
                     *, title: str = "") -> go.Figure:
    """Pixel-value density of x_t (bars) and the N(0, sigma(t)^2) density (curve)."""
    fig = go.Figure()
    width = float(centres[1] - centres[0]) if len(centres) > 1 else 1.0
    fig.add_trace(go.Bar(x=centres.astype(np.float32), y=density.astype(np.float32), width=width,
                         marker={"color": CLASS_COLORS[0], "opacity": 0.6}, name=f"pixels of x_t, t = {t:.2f}"))
    fig.add_trace(go.Scatter(x=centres.astype(np.float32), y=gaussian.astype(np.float32), mode="lines",
                             line={"color": EXACT_COLOR, "width": 3}, name=f"N(0, σ²), σ = {sigma:.3g}"))
    fig.update_layout(**layout_defaults(title, height=300), bargap=0,
                      legend={"x": 0.99, "xanchor": "right", "y": 0.98, "bgcolor": "rgba(255,255,255,0.8)"})
    fig.update_xaxes(title="pixel value")
    fig.update_yaxes(title="density")
    return fig


def image_grid(x: np.ndarray, ncol: int, *, scale: int = 4, pad: int = 1, pad_value: int = 255) -> np.ndarray:
    """Images x [N, C, H, W] in [-1, 1] tiled ncol to a row, each upscaled `scale`x (nearest): -> uint8 [H', W', 3]."""
    x = np.clip((np.asarray(x, dtype=np.float32) + 1.0) * 127.5, 0, 255).astype(np.uint8)
    n, c, h, w = x.shape
    if c == 1:
        x = np.repeat(x, 3, axis=1)
    x = x.transpose(0, 2, 3, 1).repeat(scale, 1).repeat(scale, 2)              # [N, sH, sW, 3]
    nrow = -(-n // ncol)
    hh, ww = h * scale + pad, w * scale + pad
    out = np.full((nrow * hh + pad, ncol * ww + pad, 3), pad_value, dtype=np.uint8)
    for k in range(n):
        r, q = divmod(k, ncol)
        out[pad + r * hh: pad + r * hh + h * scale, pad + q * ww: pad + q * ww + w * scale] = x[k]
    return out


def image_pair_animation(left: list[np.ndarray], right: list[np.ndarray], labels: list[str], *,
                         titles: tuple[str, str], title: str = "") -> dict:
    """Figure dict: two images (uint8 [H, W, 3] per frame) side by side, advanced by one slider / Play button."""
    from .animation import play_controls, template_json

    def img(a, axis):
        return {"type": "image", "source": png_data_uri(a, max_side=4096), "xaxis": "x" + axis, "yaxis": "y" + axis,
                "hoverinfo": "skip"}

    names = [str(k) for k in range(len(left))]
    frames = [{"name": names[k], "data": [img(left[k], ""), img(right[k], "2")], "traces": [0, 1]}
              for k in range(len(left))]
    axis = {"visible": False}
    layout = {**layout_defaults(title), "template": template_json(),
              **play_controls(names, labels, prefix="t = ", duration_ms=120),
              "xaxis": {**axis, "domain": [0.0, 0.49]}, "yaxis": {**axis, "scaleanchor": "x", "autorange": "reversed"},
              "xaxis2": {**axis, "domain": [0.51, 1.0]}, "yaxis2": {**axis, "scaleanchor": "x2", "autorange": "reversed"},
              "annotations": [{"text": t, "showarrow": False, "xref": "paper", "yref": "paper", "x": x, "y": 1.0,
                               "yanchor": "bottom", "font": {"size": FONT["base"]}}
                              for t, x in zip(titles, (0.245, 0.755))]}
    layout["margin"] = {**layout["margin"], "t": 70}
    return {"data": frames[0]["data"], "layout": layout, "frames": frames}


def pair_frame(left: np.ndarray, right: np.ndarray, *, gap: int = 12) -> np.ndarray:
    """Two uint8 images [H, W, 3] of one height side by side with a white gap: -> [H, W1 + gap + W2, 3]."""
    if left.shape[0] != right.shape[0]:
        raise ValueError(f"images of different heights: {left.shape[0]} and {right.shape[0]}")
    white = np.full((left.shape[0], gap, 3), 255, dtype=np.uint8)
    return np.concatenate([left, white, right], axis=1)
