"""Animated plotly figures (frames + play/pause + time slider) and the HTML page that makes them play.

gr.Plot drops plotly frames (shared/FACTS.md), so animations are served as a full plotly page inside an
<iframe srcdoc>, with plotly.js from the installed plotly package (no CDN), or inlined for a standalone file.
Frames are plain dicts (plotly's object validation costs ~20 ms a frame) and particle coordinates travel as
int16 with a scale (half the bytes of float32; error <= range / 65534), decoded by the page's own script.
"""
from __future__ import annotations

import base64
import html
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio

from .style import CLASS_COLORS, FONT, layout_defaults

PLOTLY_JS_DIR = Path(plotly.__file__).parent / "package_data"
PLOTLY_JS = PLOTLY_JS_DIR / "plotly.min.js"


def quantized(a: np.ndarray) -> dict:
    """float array -> {"dxq": "i2", "scale", "bdata"}: int16 round(a / scale), scale = max|a| / 32767."""
    a = np.asarray(a, dtype=np.float64)
    amax = float(np.abs(a).max()) if a.size else 0.0
    scale = amax / 32767 if amax > 0 else 1.0
    q = np.round(a / scale).astype("<i2")
    return {"dxq": "i2", "scale": scale, "bdata": base64.b64encode(q.tobytes()).decode("ascii")}


def typed(a: np.ndarray, dtype: str = "f4") -> dict:
    """A plotly typed array {"dtype", "bdata"[, "shape"]} (plotly.js decodes it natively)."""
    a = np.ascontiguousarray(a, dtype={"f4": "<f4", "u1": "u1"}[dtype])
    out = {"dtype": dtype, "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    if a.ndim > 1:
        out["shape"] = ", ".join(str(s) for s in a.shape)
    return out


def play_controls(frame_names: list[str], labels: list[str], *, duration_ms: int = 80, prefix: str = "t = ") -> dict:
    """Layout pieces: Play/Pause buttons and a slider with one step per frame."""
    def frame_args(duration, redraw=True):
        return {"frame": {"duration": duration, "redraw": redraw}, "mode": "immediate",
                "fromcurrent": True, "transition": {"duration": 0}}

    buttons = [
        {"label": "▶ Play", "method": "animate", "args": [None, frame_args(duration_ms)]},
        {"label": "❚❚ Pause", "method": "animate", "args": [[None], frame_args(0, redraw=False)]},
    ]
    steps = [{"label": lab, "method": "animate", "args": [[name], frame_args(0)]} for name, lab in zip(frame_names, labels)]
    return {
        "updatemenus": [{"type": "buttons", "direction": "left", "showactive": False, "buttons": buttons,
                         "x": 0.0, "y": -0.08, "xanchor": "left", "yanchor": "top", "pad": {"t": 8, "r": 8},
                         "font": {"size": FONT["base"]}}],
        "sliders": [{"active": 0, "steps": steps, "x": 0.22, "len": 0.78, "y": -0.04, "yanchor": "top",
                     "currentvalue": {"prefix": prefix, "font": {"size": FONT["base"]}},
                     "pad": {"t": 30}, "font": {"size": FONT["small"]}}],
    }


def class_colorscale(n_classes: int) -> list:
    """A stepped colorscale so marker.color = class id (0..C-1) shows CLASS_COLORS[id]."""
    n = max(n_classes, 1)
    scale = []
    for k in range(n):
        c = CLASS_COLORS[k % len(CLASS_COLORS)]
        scale += [[k / n, c], [(k + 1) / n, c]]
    return scale


def particle_animation(frames: np.ndarray, times: np.ndarray, *, labels: np.ndarray | None = None,
                       density: tuple[np.ndarray, np.ndarray] | None = None,
                       ranges: np.ndarray | None = None, title: str = "", time_label: str = "t = ",
                       marker_size: float = 4.0, n_classes: int | None = None) -> dict:
    """Figure dict: scatter of frames [F, N, 2] over time, optionally over density contours (axes [F, G], z [F, G, G] uint8).

    ranges [F, 2] (half-width of x and y axis per frame) lets the axes follow a growing cloud (VE)."""
    frames = np.asarray(frames, dtype=np.float32)
    n_frames = frames.shape[0]
    traces = []
    if density is not None:
        axes, z = density
        traces.append({"type": "contour", "x": typed(axes[0]), "y": typed(axes[0]), "z": typed(z[0], "u1"),
                       "showscale": False, "colorscale": "Blues", "zmin": 0, "zmax": 255, "autocontour": False,
                       "contours": {"coloring": "fill", "showlines": False, "start": 0, "end": 255, "size": 255 / 8},
                       "opacity": 0.75, "hoverinfo": "skip", "name": "log p_t"})
    marker = {"size": marker_size, "opacity": 0.8, "color": CLASS_COLORS[0]}
    if labels is not None:
        c = int(n_classes or (labels.max() + 1))
        marker.update(color=typed(labels.astype(np.uint8), "u1"), colorscale=class_colorscale(c), cmin=0,
                      cmax=c, showscale=False)
    traces.append({"type": "scatter", "mode": "markers", "x": quantized(frames[0, :, 0]),
                   "y": quantized(frames[0, :, 1]), "marker": marker, "name": "particles", "hoverinfo": "skip"})
    names = [str(k) for k in range(n_frames)]
    fig_frames = []
    for k in range(n_frames):
        data, idx = [], []
        if density is not None:
            data.append({"type": "contour", "x": typed(density[0][k]), "y": typed(density[0][k]),
                         "z": typed(density[1][k], "u1")})
            idx.append(0)
        data.append({"type": "scatter", "x": quantized(frames[k, :, 0]), "y": quantized(frames[k, :, 1])})
        idx.append(len(traces) - 1)
        frame = {"name": names[k], "data": data, "traces": idx}
        if ranges is not None:
            rx, ry = float(ranges[k, 0]), float(ranges[k, 1])
            frame["layout"] = {"xaxis": {"range": [-rx, rx]}, "yaxis": {"range": [-ry, ry]}}
        fig_frames.append(frame)
    r0 = ranges[0] if ranges is not None else np.abs(frames).max(axis=(0, 1)) * 1.05
    layout = {**layout_defaults(title), "template": template_json(), "showlegend": False,
              **play_controls(names, [f"{t:.2f}" for t in times], prefix=time_label),
              "xaxis": {"range": [-float(r0[0]), float(r0[0])], "zeroline": False, "constrain": "domain"},
              "yaxis": {"range": [-float(r0[1]), float(r0[1])], "zeroline": False, "scaleanchor": "x",
                        "scaleratio": 1, "constrain": "domain"}}
    return {"data": traces, "layout": layout, "frames": fig_frames}


@lru_cache(maxsize=1)
def template_json() -> dict:
    """The plotly_white template as plain JSON (read-only cache; dict figures skip plotly's validation)."""
    return pio.templates["plotly_white"].to_plotly_json()


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>{script}
<style>html,body{{margin:0;height:100%;font-family:sans-serif}}#fig{{width:100%;height:100%}}</style></head>
<body><div id="fig"></div>
<script type="application/json" id="fig-json">{payload}</script>
<script>
function dequantize(o) {{  // {{dxq: "i2", scale, bdata}} -> Float32Array (see explorer/viz/animation.py)
  if (Array.isArray(o)) return o.map(dequantize);
  if (o && typeof o === "object") {{
    if (o.dxq === "i2") {{
      const b = atob(o.bdata), u = new Uint8Array(b.length);
      for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);
      const q = new Int16Array(u.buffer), f = new Float32Array(q.length);
      for (let i = 0; i < q.length; i++) f[i] = q[i] * o.scale;
      return f;
    }}
    for (const k in o) o[k] = dequantize(o[k]);
  }}
  return o;
}}
const spec = dequantize(JSON.parse(document.getElementById("fig-json").textContent));
Plotly.newPlot("fig", spec.data, spec.layout, {config})
  .then(() => Plotly.addFrames("fig", spec.frames || []))
  .then(() => {{ if ({autoplay}) Plotly.animate("fig", null, {{frame: {{duration: 80, redraw: true}}}}); }});
</script></body></html>
"""


def figure_page(fig: dict | go.Figure, plotly_src: str | None = None, *, autoplay: bool = False,
                title: str = "Diffusion Explorer") -> str:
    """A full HTML page for the figure: plotly.js from the URL plotly_src, or inlined when None (standalone, plays offline)."""
    if plotly_src is None:
        script = "<script>" + PLOTLY_JS.read_text(encoding="utf-8") + "</script>"
    else:
        script = f'<script src="{html.escape(plotly_src)}"></script>'
    spec = fig.to_plotly_json() if isinstance(fig, go.Figure) else fig
    payload = json.dumps(spec, separators=(",", ":"), default=_json_default).replace("</", "<\\/")
    config = json.dumps({"displaylogo": False, "responsive": True})
    return _PAGE.format(title=html.escape(title), script=script, payload=payload, config=config,
                        autoplay="true" if autoplay else "false")


def _json_default(o):
    if isinstance(o, np.ndarray):
        return typed(o) if o.dtype.kind == "f" else o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"cannot serialise {type(o).__name__}")


def iframe(page: str, height: int = 620) -> str:
    """The page embedded as <iframe srcdoc> (its scripts run, frames animate)."""
    return (f'<iframe class="dx-anim" style="width:100%;height:{height}px;border:0" '
            f'srcdoc="{html.escape(page, quote=True)}"></iframe>')
