"""Tab "VAE": the baseline the tutorials start from, trained live, next to the diffusion model on the same data."""
from __future__ import annotations

import dataclasses

import gradio as gr
import numpy as np
import torch

from ..compare import reference_samples
from ..cost import BUDGET_S, check_budget, training_cost
from ..digits import digits_split
from ..gpu import gpu_call
from ..likelihood import log_likelihood
from ..live import LiveView, vae_watch
from ..metrics import energy_distance
from ..samplers import sample
from ..nn.training import TrainingDiverged
from ..nn.vae import DEFAULTS as VAE_DEFAULTS
from ..nn.vae import VAEConfig, build_vae, encode, negative_elbo, train_vae, vae_sample
from ..elbo import elbo_terms
from ..pretrained import shipped_vae
from ..viz.images import image_grid
from ..viz.sampling import final_samples_figure
from ..viz.vae import elbo_live_figure, latent_figure
from .common import Setup, check_seed, number, read_markdown, resolve_dataset, resolve_process, user_errors
from .link import Links
from .sources import resolve_score
from .streaming import progress_line, stream_reports
from .startup import cached_only

MAX_STEPS, REPORT_EVERY = 20_000, 100
LIKELIHOOD_MAX_NFE = 5000       # the shipped networks need a few hundred; a network trained on sharp spikes is refused
DIGITS_VAE = {"latent_dim": 8, "width": 256}     # 64 pixels need a wider VAE than the 2D toys
ELBO_LEVELS = 1000       # the diffusion model's own bound beside the VAE's (explorer/elbo.py)


def _cpu(model):
    """The model with its network on the CPU, where the views evaluate it."""
    model.net = model.net.to("cpu")
    return model


DATA_SHOWN, IMAGES_SHOWN = 600, 32


def _curves(m, live: LiveView, total: int, image_shape: tuple | None = None):
    """The ELBO terms, the live samples' energy distance to the data, and the samples (points, or a digits grid)."""
    steps = np.arange(1, len(m.elbos) + 1) * REPORT_EVERY
    image = None
    if image_shape is not None and live.samples is not None:
        image = image_grid(live.samples[:IMAGES_SHOWN].reshape(-1, *image_shape).clip(-1, 1), 8, scale=4)
    return elbo_live_figure(steps, np.asarray(m.elbos), np.asarray(m.recons), np.asarray(m.kls),
                            np.asarray(live.steps), np.asarray(live.distances), live.floor, live.samples,
                            live.reference[:DATA_SHOWN], image=image, total_steps=total,
                            samples_title=f"its samples at step {live.sample_step}")


@user_errors
@gpu_call(duration=120)
def train_vae_view(dataset, means, stds, weights, process, seed, user_data, steps, data="toy"):
    """API 'train_vae': trains a VAE on the chosen toy or on the digits (streamed: ELBO curves, the samples from one
    fixed z and their energy distance to the data); the model goes to this session's state."""
    seed = check_seed(seed)
    steps = number(steps, "Training steps", 100, MAX_STEPS, integer=True)
    if data == "digits":
        train_data, extra = digits_split("train").x, DIGITS_VAE
    elif data == "toy":
        train_data, extra = resolve_dataset(dataset, means, stds, weights, user_data), {}
    else:
        raise gr.Error(f"unknown data {data!r}; expected 'toy' or 'digits'")
    dim = train_data.shape[1] if isinstance(train_data, torch.Tensor) else train_data.dim
    per_step = training_cost(build_vae(VAEConfig(dim=dim, **extra), seed), steps=1, batch_size=VAE_DEFAULTS["batch_size"])
    check_budget(steps * per_step, "This VAE training", f"Training steps (about {int(BUDGET_S / per_step):,} fit)")

    watch = vae_watch(train_data, seed=seed)         # samples from one fixed z, within a share of the training time
    shape = (1, 8, 8) if data == "digits" else None

    def snapshot(p):      # in the worker: the samples, then a copy of what the page needs
        watch(p.model, p.step, p.elapsed_s, final=p.step == p.steps)
        return p.step, p.steps, p.elbo, _cpu(p.model.copy()), watch.view()

    def work(report):
        return train_vae(train_data, steps=steps, seed=seed, report_every=REPORT_EVERY,
                         callback=lambda p: report(snapshot(p)), **extra)

    live = None
    try:
        for kind, value in stream_reports(work, name="train"):
            if kind == "report":
                step, total, elbo, model, live = value
                yield (_curves(model, live, total, shape),
                       f"{progress_line(step, total)} step **{step}/{total}** · ELBO {elbo:.3f} nats · samples' energy "
                       f"distance **{live.last_distance:.4f}** (noise floor {live.floor:.4f})", gr.skip())
            else:
                value = _cpu(value)
                if data == "digits":      # a tensor was trained on: name the data for the comparison
                    value.config = dataclasses.replace(value.config, dataset="digits")
                live = live if live is not None else watch.view()
                yield (_curves(value, live, steps, shape), f"Done: ELBO {value.elbos[-1]:.3f} nats per sample after "
                       f"{value.info.get('steps', steps)} steps; samples' energy distance **{live.last_distance:.4f}** "
                       f"(noise floor {live.floor:.4f}). Press *Compare with diffusion*.", value)
    except (TrainingDiverged, ValueError) as e:
        raise gr.Error(str(e)) from None


def session_or_shipped_vae(vae, ds):
    """(VAE, its name for the tables): this session's VAE if it was trained on ds, else the one shipped for ds."""
    if vae is not None and vae.config.dataset == ds.name:
        return vae, "your VAE"
    shipped = shipped_vae(ds.name)
    if shipped is not None:
        return shipped, "the shipped VAE" + ("" if vae is None else f" (yours was trained on '{vae.config.dataset}')")
    if vae is None:
        raise gr.Error("No VAE for this dataset yet: train one (the 'Train the VAE' button).")
    raise gr.Error(f"Your VAE was trained on '{vae.config.dataset}'; choose that dataset or train again.")


@user_errors
def compare_vae_view(dataset, means, stds, weights, process, seed, user_data, network, vae=None, trained=None,
                     progress=gr.Progress()):
    """API 'compare_vae': the latent space, VAE samples next to diffusion's, and -ELBO next to the PF-ODE NLL."""
    seed = check_seed(seed)
    if vae is not None and vae.config.dataset == "digits":
        return _compare_digits(vae, seed, progress)
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    vae, whose = session_or_shipped_vae(vae, ds)
    score_fn, kind = resolve_score(network, ds, sde, trained)
    n = 2000
    g = torch.Generator().manual_seed(seed)
    target, second = reference_samples(ds, n, seed)
    held_out, labels = ds.sample(300, generator=torch.Generator().manual_seed(seed + 3))
    progress(0.1, desc="VAE samples")
    x_vae = vae_sample(vae, n, g)
    progress(0.3, desc="diffusion samples (PF-ODE Heun, 100 steps)")
    x_diff = sample("pf_heun", score_fn, sde, sde.prior_sample((n, ds.dim), generator=g), n_steps=100).x
    progress(0.6, desc="likelihoods")
    vae_nll = float(negative_elbo(vae, held_out, generator=g).mean())
    diff_nll = float(-log_likelihood(score_fn, sde, held_out.double(), rtol=1e-4, atol=1e-4,
                                     max_nfe=LIKELIHOOD_MAX_NFE).log_prob.mean())
    diff_elbo = elbo_terms(score_fn, sde, held_out.double(), ELBO_LEVELS, generator=g).mean_and_stderr()[0]
    floor = energy_distance(target, second)
    rows = [[f"VAE ({whose})", float(f"{energy_distance(x_vae, target):.4g}"), f"−ELBO {vae_nll:.3f} (an upper bound)"],
            [f"diffusion ({kind})", float(f"{energy_distance(x_diff.float(), target):.4g}"),
             f"PF-ODE NLL {diff_nll:.3f}; −ELBO {diff_elbo:.3f} (N = {ELBO_LEVELS:,}, σ²ᵢ = βᵢ; an upper bound)"],
            ["two fresh data sets (noise floor)", float(f"{floor:.4g}"), ""]]
    mu, _ = encode(vae, held_out)
    latent = latent_figure(mu.detach().cpu().numpy(), labels.numpy(),
                           title="Latent space: encoded held-out data by class (prior circles dotted)")
    side = None
    if ds.dim == 2:
        side = final_samples_figure([("VAE samples", x_vae.numpy()), (f"diffusion ({kind})", x_diff.float().numpy())],
                                    target.numpy(), title="Samples (blue) over fresh data (grey)")
    return latent, gr.Image(visible=False), gr.Plot(side, visible=side is not None), rows


def _compare_digits(vae, seed: int, progress):
    """Digits: VAE samples next to the diffusion model's, with the Fréchet distance in the digit classifier's features."""
    from ..nn.digit_classifier import frechet_distance, shipped_classifier
    from ..nn.unet import shipped_digits_model

    try:
        model = shipped_digits_model()
    except FileNotFoundError as e:
        raise gr.Error(f"The digits diffusion model is missing ({e}).") from None
    g = torch.Generator().manual_seed(seed)
    held = digits_split("heldout")
    progress(0.1, desc="VAE samples")
    x_vae = vae_sample(vae, 256, g).reshape(-1, *model.config.shape).clamp(-1, 1)
    progress(0.3, desc="diffusion samples (DDIM, 50 steps)")
    x_diff = sample("ddim", model.score_fn(), model.sde, model.prior_sample(256, generator=g), n_steps=50).x.clamp(-1, 1)
    clf = shipped_classifier()
    real = clf.features(held.x).numpy()
    half = len(held) // 2
    fd = lambda x: frechet_distance(clf.features(x).numpy(), real)   # noqa: E731
    rows = [["VAE", float(f"{fd(x_vae):.4g}"), f"−ELBO {float(negative_elbo(vae, held.x, generator=g).mean()):.2f}"],
            ["diffusion (shipped digits model)", float(f"{fd(x_diff):.4g}"), ""],
            ["two halves of the real digits (floor)",
             float(f"{frechet_distance(real[:half], real[half:]):.4g}"), ""]]
    side = image_grid(torch.cat([x_vae[:32], x_diff[:32]]).numpy(), 8, scale=4)
    return (gr.Plot(visible=False), gr.Image(side, visible=True, label="VAE samples (top 4 rows), diffusion (bottom 4)"),
            gr.Plot(visible=False), rows)


def build_vae_tab(setup: Setup, trained: gr.State, links: Links, vae: gr.State | None = None) -> list:
    """Builds the tab (vae: this user's VAE, a gr.State other tabs read too); returns the page-load events."""
    gr.Markdown(read_markdown("vae"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    vae = gr.State(None) if vae is None else vae
    with gr.Row():
        data = gr.Radio([("the dataset chosen above", "toy"), ("the 8×8 digits", "digits")], value="toy",
                        label="Train on", scale=2)
        steps = gr.Slider(100, MAX_STEPS, value=3000, step=100, label="Training steps", scale=2)
        network = gr.Radio([("Pretrained network", "pretrained"), ("My trained network", "trained")],
                           value="pretrained", label="Diffusion model to compare with", scale=2)
    with gr.Row():
        train_btn = gr.Button("Train the VAE", variant="primary")
        stop_btn = gr.Button("Stop", variant="stop")
        compare_btn = gr.Button("Compare with diffusion")
    status = gr.Markdown(elem_id="vae-status", elem_classes=["dx-status"])
    curves = gr.Plot(label="ELBO; the VAE's samples from one fixed z and their energy distance to fresh data",
                     elem_id="vae-curves",
                     elem_classes=["dx-wide"])
    with gr.Row():
        latent = gr.Plot(label="Latent space")
        side = gr.Plot(label="Samples", elem_classes=["dx-wide"])
        digits_img = gr.Image(label="Samples", visible=False, interactive=False)
    table = gr.Dataframe(headers=["model", "energy distance to data", "nats per sample (held-out)"],
                         label="Figures", interactive=False)
    train_btn.click(lambda: "Training the VAE: starting…", None, status, queue=False, show_progress="hidden",
                    api_visibility="private")
    event = train_btn.click(train_vae_view, setup.inputs + [steps, data], [curves, status, vae], api_name="train_vae",
                            show_progress="hidden", concurrency_id="train", concurrency_limit=2)
    stop_btn.click(None, None, None, cancels=[event], api_visibility="private")
    compare_io = (setup.inputs + [network, vae, trained], [latent, digits_img, side, table])
    compare_btn.click(compare_vae_view, *compare_io, api_name="compare_vae")
    links.share_many("vae", data=data, steps=steps, network=network)
    return [(cached_only(compare_vae_view), *compare_io)]        # the shipped VAE against the shipped diffusion model, on open
