"""Tab "Likelihood": log p by the probability-flow ODE (instantaneous change of variables) against the truth."""
from __future__ import annotations

import math
import time

import gradio as gr
import torch

from ..cost import check_budget, likelihood_cost
from ..fields import grid_2d
from ..likelihood import bits_per_dim, log_density_errors, log_likelihood
from ..viz.likelihood import log_density_curves, log_density_maps
from .common import Setup, check_seed, number, read_markdown, resolve_dataset, resolve_process, user_errors
from .link import Links
from .sources import SCORE_SOURCES, resolve_score, score_cost

HALF_WIDTH = 3.0
MAX_NFE = 5000          # per ODE solve: exact scores need <= ~600 at rtol 1e-7, the shipped networks ~2,600; sharper is refused


@user_errors
def likelihood_view(dataset, means, stds, weights, process, seed, user_data, source, grid, n_test, log10_rtol,
                    trained=None, progress=gr.Progress()):
    """API 'likelihood': PF-ODE log p on a grid (and the exact log p for mixtures), and the NLL of held-out samples."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    seed = check_seed(seed)
    g = number(grid, "Grid points per side", 5, 60, integer=True)
    n = number(n_test, "Held-out samples", 10, 2000, integer=True)
    rtol = 10 ** number(log10_rtol, "log10 tolerance", -7, -2)
    if source == "exact" and not ds.is_mixture:
        raise gr.Error(f"The exact score of {ds.label} is that of its empirical distribution: at t → 0 it is a sum of "
                       "spikes on the reference points, so its likelihood is degenerate (it memorises). "
                       "Pick 'Pretrained network' (or your trained one) to measure a model that generalises.")
    score_fn, kind = resolve_score(source, ds, sde, trained)
    n_points = (g * 4 if ds.dim == 1 else g * g) + n
    check_budget(likelihood_cost(n_points, rtol, score_cost(source, ds, sde, trained), network=source != "exact",
                                 max_nfe=MAX_NFE), "This likelihood computation",
                 "the grid, the held-out samples, or the precision (a larger log10 tolerance)")
    t_ref = sde.t_min
    if ds.dim == 1:
        pts = torch.linspace(-HALF_WIDTH, HALF_WIDTH, g * 4, dtype=torch.float64)[:, None]
    else:
        axis, pts = grid_2d(HALF_WIDTH, g)
    x_test, _ = ds.sample(n, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    progress(0.05, desc="integrating the PF-ODE on the grid")
    t0 = time.perf_counter()
    res_grid = log_likelihood(score_fn, sde, pts, rtol=rtol, atol=rtol, max_nfe=MAX_NFE)
    progress(0.6, desc="integrating the PF-ODE for held-out samples")
    res_test = log_likelihood(score_fn, sde, x_test, rtol=rtol, atol=rtol, max_nfe=MAX_NFE)
    seconds = time.perf_counter() - t0
    est = res_grid.log_prob.double().numpy()
    exact = ds.mixture.log_prob(pts, t_ref, sde).numpy() if ds.is_mixture else None
    nll = float(-res_test.log_prob.mean())
    rows = [["PF-ODE NLL of held-out data (nats)", f"{nll:.4f}"],
            ["  in bits per dimension", f"{float(bits_per_dim(res_test.log_prob.double(), ds.dim).mean()):.4f}"],
            ["NFE (grid, held-out)", f"{res_grid.nfe}, {res_test.nfe}"], ["time (s)", f"{seconds:.2f}"]]
    if exact is not None:
        true_nll = float(-ds.mixture.log_prob(x_test, t_ref, sde).mean())
        mae, weighted = log_density_errors(est, exact)
        rows = [["exact NLL of the same data (nats)", f"{true_nll:.4f}"],
                ["mean |ODE − exact| over the grid (nats)", f"{mae:.4f}"],
                ["same, weighted by p", f"{weighted:.2e}"]] + rows
    title = f"log p at t = {t_ref:g} (≈ data) by the PF-ODE, {kind}, rtol = {rtol:.0e}"
    if ds.dim == 1:
        fig = log_density_curves(pts[:, 0].numpy(), est, exact, title=title)
    else:
        shape = (g, g)
        fig = log_density_maps(axis.numpy(), est.reshape(shape), None if exact is None else exact.reshape(shape),
                               floor=-math.inf, title=title)
    return fig, rows


def build_likelihood_tab(setup: Setup, trained: gr.State, links: Links) -> list:
    """Builds the tab; returns the (fn, inputs, outputs) to run when a page opens."""
    gr.Markdown(read_markdown("likelihood"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    with gr.Row():
        source = gr.Radio(SCORE_SOURCES, value="exact", label="Score", scale=2)
        grid = gr.Slider(5, 60, value=24, step=1, label="Grid points per side", scale=1)
        n_test = gr.Slider(10, 2000, value=300, step=10, label="Held-out samples", scale=1)
        rtol = gr.Slider(-7, -2, value=-4, step=0.5, label="log₁₀ ODE tolerance", scale=1)
    with gr.Row():
        run = gr.Button("Compute log-likelihood", variant="primary", scale=3)
        stop = gr.Button("Stop", variant="stop", scale=1)
    plot = gr.Plot(label="log p")
    table = gr.Dataframe(headers=["figure", "value"], label="Figures", interactive=False)
    inputs = setup.inputs + [source, grid, n_test, rtol, trained]
    computed = run.click(likelihood_view, inputs, [plot, table], api_name="likelihood")
    stop.click(None, None, None, cancels=[computed], api_visibility="private")
    links.share_many("likelihood", score=source, grid=grid, heldout=n_test, rtol=rtol)
    return []
