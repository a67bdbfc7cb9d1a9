"""The downloads under every animation: a standalone HTML file (written by the tab's main handler) and an animated
GIF, made on demand by a small 'Make GIF' button from what the main handler kept in this session's gr.State."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np

from ..viz.animation import Panel
from ..viz.export import export_path
from ..viz.gif import images_gif, panels_gif
from ..viz.images import image_grid, pair_frame
from .common import user_errors


@dataclass(frozen=True, eq=False)       # eq=False: fields hold numpy arrays, compared by identity
class PanelsGif:
    """A particle animation as panels_gif draws it: Panels (frames [F, N, 2]), F frame labels, titles."""

    name: str
    panels: list[Panel]
    frame_labels: list[str]
    title: str = ""
    time_label: str = ""

    def render(self) -> Path:
        return panels_gif(self.panels, self.frame_labels, export_path(self.name, ".gif"), title=self.title,
                          time_label=self.time_label)


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

    def render(self) -> Path:
        frames = [pair_frame(image_grid(a, self.ncol, scale=self.scale), image_grid(b, self.ncol, scale=self.scale))
                  for a, b in zip(self.left, self.right)]
        labels = [f"t = {s}   ({self.caption})" for s in self.frame_labels]
        return images_gif(frames, labels, export_path(self.name, ".gif"), scale=1)


@dataclass
class Downloads:
    """The row under an animation: the HTML file, the GIF file, the 'Make GIF' button and the state behind it."""

    spec: gr.State
    html: gr.File
    gif: gr.File
    button: gr.Button

    def after(self, *events) -> None:
        """After each successful main event: hide the old GIF; show the button only if there is an animation."""
        for event in events:
            event.success(_gif_widgets, self.spec, [self.gif, self.button], api_visibility="private",
                          show_progress="hidden")


def _gif_widgets(spec):
    return gr.File(value=None, visible=False), gr.Button(visible=spec is not None)


def build_downloads(api_name: str, missing: str, *, visible: bool = False) -> Downloads:
    """The small download row (HTML file, GIF file once made, 'Make GIF' button); the button's event is API
    `api_name`; `missing` is the error without an animation; `visible`: show the button before the first run."""
    spec = gr.State(None)          # this user's last animation (PanelsGif / ImagePairGif), never shared
    with gr.Row():
        html = gr.File(label="Download: standalone HTML (plays offline)", visible=False, interactive=False,
                       height=60, scale=4)
        gif = gr.File(label="Download: animated GIF", visible=False, interactive=False, height=60, scale=4)
        button = gr.Button("Make GIF", size="sm", visible=visible, scale=1, min_width=100)

    @user_errors
    def make_gif(spec_value):
        """The animation kept in this session's state as an animated GIF file (made on demand: a few seconds)."""
        if spec_value is None:
            raise gr.Error(missing)
        return str(spec_value.render())

    button.click(make_gif, spec, gif, api_name=api_name, concurrency_id="gif", concurrency_limit=1).success(
        lambda: gr.File(visible=True), None, gif, api_visibility="private", show_progress="hidden")
    return Downloads(spec, html, gif, button)
