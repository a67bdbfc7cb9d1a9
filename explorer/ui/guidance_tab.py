"""Tab "Guidance": unguided, classifier-guided and classifier-free sampling from the same noise, and the trade-off."""
from __future__ import annotations


import gradio as gr
import numpy as np
import torch

from ..nn.classifier import train_classifier
from ..cost import check_budget, mixture_cost, network_cost, sampler_nfe
from ..fields import arrow_lengths, evaluate_score, grid_2d
from ..forward import view_half_width
from ..gpu import gpu_call
from ..guidance import (GAMMA_MAX, SUPPORT_QUANTILE, cfg_term, classifier_guided_score, exact_classifier,
                        exact_conditional_score, guidance_figures, guidance_sweep, guidance_term,
                        network_autoguided_score, network_cfg_score, support_density)
from ..pretrained import has_weak, load_weak
from ..samplers import SAMPLERS, sample, samplers_where
from ..nn.training import TrainingDiverged
from ..viz.animation import Panel, figure_page, iframe
from ..viz.guidance import fidelity_chart
from ..viz.learned import fields_side_by_side
from ..viz.sampling import final_samples_figure
from .common import (Setup, check_seed, choice, number, plotly_src, read_markdown, resolve_dataset, resolve_process,
                     user_errors)
from .exports import PanelsGif, build_downloads
from .link import Links
from .safe_text import html_text          # a CSV's class names in plot titles: text, not markup
from .sources import resolve_score
from .startup import cached_only

# the samplers that take one grid step at a time; a stochastic one needs more steps to reach the same accuracy
SAMPLER_STEPS = {n: 200 if SAMPLERS[n].stochastic else 50 for n in samplers_where(single_step=True, uses_grid=True)}
GUIDED_SAMPLERS = [(f"{SAMPLERS[n].label}, {steps} steps", n) for n, steps in SAMPLER_STEPS.items()]
DEFAULT_SAMPLER = "edm"     # reaches the exact conditional's spread (DDIM 50 steps shrinks it by ~20%: #17 item 11)
SWEEP_GAMMAS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0)
TRADE_OFF_DATASET = "overlap3"   # classes that overlap: accuracy 0.87 at gamma = 1, so guidance has accuracy to buy
TABLE_HEADERS = ["method", "accuracy", "k-NN recall", "spread", "outside the support", "shift outward",
                 "energy distance to class"]
MAX_PARTICLES = 3000


def _setting(dataset, means, stds, weights, process, seed, user_data, network, y, gamma, trained):
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    if ds.dim != 2:
        raise gr.Error("Guidance is shown on the labelled 2D datasets; pick a 2D dataset.")
    if ds.num_classes < 2:
        raise gr.Error(f"{ds.label} has a single class: guidance needs at least two.")
    sde = resolve_process(process)
    seed = check_seed(seed)
    y = number(y, "Class", 0, ds.num_classes - 1, integer=True)
    gamma = number(gamma, "Guidance scale γ", 0.0, GAMMA_MAX)
    resolve_score(network, ds, sde, trained)                # clear message if the network is missing
    model = _model(network, ds, sde, trained)
    if model.config.num_classes == 0:
        raise gr.Error("This network was trained without labels, so it cannot do classifier-free guidance.")
    return ds, sde, seed, y, gamma, model


def _model(network, ds, sde, trained):
    from ..pretrained import load_pretrained

    return load_pretrained(ds.name, sde.name) if network == "pretrained" else trained


def _classifier(ds, sde, clf):
    """The user's trained noise-conditional classifier if it fits, else the exact one of a mixture."""
    if clf is not None and clf.config.dataset == ds.name and clf.config.process == sde.name:
        return clf.log_classifier(), "your trained classifier"
    if ds.is_mixture:
        return exact_classifier(ds.mixture, sde), "the exact classifier p_t(y | x)"
    raise gr.Error(f"{ds.label} is not a mixture, so there is no exact classifier: press 'Train a classifier' first.")


def _per_particle(ds, model, clf) -> tuple[float, float]:
    """Seconds per particle of one evaluation: (the score network, the classifier's gradient ≈ 3 evaluations)."""
    clf_cost = network_cost(clf.net) if clf is not None else mixture_cost(ds.mixture) if ds.is_mixture else 0.0
    return network_cost(model.net), 3 * clf_cost


def _check_cost(ds, model, clf, sampler: str, n: int, *, n_runs: int, what: str, lower: str) -> None:
    """Refuse before starting when n_runs guided runs exceed the budget (each costed as the dearest kind: a network
    evaluation and a classifier gradient, or two network evaluations for classifier-free guidance and autoguidance)."""
    net, clf_grad = _per_particle(ds, model, clf)
    nfe = sampler_nfe(SAMPLERS[sampler], SAMPLER_STEPS[sampler])
    check_budget(n_runs * nfe * n * max(net + clf_grad, 2 * net), what, lower)


def _weak(network, ds, sde):
    """The shipped weak model that autoguides the pretrained network, or None (none for your own network)."""
    return load_weak(ds.name, sde.name) if network == "pretrained" and has_weak(ds.name, sde.name) else None


def _methods(ds, sde, model, weak, log_clf, y, gamma):
    """(label, score_fn) for every panel, from the same network (autoguidance when its weak model ships)."""
    uncond = model.score_fn(None)
    out = [("unguided", uncond),
           (f"classifier guidance γ={gamma:g}", classifier_guided_score(uncond, log_clf, y, gamma)),
           (f"classifier-free γ={gamma:g}", network_cfg_score(model, y, gamma))]
    if weak is not None:
        out.append((f"autoguidance w={gamma:g}", network_autoguided_score(model, weak, y, gamma)))
    if ds.is_mixture:
        out.append(("exact conditional p(x | y)", exact_conditional_score(ds.mixture, sde, y)))
    return out


def _row(label, fig: dict) -> list:
    return [label, round(fig["accuracy"], 3), round(fig["recall"], 3), round(fig["spread"], 3),
            round(fig["outside"], 3), round(fig["shift"], 3), float(f"{fig['distance']:.4g}")]


def _class_data_figures(ds, y, n, seed, ref, density) -> dict:
    """The figures of n fresh data points of class y: what a perfect sampler scores (spread, ~1% outside, no shift)."""
    g = torch.Generator().manual_seed(seed + 2)
    x, labels = ds.sample(max(4 * n * ds.num_classes, 4000), generator=g)
    return guidance_figures(x[labels == y][:n], y, ds, ref, density)


@user_errors
def guidance_view(dataset, means, stds, weights, process, seed, user_data, network, y, gamma, sampler, n_particles,
                  trained=None, clf=None, progress=gr.Progress()):
    """API 'guidance': every method from the same x_T: animation (and its HTML file), final clouds, accuracy and
    diversity; the animation's data to this session's state, for its GIF."""
    ds, sde, seed, y, gamma, model = _setting(dataset, means, stds, weights, process, seed, user_data, network, y,
                                              gamma, trained)
    sampler = choice(sampler, "sampler", SAMPLER_STEPS)
    n = number(n_particles, "Particles", 50, MAX_PARTICLES, integer=True)
    log_clf, clf_kind = _classifier(ds, sde, clf)
    weak = _weak(network, ds, sde)
    _check_cost(ds, model, clf, sampler, n, n_runs=3 + (weak is not None), what="This guidance comparison",
                lower="Particles or the sampler")
    x_init = sde.prior_sample((n, 2), generator=torch.Generator().manual_seed(seed))
    ref = ds.sample(4000, generator=torch.Generator().manual_seed(seed + 1))
    density = support_density(ds, ref)
    panels, finals = [], []
    rows = [_row("class data (reference)", _class_data_figures(ds, y, n, seed, ref, density))]
    methods = _methods(ds, sde, model, weak, log_clf, y, gamma)
    for k, (label, fn) in enumerate(methods):
        progress(k / len(methods), desc=label)
        res = sample(sampler, fn, sde, x_init, n_steps=SAMPLER_STEPS[sampler],
                     generator=torch.Generator().manual_seed(seed))
        traj = res.trajectory.float().numpy()
        idx = np.round(np.linspace(0, len(traj) - 1, 40)).astype(int)
        frames = traj[idx][:, : max(200, 3000 // len(methods))]
        half = np.maximum(3.5, 1.1 * np.quantile(np.abs(frames), 0.99, axis=1).max(axis=1))
        panels.append(Panel(frames, title=label, ranges=np.repeat(half[:, None], 2, 1), background=ref[0][:600].numpy()))
        finals.append((label, res.x.float().numpy()))
        rows.append(_row(label, guidance_figures(res.x.float(), y, ds, ref, density)))
    labels, title = [f"{j / 39:.0%}" for j in range(40)], f"Asking for {ds.class_names[y]} from the same starting noise"
    gif = PanelsGif(f"guidance-{ds.name}-class{y}-gamma{gamma:g}", panels, labels, title=title, time_label="progress: ",
                    figure_options={"marker_size": 3.5, "height": 470})
    auto = ("autoguidance mixes it with its shipped weak version (width 64, depth 2, 1,000 training steps) at the same γ"
            if weak is not None else "autoguidance needs a shipped weak model (the pretrained networks under "
            "vp_linear have one), so it is not shown")
    note = (f"Classifier guidance uses {clf_kind}; classifier-free guidance uses the "
            f"{'pretrained' if network == 'pretrained' else 'your'} class-conditional network with its "
            f"'no label' token; {auto}. γ = 0 unconditional, 1 conditional, > 1 guided. *Outside the support*: the "
            f"share of samples where log p₀ is below the data's own {SUPPORT_QUANTILE:.0%} quantile "
            f"({'exact p₀' if ds.is_mixture else 'the data smoothed by N(0, 0.05²)'}); *shift outward*: the class "
            f"mean's move away from the data's centre; *spread*: mean distance to the samples' own mean.")
    final = final_samples_figure(finals, ref[0][:2000].numpy(), title="Final samples (blue) over the data (grey)")
    return gr.HTML(iframe(figure_page(gif.figure(), plotly_src()), height=520)), final, rows, note, gif


@user_errors
def sweep_view(dataset, means, stds, weights, process, seed, user_data, network, y, sampler, n_particles,
               trained=None, clf=None, progress=gr.Progress()):
    """API 'guidance_sweep': accuracy against distance to the class's data over gamma, for both kinds of guidance."""
    ds, sde, seed, y, _, model = _setting(dataset, means, stds, weights, process, seed, user_data, network, y, 1.0,
                                          trained)
    sampler = choice(sampler, "sampler", SAMPLER_STEPS)
    n = number(n_particles, "Particles", 50, MAX_PARTICLES, integer=True)
    log_clf, _ = _classifier(ds, sde, clf)
    weak = _weak(network, ds, sde)
    uncond, rows = model.score_fn(None), []
    methods = [("classifier guidance", lambda gamma: classifier_guided_score(uncond, log_clf, y, gamma)),
               ("classifier-free", lambda gamma: network_cfg_score(model, y, gamma))]
    if weak is not None:
        methods.append(("autoguidance", lambda gamma: network_autoguided_score(model, weak, y, gamma)))
    _check_cost(ds, model, clf, sampler, n, n_runs=len(SWEEP_GAMMAS) * len(methods), what="The sweep over γ",
                lower="Particles or the sampler (DDIM or Heun take 50 steps)")
    x_init = sde.prior_sample((n, 2), generator=torch.Generator().manual_seed(seed))
    ref = ds.sample(4000, generator=torch.Generator().manual_seed(seed + 1))
    density = support_density(ds, ref)
    for k, (method, make_score) in enumerate(methods):
        progress(k / len(methods), desc=method)
        rows += [{"method": method, **row} for row in guidance_sweep(
            make_score, SWEEP_GAMMAS, sde, x_init, y, ds, ref, sampler=sampler, n_steps=SAMPLER_STEPS[sampler], seed=seed,
            density=density)]
    data = _class_data_figures(ds, y, n, seed, ref, density)
    return fidelity_chart(rows, data=data, title=f"Asking for {html_text(ds.class_names[y])} over γ: accuracy against "
                                                 f"recall (★ the class's own data), and the share off the data")


def trade_off_preset():
    """The overlapping classes (where guidance buys accuracy with recall), their first class and the pretrained network
    (shipped for them under every process), in the controls."""
    return (gr.update(value=TRADE_OFF_DATASET), gr.update(choices=class_choices(TRADE_OFF_DATASET), value=0),
            gr.update(value="pretrained"))


@user_errors
def field_view(dataset, means, stds, weights, process, seed, user_data, network, y, gamma, t, trained=None, clf=None):
    """API 'guidance_field': the added guidance term at time t: the classifier's (left) and classifier-free (right)."""
    ds, sde, _, y, gamma, model = _setting(dataset, means, stds, weights, process, seed, user_data, network, y, gamma,
                                           trained)
    t = number(t, "Time t", 0.01, 1.0)
    log_clf, clf_kind = _classifier(ds, sde, clf)
    half = float(view_half_width(sde, torch.tensor([t], dtype=torch.float64)))
    axis, pts = grid_2d(half, 17)
    spacing = 2 * half / 16
    g = max(gamma, 1e-6)       # draw the direction even at gamma = 0
    clf_vec = arrow_lengths(evaluate_score(guidance_term(log_clf, y, g), pts.float(), t), spacing, normalize=False)
    cfg_fn = cfg_term(model.score_fn(None), model.score_fn(y), g)
    cfg_vec = arrow_lengths(evaluate_score(cfg_fn, pts.float(), t), spacing, normalize=False)
    fine_axis, fine = grid_2d(half, 70)
    log_p = ds.exact().log_prob(fine, t, sde).reshape(70, 70)
    return fields_side_by_side(fine_axis.numpy(), log_p.numpy(), pts.numpy(), clf_vec.numpy(), cfg_vec.numpy(),
                               titles=("classifier term γ ∇ log p(y | x_t)", "classifier-free term γ (s_θ(x_t, t, y) − s_θ(x_t, t))"),
                               title=f"The guidance term towards {html_text(ds.class_names[y])} at t = {t:.2f} "
                                     "(arrow length ∝ strength)")


@user_errors
@gpu_call(duration=60)
def train_classifier_view(dataset, means, stds, weights, process, seed, user_data, progress=gr.Progress()):
    """API 'train_classifier': a noise-conditional classifier p_phi(y | x_t, t) for this session."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    seed = check_seed(seed)
    if ds.num_classes < 2:
        raise gr.Error(f"{ds.label} has a single class: a classifier needs at least two.")

    def report(p):
        progress(p.step / p.steps, desc=f"classifier: step {p.step}/{p.steps}, accuracy {p.accuracy:.2f}")

    try:
        model = train_classifier(ds, sde, seed=seed, callback=report)
    except TrainingDiverged as e:
        raise gr.Error(str(e)) from None
    model.net = model.net.to("cpu")      # views evaluate on the CPU (and ZeroGPU hands back CPU tensors)
    acc = model.accuracies[-1] if model.accuracies else float("nan")
    return model, (f"Classifier trained on {ds.label} under {sde.label}: batch accuracy {acc:.2f} over all t "
                   f"(lower at large t, where the classes are drowned in noise).")


def class_choices(dataset, user_data=None) -> list[tuple[str, int]]:
    """(class name, index) of a dataset for the class dropdown; empty when it cannot be resolved yet."""
    try:
        ds = resolve_dataset(dataset, "0", "1", "1", user_data)
    except gr.Error:
        return [("class 1", 0)]
    return [(name, k) for k, name in enumerate(ds.class_names)]


def build_guidance_tab(setup: Setup, trained: gr.State, links: Links) -> list:
    """Builds the tab; returns the (fn, inputs, outputs) to run when a page opens."""
    gr.Markdown(read_markdown("guidance"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    clf = gr.State(None)              # this user's noise-conditional classifier
    with gr.Row():
        network = gr.Radio([("Pretrained network", "pretrained"), ("My trained network", "trained")],
                           value="pretrained", label="Class-conditional network", scale=2)
        y = gr.Dropdown(class_choices(setup.dataset.value), value=0, label="Class y", scale=1,
                        allow_custom_value=True)   # choices follow the dataset; the server checks the range
        gamma = gr.Slider(0.0, GAMMA_MAX, value=3.0, step=0.1, label="Guidance scale γ", scale=2)
    with gr.Row():
        sampler = gr.Dropdown(GUIDED_SAMPLERS, value=DEFAULT_SAMPLER, label="Sampler", scale=2)
        n_particles = gr.Slider(50, MAX_PARTICLES, value=1000, step=50, label="Particles", scale=1)
        t = gr.Slider(0.01, 1.0, value=0.3, step=0.01, label="Time t of the guidance field", scale=1)
    with gr.Row():
        run = gr.Button("Sample with guidance", variant="primary")
        sweep = gr.Button("Accuracy, recall and support over γ")
        trade_off = gr.Button("The trade-off on overlapping classes")
        field = gr.Button("Show the guidance field")
        train_clf = gr.Button("Train a classifier")
        stop = gr.Button("Stop", variant="stop")
    note = gr.Markdown()
    anim = gr.HTML(elem_id="guidance-anim", elem_classes=["dx-wider"])
    downloads = build_downloads("guidance", "No animation yet: press 'Sample with guidance' first.")
    final = gr.Plot(label="Final samples", elem_classes=["dx-wider"])
    table = gr.Dataframe(headers=TABLE_HEADERS, label="Figures (first row: fresh data of the class, what a perfect "
                         "sampler scores)", interactive=False)
    chart = gr.Plot(label="Accuracy, recall and support over γ")
    field_plot = gr.Plot(label="Guidance field")
    setup.dataset.change(lambda d, u: gr.Dropdown(choices=class_choices(d, u), value=0), [setup.dataset,
                         setup.user_data], y, api_visibility="private", show_progress="hidden")
    base = setup.inputs + [network, y]
    guided = run.click(guidance_view, base + [gamma, sampler, n_particles, trained, clf],
                       [anim, final, table, note, downloads.spec], api_name="guidance")
    downloads.after(guided)
    swept = sweep.click(sweep_view, base + [sampler, n_particles, trained, clf], chart, api_name="guidance_sweep")
    # the preset is a page event; the two runs after it are work like /guidance and /guidance_sweep (the session's
    # share and one-at-a-time rule apply: explorer/ui/guard.py), so they are "undocumented", not "private"
    preset = trade_off.click(trade_off_preset, None, [setup.dataset, y, network], api_visibility="private")
    traded = preset.then(guidance_view, base + [gamma, sampler, n_particles, trained, clf],
                         [anim, final, table, note, downloads.spec], api_visibility="undocumented")
    downloads.after(traded)
    traded_sweep = traded.success(sweep_view, base + [sampler, n_particles, trained, clf], chart,
                                  api_visibility="undocumented")
    field.click(field_view, base + [gamma, t, trained, clf], field_plot, api_name="guidance_field")
    trained_clf = train_clf.click(train_classifier_view, setup.inputs, [clf, note], api_name="train_classifier",
                                  concurrency_id="train", concurrency_limit=2)
    stop.click(None, None, None, cancels=[guided, swept, traded, traded_sweep, trained_clf], api_visibility="private")
    links.share_many("guidance", network=network, gamma=gamma, sampler=sampler, particles=n_particles, t=t)
    return [(cached_only(guidance_view), base + [gamma, sampler, n_particles, trained, clf],
             [anim, final, table, note, downloads.spec])]
