"""Tab "Lessons": the tutorials' order as presets: each sets the controls, opens its tab and says what to look for."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from .common import Setup


@dataclass(frozen=True)
class Lesson:
    title: str
    tab: str            # the id of the tab it opens
    dataset: str
    process: str
    text: str


LESSONS = [
    Lesson("1. Forward noising", "forward", "ring8", "vp_linear",
           "Press ▶ Play. Each point follows $x_t = \\alpha(t)x_0 + \\sigma(t)\\varepsilon$: the eight modes blur, merge and "
           "end as a standard Gaussian. Look at the schedule: almost all the signal is gone by $t \\approx 0.6$ "
           "(SNR below $10^{-2}$). Switch the process to VE: the cloud does not shrink, it explodes to $\\sigma \\approx 10$."),
    Lesson("2. The score", "score", "ring8", "vp_linear",
           "Move the time slider. At small $t$ the arrows $\\nabla \\log p_t$ point sharply into the nearest mode; at "
           "large $t$ they all point to the origin, $\\approx -x/\\sigma(t)^2$. This field is all a diffusion model "
           "needs to learn."),
    Lesson("3. Langevin dynamics", "sampling", "far_mode_1d", "vp_linear",
           "Tick *Langevin dynamics (one noise level)* and *Annealed Langevin*, then Sample. Plain Langevin follows "
           "the score at one small noise level and keeps the far, light mode's share wrong; annealing the noise level "
           "from large to small fixes the weights (Song & Ermon)."),
    Lesson("4. Reverse SDE and probability-flow ODE", "sampling", "moons", "vp_linear",
           "Tick the reverse SDE, DDPM, DDIM and PF-ODE Heun. All start from the same noise. The stochastic samplers "
           "wander (their black paths are jagged), the ODE paths are smooth, and all end near the data: compare NFE "
           "and the energy distance with the noise floor. Then press *Quality vs steps*."),
    Lesson("5. Learning the score", "learned", "moons", "vp_linear",
           "Press Train. The learned arrows (left) approach the exact ones (right). Then compare the pretrained "
           "network with the exact score: the error is largest at small $t$ and far from the data; the ideal "
           "denoiser memorises its training points while the network generalises."),
    Lesson("6. Guidance", "guidance", "ring8", "vp_linear",
           "Pick a class and raise $\\gamma$. At $\\gamma = 1$ guided samples match the exact conditional $p(x\\mid y)$; "
           "above 1 they crowd into the class's centre. *Fidelity vs diversity over γ* shows the trade-off."),
    Lesson("7. Images", "images", "ring8", "vp_linear",
           "Sample digits and watch the model's estimate $\\hat x_0$ sharpen long before $x_t$ does. Pick a digit and "
           "$\\gamma = 3$; then noise a digit and denoise it back (SDEdit), or hide half of it and let the model fill it in."),
]


def build_lessons_tab(setup: Setup, tabs: gr.Tabs) -> list:
    """Builds the tab; choosing a lesson sets dataset and process and opens the lesson's tab."""
    gr.Markdown("### Lessons\nThe tutorials' order, one step at a time. Pick a step: the controls are set and its tab "
                "opens. Come back here for the next step.")
    choice = gr.Radio([lesson.title for lesson in LESSONS], label="Step", value=None)
    text = gr.Markdown(latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    go = gr.Button("Open this step", variant="primary")

    def describe(title):
        lesson = next((lesson for lesson in LESSONS if lesson.title == title), None)
        return "" if lesson is None else f"**{lesson.title}.** {lesson.text}"

    def open_step(title):
        lesson = next((lesson for lesson in LESSONS if lesson.title == title), None)
        if lesson is None:
            raise gr.Error("Pick a step first.")
        return gr.Dropdown(value=lesson.dataset), gr.Dropdown(value=lesson.process), gr.Tabs(selected=lesson.tab)

    choice.change(describe, choice, text, api_visibility="private", show_progress="hidden")
    go.click(open_step, choice, [setup.dataset, setup.process, tabs], api_visibility="private")
    return []
