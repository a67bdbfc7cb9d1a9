"""Diffusion Explorer: the Gradio app. `python app.py` serves it on http://127.0.0.1:7860."""
from __future__ import annotations

import os

import gradio as gr
import torch

from explorer.ui.common import build_setup
from explorer.ui.forward_tab import build_forward_tab
from explorer.ui.guidance_tab import build_guidance_tab
from explorer.ui.images_tab import build_images_tab
from explorer.ui.learned_tab import build_learned_tab
from explorer.ui.lessons_tab import build_lessons_tab
from explorer.ui.likelihood_tab import build_likelihood_tab
from explorer.ui.sampling_tab import build_sampling_tab
from explorer.ui.score_tab import build_score_tab
from explorer.ui.vae_tab import build_vae_tab
from explorer.viz.animation import PLOTLY_JS_DIR

CSS = """
.gradio-container {max-width: 1400px !important}
footer {display: none !important}
html.dx-present .gradio-container {zoom: 1.3}
"""
PRESENT_JS = "(on) => { document.documentElement.classList.toggle('dx-present', on); }"

INTRO = """# Diffusion Explorer
Pick a data distribution and a forward process, then watch data turn into noise, see the score that turns it back,
and compare samplers — exact mathematics next to what a network learns. New here? The **Lessons** tab walks
through it in the tutorials' order."""


# One torch thread per request: on a 2-vCPU machine serving several users, two OpenMP threads per request
# make the small tensors here 5-20x slower (benchmarks/RESULTS.md). EXPLORER_TORCH_THREADS overrides it.
TORCH_THREADS = int(os.environ.get("EXPLORER_TORCH_THREADS", "1"))


def build_demo() -> gr.Blocks:
    """The whole app; every user's state lives in gr.State, nothing global is written."""
    torch.set_num_threads(TORCH_THREADS)
    gr.set_static_paths([str(PLOTLY_JS_DIR)])
    with gr.Blocks(title="Diffusion Explorer", delete_cache=(1800, 3600)) as demo:
        with gr.Row():
            gr.Markdown(INTRO, scale=6)
            present = gr.Checkbox(label="Presentation mode (larger, for a projector)", value=False, scale=1)
        present.change(None, present, None, js=PRESENT_JS)
        setup = build_setup()
        trained = gr.State(None)        # this user's own trained score network (a TrainedModel), never shared
        load_events = []
        with gr.Tabs() as tabs:
            with gr.Tab("Forward process", id="forward"):
                load_events += build_forward_tab(setup)
            with gr.Tab("Score field", id="score"):
                load_events += build_score_tab(setup)
            with gr.Tab("Learned score", id="learned"):
                load_events += build_learned_tab(setup, trained)
            with gr.Tab("Sampling", id="sampling"):
                load_events += build_sampling_tab(setup, trained)
            with gr.Tab("Likelihood", id="likelihood"):
                load_events += build_likelihood_tab(setup, trained)
            with gr.Tab("Guidance", id="guidance"):
                load_events += build_guidance_tab(setup, trained)
            with gr.Tab("VAE", id="vae"):
                load_events += build_vae_tab(setup, trained)
            with gr.Tab("Images", id="images"):
                load_events += build_images_tab()
            with gr.Tab("Lessons", id="lessons"):
                load_events += build_lessons_tab(setup, tabs)
        for fn, inputs, outputs in load_events:
            demo.load(fn, inputs, outputs, api_visibility="private")
    demo.queue(default_concurrency_limit=4, max_size=64)
    return demo


LAUNCH_KWARGS = dict(css=CSS, theme=gr.themes.Soft(), show_error=True)

if __name__ == "__main__":
    build_demo().launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), **LAUNCH_KWARGS)
