"""Tab "Sampling": samplers from the same starting noise, side by side, with NFE, time and distance to the data."""
from __future__ import annotations


import gradio as gr
import numpy as np
import torch

from ..compare import STEP_ERROR_SAMPLERS, REFERENCE_SUBSTEPS, quality_vs_steps, reference_samples, run_samplers, step_errors
from ..cost import check_budget, sampler_nfe
from ..forward import log_density_grid, view_half_width
from ..metrics import energy_distance
from ..samplers import GRIDS, MAX_STEPS, SAMPLERS, Grid
from ..samplers.edm import S_CHURN_MAX
from ..samplers.grids import GRID_LABELS, RHO_MAX, sigma_range
from ..viz.animation import Panel, figure_page, iframe
from ..viz.grids import steps_land_figure
from ..viz.sampling import final_samples_figure, paths_over_river, quality_figure
from .common import Setup, check_seed, choice, number, plotly_src, read_markdown, resolve_dataset, resolve_process, user_errors
from .exports import PanelsGif, build_downloads
from .link import Links
from .sources import SCORE_SOURCES, resolve_score, score_cost
from .startup import cached_only

SAMPLER_CHOICES = [(spec.label, name) for name, spec in SAMPLERS.items()]
DEFAULT_SAMPLERS = ["ddpm", "ddim", "pf_heun"]
MAX_PARTICLES = 5000
ANIMATED_POINTS = 4000      # particles animated over all panels together (payload); the final plot shows all
N_FRAMES, N_TRAILS, N_PATHS_1D = 60, 6, 20
QUALITY_STEPS = (5, 10, 20, 50, 100, 200)
GRID_CHOICES = [("each sampler's own", "own")] + [(GRID_LABELS[k], k) for k in GRIDS]
STEP_CHART_CHOICES = [(SAMPLERS[n].label, n) for n in STEP_ERROR_SAMPLERS]
STEP_CHART_MAX_STEPS, STEP_CHART_PARTICLES = 100, 400
SIGMA_LIMIT = 1e6           # σ_min / σ_max typed above this are refused before the process's own range is checked
RK45_MAX_NFE = 4000     # the shipped networks need ~500 evaluations; a stiffer ODE (a network trained on sharp spikes)
                        # stops with a message instead of running for minutes


def _grid(kind, sigma_min, sigma_max, rho) -> Grid | None:
    """The step grid from the widgets, checked on the server (None: each sampler's own); σ = 0 means the process's end."""
    kind = choice(kind, "step grid", [v for _, v in GRID_CHOICES])
    if kind == "own":
        return None
    lo = number(sigma_min, "σ_min", 0.0, SIGMA_LIMIT) or None
    hi = number(sigma_max, "σ_max", 0.0, SIGMA_LIMIT) or None
    r = number(rho, "ρ", 0.0, RHO_MAX)
    if kind != "karras":
        return Grid(kind)
    return Grid("karras", sigma_min=lo, sigma_max=hi, rho=r)       # ρ = 0, σ_min ≥ σ_max: a ValueError, its message


def _edm_options(churn, tmin, tmax, s_noise) -> dict:
    return {"s_churn": number(churn, "S_churn", 0.0, S_CHURN_MAX), "s_tmin": number(tmin, "S_tmin", 0.0, SIGMA_LIMIT),
            "s_tmax": number(tmax, "S_tmax", 0.0, SIGMA_LIMIT), "s_noise": number(s_noise, "S_noise", 0.0, 2.0)}


def _options(eta, langevin_step, langevin_t, snr, edm_opts=None) -> dict[str, dict]:
    """Sampler keyword options from the widgets, each checked on the server."""
    return {"edm": edm_opts or {},
        "ddim": {"eta": number(eta, "DDIM η", 0.0, 1.0)},
        "langevin": {"step_size": number(langevin_step, "Langevin step size", 1e-6, 1.0),
                     "t_fixed": number(langevin_t, "Langevin noise level t", 0.001, 1.0)},
        "pc": {"snr": number(snr, "Corrector step ratio r", 0.0, 1.0)},
        "pf_rk45": {"max_nfe": RK45_MAX_NFE},
    }


def _samplers(names) -> list[str]:
    if not names:
        raise gr.Error("Tick at least one sampler.")
    if isinstance(names, str):
        names = [names]
    bad = [n for n in names if n not in SAMPLERS]
    if bad:
        raise gr.Error(f"unknown sampler(s) {bad}; expected some of {list(SAMPLERS)}")
    if len(names) > 6:
        raise gr.Error("Compare at most 6 samplers at once.")
    return list(dict.fromkeys(names))


def _frame_index(n_traj: int, n_frames: int = N_FRAMES) -> np.ndarray:
    return np.unique(np.round(np.linspace(0, n_traj - 1, min(n_frames, n_traj))).astype(int))


def _progress_cb(progress, names):
    def cb(name, i, steps):
        if i % max(1, steps // 50) == 0:
            k = names.index(name)
            progress((k + i / max(steps, 1)) / len(names), desc=f"{SAMPLERS[name].label}: step {i}/{steps}")
    return cb


AMPLIFY_MAX = 300        # the linear path's score multiplies a velocity net's error by (1 - t)/t: above this the note
                         # warns (measured: fails at t = 0.001, factor 999; fine at 0.01, factor 99)


@user_errors
def sampling_view(dataset, means, stds, weights, process, seed, user_data, source, samplers, n_steps, n_particles,
                  eta, langevin_step, langevin_t, snr, grid="own", sigma_min=0.0, sigma_max=0.0, rho=7.0, churn=0.0, s_tmin=0.0, s_tmax=SIGMA_LIMIT, s_noise=1.0,
                  trained=None, progress=gr.Progress()):
    """API 'sample': run the ticked samplers from one x_init on the chosen step grid; animation (2D) or paths over the
    river (1D), final samples, figures; the animation's data to this session's state, for its GIF."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    seed = check_seed(seed)
    names = _samplers(samplers)
    steps = number(n_steps, "Steps", 0, MAX_STEPS, integer=True) or None
    n = number(n_particles, "Particles", 10, MAX_PARTICLES, integer=True)
    opts = _options(eta, langevin_step, langevin_t, snr, _edm_options(churn, s_tmin, s_tmax, s_noise))
    step_grid = _grid(grid, sigma_min, sigma_max, rho)
    score_fn, kind = resolve_score(source, ds, sde, trained)
    nfe = sum(sampler_nfe(SAMPLERS[name], steps) for name in names)
    check_budget(nfe * n * score_cost(source, ds, sde, trained), "Sampling",
                 "Particles, Steps or the number of samplers")
    x_init = sde.prior_sample((n, ds.dim), generator=torch.Generator().manual_seed(seed))
    runs = run_samplers(names, score_fn, sde, x_init, seed=seed, n_steps=steps, options=opts,
                        callback=_progress_cb(progress, names), grid=step_grid)
    target, second = reference_samples(ds, n, seed)
    floor = energy_distance(target, second)
    table = [[SAMPLERS[r.name].label, r.n_steps, r.result.nfe, round(r.seconds, 3),
              float(f"{energy_distance(r.result.x.float(), target):.4g}"), float(f"{floor:.4g}")] for r in runs]
    gif = None
    if ds.dim == 1:
        anim = gr.HTML(visible=False)
        river = gr.Plot(_river_with_paths(ds, sde, runs), visible=True)
        final = gr.Plot(visible=False)
    else:
        gif = _animation(ds, runs, name=f"samplers-{ds.name}-{sde.name}")
        anim = gr.HTML(iframe(figure_page(gif.figure(), plotly_src()), height=560), visible=True)
        river = gr.Plot(visible=False)
        final = gr.Plot(final_samples_figure([(SAMPLERS[r.name].label, r.result.x.float().numpy()) for r in runs],
                                             target.numpy(), title="Final samples (colour) over fresh data (grey)"),
                        visible=True)
    lo, hi = sigma_range(sde)
    grid_note = ("each sampler's own step grid" if step_grid is None else
                 f"the {step_grid.label} (samplers that follow a grid; σ/α of {sde.label} runs from {hi:.4g} to "
                 f"{lo:.4g})")
    note = (f"Score: **{kind}**. All samplers started from the same {n} draws of the prior "
            f"N(0, {sde.prior_std():.3g}² I), on {grid_note}. Noise floor = energy distance between two fresh data "
            f"sets of {n}.")
    t_level = opts["langevin"]["t_fixed"]
    if sde.name == "linear" and source != "exact" and "langevin" in names and (1 - t_level) / t_level > AMPLIFY_MAX:
        note += (f" *Plain Langevin at t = {t_level:g} with a velocity network*: there the score −(x + (1 − t) u_θ)/t "
                 f"multiplies the network's error by (1 − t)/t ≈ {(1 - t_level) / t_level:,.0f}, so expect it to miss "
                 "the data (on ring8 at t = 0.001 its energy distance is ~1.1; at t = 0.01 it is fine). Annealed Langevin "
                 "and the ODE samplers do not lean on one small level.")
    return anim, river, final, table, note, gif


def _animation(ds, runs, *, name: str) -> PanelsGif:
    """One panel per sampler (frames [N_FRAMES, n, 2]); particles subsampled so all panels together animate at most
    ANIMATED_POINTS."""
    k = len(runs)
    n = runs[0].result.x.shape[0]
    keep = np.arange(min(n, ANIMATED_POINTS // k))
    bg, _ = ds.sample(600, generator=torch.Generator().manual_seed(1))
    panels = []
    for r in runs:
        traj = r.result.trajectory.float().numpy()
        idx = _frame_index(traj.shape[0])
        idx = np.round(np.linspace(idx[0], idx[-1], N_FRAMES)).astype(int)   # same frame count in every panel
        frames = traj[idx][:, keep]
        half = np.maximum(3.5, 1.1 * np.quantile(np.abs(frames), 0.99, axis=1).max(axis=1))
        panels.append(Panel(frames, title=f"{SAMPLERS[r.name].label} · NFE {r.result.nfe}",
                            ranges=np.repeat(half[:, None], 2, 1), background=bg.numpy(),
                            trails=frames[:, :N_TRAILS]))
    labels = [f"{j / (N_FRAMES - 1):.0%}" for j in range(N_FRAMES)]
    return PanelsGif(name, panels, labels, time_label="progress: ", figure_options={"marker_size": 3.5, "height": 520},
                     title="From noise to data: every sampler from the same starting points (black: a few paths)")


def _river_with_paths(ds, sde, runs):
    ts = torch.linspace(sde.T, 0.0, 160, dtype=torch.float64)
    half = float(view_half_width(sde, ts, data_std=float(ds.mixture.variance().sqrt().max())).max())
    xs = torch.linspace(-half, half, 240, dtype=torch.float64) + float(ds.mixture.mean()[0])
    density = log_density_grid(ds.mixture, sde, ts, [xs]).exp().numpy()
    panels = []
    for r in runs:
        paths = r.result.trajectory[:, :N_PATHS_1D, 0].float().numpy()
        t = r.result.ts.double().numpy() if SAMPLERS[r.name].uses_grid else np.linspace(sde.T, sde.t_min, len(paths))
        panels.append((f"{SAMPLERS[r.name].label} · NFE {r.result.nfe}", t[: len(paths)], paths))
    return paths_over_river(panels, xs.numpy(), ts.numpy(), density,
                            title="Sampler paths over the exact density river p_t(x)")


@user_errors
def quality_view(dataset, means, stds, weights, process, seed, user_data, source, samplers, n_particles,
                 eta, langevin_step, langevin_t, snr, grid="own", sigma_min=0.0, sigma_max=0.0, rho=7.0, churn=0.0, s_tmin=0.0, s_tmax=SIGMA_LIMIT, s_noise=1.0,
                 trained=None, progress=gr.Progress()):
    """API 'quality': energy distance to the data against NFE, each sampler at several step counts, on the chosen grid."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    seed = check_seed(seed)
    names = _samplers(samplers)
    n = number(n_particles, "Particles", 10, MAX_PARTICLES, integer=True)
    opts = _options(eta, langevin_step, langevin_t, snr, _edm_options(churn, s_tmin, s_tmax, s_noise))
    step_grid = _grid(grid, sigma_min, sigma_max, rho)
    score_fn, _ = resolve_score(source, ds, sde, trained)
    nfe = sum(sampler_nfe(SAMPLERS[name], s) for name in names for s in QUALITY_STEPS)
    check_budget(nfe * n * score_cost(source, ds, sde, trained), "The quality sweep",
                 "Particles or the number of samplers")
    rows = quality_vs_steps(names, score_fn, sde, ds, n=n, seed=seed, steps=QUALITY_STEPS, options=opts,
                            callback=lambda i, total, desc: progress(i / total, desc=desc), grid=step_grid)
    for r in rows:
        r["sampler"] = SAMPLERS[r["sampler"]].label
    target, second = reference_samples(ds, n, seed)
    on = "each sampler's own grid" if step_grid is None else step_grid.label
    return quality_figure(rows, energy_distance(target, second),
                          title=f"Quality against cost on {ds.label}, {on} ({n} samples, same starting noise)")


@user_errors
def steps_view(dataset, means, stds, weights, process, seed, user_data, source, sampler, n_steps, grid="own",
               sigma_min=0.0, sigma_max=0.0, rho=7.0, trained=None, progress=gr.Progress()):
    """API 'steps_land': the chosen grid (and uniform t, uniform log-SNR for contrast) on the log-SNR axis with the
    error of one step of the sampler from exact x_t against a tight reference solve."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    seed = check_seed(seed)
    sampler = choice(sampler, "sampler", STEP_ERROR_SAMPLERS)
    steps = number(n_steps, "Steps", 0, MAX_STEPS, integer=True) or 20
    if steps > STEP_CHART_MAX_STEPS:
        raise gr.Error(f"The step chart takes at most {STEP_CHART_MAX_STEPS} steps (got {steps}); set Steps lower "
                       "(0 = 20).")
    step_grid = _grid(grid, sigma_min, sigma_max, rho) or Grid(SAMPLERS[sampler].spacing)
    score_fn, kind = resolve_score(source, ds, sde, trained)
    grids = [step_grid] + [Grid(k) for k in ("uniform", "log_snr") if k != step_grid.kind]
    per_step = 2 * (REFERENCE_SUBSTEPS + 1)
    check_budget(len(grids) * steps * per_step * STEP_CHART_PARTICLES * score_cost(source, ds, sde, trained),
                 "The step chart", "Steps")
    out = []
    for k, g in enumerate(grids):
        rows = step_errors(sampler, score_fn, sde, ds, g, steps, n=STEP_CHART_PARTICLES, seed=seed,
                           callback=lambda i, total, _k=k: progress((_k + i / total) / len(grids),
                                                                   desc=f"{grids[_k].label}: step {i}/{total}"))
        out.append((g.label, rows))
    lo, hi = sigma_range(sde)
    return steps_land_figure(out, title=f"Where {steps} steps of {SAMPLERS[sampler].label} land under {sde.label} "
                                        f"(σ/α from {hi:.3g} to {lo:.3g}; {kind})")


def build_sampling_tab(setup: Setup, trained: gr.State, links: Links) -> list:
    """Builds the tab; returns the (fn, inputs, outputs) to run when a page opens."""
    gr.Markdown(read_markdown("sampling"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    with gr.Row():
        source = gr.Radio(SCORE_SOURCES, value="exact", label="Score", scale=2)
        n_particles = gr.Slider(100, MAX_PARTICLES, value=2000, step=100, label="Particles", scale=1)
        n_steps = gr.Slider(0, 1000, value=0, step=1, label="Steps (0 = each sampler's default)", scale=1)
    samplers = gr.CheckboxGroup(SAMPLER_CHOICES, value=DEFAULT_SAMPLERS, label="Samplers (same starting noise)")
    with gr.Row():
        grid = gr.Dropdown(GRID_CHOICES, value="own", label="Step grid (mapped to the process through σ/α)", scale=2)
        rho = gr.Number(value=7.0, label="ρ (Karras grid)", minimum=0, maximum=RHO_MAX, scale=1)
        sigma_min = gr.Number(value=0.0, label="σ_min (σ/α; 0 = the process's end)", minimum=0, scale=1)
        sigma_max = gr.Number(value=0.0, label="σ_max (σ/α; 0 = the process's start)", minimum=0, scale=1)
    with gr.Accordion("Sampler settings", open=False):
        with gr.Row():
            eta = gr.Slider(0.0, 1.0, value=0.0, step=0.05, label="DDIM η (0 deterministic, 1 = DDPM)")
            snr = gr.Slider(0.0, 1.0, value=0.16, step=0.01, label="PC corrector step ratio r")
            langevin_step = gr.Number(value=1e-3, label="Langevin step size τ")
            langevin_t = gr.Slider(0.001, 1.0, value=0.01, step=0.001, label="Langevin noise level t")
        with gr.Row():
            churn = gr.Slider(0.0, 100.0, value=0.0, step=1.0, label="EDM S_churn (0 = deterministic)")
            s_tmin = gr.Number(value=0.0, label="EDM S_tmin (σ/α)", minimum=0)
            s_tmax = gr.Number(value=SIGMA_LIMIT, label="EDM S_tmax (σ/α)", minimum=0)
            s_noise = gr.Slider(0.9, 1.1, value=1.0, step=0.001, label="EDM S_noise")
    with gr.Row():
        run = gr.Button("Sample", variant="primary")
        quality = gr.Button("Quality vs steps")
        stop = gr.Button("Stop", variant="stop")
    note = gr.Markdown()
    anim = gr.HTML(elem_id="sampling-anim", elem_classes=["dx-wide"])
    downloads = build_downloads("sample", "No animation yet: press 'Sample' on a 2D dataset first.")
    river = gr.Plot(label="Paths over the density river", visible=False)
    final = gr.Plot(label="Final samples", elem_classes=["dx-wide"])
    table = gr.Dataframe(headers=["sampler", "steps", "NFE", "time (s)", "energy distance", "noise floor"],
                         label="Figures", interactive=False)
    quality_plot = gr.Plot(label="Quality vs NFE")
    gr.Markdown(read_markdown("sampling_grids"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    with gr.Row():
        chart_sampler = gr.Dropdown(STEP_CHART_CHOICES, value="edm", label="Sampler of the step chart", scale=2)
        steps_btn = gr.Button("Where the steps land", scale=1)
    steps_plot = gr.Plot(label="Where the steps land")
    grid_inputs = [grid, sigma_min, sigma_max, rho]
    edm_inputs = [churn, s_tmin, s_tmax, s_noise]
    inputs = (setup.inputs + [source, samplers, n_steps, n_particles, eta, langevin_step, langevin_t, snr] + grid_inputs
              + edm_inputs + [trained])
    sampled = run.click(sampling_view, inputs, [anim, river, final, table, note, downloads.spec], api_name="sample")
    downloads.after(sampled)
    q_inputs = (setup.inputs + [source, samplers, n_particles, eta, langevin_step, langevin_t, snr] + grid_inputs
                + edm_inputs + [trained])
    swept = quality.click(quality_view, q_inputs, quality_plot, api_name="quality")
    landed = steps_btn.click(steps_view, setup.inputs + [source, chart_sampler, n_steps] + grid_inputs + [trained],
                             steps_plot, api_name="steps_land")
    stop.click(None, None, None, cancels=[sampled, swept, landed], api_visibility="private")
    links.share_many("sampling", score=source, particles=n_particles, steps=n_steps, samplers=samplers, eta=eta,
                     snr=snr, lstep=langevin_step, lt=langevin_t, grid=grid, rho=rho, smin=sigma_min, smax=sigma_max,
                     churn=churn, chart=chart_sampler)
    return [(cached_only(sampling_view), inputs, [anim, river, final, table, note, downloads.spec])]   # defaults, on open
