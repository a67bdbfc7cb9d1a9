"""Tab "Learned score": train a score network live (per user), and compare it with the exact score."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import numpy as np
import torch

from ..cost import BUDGET_S, check_budget, training_cost
from ..fields import arrow_lengths, evaluate_score, grid_2d
from ..forward import view_half_width
from ..gpu import gpu_call
from ..learned import error_on_grid, error_over_time, finite_set_dataset, nearest_reference_distance
from ..score_matching import score_matching_batch, score_matching_losses
from ..live import LiveView, score_watch
from ..nn.networks import ScoreNet, ScoreNetConfig
from ..samplers import sample
from ..scores import exact_score, mixture_score
from ..nn.training import DEFAULTS, TrainingDiverged, train
from ..viz.learned import curves_side_by_side, error_curve, error_map, fields_side_by_side, training_figure
from ..viz.sampling import final_samples_figure
from .common import Setup, check_seed, number, read_markdown, resolve_dataset, resolve_process, user_errors
from .link import Links
from .sources import resolve_score
from .streaming import progress_line, stream_reports
from .startup import cached_only

PARAMETERISATIONS = [("predict ε (DDPM)", "eps"), ("predict x₀", "x0"), ("predict the score", "score")]
WEIGHTINGS = [("its own loss (uniform t)", "native"), ("likelihood weighting (the ELBO's, λ uniform)", "likelihood")]
SM_BATCH = 2048         # the fixed batch on which DSM and ESM are drawn during training (mixtures only)
MEMO_STEPS = 1000       # the network trained live on the ideal denoiser's MEMO_POINTS points (like for like)
MAX_STEPS, REPORT_EVERY = 20_000, 50
FIELD_SIDE = 17
MEMO_POINTS = 100       # a small training set makes the ideal denoiser's memorisation plain to see
DATA_SHOWN = 600        # grey data points under the live samples


@dataclass(frozen=True)
class ExactField:
    """What the field view draws of the exact score at time t, computed once per request (not per training report)."""

    x: torch.Tensor            # 1D: evaluation points [400, 1]; 2D: arrow positions [FIELD_SIDE^2, 2]
    density: np.ndarray        # 1D: p_t(x) [400]; 2D: log p_t on the fine grid [70, 70]
    score: np.ndarray          # 1D: exact score [400]; 2D: normalised exact arrows [FIELD_SIDE^2, 2]
    fine_axis: np.ndarray | None = None
    spacing: float = 0.0


def exact_field(ds, sde, t: float) -> ExactField:
    """The exact side of the field view at time t: density and score on the view's grid."""
    exact = ds.exact()
    exact_fn = exact_score(ds, sde)
    half = float(view_half_width(sde, torch.tensor([t], dtype=torch.float64)))
    if ds.dim == 1:
        x = torch.linspace(-half, half, 400, dtype=torch.float64)[:, None]
        return ExactField(x, exact.log_prob(x, t, sde).exp().numpy(), evaluate_score(exact_fn, x, t)[:, 0].numpy())
    _, pts = grid_2d(half, FIELD_SIDE)
    spacing = 2 * half / (FIELD_SIDE - 1)
    exact_v = arrow_lengths(evaluate_score(exact_fn, pts, t), spacing, normalize=True)
    fine_axis, fine = grid_2d(half, 70)
    log_p = exact.log_prob(fine, t, sde).reshape(70, 70)
    return ExactField(pts, log_p.numpy(), exact_v.numpy(), fine_axis.numpy(), spacing)


def field_view(model_score, ds, sde, t: float, title: str, exact: ExactField | None = None,
               live: LiveView | None = None):
    """Learned next to exact: arrows in 2D (normalised), curves in 1D; `exact` reused when given; with `live`, the
    network's latest samples from the fixed x_T over the data beside them."""
    exact = exact if exact is not None else exact_field(ds, sde, t)
    learned = evaluate_score(model_score, exact.x.float(), t)
    kw = {} if live is None else dict(samples=live.samples, data=live.reference[:DATA_SHOWN],
                                      samples_title=f"its samples at step {live.sample_step}")
    if ds.dim == 1:
        return curves_side_by_side(exact.x[:, 0].numpy(), exact.density, learned[:, 0].numpy(), exact.score,
                                   title=title, **kw)
    learned = arrow_lengths(learned, exact.spacing, normalize=True)
    return fields_side_by_side(exact.fine_axis, exact.density, exact.x.numpy(), learned.numpy(), exact.score,
                               title=title, **kw)


def _curves_plot(losses, live: LiveView, total: int, sm: list | None = None):
    """The loss (and, for mixtures, DSM and ESM on one fixed batch with ESM + C) and the live samples' distance."""
    steps = np.arange(1, len(losses) + 1) * REPORT_EVERY
    curves = np.asarray(losses)
    if sm:
        curves = {"training loss": curves,
                  "DSM, fixed batch (ε units)": np.array([r.dsm for r in sm]),
                  "ESM + C (C = E‖ε − ε*(x_t)‖²)": np.array([r.esm + r.constant for r in sm]),
                  "ESM = E‖ε̂ − ε*(x_t)‖²": np.array([r.esm for r in sm])}
    return training_figure(steps, curves, np.asarray(live.steps), np.asarray(live.distances), live.floor,
                           total_steps=total)


def _sm_line(sm: list | None) -> str:
    """Denoising = explicit score matching + C, in numbers (Vincent 2011)."""
    if not sm:
        return ""
    r = sm[-1]
    return (f" · DSM − ESM = **{r.dsm - r.esm:.4f}**, C = {r.constant:.4f} (± {r.stderr:.4f}): denoising score "
            f"matching is explicit score matching plus a constant")


def _live_status(step: int, total: int, loss: float, live: LiveView, elapsed: float) -> str:
    ed = live.last_distance
    return (f"{progress_line(step, total)} step **{step}/{total}** · loss {loss:.4f} · samples' energy distance "
            f"**{ed:.4f}** (noise floor {live.floor:.4f}) · {elapsed:.1f} s")


@user_errors
@gpu_call(duration=120)
def train_view(dataset, means, stds, weights, process, seed, user_data, parameterisation, steps, lr, width, t,
               weighting="native"):
    """API 'train': trains a score network (streamed: loss and sample-distance curves, learned vs exact field with the
    samples from one fixed x_T, status); the model goes to this session's state."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    seed = check_seed(seed)
    if parameterisation not in {v for _, v in PARAMETERISATIONS}:
        raise gr.Error(f"unknown parameterisation {parameterisation!r}; expected one of ['eps', 'x0', 'score']")
    steps = number(steps, "Training steps", 100, MAX_STEPS, integer=True)
    lr = number(lr, "Learning rate", 1e-5, 0.05)
    width = number(width, "Width", 16, 512, integer=True)
    t = number(t, "Time t", 0.01, 1.0)
    if weighting not in {v for _, v in WEIGHTINGS}:
        raise gr.Error(f"unknown loss weighting {weighting!r}; expected one of {[v for _, v in WEIGHTINGS]}")
    config = ScoreNetConfig.for_data(ds, sde, parameterisation=parameterisation, width=width)
    per_step = training_cost(ScoreNet(config), steps=1, batch_size=DEFAULTS["batch_size"])
    check_budget(steps * per_step, "This training",
                 f"Training steps (about {int(BUDGET_S / per_step):,} fit at width {width}) or Width")
    exact = exact_field(ds, sde, t)       # the same at every report
    watch = score_watch(ds, sde, seed=seed)   # samples from one fixed x_T, within a share of the training time
    sm_batch = (score_matching_batch(ds, sde, SM_BATCH, generator=torch.Generator().manual_seed(seed + 7))
                if ds.is_mixture else None)
    sm: list = []                              # DSM, ESM, C at every report (explorer/score_matching.py)

    def snapshot(p):      # called in the worker: copy what the page needs before training moves on
        watch(p.model, p.step, p.elapsed_s, final=p.step == p.steps)
        if sm_batch is not None:
            sm.append(score_matching_losses(p.model.score_fn(), sm_batch, sde))
        return (p.step, p.steps, p.loss, p.model.copy().to("cpu"), list(p.model.losses), p.elapsed_s, watch.view(),
                list(sm))

    def work(report):
        return train(config, ds, sde, steps=steps, lr=lr, seed=seed, report_every=REPORT_EVERY,
                     callback=lambda p: report(snapshot(p)), weighting=None if weighting == "native" else weighting)

    last = None
    try:
        for kind, value in stream_reports(work):
            if kind == "report":
                last = value
                step, total, loss, model, losses, elapsed, live, sm_now = value
                yield (_curves_plot(losses, live, total, sm_now),
                       field_view(model.score_fn(), ds, sde, t, f"t = {t:.2f}, step {step}", exact, live),
                       _live_status(step, total, loss, live, elapsed) + _sm_line(sm_now), gr.skip())
            else:
                model = value.to("cpu")        # views evaluate on the CPU (and ZeroGPU hands back CPU tensors)
                done = model.info["steps"]
                live = last[6] if last is not None else watch.view()
                why = "" if done >= steps else f" (stopped before {steps}: the time limit per request was reached)"
                took = f" in {last[5]:.1f} s" if last is not None else ""
                status = (f"Done: **{done} steps**{why}{took}, final loss {model.losses[-1]:.4f}, samples' energy "
                          f"distance **{live.last_distance:.4f}** (noise floor {live.floor:.4f}). Your network is used "
                          f"wherever you pick *My trained network*.{_sm_line(sm)}")
                yield (_curves_plot(model.losses, live, steps, list(sm)),
                       field_view(model.score_fn(), ds, sde, t, f"t = {t:.2f}, trained", exact, live), status, model)
    except (TrainingDiverged, ValueError) as e:
        raise gr.Error(str(e)) from None


@user_errors
def compare_view(dataset, means, stds, weights, process, seed, user_data, source, t, trained=None, progress=gr.Progress()):
    """API 'compare': learned vs exact field at t, the p_t-weighted error map, the error over t, and (shapes) memorisation."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    seed = check_seed(seed)
    t = number(t, "Time t", 0.01, 1.0)
    if source not in ("pretrained", "trained"):
        raise gr.Error("Compare a network: choose 'Pretrained network' or 'My trained network'.")
    score_fn, kind = resolve_score(source, ds, sde, trained)
    progress(0.1, desc="fields")
    fields = field_view(score_fn, ds, sde, t, f"{kind} against the exact score at t = {t:.2f}")
    emap = None
    if ds.dim == 2:
        half = float(view_half_width(sde, torch.tensor([t], dtype=torch.float64)))
        axis, pts = grid_2d(half, 60)
        err, log_p = error_on_grid(score_fn, ds.exact(), sde, t, pts)
        reference = ("the exact mixture score" if ds.is_mixture else
                     f"the ideal denoiser of {ds.exact().means.shape[0]:,} reference points, which the network should "
                     f"not copy at small t")
        emap = error_map(axis.numpy(), err.reshape(60, 60).numpy(), log_p.reshape(60, 60).numpy(),
                         title=f"Where the network is wrong at t = {t:.2f}", reference=reference)
    progress(0.4, desc="error over t")
    ts = torch.tensor([0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0])
    rms, rel = error_over_time(score_fn, ds, sde, ts, n=600, generator=torch.Generator().manual_seed(seed))
    curve = error_curve(ts.numpy(), rms.numpy(), rel.numpy(), title="Error averaged over x_t ~ p_t")
    memo, note = None, ""
    if not ds.is_mixture and ds.dim == 2:
        progress(0.6, desc=f"training a network on the same {MEMO_POINTS} points")
        finite = finite_set_dataset(ds, MEMO_POINTS)        # like for like: the ideal denoiser's own training set
        ref = finite.exact().means.float()
        config = ScoreNetConfig.for_data(finite, sde, conditional=False)
        check_budget(training_cost(ScoreNet(config), steps=MEMO_STEPS, batch_size=DEFAULTS["batch_size"]),
                     "Training the network on the same points", "nothing here: try again when the server is less busy")
        small = train(config, finite, sde, steps=MEMO_STEPS, seed=seed, report_every=MEMO_STEPS)
        progress(0.85, desc="sampling with the ideal denoiser and with both networks")
        x_init = sde.prior_sample((1000, 2), generator=torch.Generator().manual_seed(seed))
        runs = [(f"ideal denoiser of the {len(ref)} points", mixture_score(finite.exact(), sde)),
                (f"network trained on the same {len(ref)} points", small.score_fn()),
                (f"{kind} (fresh samples every step)", score_fn)]
        out = [(label, sample("pf_heun", fn, sde, x_init, n_steps=100).x) for label, fn in runs]
        dists = [float(nearest_reference_distance(x, ref).median()) for _, x in out]
        memo = final_samples_figure([(label, x.numpy()) for label, x in out], ref.numpy(),
                                    title=f"Memorisation: samples (blue) over the {len(ref)} training points (grey)")
        note = (f"Median distance to the nearest of the {len(ref)} points: ideal denoiser **{dists[0]:.4f}** (it "
                f"reproduces them), a network trained on those {len(ref)} points for {MEMO_STEPS:,} steps "
                f"**{dists[1]:.4f}**, the {kind} trained on fresh samples **{dists[2]:.4f}**.")
    return (fields, gr.Plot(emap, visible=emap is not None), curve, gr.Plot(memo, visible=memo is not None), note)


def build_learned_tab(setup: Setup, trained: gr.State, links: Links) -> list:
    """Builds the tab; returns the (fn, inputs, outputs) to run when a page opens."""
    gr.Markdown(read_markdown("learned"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    with gr.Row():
        param = gr.Radio(PARAMETERISATIONS, value="eps", label="The network predicts", scale=2)
        steps = gr.Slider(100, MAX_STEPS, value=DEFAULTS["steps"], step=100, label="Training steps", scale=1)
        lr = gr.Number(value=DEFAULTS["lr"], label="Learning rate", scale=1)
        width = gr.Slider(16, 512, value=128, step=16, label="Width", scale=1)
        t = gr.Slider(0.01, 1.0, value=0.1, step=0.01, label="Time t of the field", scale=1)
    with gr.Row():
        weighting = gr.Radio(WEIGHTINGS, value="native", label="Loss weighting over log-SNR λ (Likelihood tab: w(λ))",
                             scale=3)
        train_btn = gr.Button("Train", variant="primary")
        stop_btn = gr.Button("Stop", variant="stop")
    status = gr.Markdown(elem_id="train-status", elem_classes=["dx-status"])
    field_plot = gr.Plot(label="Learned and exact score; the network's samples from one fixed x_T (10 PF-ODE steps)",
                         elem_id="train-field",
                         elem_classes=["dx-wide"])
    loss_plot = gr.Plot(label="Loss; the samples' energy distance to fresh data, falling to the noise floor",
                        elem_id="train-curves",
                        elem_classes=["dx-wide"])
    train_btn.click(lambda: "Training: starting…", None, status, queue=False, show_progress="hidden",
                    api_visibility="private")
    event = train_btn.click(train_view, setup.inputs + [param, steps, lr, width, t, weighting],
                            [loss_plot, field_plot, status, trained], api_name="train", show_progress="hidden",
                            concurrency_id="train", concurrency_limit=2)
    stop_btn.click(None, None, None, cancels=[event], api_visibility="private")
    gr.Markdown("### Learned against exact")
    with gr.Row():
        source = gr.Radio([("Pretrained network", "pretrained"), ("My trained network", "trained")],
                          value="pretrained", label="Network", scale=2)
        compare_btn = gr.Button("Compare with the exact score", scale=1)
    memo_note = gr.Markdown()
    fields = gr.Plot(label="Fields", elem_classes=["dx-wide"])
    with gr.Row():
        emap = gr.Plot(label="Error map", elem_classes=["dx-wide"])
        curve = gr.Plot(label="Error over t", elem_classes=["dx-wide"])
    memo = gr.Plot(label="Memorisation")
    compare_io = (setup.inputs + [source, t, trained], [fields, emap, curve, memo, memo_note])
    compare_btn.click(compare_view, *compare_io, api_name="compare")
    links.share_many("learned", predicts=param, steps=steps, lr=lr, width=width, t=t, network=source, weighting=weighting)
    return [(cached_only(compare_view), *compare_io)]        # the pretrained network against the exact score, on open
