"""The downloads under every animation: a standalone HTML file, an animated GIF and an MP4 video, each made on demand
by a small button from what the tab's main handler kept in this session's gr.State (so the animation itself stays fast).

Each session keeps one file per kind, replaced by its next press, in a folder under a cap (explorer/viz/export.py);
the folder is a Gradio static path, so the file is served from there and never copied into Gradio's cache, and
`forget_session` (demo.unload in app.py) removes a session's files when its page closes."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import gradio as gr
import numpy as np

from ..viz.animation import Panel, panel_animation
from ..viz.export import EXPORT_DIR, forget, write_export, write_standalone
from ..viz.gif import images_gif, panels_gif
from ..viz.mp4 import images_mp4, panels_mp4
from ..viz.images import image_grid, image_pair_animation, pair_frame
from .common import user_errors
from .safe_text import html_text


@dataclass(frozen=True, eq=False)       # eq=False: fields hold numpy arrays, compared by identity
class PanelsGif:
    """A particle animation as panels_gif draws it: Panels (frames [F, N, 2]), F frame labels, titles."""

    name: str
    panels: list[Panel]
    frame_labels: list[str]
    title: str = ""
    time_label: str = ""
    figure_options: dict = field(default_factory=dict)     # panel_animation's marker_size, height

    def figure(self) -> dict:
        """The plotly animation the page shows (rebuilt on demand: a session keeps only the panels); its texts escaped
        here (plotly reads them as HTML; the GIF draws them as they are), so a CSV's class name stays text."""
        panels = [replace(p, title=html_text(p.title)) for p in self.panels]
        return panel_animation(panels, [html_text(s) for s in self.frame_labels], title=html_text(self.title),
                               time_label=html_text(self.time_label), **self.figure_options)

    def render(self, path: Path) -> Path:
        """Draw the animated GIF into `path`."""
        return panels_gif(self.panels, self.frame_labels, path, title=self.title, time_label=self.time_label)

    def render_mp4(self, path: Path) -> Path:
        """Draw the MP4 video (the GIF's frames, H.264) into `path`."""
        return panels_mp4(self.panels, self.frame_labels, path, title=self.title, time_label=self.time_label)


@dataclass(frozen=True, eq=False)
class ImagePairGif:
    """Two image batches per frame (x [n, C, H, W] in [-1, 1], kept small), tiled and put side by side when drawn."""

    name: str
    left: list[np.ndarray]
    right: list[np.ndarray]
    frame_labels: list[str]
    ncol: int
    scale: int = 4
    caption: str = "left: x_t, right: the estimate x̂₀"
    titles: tuple[str, str] = ("x_t", "the model's estimate x̂₀")
    title: str = "Replay: the noisy x_t and the estimate x̂₀ at every step"

    def figure(self) -> dict:
        """The plotly replay the page shows, rebuilt from the kept 8×8 arrays."""
        left = [image_grid(a, self.ncol, scale=self.scale) for a in self.left]
        right = [image_grid(b, self.ncol, scale=self.scale) for b in self.right]
        return image_pair_animation(left, right, self.frame_labels, titles=self.titles, title=self.title)

    def _frames(self) -> tuple[list[np.ndarray], list[str]]:
        """The side-by-side images of every frame and their captions."""
        frames = [pair_frame(image_grid(a, self.ncol, scale=self.scale), image_grid(b, self.ncol, scale=self.scale))
                  for a, b in zip(self.left, self.right)]
        return frames, [f"t = {s}   ({self.caption})" for s in self.frame_labels]

    def render(self, path: Path) -> Path:
        """Draw the animated GIF into `path`."""
        return images_gif(*self._frames(), path, scale=1)

    def render_mp4(self, path: Path) -> Path:
        """Draw the MP4 video into `path`."""
        return images_mp4(*self._frames(), path, scale=1)


@dataclass
class Downloads:
    """The row under an animation: 'HTML', 'GIF' and 'MP4' buttons, the files they make, and the state behind them."""

    spec: gr.State
    html: gr.File
    gif: gr.File
    buttons: tuple[gr.Button, ...]
    mp4: gr.File | None = None

    def after(self, *events) -> None:
        """After each successful main event: hide the old files; show the buttons only if there is an animation."""
        for event in events:
            event.success(_reset, self.spec, [self.html, self.gif, self.mp4, *self.buttons], api_visibility="private",
                          show_progress="hidden")


def _reset(spec):
    shown = spec is not None
    return (*(gr.File(value=None, visible=False) for _ in range(3)), *(gr.Button(visible=shown) for _ in range(3)))


def session_owner(request: gr.Request | None) -> str:
    """Whose exports these are: Gradio's session hash (one per browser tab or client), "" without a session."""
    return str(getattr(request, "session_hash", None) or "")


def forget_session(request: gr.Request):
    """demo.unload: remove the closing session's export files."""
    forget(session_owner(request))


def serve_exports() -> None:
    """Serve the export folder as it is (a Gradio static path): a returned file is not copied into Gradio's cache."""
    global _SERVED
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    if not _SERVED:                    # set_static_paths adds to a process-wide list: once is enough
        gr.set_static_paths([str(EXPORT_DIR)])
        _SERVED = True


_SERVED = False


def build_downloads(api_prefix: str, missing: str, *, visible: bool = False) -> Downloads:
    """The small download row: buttons that are APIs f"{api_prefix}_html", f"{api_prefix}_gif" and f"{api_prefix}_mp4",
    and their files;
    `missing` is the error without an animation; `visible`: show the buttons before the first run."""
    serve_exports()
    spec = gr.State(None)          # this user's last animation (PanelsGif / ImagePairGif), never shared
    with gr.Row(equal_height=True):
        html_btn = gr.Button("⬇ HTML (plays offline)", size="sm", visible=visible, scale=1, min_width=120)
        gif_btn = gr.Button("⬇ GIF", size="sm", visible=visible, scale=1, min_width=80)
        mp4_btn = gr.Button("⬇ MP4", size="sm", visible=visible, scale=1, min_width=80)
        html = gr.File(label="Standalone HTML", visible=False, interactive=False, height=60, scale=3)
        gif = gr.File(label="Animated GIF", visible=False, interactive=False, height=60, scale=3)
        mp4 = gr.File(label="MP4 video", visible=False, interactive=False, height=60, scale=3)

    def need(spec_value):
        if spec_value is None:
            raise gr.Error(missing)
        return spec_value

    @user_errors
    def make_html(spec_value, request: gr.Request):
        """The animation kept in this session's state as a standalone HTML page (plotly.js inlined, plays offline)."""
        spec_value = need(spec_value)
        return str(write_standalone(spec_value.figure(), spec_value.name, owner=session_owner(request)))

    @user_errors
    def make_gif(spec_value, request: gr.Request):
        """The animation kept in this session's state as an animated GIF file (made on demand: a few seconds)."""
        spec_value = need(spec_value)
        return str(write_export(spec_value.name, ".gif", spec_value.render, owner=session_owner(request)))

    @user_errors
    def make_mp4(spec_value, request: gr.Request):
        """The animation kept in this session's state as an MP4 video (H.264; made on demand: a few seconds)."""
        spec_value = need(spec_value)
        return str(write_export(spec_value.name, ".mp4", spec_value.render_mp4, owner=session_owner(request)))

    html_btn.click(make_html, spec, html, api_name=f"{api_prefix}_html", concurrency_id="export",
                   concurrency_limit=2).success(lambda: gr.File(visible=True), None, html, api_visibility="private",
                                                show_progress="hidden")
    gif_btn.click(make_gif, spec, gif, api_name=f"{api_prefix}_gif", concurrency_id="gif", concurrency_limit=1).success(
        lambda: gr.File(visible=True), None, gif, api_visibility="private", show_progress="hidden")
    mp4_btn.click(make_mp4, spec, mp4, api_name=f"{api_prefix}_mp4", concurrency_id="gif", concurrency_limit=1).success(
        lambda: gr.File(visible=True), None, mp4, api_visibility="private", show_progress="hidden")
    return Downloads(spec, html, gif, (html_btn, gif_btn, mp4_btn), mp4)
