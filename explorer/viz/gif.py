"""Animations as animated GIFs: particle panels drawn by matplotlib (Agg, one figure reused) and image sequences.

No pyplot and no global backend switch: a private Figure with its own FigureCanvasAgg renders every frame, artists
are updated in place (set_data, set_extent; hand-drawn ticks), and Pillow writes the GIF with one shared palette
(loops forever).
"""
from __future__ import annotations

import textwrap
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import plotly.colors as pc
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from PIL import Image, ImageDraw, ImageFont

from .. import interrupt
from .animation import BLUES, Panel
from .style import CLASS_COLORS

FRAME_MS = 80                       # ~12 frames a second (GIF delays are in 1/100 s: 80 ms is 12.5 a second)
LAST_FRAME_MS = 1200                # the end result stays on screen a moment before the loop restarts
DPI = 100                           # the GIF is shown at this size: 1 pt = 1.39 px, fonts below stay >= 11 pt
PT = {"tick": 11, "frame": 13, "panel": 13, "title": 14}
PALETTE_SIZE = 96                   # one palette for all frames: flat plot colours and their anti-aliasing fit
MAX_POINTS = 4000                   # particles drawn over all panels together (more only blur into a blob)
DENSITY_BANDS = 8                   # as the plotly contours: 8 filled bands of log p_t
_RENDER_LOCK = threading.Lock()     # matplotlib's font cache is shared between threads: render one GIF at a time


# --- checks ------------------------------------------------------------------------------------------
def _finite(a: np.ndarray, what: str) -> None:
    if not np.isfinite(a).all():
        raise ValueError(f"{what} contain NaN or infinite values; cannot draw them.")


def _check_panels(panels: list[Panel], frame_labels: list[str]) -> int:
    """Shapes and values of every panel; returns the frame count F."""
    if not panels:
        raise ValueError("No panels to animate.")
    n_frames = None
    for i, p in enumerate(panels):
        name = f"panel {i + 1}" + (f" ({p.title})" if p.title else "")
        f = np.asarray(p.frames)
        if f.ndim != 3 or f.shape[-1] != 2:
            raise ValueError(f"{name}: frames must have shape [F, N, 2], got {list(f.shape)}.")
        if f.shape[0] == 0 or f.shape[1] == 0:
            raise ValueError(f"{name}: no frames or no particles to animate (shape {list(f.shape)}).")
        if n_frames is None:
            n_frames = f.shape[0]
        elif f.shape[0] != n_frames:
            raise ValueError(f"every panel needs the same number of frames: {name} has {f.shape[0]}, "
                             f"panel 1 has {n_frames}.")
        _finite(f, f"{name}: particle coordinates")
        if p.labels is not None and np.shape(p.labels) != (f.shape[1],):
            raise ValueError(f"{name}: labels must have shape [{f.shape[1]}], got {list(np.shape(p.labels))}.")
        if p.ranges is not None:
            r = np.asarray(p.ranges)
            if r.shape != (n_frames, 2):
                raise ValueError(f"{name}: ranges must have shape [{n_frames}, 2], got {list(r.shape)}.")
            _finite(r, f"{name}: ranges")
            if (r <= 0).any():
                raise ValueError(f"{name}: ranges (half-widths) must be positive.")
        if p.background is not None:
            b = np.asarray(p.background)
            if b.ndim != 2 or b.shape[-1] != 2:
                raise ValueError(f"{name}: background must have shape [M, 2], got {list(b.shape)}.")
            _finite(b, f"{name}: background points")
        if p.trails is not None:
            t = np.asarray(p.trails)
            if t.ndim != 3 or t.shape[0] != n_frames or t.shape[-1] != 2:
                raise ValueError(f"{name}: trails must have shape [{n_frames}, P, 2], got {list(t.shape)}.")
            _finite(t, f"{name}: trails")
        if p.density is not None:
            axes, z = (np.asarray(a) for a in p.density)
            if axes.ndim != 2 or axes.shape[0] != n_frames or z.shape != (n_frames, axes.shape[1], axes.shape[1]):
                raise ValueError(f"{name}: density must be axes [F, G] and z [F, G, G] with F = {n_frames}, got "
                                 f"{list(axes.shape)} and {list(z.shape)}.")
    if len(frame_labels) != n_frames:
        raise ValueError(f"{len(frame_labels)} frame labels for {n_frames} frames.")
    return n_frames


# --- the particle panels ------------------------------------------------------------------------------
def _density_cmap() -> ListedColormap:
    """The 8 filled bands of the plotly contour: plotly's Blues sampled at each band's middle."""
    rgb = pc.sample_colorscale(BLUES, [(k + 0.5) / DENSITY_BANDS for k in range(DENSITY_BANDS)])
    return ListedColormap([tuple(v / 255 for v in pc.unlabel_rgb(c)) for c in rgb])


def _trail_xy(trails: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Paths of the highlighted particles up to frame k, NaN-separated: trails [F, P, 2] -> (x, y)."""
    seg = trails[: k + 1]
    pad = np.full((1,) + seg.shape[1:], np.nan, dtype=np.float64)
    xy = np.concatenate([seg, pad], 0).transpose(1, 0, 2).reshape(-1, 2)
    return xy[:, 0], xy[:, 1]


def _wrap(fig: Figure, renderer, text: str, size: float, width_in: float) -> str:
    """text wrapped into lines no wider than width_in inches at `size` pt (measured, not guessed)."""
    if not text:
        return ""
    probe = fig.text(0, 0, text, fontsize=size)
    wrapped = text
    try:
        for chars in range(len(text), 10, -2):
            wrapped = "\n".join(textwrap.wrap(text, chars)) if chars < len(text) else text
            probe.set_text(wrapped)
            if probe.get_window_extent(renderer).width <= width_in * fig.dpi:
                return wrapped
        return wrapped
    finally:
        probe.remove()


def _text_width_in(fig: Figure, renderer, texts: list[str], size: float) -> float:
    probe = fig.text(0, 0, "", fontsize=size)
    widest = 0.0
    for t in texts:
        probe.set_text(t)
        widest = max(widest, probe.get_window_extent(renderer).width)
    probe.remove()
    return widest / fig.dpi


class _Ticks:
    """Tick marks and labels of one square panel, drawn as plain figure artists (matplotlib's Axis is ~4x slower)."""

    MAX = 12

    def __init__(self, fig: Figure, box: tuple[float, float, float, float], left_labels: bool):
        self.fig, self.box, self.left_labels = fig, box, left_labels       # box: x0, y0, w, h in figure fractions
        self.locator = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10])
        kw = dict(fontsize=PT["tick"], color="#333333")
        self.x_text = [fig.text(0, 0, "", ha="center", va="top", **kw) for _ in range(self.MAX)]
        self.y_text = [fig.text(0, 0, "", ha="right", va="center", **kw) for _ in range(self.MAX if left_labels else 0)]
        self.marks = fig.add_artist(Line2D([], [], transform=fig.transFigure, color="#999999", lw=0.8))
        w_in, h_in = fig.get_size_inches()
        self.dx, self.dy = 0.04 / w_in, 0.04 / h_in               # tick length, label gap: 0.04 in

    def update(self, r: float) -> None:
        """Ticks for the axis range [-r, r] on both axes."""
        x0, y0, w, h = self.box
        ticks = [v for v in self.locator.tick_values(-r, r) if -r <= v <= r][: self.MAX]
        labels = [_tick_label(v) for v in ticks]
        mx, my = [], []
        for k, text in enumerate(self.x_text):
            if k < len(ticks):
                fx = x0 + (ticks[k] + r) / (2 * r) * w
                text.set_position((fx, y0 - 2 * self.dy))
                text.set_text(labels[k])
                mx += [fx, fx, np.nan]
                my += [y0, y0 - self.dy, np.nan]
            text.set_visible(k < len(ticks))
        for k, text in enumerate(self.y_text):
            if k < len(ticks):
                fy = y0 + (ticks[k] + r) / (2 * r) * h
                text.set_position((x0 - 2 * self.dx, fy))
                text.set_text(labels[k])
                mx += [x0, x0 - self.dx, np.nan]
                my += [fy, fy, np.nan]
            text.set_visible(k < len(ticks))
        self.marks.set_data(mx, my)


def _tick_label(v: float) -> str:
    s = f"{round(v, 10):g}"
    return "0" if s in ("0", "-0") else s.replace("-", "\u2212")


class _PanelFigure:
    """One matplotlib figure laid out like the plotly animation; draw(k) updates the artists to frame k."""

    def __init__(self, panels: list[Panel], frame_labels: list[str], title: str, time_label: str):
        self.panels, self.labels, self.time_label = panels, frame_labels, time_label
        k = len(panels)
        size = float(np.clip(11.0 / k, 3.0, 4.8))              # panel side in inches
        left, gap, right, bottom, footer = 0.55, 0.2, 0.25, 0.32, 0.42
        width = left + k * size + (k - 1) * gap + right
        self.fig = Figure(figsize=(width, 4.0), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        renderer = self.canvas.get_renderer()
        title = _wrap(self.fig, renderer, title, PT["title"], width - 0.4)
        n_lines = title.count("\n") + 1 if title else 0
        panel_title = 0.36 if any(p.title for p in panels) else 0.08
        top = 0.1 + n_lines * 0.27 + panel_title
        height = footer + bottom + size + top
        self.fig.set_size_inches(width, height)
        if title:
            self.fig.text(0.2 / width, 1 - 0.1 / height, title, fontsize=PT["title"], va="top", ha="left")

        # footer: "t = 0.42" and a progress bar, the GIF's stand-in for the slider
        label_w = _text_width_in(self.fig, renderer, [time_label + s for s in frame_labels], PT["frame"])
        y = 0.2 / height
        self.frame_text = self.fig.text(0.2 / width, y, "", fontsize=PT["frame"], va="center", ha="left")
        bar_x = (0.2 + label_w + 0.25) / width
        self.bar_len = max(1 - right / width - bar_x, 0.05)
        bar_h = 0.1 / height
        self.fig.add_artist(Rectangle((bar_x, y - bar_h / 2), self.bar_len, bar_h, transform=self.fig.transFigure,
                                      facecolor="#E5E5E5", edgecolor="none"))
        self.bar = Rectangle((bar_x, y - bar_h / 2), 0.0, bar_h, transform=self.fig.transFigure,
                             facecolor="#555555", edgecolor="none")
        self.fig.add_artist(self.bar)

        cmap = _density_cmap()
        self.axes, self.artists, self.ticks, self.fixed = [], [], [], []
        for i, p in enumerate(panels):
            box = ((left + i * (size + gap)) / width, (footer + bottom) / height, size / width, size / height)
            ax = self.fig.add_axes(box)
            ax.set_axis_off()                                   # the frame and ticks are drawn by hand (fast)
            ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="#BBBBBB", lw=0.8,
                                   zorder=5, clip_on=False))
            if p.title:
                self.fig.text(box[0] + box[2] / 2, box[1] + box[3] + 0.08 / height, p.title, ha="center",
                              va="bottom", fontsize=self._fit(renderer, p.title, size + gap))
            art = {}
            if p.density is not None:
                axes_, z = p.density
                art["density"] = ax.imshow(z[0], origin="lower", extent=self._extent(axes_[0]), cmap=cmap, vmin=0,
                                           vmax=255, alpha=0.75, interpolation="bilinear",
                                           interpolation_stage="data", zorder=0, aspect="auto")
            if p.background is not None:
                bg = np.asarray(p.background, dtype=np.float64)
                ax.plot(bg[:, 0], bg[:, 1], ls="none", marker="o", ms=2.2, mew=0, color="#BBBBBB", zorder=1)
            # one Line2D of markers per class: Agg stamps one cached marker, ~6x faster than a scatter collection
            n = p.frames.shape[1]
            classes = np.zeros(n, dtype=np.int64) if p.labels is None else np.asarray(p.labels, dtype=np.int64)
            art["points"] = []
            for c in np.unique(classes):
                idx = np.flatnonzero(classes == c)
                line, = ax.plot(p.frames[0, idx, 0], p.frames[0, idx, 1], ls="none", marker="o",
                                ms=3.0 if n < 3000 else 2.5, mew=0, alpha=0.8, zorder=2,
                                color=CLASS_COLORS[int(c) % len(CLASS_COLORS)])
                art["points"].append((line, idx))
            if p.trails is not None:
                art["trails"], = ax.plot([], [], color="#222222", lw=0.9, alpha=0.7, zorder=3)
            ax.set_autoscale_on(False)
            fixed = None
            if p.ranges is None:
                fixed = float(np.abs(np.asarray(p.frames)).max() * 1.05) or 1.0
            self.axes.append(ax)
            self.artists.append(art)
            self.ticks.append(_Ticks(self.fig, box, left_labels=i == 0))
            self.fixed.append(fixed)

    @staticmethod
    def _extent(axis: np.ndarray) -> tuple[float, float, float, float]:
        lo, hi = float(axis[0]), float(axis[-1])
        return lo, hi, lo, hi

    def _fit(self, renderer, text: str, width_in: float) -> float:
        """The panel-title size: PT['panel'], smaller (never below 11 pt) if the title is wider than its panel."""
        size = PT["panel"]
        while size > PT["tick"] and _text_width_in(self.fig, renderer, [text], size) > width_in:
            size -= 1
        return size

    def draw(self, k: int) -> np.ndarray:
        """Frame k as an RGB array [H, W, 3]."""
        interrupt.check()
        for p, ax, art, ticks, fixed in zip(self.panels, self.axes, self.artists, self.ticks, self.fixed):
            for line, idx in art["points"]:
                line.set_data(p.frames[k, idx, 0], p.frames[k, idx, 1])
            if "density" in art:
                art["density"].set_data(p.density[1][k])
                art["density"].set_extent(self._extent(p.density[0][k]))
            if "trails" in art:
                art["trails"].set_data(*_trail_xy(p.trails, k))
            # the panels are square, so one half-width for both axes keeps the aspect equal
            r = fixed if fixed is not None else float(np.max(p.ranges[k]))
            ax.set_xlim(-r, r)
            ax.set_ylim(-r, r)
            ticks.update(r)
        self.frame_text.set_text(self.time_label + self.labels[k])
        n = len(self.labels)
        self.bar.set_width(self.bar_len * (k / (n - 1) if n > 1 else 1.0))
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()


@contextmanager
def panel_drawer(panels: list[Panel], frame_labels: list[str], *, title: str = "", time_label: str = "",
                 max_points: int = MAX_POINTS) -> Iterator[tuple[int, Callable[[int], np.ndarray]]]:
    """(F, draw): draw(k) is frame k of the panels (frames [F, N, 2] each) as RGB [H, W, 3]; the GIF and the MP4 both
    draw with it. One drawing at a time (matplotlib's font cache is shared): the render lock is held inside."""
    n_frames = _check_panels(panels, frame_labels)
    panels = [_prepared(p, max(1, max_points // len(panels))) for p in panels]
    with _RENDER_LOCK:
        fig = _PanelFigure(panels, [str(s) for s in frame_labels], title, time_label)
        yield n_frames, fig.draw


def panels_gif(panels: list[Panel], frame_labels: list[str], path, *, title: str = "", time_label: str = "",
               max_points: int = MAX_POINTS) -> Path:
    """Panels side by side (frames [F, N, 2] each; labels [N], ranges [F, 2], trails [F, P, 2]) -> a GIF of F frames."""
    with panel_drawer(panels, frame_labels, title=title, time_label=time_label, max_points=max_points) as (n, draw):
        sample = [draw(k) for k in sorted({0, n // 2, n - 1})]
        palette = _palette(sample, snap_white=True)
        images = [_to_palette(draw(k), palette) for k in range(n)]
    return _save(images, path)


def _prepared(p: Panel, n_max: int) -> Panel:
    """The panel as numpy arrays, with at most n_max particles (every k-th: classes keep their shares; a GIF of
    this size cannot show more)."""
    def arr(a):
        return None if a is None else np.asarray(a)

    frames, labels = np.asarray(p.frames), arr(p.labels)
    if frames.shape[1] > n_max:
        idx = np.round(np.linspace(0, frames.shape[1] - 1, n_max)).astype(np.int64)
        frames, labels = frames[:, idx], None if labels is None else labels[idx]
    density = None if p.density is None else (np.asarray(p.density[0]), np.asarray(p.density[1]))
    return replace(p, frames=frames, labels=labels, ranges=arr(p.ranges), background=arr(p.background),
                   trails=arr(p.trails), density=density)


# --- image sequences ------------------------------------------------------------------------------------
def _font(size_px: int) -> ImageFont.ImageFont:
    """DejaVu Sans (shipped with matplotlib: Greek, subscripts) at size_px pixels."""
    try:
        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size_px)
    except OSError:
        return ImageFont.load_default(size=size_px)


def image_frames(frames: list[np.ndarray], labels: list[str], *, scale: int | None = None,
                 font_px: int = 18) -> list[np.ndarray]:
    """Images (uint8 [H, W] grey or [H, W, 3] RGB, one shape) -> RGB frames [H', W', 3], upscaled scale x (nearest),
    each label in a white strip on top (the GIF and the MP4 of an image sequence)."""
    if len(frames) == 0:
        raise ValueError("No frames to animate.")
    if len(labels) != len(frames):
        raise ValueError(f"{len(labels)} labels for {len(frames)} frames.")
    arrays = [np.asarray(f) for f in frames]
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.dtype != np.uint8:
            raise ValueError(f"frame {i}: images must be uint8, got {a.dtype}.")
        if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] == 3)) or 0 in a.shape:
            raise ValueError(f"frame {i}: images must be [H, W] or [H, W, 3], got {list(a.shape)}.")
        if a.shape != shape:
            raise ValueError(f"every frame needs the same shape: frame {i} is {list(a.shape)}, frame 0 {list(shape)}.")
    h, w = shape[:2]
    if scale is None:
        scale = max(1, -(-256 // max(h, w)))                      # the longer side at least 256 px
    if not isinstance(scale, (int, np.integer)) or not 1 <= scale <= 64:
        raise ValueError(f"scale must be a whole number between 1 and 64, got {scale!r}.")
    strip = int(font_px * 1.7) if any(labels) else 0
    font = _font(font_px) if strip else None
    rgb = []
    for a, lab in zip(arrays, labels):
        img = np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a
        img = img.repeat(scale, 0).repeat(scale, 1)
        if strip:
            canvas = Image.new("RGB", (img.shape[1], img.shape[0] + strip), "white")
            canvas.paste(Image.fromarray(img), (0, strip))
            ImageDraw.Draw(canvas).text((6, strip // 2), str(lab), fill="black", font=font, anchor="lm")
            img = np.asarray(canvas)
        rgb.append(img)
    return rgb


def images_gif(frames: list[np.ndarray], labels: list[str], path, *, scale: int | None = None,
               font_px: int = 18) -> Path:
    """Images (uint8 [H, W] grey or [H, W, 3] RGB, one shape) -> a GIF, upscaled scale x (nearest), label on top."""
    rgb = image_frames(frames, labels, scale=scale, font_px=font_px)
    palette = _palette([rgb[0], rgb[len(rgb) // 2], rgb[-1]], colors=256)
    return _save([_to_palette(a, palette) for a in rgb], path)


# --- writing ------------------------------------------------------------------------------------------------
def _palette(sample: list[np.ndarray], colors: int | None = None, *, snap_white: bool = False) -> Image.Image:
    """One adaptive palette (median cut) from a few frames stacked, shared by every frame (no flicker, small file).
    snap_white: near-whites become pure white (Pillow's palette lookup is approximate and would pick one of them), so
    a plot's background matches the page or slide the GIF is put on."""
    stacked = Image.fromarray(np.concatenate(sample, axis=0))
    pal = stacked.quantize(colors=colors or PALETTE_SIZE, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    entries = np.array(pal.getpalette(), dtype=np.int64).reshape(-1, 3)
    if snap_white:
        entries[entries.min(1) >= 247] = 255
    pal.putpalette(entries.astype(np.uint8).ravel().tolist())
    return pal


def _to_palette(rgb: np.ndarray, palette: Image.Image) -> Image.Image:
    return Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE)


def _save(images: list[Image.Image], path) -> Path:
    """Write the frames as a GIF that loops forever (~12 fps, the last frame held a moment)."""
    path = Path(path)
    durations = [FRAME_MS] * len(images)
    if len(images) > 1:
        durations[-1] = LAST_FRAME_MS
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0,
                   optimize=False, disposal=1)
    return path
