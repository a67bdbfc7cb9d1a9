"""Tab "Score field": arrows of grad log p_t over the density (2D), the score curve beside p_t (1D)."""
from __future__ import annotations

import gradio as gr
import torch

from ..fields import arrow_lengths, evaluate_score, grid_2d
from ..forward import view_half_width
from ..scores import mixture_score
from ..viz.score import curve_figure, field_figure
from .common import Setup, number, read_markdown, resolve_dataset, resolve_process, user_errors
from .link import Links

MAX_ARROWS_PER_SIDE = 60


def score_field_figure(ds, sde, t: float, n_side: int, normalize: bool):
    """Exact score of p_t (mixture, or the empirical distribution of a shape's reference set) on a grid."""
    mixture = ds.exact()
    score_fn = mixture_score(mixture, sde)
    tt = torch.tensor([t], dtype=torch.float64)
    if ds.dim == 1:
        half = float(view_half_width(sde, tt))
        x = torch.linspace(-half, half, 600, dtype=torch.float64)[:, None]
        dens = mixture.log_prob(x, t, sde).exp()
        score = evaluate_score(score_fn, x, t)
        return curve_figure(x[:, 0].numpy(), dens.numpy(), score[:, 0].numpy(),
                            title=f"{ds.label}, {sde.label}, t = {t:.3f}")
    half = float(view_half_width(sde, tt))
    axis, pts = grid_2d(half, n_side)
    score = evaluate_score(score_fn, pts, t)
    vectors = arrow_lengths(score, spacing=2 * half / (n_side - 1), normalize=normalize)
    _, fine = grid_2d(half, 90)
    log_p = mixture.log_prob(fine, t, sde).reshape(90, 90)
    kind = "exact" if ds.is_mixture else f"empirical ({mixture.means.shape[0]} reference points)"
    return field_figure(torch.linspace(-half, half, 90).numpy(), log_p.numpy(), pts.numpy(), vectors.numpy(),
                        title=f"{kind} score ∇ log p_t at t = {t:.3f} ({sde.label})")


@user_errors
def score_view(dataset, means, stds, weights, process, seed, user_data, t, n_side, normalize):
    """API 'score_field': the exact score field at time t."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    t = number(t, "Time t", 0.01, 1.0)
    n = number(n_side, "Arrows per side", 5, MAX_ARROWS_PER_SIDE, integer=True)
    return score_field_figure(ds, sde, t, n, bool(normalize))


def build_score_tab(setup: Setup, links: Links) -> list:
    """Builds the tab; returns the (fn, inputs, outputs) to run when a page opens."""
    gr.Markdown(read_markdown("score"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    with gr.Row():
        t = gr.Slider(0.01, 1.0, value=0.1, step=0.01, label="Time t")
        n_side = gr.Slider(5, MAX_ARROWS_PER_SIDE, value=21, step=1, label="Arrows per side (2D)")
        normalize = gr.Checkbox(value=True, label="Normalise arrow length")
    plot = gr.Plot(label="Score field")
    inputs = setup.inputs + [t, n_side, normalize]
    gr.on([t.release, n_side.release, normalize.change, setup.dataset.change, setup.process.change],
          score_view, inputs, plot, api_visibility="private")
    gr.Button("Draw", visible=False).click(score_view, inputs, plot, api_name="score_field")
    links.share_many("score", t=t, arrows=n_side, normalise=normalize)
    return [(score_view, inputs, [plot])]
