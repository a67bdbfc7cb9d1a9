"""Animated plotly figures (frames + play/pause + time slider) and the HTML page that makes them play.

gr.Plot drops plotly frames (shared/FACTS.md), so animations are served as a full plotly page inside an
<iframe srcdoc>, with plotly.js from the installed plotly package (no CDN; the app serves it at PLOTLY_URL), or
inlined for a standalone file.
Frames are plain dicts (plotly's object validation costs ~20 ms a frame) and particle coordinates travel as
int16 with a scale (half the bytes of float32; error <= range / 65534), decoded by the page's own script.
"""
from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import plotly
import plotly.colors as pc
import plotly.graph_objects as go
import plotly.io as pio

from .style import CLASS_COLORS, FONT, layout_defaults

PLOTLY_JS_DIR = Path(plotly.__file__).parent / "package_data"
PLOTLY_JS = PLOTLY_JS_DIR / "plotly.min.js"
# The URL the app serves that file under (explorer/ui/routes.py): names the version, never a server path.
PLOTLY_URL = f"/dx/plotly-{plotly.__version__}.min.js"
# plotly.py's light-to-dark ColorBrewer Blues, spelled out: plotly.js's own "Blues" runs the other way.
BLUES = [[i / (len(pc.sequential.Blues) - 1), c] for i, c in enumerate(pc.sequential.Blues)]
PRESENT_SCALE = 1.4     # fonts, markers, lines in presentation mode (as explorer/ui/present.py's SCALE)


def quantized(a: np.ndarray) -> dict:
    """float array -> {"dxq": "i2", "scale", "bdata"}: int16 round(a / scale), scale = max|a| / 32767.
    Refuses NaN and infinity (int16 has neither: they would be drawn as 0 without a sign)."""
    a = np.asarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError("the positions to draw contain NaN or infinite values; cannot draw them")
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


@dataclass
class Panel:
    """One animated panel: particles frames [F, N, 2]; optional class labels [N], per-frame half-widths [F, 2],
    density contours (axes [F, G], z [F, G, G] uint8), static background points [M, 2] and trails [F, P, 2]."""

    frames: np.ndarray
    title: str = ""
    labels: np.ndarray | None = None
    n_classes: int | None = None
    ranges: np.ndarray | None = None
    density: tuple[np.ndarray, np.ndarray] | None = None
    background: np.ndarray | None = None
    trails: np.ndarray | None = None


def _panel_traces(p: Panel, axis: str, marker_size: float) -> list[dict]:
    """The traces of one panel at frame 0; axis is '' or a number, as in plotly's x2/y2."""
    xa, ya = "x" + axis, "y" + axis
    traces = []
    if p.density is not None:
        axes, z = p.density
        traces.append({"type": "contour", "x": typed(axes[0]), "y": typed(axes[0]), "z": typed(z[0], "u1"),
                       "showscale": False, "colorscale": BLUES, "zmin": 0, "zmax": 255, "autocontour": False,
                       "contours": {"coloring": "fill", "showlines": False, "start": 0, "end": 255, "size": 255 / 8},
                       "opacity": 0.75, "hoverinfo": "skip", "name": "log p_t", "xaxis": xa, "yaxis": ya})
    if p.background is not None:
        traces.append({"type": "scatter", "mode": "markers", "x": quantized(p.background[:, 0]),
                       "y": quantized(p.background[:, 1]), "marker": {"size": 3, "color": "#BBBBBB"},
                       "name": "data", "hoverinfo": "skip", "xaxis": xa, "yaxis": ya})
    marker = {"size": marker_size, "opacity": 0.8, "color": CLASS_COLORS[0]}
    if p.labels is not None:
        c = int(p.n_classes or (p.labels.max() + 1))
        marker.update(color=typed(p.labels.astype(np.uint8), "u1"), colorscale=class_colorscale(c), cmin=0,
                      cmax=c, showscale=False)
    traces.append({"type": "scatter", "mode": "markers", "x": quantized(p.frames[0, :, 0]),
                   "y": quantized(p.frames[0, :, 1]), "marker": marker, "name": "particles", "hoverinfo": "skip",
                   "xaxis": xa, "yaxis": ya})
    if p.trails is not None:
        tx, ty = _trail_xy(p.trails, 0)
        traces.append({"type": "scatter", "mode": "lines", "x": tx, "y": ty, "name": "paths",
                       "line": {"color": "#222222", "width": 1.2}, "opacity": 0.7, "hoverinfo": "skip", "xaxis": xa,
                       "yaxis": ya})
    return traces


def _trail_xy(trails: np.ndarray, k: int):
    """Paths of the highlighted particles up to frame k, NaN-separated: trails [F, P, 2] -> (x, y) float32."""
    seg = trails[: k + 1]                                           # [k+1, P, 2]
    pad = np.full((1,) + seg.shape[1:], np.nan, dtype=np.float32)
    xy = np.concatenate([seg, pad], 0).transpose(1, 0, 2).reshape(-1, 2)
    return typed(xy[:, 0]), typed(xy[:, 1])


def _panel_frame(p: Panel, k: int) -> list[dict]:
    """What changes in one panel at frame k (same trace order as _panel_traces, static background left out)."""
    out = []
    if p.density is not None:
        ax = p.density[0][k]
        out.append({"type": "contour", "x": typed(ax), "y": typed(ax), "z": typed(p.density[1][k], "u1")})
    out.append({"type": "scatter", "x": quantized(p.frames[k, :, 0]), "y": quantized(p.frames[k, :, 1])})
    if p.trails is not None:
        tx, ty = _trail_xy(p.trails, k)
        out.append({"type": "scatter", "x": tx, "y": ty})
    return out


def panel_animation(panels: list[Panel], frame_labels: list[str], *, title: str = "", time_label: str = "t = ",
                    marker_size: float = 4.0, height: int | None = None) -> dict:
    """Figure dict: panels side by side, all advanced by one slider / Play button (frames [F, N, 2] each)."""
    k = len(panels)
    n_frames = panels[0].frames.shape[0]
    gap = 0.03 if k > 1 else 0.0
    traces, changing, layout_axes = [], [], {}
    for i, p in enumerate(panels):
        axis = "" if i == 0 else str(i + 1)
        first = len(traces)
        traces += _panel_traces(p, axis, marker_size)
        static = 1 if p.background is not None else 0
        n_dens = 1 if p.density is not None else 0
        changing += list(range(first, first + n_dens)) + list(range(first + n_dens + static, len(traces)))
        r0 = p.ranges[0] if p.ranges is not None else np.abs(p.frames).max(axis=(0, 1)) * 1.05
        layout_axes["xaxis" + axis] = {"domain": [i / k + gap / 2, (i + 1) / k - gap / 2], "anchor": "y" + axis,
                                       "range": [-float(r0[0]), float(r0[0])], "zeroline": False,
                                       "constrain": "domain"}
        layout_axes["yaxis" + axis] = {"anchor": "x" + axis, "range": [-float(r0[1]), float(r0[1])],
                                       "zeroline": False, "scaleanchor": "x" + axis, "scaleratio": 1,
                                       "constrain": "domain", "showticklabels": i == 0}
    names = [str(j) for j in range(n_frames)]
    fig_frames = []
    for j in range(n_frames):
        data, lay = [], {}
        for i, p in enumerate(panels):
            data += _panel_frame(p, j)
            if p.ranges is not None:
                axis = "" if i == 0 else str(i + 1)
                rx, ry = float(p.ranges[j, 0]), float(p.ranges[j, 1])
                lay["xaxis" + axis] = {"range": [-rx, rx]}
                lay["yaxis" + axis] = {"range": [-ry, ry]}
        frame = {"name": names[j], "data": data, "traces": changing}
        if lay:
            frame["layout"] = lay
        fig_frames.append(frame)
    annotations = [{"text": p.title, "showarrow": False, "xref": "paper", "yref": "paper", "x": (i + 0.5) / k,
                    "y": 1.0, "yanchor": "bottom", "font": {"size": FONT["base"]}} for i, p in enumerate(panels) if p.title]
    layout = {**layout_defaults(title, height=height), "template": template_json(), "showlegend": False,
              **play_controls(names, frame_labels, prefix=time_label), **layout_axes, "annotations": annotations}
    if annotations:
        layout["margin"] = {**layout["margin"], "t": 80 if title else 40}
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
// presentation mode (explorer/ui/present.py): fonts, markers and lines x{scale} while the app's page has dx-present
const orig = {{layout: JSON.parse(JSON.stringify(spec.layout)),
  marker: spec.data.map(t => t.marker && typeof t.marker.size === "number" ? t.marker.size : null),
  line: spec.data.map(t => t.line && typeof t.line.width === "number" ? t.line.width : null)}};
function present(flag) {{
  const k = flag ? {scale} : 1, L = orig.layout, base = (L.font && L.font.size) || 12, up = {{"font.size": base * k}};
  const size = (o, d) => ((o && o.font && o.font.size) || d) * k;
  if (L.title) up["title.font.size"] = size(L.title, base * 1.2);
  (L.annotations || []).forEach((a, i) => {{ up[`annotations[${{i}}].font.size`] = size(a, base); }});
  (L.updatemenus || []).forEach((m, i) => {{ up[`updatemenus[${{i}}].font.size`] = size(m, base); }});
  (L.sliders || []).forEach((m, i) => {{ up[`sliders[${{i}}].font.size`] = size(m, base);
    up[`sliders[${{i}}].currentvalue.font.size`] = size(m.currentvalue, base);
    const x = (m.x === undefined ? 0 : m.x) * (1 + (k - 1) * 1.5);         // clear of the larger Play / Pause
    up[`sliders[${{i}}].x`] = x; up[`sliders[${{i}}].len`] = Math.max(0.3, (m.len === undefined ? 1 : m.len) - (x - (m.x || 0))); }});
  const withMarker = orig.marker.map((v, i) => v === null ? -1 : i).filter(i => i >= 0);
  const withLine = orig.line.map((v, i) => v === null ? -1 : i).filter(i => i >= 0);
  return Plotly.relayout("fig", up)
    .then(() => withMarker.length && Plotly.restyle("fig", {{"marker.size": withMarker.map(i => orig.marker[i] * k)}}, withMarker))
    .then(() => withLine.length && Plotly.restyle("fig", {{"line.width": withLine.map(i => orig.line[i] * k)}}, withLine));
}}
const presenting = () => {{ try {{ return parent !== window && parent.document.documentElement.classList.contains("dx-present"); }}
                           catch (e) {{ return false; }} }};
if (window.innerWidth < 640) {{   // a phone: the title wraps, the slider goes under the buttons (nothing cut off)
  const t = spec.layout.title, chars = Math.max(24, Math.floor(window.innerWidth / 10.5));
  if (t && t.text && t.text.length > chars) {{
    const lines = [];
    for (const w of t.text.split(" ")) {{
      if (lines.length && (lines[lines.length - 1] + " " + w).length <= chars) lines[lines.length - 1] += " " + w;
      else lines.push(w);
    }}
    t.text = lines.join("<br>");
    spec.layout.margin = Object.assign({{}}, spec.layout.margin, {{t: (spec.layout.margin && spec.layout.margin.t || 50) + 22 * (lines.length - 1)}});
  }}
  for (const sl of spec.layout.sliders || []) {{ sl.x = 0; sl.len = 1; sl.y = -0.16; }}
  spec.layout.margin = Object.assign({{}}, spec.layout.margin, {{b: 110}});
}}
try {{   // inside the app: grow the iframe so square panels fill the width (a projector), up to 90% of the window
  const f = window.frameElement, panels = Object.keys(spec.layout).filter(k => /^xaxis[0-9]*$/.test(k)).length || 1;
  if (f && parent !== window && window.innerWidth >= 640) {{
    const want = Math.round((window.innerWidth - 90) / panels + 230), cap = Math.round(parent.innerHeight * 0.9);
    const now = f.getBoundingClientRect().height;
    if (want > now + 20 && cap > now + 20) {{ f.style.height = Math.min(want, cap) + "px"; delete spec.layout.height; }}
  }}
}} catch (e) {{ /* a standalone file or another origin: keep the size */ }}
Plotly.newPlot("fig", spec.data, spec.layout, {config})
  .then(() => Plotly.addFrames("fig", spec.frames || []))
  .then(() => presenting() ? present(true) : null)
  .then(() => {{ if ({autoplay}) Plotly.animate("fig", null, {{frame: {{duration: 80, redraw: true}}}}); }});
window.addEventListener("message", (e) => {{ if (e.data && "dxPresent" in e.data) present(!!e.data.dxPresent); }});
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
    config = json.dumps({"displaylogo": False, "responsive": True, "showSendToCloud": False,   # no upload button
                         "modeBarButtonsToRemove": ["sendDataToCloud"],
                         "toImageButtonOptions": {"filename": "diffusion-explorer", "scale": 2}})   # PNG, sharp
    return _PAGE.format(title=html.escape(title), script=script, payload=payload, config=config,
                        autoplay="true" if autoplay else "false", scale=PRESENT_SCALE)


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
