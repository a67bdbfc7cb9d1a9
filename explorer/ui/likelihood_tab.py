"""Tab "Likelihood": log p by the probability-flow ODE (instantaneous change of variables) against the truth."""
from __future__ import annotations

import math
import time

import gradio as gr
import torch

from ..cost import check_budget, likelihood_cost
from ..elbo import elbo_terms_each, elbo_vs_levels_each
from ..fields import grid_2d
from ..likelihood import bits_per_dim, log_density_errors, log_likelihood
from ..nn.vae import negative_elbo
from ..viz.elbo import elbo_levels_figure, elbo_terms_figure, weighting_figure
from ..viz.likelihood import log_density_curves, log_density_maps
from ..weighting import weighting_curves
from .common import Setup, check_seed, number, read_markdown, resolve_dataset, resolve_process, user_errors
from .link import Links
from .sources import SCORE_SOURCES, resolve_score, score_cost
from .startup import cached_only
from .vae_tab import session_or_shipped_vae

HALF_WIDTH = 3.0
LEVEL_SWEEP = (10, 30, 100, 300, 1000)     # the bound against N (Kingma et al. 2021: it tightens as N grows)
ELBO_RTOL = 1e-4                           # the PF-ODE NLL beside the ELBO
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
    _refuse_memorising(source, ds)
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


def _refuse_memorising(source, ds) -> None:
    if source == "exact" and not ds.is_mixture:
        raise gr.Error(f"The exact score of {ds.label} is that of its empirical distribution: at t → 0 it is a sum of "
                       "spikes on the reference points, so its likelihood is degenerate (it memorises). "
                       "Pick 'Pretrained network' (or your trained one) to measure a model that generalises.")


def _nats_row(name: str, nats: float, se: float | None, dim: int) -> list:
    bpd = nats / (dim * math.log(2.0))
    pm = "" if se is None else f" ± {se:.3f}"
    pm_b = "" if se is None else f" ± {se / (dim * math.log(2.0)):.3f}"
    return [name, f"{nats:.3f}{pm}", f"{bpd:.3f}{pm_b}"]


@user_errors
def elbo_view(dataset, means, stds, weights, process, seed, user_data, source, n_levels, n_points, trained=None,
              vae=None, progress=gr.Progress()):
    """API 'elbo': -ELBO = L_prior + sum L_{i-1} + L_0 for both variance choices, each level's term, next to the exact
    NLL (mixtures) and the PF-ODE NLL of the same held-out data, in nats and bits per dimension."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    seed = check_seed(seed)
    n_lev = number(n_levels, "Levels N", 2, 1000, integer=True)
    n = number(n_points, "Held-out samples", 10, 2000, integer=True)
    _refuse_memorising(source, ds)
    score_fn, kind = resolve_score(source, ds, sde, trained)
    per = score_cost(source, ds, sde, trained)
    n_ode = min(n, 200)
    check_budget(n * n_lev * per + likelihood_cost(n_ode, ELBO_RTOL, per, network=source != "exact", max_nfe=MAX_NFE),
                 "This ELBO computation", "the levels N or the held-out samples")
    x0, _ = ds.sample(n, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    rows, curves = [], []
    if ds.is_mixture:
        rows.append(_nats_row("exact NLL, −log p₀(x₀)", float(-ds.mixture.log_prob(x0, 0.0, sde).mean()), None, ds.dim))
    progress(0.1, desc="ELBO with σ²ᵢ = βᵢ and with β̃ᵢ (the same xᵢ for both)")
    both = elbo_terms_each(score_fn, sde, x0, n_lev, ("beta", "posterior"),
                           generator=torch.Generator().manual_seed(seed + 2))
    for variance, terms in zip(("beta", "posterior"), both):
        mean, se = terms.mean_and_stderr()
        sym = "βᵢ" if variance == "beta" else "β̃ᵢ"
        rows.append(_nats_row(f"−ELBO, σ²ᵢ = {sym} (N = {n_lev})", mean, se, ds.dim))
        level = terms.level_means()
        rows.append(_nats_row("   L_prior = KL(q(x_N|x₀) ‖ p(x_N))", float(terms.prior.mean()), None, ds.dim))
        rows.append(_nats_row(f"   Σ L_(i−1), i = 2..N, σ²ᵢ = {sym}", float(level[1:].sum()), None, ds.dim))
        rows.append(_nats_row("   L₀ = −log p(x₀|x₁)", float(level[0]), None, ds.dim))
        lam = sde.log_snr(terms.t[1:].clamp_min(1e-12)).numpy()
        curves.append((variance, lam, level.numpy()))
    progress(0.8, desc="PF-ODE NLL of the same data")
    ode = log_likelihood(score_fn, sde, x0[:n_ode], rtol=ELBO_RTOL, atol=ELBO_RTOL, max_nfe=MAX_NFE)
    rows.append(_nats_row(f"PF-ODE NLL (first {n_ode} of the same data)", float(-ode.log_prob.double().mean()),
                          float(ode.log_prob.double().std() / math.sqrt(n_ode)), ds.dim))
    try:
        model, whose = session_or_shipped_vae(vae, ds)
    except gr.Error:
        model = None                # no VAE for this data (a custom mixture, my data): the row is left out
    if model is not None:
        v = negative_elbo(model, x0.float(), generator=torch.Generator().manual_seed(seed + 3)).double()
        rows.append(_nats_row(f"VAE −ELBO ({whose})", float(v.mean()), float(v.std() / math.sqrt(n)), ds.dim))
    title = f"−ELBO term by term: {kind}, {sde.label}, N = {n_lev}"
    return elbo_terms_figure(curves, title=title), rows


@user_errors
def elbo_levels_view(dataset, means, stds, weights, process, seed, user_data, source, n_points, trained=None,
                     progress=gr.Progress()):
    """API 'elbo_levels': E[-ELBO] ± SE against N = 10..1,000 for both variance choices, with the exact NLL."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    seed = check_seed(seed)
    n = number(n_points, "Held-out samples", 10, 2000, integer=True)
    _refuse_memorising(source, ds)
    score_fn, kind = resolve_score(source, ds, sde, trained)
    check_budget(n * sum(LEVEL_SWEEP) * score_cost(source, ds, sde, trained), "This sweep over N",
                 "the held-out samples")
    x0, _ = ds.sample(n, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    out = elbo_vs_levels_each(score_fn, sde, x0, LEVEL_SWEEP, ("beta", "posterior"),
                              generator=torch.Generator().manual_seed(seed + 2),
                              on_level=lambda k, n_lev: progress(0.05 + 0.9 * k / len(LEVEL_SWEEP),
                                                                 desc=f"−ELBO for N = {n_lev}"))
    true_nll = float(-ds.mixture.log_prob(x0, 0.0, sde).mean()) if ds.is_mixture else None
    return elbo_levels_figure(out, true_nll, title=f"The bound tightens with more levels ({kind}, {n} samples)")


@user_errors
def weighting_view(process):
    """API 'weightings': w(lambda) of the eps-, x0- and v-prediction losses and of the ELBO, over log-SNR."""
    sde = resolve_process(process)
    curves = [(label, lam.numpy(), w.numpy()) for label, lam, w in weighting_curves(sde)]
    return weighting_figure(curves, title=f"w(λ): what each loss weights ({sde.label})")


def build_likelihood_tab(setup: Setup, trained: gr.State, links: Links, vae: gr.State | None = None) -> list:
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
    plot = gr.Plot(label="log p", elem_classes=["dx-wide"])
    table = gr.Dataframe(headers=["figure", "value"], label="Figures", interactive=False)
    inputs = setup.inputs + [source, grid, n_test, rtol, trained]
    computed = run.click(likelihood_view, inputs, [plot, table], api_name="likelihood")
    stop.click(None, None, None, cancels=[computed], api_visibility="private")
    links.share_many("likelihood", score=source, grid=grid, heldout=n_test, rtol=rtol)

    gr.Markdown(read_markdown("elbo"), latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                                         {"left": "$", "right": "$", "display": False}])
    with gr.Row():
        n_levels = gr.Slider(2, 1000, value=100, step=1, label="Levels N", scale=2)
        n_elbo = gr.Slider(10, 2000, value=300, step=10, label="Held-out samples", scale=2)
        run_elbo = gr.Button("Compute the ELBO", variant="primary", scale=2)
        run_levels = gr.Button("Bound vs N", scale=1)
        stop_elbo = gr.Button("Stop", variant="stop", scale=1)
    terms_plot = gr.Plot(label="−ELBO term by term", elem_classes=["dx-wide"])
    elbo_table = gr.Dataframe(headers=["figure", "nats per sample", "bits per dimension"], label="One table, one unit",
                              interactive=False)
    with gr.Row():
        levels_plot = gr.Plot(label="−ELBO against the number of levels")
        weights_plot = gr.Plot(label="The objectives as weightings")
    elbo_inputs = setup.inputs + [source, n_levels, n_elbo, trained] + ([vae] if vae is not None else [])
    elbo_done = run_elbo.click(elbo_view, elbo_inputs, [terms_plot, elbo_table], api_name="elbo",
                               show_progress="minimal")
    levels_done = run_levels.click(elbo_levels_view, setup.inputs + [source, n_elbo, trained], levels_plot,
                                   api_name="elbo_levels", show_progress="minimal")
    stop_elbo.click(None, None, None, cancels=[elbo_done, levels_done], api_visibility="private")
    setup.process.change(weighting_view, setup.process, weights_plot, api_name="weightings", show_progress="hidden")
    links.share_many("elbo", levels=n_levels, elbo_samples=n_elbo)
    return [(cached_only(likelihood_view), inputs, [plot, table]),
            (cached_only(elbo_view), elbo_inputs, [terms_plot, elbo_table]),
            (weighting_view, [setup.process], [weights_plot])]
