"""Diffusion Explorer: the Gradio app. `python app.py` serves it on http://127.0.0.1:7860."""
from __future__ import annotations

import os

import gradio as gr
import torch

from explorer.memory import limit_arenas

from explorer.ui import errors, guard, present as present_mode, routes, startup
from explorer.ui.common import build_setup
from explorer.ui.exports import forget_session
from explorer.ui.forward_tab import build_forward_tab
from explorer.ui.flow_tab import build_flow_tab
from explorer.ui.guidance_tab import build_guidance_tab
from explorer.ui.images_tab import build_images_tab
from explorer.ui.learned_tab import build_learned_tab
from explorer.ui.lessons_tab import build_lessons_tab, lessons_line
from explorer.ui.likelihood_tab import build_likelihood_tab
from explorer.ui.link import Links
from explorer.ui.sampling_tab import build_sampling_tab
from explorer.ui.score_tab import build_score_tab
from explorer.ui.vae_tab import build_vae_tab

CSS = """
.gradio-container {max-width: 1400px !important}
footer {display: none !important}
html.dx-present .gradio-container {zoom: 1.3}
@media (max-width: 700px) {                /* a phone: every row stacks, nothing is squeezed into a sliver */
  .row > *, .form > * {min-width: 100% !important}
  #lesson-figure {overflow-x: auto !important}          /* a lesson's multi-panel figure keeps a readable width and scrolls */
  #lesson-figure .js-plotly-plot {min-width: 640px}
  .dx-wide, .dx-wider {overflow-x: auto !important}    /* figures with panels side by side: readable width, scroll */
  .dx-wide .js-plotly-plot, .dx-wide iframe {min-width: 720px}
  .dx-wider .js-plotly-plot, .dx-wider iframe {min-width: 1000px}          /* five panels */
}
"""
PRESENT_JS = present_mode.TOGGLE_JS     # the page zoom, and every figure redrawn larger (explorer/ui/present.py)

INTRO = """# Diffusion Explorer
Pick a data distribution and a forward process, then watch data turn into noise, see the score that turns it back,
and compare samplers — exact mathematics next to what a network learns. New here? Start with the **Lessons** tab
(open first): a course in three tracks, each in its tutorial's order, and a fourth beyond them."""


# One torch thread per request: on a 2-vCPU machine serving several users, two OpenMP threads per request
# make the small tensors here 5-20x slower (benchmarks/RESULTS.md). EXPLORER_TORCH_THREADS overrides it.
TORCH_THREADS = int(os.environ.get("EXPLORER_TORCH_THREADS", "1"))
MALLOC_ARENAS = int(os.environ.get("EXPLORER_MALLOC_ARENAS", "4"))   # glibc heaps shared by the request threads


def build_demo() -> gr.Blocks:
    """The whole app; every user's state lives in gr.State, nothing global is written."""
    torch.set_num_threads(TORCH_THREADS)
    limit_arenas(MALLOC_ARENAS)         # request threads share a few heaps: the server does not keep every peak
    errors.install()                # Gradio's own errors as short messages; every toast shown as text
    routes.install()                # plotly.js at /dx/plotly-<version>.min.js, not at a server path
    links = Links()
    with gr.Blocks(title="Diffusion Explorer", delete_cache=(1800, 3600)) as demo:
        with gr.Row():
            gr.Markdown(INTRO, scale=6)
            with gr.Column(scale=2, min_width=260):
                present = gr.Checkbox(label="Presentation mode (larger, for a projector)", value=False)
                copy = gr.Button("Copy a link to these settings", size="sm")
                link = gr.Textbox(show_label=False, buttons=["copy"], interactive=False, max_lines=2,
                                  placeholder="the link appears here (and is copied)", elem_id="settings-link")
        present.change(None, present, None, js=PRESENT_JS)
        setup = build_setup()
        links.share("present", present)
        links.share_many("setup", data=setup.dataset, process=setup.process, seed=setup.seed, means=setup.means,
                         stds=setup.stds, weights=setup.weights)
        trained = gr.State(None)        # this user's own trained score network (a TrainedModel), never shared
        vae = gr.State(None)            # this user's VAE (the VAE tab trains it; the Likelihood tab's ELBO table reads it)
        load_events = []
        with gr.Tabs() as tabs:
            for tab_id, label, build in [
                    ("lessons", "Lessons", lambda: build_lessons_tab(setup, tabs, links)),    # the course opens first
                    ("forward", "Forward process", lambda: build_forward_tab(setup, links)),
                    ("score", "Score field", lambda: build_score_tab(setup, links)),
                    ("learned", "Learned score", lambda: build_learned_tab(setup, trained, links)),
                    ("sampling", "Sampling", lambda: build_sampling_tab(setup, trained, links)),
                    ("likelihood", "Likelihood", lambda: build_likelihood_tab(setup, trained, links, vae)),
                    ("flow", "Flow matching", lambda: build_flow_tab(setup, trained, links)),
                    ("guidance", "Guidance", lambda: build_guidance_tab(setup, trained, links)),
                    ("vae", "VAE", lambda: build_vae_tab(setup, trained, links, vae)),
                    ("images", "Images", lambda: build_images_tab(links)),
                    ]:
                with gr.Tab(label, id=tab_id):
                    gr.Markdown(lessons_line(tab_id), visible=bool(lessons_line(tab_id)))   # "Explained in lessons …"
                    load_events += build()
                links.tab_ids[label] = tab_id
        restored = links.attach(demo, tabs, copy, link)      # a shared link's settings first, then the first figures
        # every tab's first figures, cached per setting (explorer/ui/startup.py), in one step after the link's settings
        demo.dx_load_events = [(startup.first_figures(fn, len(o)), i, o) for fn, i, o in load_events]
        restored.then(*startup.one_step(demo.dx_load_events), api_visibility="private", show_progress="hidden")
        demo.unload(forget_session)     # a closed page's export files go with it
    demo.queue(default_concurrency_limit=4, max_size=guard.QUEUE_SIZE)
    guard.install(demo)                 # each session's share of the queue; Stop remembered for running work
    return demo


# max_file_size: Gradio reads an upload whole before any handler sees it; the largest useful one (a 5 MB CSV, a
# photo) is far below this (explorer/images.py checks every image from its header before decoding it)
LAUNCH_KWARGS = dict(css=CSS, theme=gr.themes.Soft(), show_error=True, max_file_size="20mb", head=present_mode.HEAD)

if __name__ == "__main__":
    demo = build_demo()
    startup.warm(demo.dx_load_events)     # the default settings' figures computed while the server starts listening
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), **LAUNCH_KWARGS)
