"""Tab "Flow matching": the exact marginal velocity next to the score and to diffusion's PF-ODE velocity; straight
conditional paths vs curved marginal paths; a velocity network trained live with a coupling (independent, minibatch
OT, reflow); learned vs exact; straightness and quality at 1-16 Euler steps per coupling."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from ..cost import check_budget, mixture_cost, network_cost, training_cost
from ..couplings import COUPLINGS, OT_BLOCK, ot_step_cost
from ..fields import arrow_lengths, evaluate_score, grid_2d
from ..forward import view_half_width
from ..gpu import gpu_call
from ..metrics import energy_distance
from ..nn.flow_matching import check_previous, is_flow, network_velocity, train_flow, velocity_config
from ..nn.networks import ScoreNet
from ..nn.training import DEFAULTS, TrainingDiverged
from ..pretrained import has_pretrained, load_pretrained
from ..process import get_process
from ..scores import exact_score
from ..straightness import FEW_STEPS, conditional_and_marginal_paths, quality_vs_steps, straightness
from ..velocity import exact_velocity, p_weighted_mean, streamlines, velocity_error_on_grid
from ..viz.flow import EXACT, LEARNED, curves_1d, few_steps_figure, field_panels, paths_figure, velocity_error_map
from ..viz.animation import Panel, figure_page, iframe, panel_animation
from ..viz.learned import loss_figure
from .common import (PROCESS_CHOICES, Setup, check_seed, choice, number, plotly_src, read_markdown,
                     resolve_dataset, resolve_process, user_errors)
from .link import Links
from .streaming import stream_reports

FLOW = "linear"                 # the flow's own path: x_t = (1 - t) x_0 + t eps
COUPLING_CHOICES = [("independent pairs", "independent"), ("minibatch optimal transport", "minibatch_ot"),
                    ("reflow (rectify my last flow)", "reflow")]
MAX_STEPS, REPORT_EVERY, MAX_ARROWS = 20_000, 50, 31
FIELD_SIDE, STREAM_SEEDS = 17, 7
REFLOW_PAIRS = 5_000            # pairs drawn from the previous flow in the app (100 Heun steps each)
N_QUALITY, N_STRAIGHT = 1000, 300
MAX_PATHS = 40
ANIM_PAIRS = 1000
COUPLING_LABEL = {v: k for k, v in COUPLING_CHOICES}


def comparison_process(process):
    """The diffusion to compare with: the chosen process, or VP-linear when the chosen one is the linear path itself."""
    name = choice(process, "process", [v for _, v in PROCESS_CHOICES])
    return get_process("vp_linear" if name == FLOW else name)


def _view(ds, t: float):
    """(half width, arrow points [M, 2], spacing, fine axis, fine points) of the 2D view at t under the linear path."""
    sde = get_process(FLOW)
    half = float(view_half_width(sde, torch.tensor([t], dtype=torch.float64)))
    _, pts = grid_2d(half, FIELD_SIDE)
    axis, fine = grid_2d(half, 70)
    return half, pts, 2 * half / (FIELD_SIDE - 1), axis, fine


def field_figure(ds, other, t: float, n_side: int, show_streamlines: bool):
    """The exact u_t of the linear path, its score, and diffusion's PF-ODE velocity under `other`, at time t."""
    flow = get_process(FLOW)
    mixture = ds.exact()
    u_flow, u_other = exact_velocity(ds, flow), exact_velocity(ds, other)
    score = exact_score(ds, flow)
    if ds.dim == 1:
        x = torch.linspace(-4, 4, 500, dtype=torch.float64)[:, None]
        return curves_1d(x[:, 0].numpy(), mixture.log_prob(x, t, flow).exp().numpy(), [
            ("velocity u_t, linear path", u_flow(x, t)[:, 0].numpy(), EXACT, None),
            ("score ∇log p_t, linear path", score(x, t)[:, 0].numpy(), "#999999", "dot"),
            (f"PF-ODE velocity, {other.label}", u_other(x, t)[:, 0].numpy(), LEARNED, "dash")],
            title=f"Exact velocity and score at t = {t:.2f}")
    half = float(view_half_width(flow, torch.tensor([t], dtype=torch.float64)))
    half_other = float(view_half_width(other, torch.tensor([t], dtype=torch.float64)))
    half = max(half, half_other) if other.variance_preserving else half
    axis, pts = grid_2d(half, n_side)
    spacing = 2 * half / (n_side - 1)
    _, fine = grid_2d(half, 70)
    log_p = mixture.log_prob(fine, t, flow).reshape(70, 70).numpy()
    log_p_other = mixture.log_prob(fine, t, other).reshape(70, 70).numpy()
    fine_axis = torch.linspace(-half, half, 70).numpy()
    seeds = grid_2d(half * 0.8, STREAM_SEEDS)[1]

    def arrows(fn):
        return arrow_lengths(evaluate_score(fn, pts, t), spacing, normalize=True).numpy()

    def stream(fn):
        return streamlines(fn, t, seeds, step=half / 40).numpy() if show_streamlines else None

    panels = [("velocity u_t (linear path)", arrows(u_flow), EXACT, stream(u_flow), None),
              ("score ∇log p_t (linear path)", arrows(score), "#444444", stream(score), None),
              (f"PF-ODE velocity, {other.label}", arrows(u_other), LEARNED, stream(u_other), log_p_other)]
    return field_panels(fine_axis, log_p, pts.numpy(), panels,
                        title=f"Exact fields at t = {t:.2f} (arrows normalised; grey: p_t)")


@user_errors
def field_view(dataset, means, stds, weights, process, seed, user_data, t, n_side, show_streamlines):
    """API 'flow_field': the exact velocity of the linear path, its score, and another process's PF-ODE velocity."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    other = comparison_process(process)
    t = number(t, "Time t", 0.01, 0.99)
    n = number(n_side, "Arrows per side", 5, MAX_ARROWS, integer=True)
    work = (n * n + 70 * 70 * 2 + (2 * 20 + 1) * STREAM_SEEDS ** 2 * 6) * mixture_cost(ds.exact())
    check_budget(work, "This field", "Arrows per side")
    return field_figure(ds, other, t, n, bool(show_streamlines))


def paths_plot(ds, sde, n: int, g: torch.Generator):
    """n pairs (x_0, eps): their conditional paths x_t = alpha x_0 + sigma eps and the exact marginal ODE paths from the
    same x_T under sde, over p_0 (2D only)."""
    if ds.dim != 2:
        raise gr.Error("Conditional and marginal paths are drawn for 2D data: pick a 2D dataset.")
    x0, _ = ds.sample(n, generator=g, dtype=torch.float64)
    eps = torch.randn(n, 2, generator=g, dtype=torch.float64)
    pp = conditional_and_marginal_paths(exact_score(ds, sde), sde, x0, eps)
    lim = max(3.0, float(pp.conditional.abs().max()) * 1.05)
    axis, fine = grid_2d(lim, 70)
    log_p0 = ds.exact().log_prob(fine, 0.03, sde).reshape(70, 70).numpy()     # a little blur: a point set shows
    moved = float(pp.landing_distance().median())
    shape = "straight" if sde.name == FLOW else "curved unless the path is linear"
    return paths_figure(pp.conditional.numpy(), pp.marginal.numpy(), pp.x0.numpy(), axis=axis.numpy(), log_p0=log_p0,
                        straight=sde.name == FLOW,
                        title=f"{sde.label}: conditional paths ({shape}) vs the exact marginal ODE "
                              f"(median landing {moved:.2f} from x₀)")


def paths_animation(ds, sde, n: int, n_trails: int, g: torch.Generator) -> dict:
    """Animated (T down to t_min): n pairs moving along their conditional paths (left) and the same x_T along the
    exact marginal ODE (right), coloured by the class of the pair's x_0, n_trails of them with their paths."""
    x0, y = ds.sample(n, generator=g, dtype=torch.float64)
    eps = torch.randn(n, 2, generator=g, dtype=torch.float64)
    pp = conditional_and_marginal_paths(exact_score(ds, sde), sde, x0, eps)
    lim = max(3.0, float(pp.conditional[0].abs().quantile(0.99)) * 1.1)
    ranges = np.full((len(pp.ts), 2), lim)
    labels = y.numpy()
    cond, marg = pp.conditional.float().numpy(), pp.marginal.float().numpy()
    panels = [Panel(cond, title="conditional paths x_t = α x₀ + σ ε", labels=labels, n_classes=ds.num_classes,
                    ranges=ranges, trails=cond[:, :n_trails]),
              Panel(marg, title="marginal ODE from the same x_T", labels=labels, n_classes=ds.num_classes,
                    ranges=ranges, trails=marg[:, :n_trails])]
    return panel_animation(panels, [f"{t:.2f}" for t in pp.ts.numpy()], time_label="t = ",
                           title=f"{sde.label}: the same clouds at every t, different routes (colour: the pair's class)")


@user_errors
def paths_animation_view(dataset, means, stds, weights, process, seed, user_data, n_paths):
    """API 'flow_paths_animation': 1,000 pairs along their conditional paths and along the marginal ODE, animated."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    g = torch.Generator().manual_seed(check_seed(seed))
    n = number(n_paths, "Paths", 1, MAX_PATHS, integer=True)
    if ds.dim != 2:
        raise gr.Error("Conditional and marginal paths are drawn for 2D data: pick a 2D dataset.")
    check_budget(2 * 60 * ANIM_PAIRS * mixture_cost(ds.exact()), "This animation", "the dataset")
    page = figure_page(paths_animation(ds, get_process(FLOW), ANIM_PAIRS, n, g), plotly_src())
    return gr.HTML(iframe(page, height=600), visible=True)


@user_errors
def forward_paths_animation_view(dataset, means, stds, weights, process, seed, user_data, n_paths):
    """API 'forward_paths_animation': the animation of flow_paths_animation under the chosen process."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    g = torch.Generator().manual_seed(check_seed(seed))
    n = number(n_paths, "Paths", 1, MAX_PATHS, integer=True)
    if ds.dim != 2:
        raise gr.Error("Conditional and marginal paths are drawn for 2D data: pick a 2D dataset.")
    check_budget(2 * 60 * ANIM_PAIRS * mixture_cost(ds.exact()), "This animation", "the dataset")
    return gr.HTML(iframe(figure_page(paths_animation(ds, sde, ANIM_PAIRS, n, g), plotly_src()), height=600),
                   visible=True)


@user_errors
def paths_view(dataset, means, stds, weights, process, seed, user_data, n_paths):
    """API 'flow_paths': straight conditional paths (x_0 -> eps) of the linear path and the curved marginal ODE paths
    from the same x_T."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    g = torch.Generator().manual_seed(check_seed(seed))
    n = number(n_paths, "Paths", 1, MAX_PATHS, integer=True)
    check_budget(2 * 60 * n * mixture_cost(ds.exact()), "These paths", "Pairs")
    return paths_plot(ds, get_process(FLOW), n, g)


@user_errors
def forward_paths_view(dataset, means, stds, weights, process, seed, user_data, n_paths):
    """API 'forward_paths': the same under the chosen process (its conditional paths curve unless it is linear)."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    g = torch.Generator().manual_seed(check_seed(seed))
    n = number(n_paths, "Paths", 1, MAX_PATHS, integer=True)
    check_budget(2 * 60 * n * mixture_cost(ds.exact()), "These paths", "Pairs")
    return paths_plot(ds, sde, n, g)


def learned_vs_exact(velocity_fn, ds, t: float, title: str):
    """Learned u_theta (left) next to the exact independent-coupling u_t (right) at time t."""
    flow = get_process(FLOW)
    exact_fn = exact_velocity(ds, flow)
    if ds.dim == 1:
        x = torch.linspace(-4, 4, 400, dtype=torch.float64)[:, None]
        return curves_1d(x[:, 0].numpy(), ds.exact().log_prob(x, t, flow).exp().numpy(), [
            ("exact u_t (independent pairs)", exact_fn(x, t)[:, 0].numpy(), EXACT, None),
            ("learned u_θ", evaluate_score(velocity_fn, x.float(), t)[:, 0].numpy(), LEARNED, "dash")], title=title)
    half, pts, spacing, axis, fine = _view(ds, t)
    log_p = ds.exact().log_prob(fine, t, flow).reshape(70, 70).numpy()
    learned = arrow_lengths(evaluate_score(velocity_fn, pts.float(), t), spacing, normalize=True).numpy()
    exact = arrow_lengths(evaluate_score(exact_fn, pts, t), spacing, normalize=True).numpy()
    return field_panels(axis.numpy(), log_p, pts.numpy(), [("learned u_θ(x, t)", learned, LEARNED, None, None),
                                                           ("exact u_t, independent pairs", exact, EXACT, None, None)],
                        title=title, height=440)


def _loss_plot(losses):
    return loss_figure(np.arange(1, len(losses) + 1) * REPORT_EVERY, np.asarray(losses),
                       title="Flow-matching loss E‖u_θ − (ε − x₀)‖²")


@user_errors
@gpu_call(duration=120)
def train_view(dataset, means, stds, weights, process, seed, user_data, coupling, steps, lr, width, t,
               trained=None, flows=None, progress=gr.Progress()):
    """API 'flow_train': trains a velocity network with a coupling (streamed: loss, learned vs exact velocity, status);
    the flow becomes this session's trained network (process 'linear') and joins the session's flows."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    seed = check_seed(seed)
    if not isinstance(coupling, str) or coupling not in COUPLINGS:
        raise gr.Error(f"unknown coupling {coupling!r}; expected one of {list(COUPLINGS)}")
    steps = number(steps, "Training steps", 100, MAX_STEPS, integer=True)
    lr = number(lr, "Learning rate", 1e-5, 0.05)
    width = number(width, "Width", 16, 512, integer=True)
    t = number(t, "Time t", 0.01, 0.99)
    flow = get_process(FLOW)
    previous = None
    if coupling == "reflow":
        previous = (flows or {}).get("last") or (trained if is_flow(trained) else None)
        try:
            check_previous(previous, ds, flow)
        except ValueError as e:
            raise gr.Error(f"{e} (in this tab, for {ds.label}).") from None
    config = velocity_config(ds, flow, width=width)
    per_step = training_cost(ScoreNet(config), steps=1, batch_size=DEFAULTS["batch_size"])
    if coupling == "minibatch_ot":
        per_step += ot_step_cost(DEFAULTS["batch_size"], OT_BLOCK)
    extra = 0.0 if previous is None else REFLOW_PAIRS * 200 * network_cost(previous.net)
    check_budget(extra + steps * per_step, "This training", f"Training steps (about {int(30 / per_step):,} fit) or Width")

    def snapshot(p):
        return p.step, p.steps, p.loss, p.model.copy().to("cpu"), list(p.model.losses), p.elapsed_s

    def work(report):
        return train_flow(ds, flow, coupling=coupling, previous=previous, config=config, n_pairs=REFLOW_PAIRS,
                          steps=steps, lr=lr, seed=seed, report_every=REPORT_EVERY,
                          callback=lambda p: report(snapshot(p)))

    last = None
    try:
        for kind, value in stream_reports(work):
            if kind == "report":
                last = value
                step, total, loss, model, losses, elapsed = value
                progress(step / total, desc=f"training: step {step}/{total}")
                yield (_loss_plot(losses), learned_vs_exact(network_velocity(model), ds, t, f"t = {t:.2f}, step {step}"),
                       f"step **{step}/{total}** · loss {loss:.4f} · {elapsed:.1f} s", gr.skip(), gr.skip())
            else:
                model = value.to("cpu")
                done = model.info["steps"]
                why = "" if done >= steps else f" (stopped before {steps}: the time limit per request was reached)"
                secs = last[5] if last else 0.0
                status = (f"Done: **{done} steps** with {COUPLING_LABEL[coupling]}{why} in {secs:.1f} s, final "
                          f"loss {model.losses[-1]:.4f}. It is your trained network now: pick the process "
                          f"*Linear path* and *My trained network* in the other tabs to sample with it or take its "
                          f"likelihood; *Reflow* rectifies it.")
                new_flows = {**(flows or {}), coupling: model, "last": model}
                yield (_loss_plot(model.losses), learned_vs_exact(network_velocity(model), ds, t, f"t = {t:.2f}, trained"),
                       status, model, new_flows)
    except (TrainingDiverged, ValueError) as e:
        raise gr.Error(str(e)) from None


def _network(source, ds, trained, flows):
    """(label, TrainedModel) of the chosen velocity network, or a gr.Error saying what is missing."""
    if source == "pretrained":
        if not has_pretrained(ds.name, FLOW):
            raise gr.Error(f"No pretrained velocity network for {ds.label}: they ship for the built-in 2D toys; "
                           f"train one above.")
        return "pretrained flow", load_pretrained(ds.name, FLOW)
    if source == "trained":
        model = (flows or {}).get("last")
        if model is None:
            raise gr.Error("No flow trained in this session yet: press Train above first.")
        if model.config.dataset != ds.name:
            raise gr.Error(f"Your flow is for dataset '{model.config.dataset}'; choose it above, or train a new one.")
        return f"your flow ({model.info.get('coupling', 'independent')})", model
    raise gr.Error(f"unknown network {source!r}; expected one of ['pretrained', 'trained']")


@user_errors
def compare_view(dataset, means, stds, weights, process, seed, user_data, source, t, trained=None, flows=None):
    """API 'flow_compare': learned vs exact velocity at t and where the network is wrong (the p_t-weighted error map)."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    t = number(t, "Time t", 0.01, 0.99)
    label, model = _network(source, ds, trained, flows)
    fn = network_velocity(model)
    fields = learned_vs_exact(fn, ds, t, f"{label} against the exact velocity at t = {t:.2f}")
    if ds.dim != 2:
        return fields, gr.Plot(visible=False)
    half = float(view_half_width(get_process(FLOW), torch.tensor([t], dtype=torch.float64)))
    axis, pts = grid_2d(half, 60)
    err, log_p = velocity_error_on_grid(fn, ds.exact(), get_process(FLOW), t, pts)
    emap = velocity_error_map(axis.numpy(), err.reshape(60, 60).numpy(), log_p.reshape(60, 60).numpy(),
                              title=f"p_t-weighted mean error {p_weighted_mean(err, log_p):.3f}")
    return fields, gr.Plot(emap, visible=True)


@user_errors
def compare_on_open(dataset, means, stds, weights, process, seed, user_data, t):
    """On page open: the pretrained flow against the exact velocity where one ships (else nothing drawn yet)."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    if not has_pretrained(ds.name, FLOW):
        return gr.skip(), gr.skip()
    return compare_view.__wrapped__(dataset, means, stds, weights, process, seed, user_data, "pretrained", t)


@user_errors
def steps_view(dataset, means, stds, weights, process, seed, user_data, trained=None, flows=None,
               progress=gr.Progress()):
    """API 'flow_steps': energy distance at 1-16 Euler steps and Liu's straightness for the exact flow, the pretrained
    flow, this session's flows (one per coupling) and diffusion's PF-ODE under another process, from one x_T."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    seed = check_seed(seed)
    other = comparison_process(process)
    flow = get_process(FLOW)
    rows = [("exact marginal flow (linear path)", exact_score(ds, flow), flow, mixture_cost(ds.exact())),
            (f"diffusion PF-ODE, exact ({other.label})", exact_score(ds, other), other, mixture_cost(ds.exact()))]
    if has_pretrained(ds.name, FLOW):
        m = load_pretrained(ds.name, FLOW)
        rows.append(("pretrained flow (independent)", m.score_fn(), flow, network_cost(m.net)))
    for c in COUPLINGS:
        m = (flows or {}).get(c)
        if m is not None and m.config.dataset == ds.name:
            rows.append((f"your flow: {COUPLING_LABEL[c]}", m.score_fn(), flow, network_cost(m.net)))
    nfe = sum(FEW_STEPS)
    check_budget(sum(c * (nfe * N_QUALITY + 201 * N_STRAIGHT) for *_, c in rows), "This comparison",
                 "the dataset (a mixture is cheaper than a shape's 2,000 reference points)")
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(N_QUALITY, ds.dim, generator=g)
    ref, _ = ds.sample(2000, generator=g)
    ref2, _ = ds.sample(N_QUALITY, generator=g)
    floor = energy_distance(ref2, ref)
    curves, table = [], ["| flow | straightness S | ED at 1 step | ED at 4 steps | ED at 16 steps |", "|---|---|---|---|---|"]
    for i, (name, score_fn, sde, _) in enumerate(rows):
        progress(i / len(rows), desc=name)
        x_init = sde.prior_std() * z
        eds = quality_vs_steps(score_fn, sde, x_init, ref)
        s = straightness(score_fn, sde, x_init[:N_STRAIGHT], n_steps=100).value
        curves.append((name, eds))
        table.append(f"| {name} | {s:.3f} | {eds[0]:.4f} | {eds[2]:.4f} | {eds[4]:.4f} |")
    fig = few_steps_figure(FEW_STEPS, curves, floor=floor, title="Quality at a few Euler steps, from one x_T")
    note = ("\n".join(table) + f"\n\nNoise floor (two data sets of {N_QUALITY} and 2,000): ED {floor:.4f}. "
            "S = E ∫‖u(x_t, t) − (x_T − x_end)/(T − t_min)‖² dt / (T − t_min) along 100-step Heun paths (0: straight "
            "lines); diffusion's S is in its own time, so compare its ED, not its S.")
    return fig, note


def build_flow_tab(setup: Setup, trained: gr.State, links: Links) -> list:
    """Builds the tab; returns the (fn, inputs, outputs) to run when a page opens."""
    latex = [{"left": "$", "right": "$", "display": False}]
    gr.Markdown(read_markdown("flow"), latex_delimiters=latex)
    flows = gr.State({})            # this session's flows, one per coupling (and "last"), never shared
    with gr.Row():
        t = gr.Slider(0.01, 0.99, value=0.3, step=0.01, label="Time t")
        n_side = gr.Slider(5, MAX_ARROWS, value=17, step=1, label="Arrows per side (2D)")
        stream = gr.Checkbox(value=True, label="Streamlines")
    field = gr.Plot(label="Velocity, score and PF-ODE velocity", elem_classes=["dx-wide"])
    field_inputs = setup.inputs + [t, n_side, stream]
    gr.on([t.release, n_side.release, stream.change, setup.dataset.change, setup.process.change], field_view,
          field_inputs, field, api_visibility="private")
    gr.Button("Draw", visible=False).click(field_view, field_inputs, field, api_name="flow_field")

    gr.Markdown("### Straight lines, curved flow")
    with gr.Row():
        n_paths = gr.Slider(1, MAX_PATHS, value=8, step=1, label="Pairs (x₀, ε)", scale=3)
        paths_btn = gr.Button("Draw the paths", scale=1)
        anim_btn = gr.Button("Animate 1,000 pairs", scale=1)
    paths = gr.Plot(label="Conditional and marginal paths")
    anim = gr.HTML(visible=False)
    paths_inputs = setup.inputs + [n_paths]
    paths_btn.click(paths_view, paths_inputs, paths, api_name="flow_paths")
    anim_btn.click(paths_animation_view, paths_inputs, anim, api_name="flow_paths_animation")

    gr.Markdown("### Train a flow, live")
    with gr.Row():
        coupling = gr.Radio(COUPLING_CHOICES, value="independent", label="Coupling of x₀ and ε", scale=3)
        steps = gr.Slider(100, MAX_STEPS, value=DEFAULTS["steps"], step=100, label="Training steps", scale=1)
        lr = gr.Number(value=DEFAULTS["lr"], label="Learning rate", scale=1)
        width = gr.Slider(16, 512, value=128, step=16, label="Width", scale=1)
    with gr.Row():
        train_btn = gr.Button("Train", variant="primary")
        stop_btn = gr.Button("Stop", variant="stop")
    status = gr.Markdown()
    with gr.Row():
        loss_plot = gr.Plot(label="Loss", scale=1)
        learned_plot = gr.Plot(label="Learned and exact velocity", scale=2)
    event = train_btn.click(train_view, setup.inputs + [coupling, steps, lr, width, t, trained, flows],
                            [loss_plot, learned_plot, status, trained, flows], api_name="flow_train",
                            show_progress="minimal", concurrency_id="train", concurrency_limit=2)
    stop_btn.click(None, None, None, cancels=[event], api_visibility="private")

    gr.Markdown("### Learned against exact")
    with gr.Row():
        source = gr.Radio([("Pretrained flow", "pretrained"), ("My flow", "trained")], value="pretrained",
                          label="Velocity network", scale=2)
        compare_btn = gr.Button("Compare with the exact velocity", scale=1)
    with gr.Row():
        cmp_fields = gr.Plot(label="Learned vs exact", scale=2, elem_classes=["dx-wide"])
        cmp_map = gr.Plot(label="Error map", scale=1)
    compare_btn.click(compare_view, setup.inputs + [source, t, trained, flows], [cmp_fields, cmp_map],
                      api_name="flow_compare")

    gr.Markdown("### Straighter paths, fewer steps")
    steps_btn = gr.Button("Measure every flow at 1, 2, 4, 8, 16 Euler steps")
    steps_plot = gr.Plot(label="Quality vs steps")
    steps_note = gr.Markdown()
    steps_btn.click(steps_view, setup.inputs + [trained, flows], [steps_plot, steps_note], api_name="flow_steps",
                    show_progress="minimal")
    links.share_many("flow", t=t, arrows=n_side, streamlines=stream, pairs=n_paths, coupling=coupling, steps=steps,
                     lr=lr, width=width, network=source)
    return [(field_view, field_inputs, [field]), (paths_view, paths_inputs, [paths]),
            (compare_on_open, setup.inputs + [t], [cmp_fields, cmp_map])]
