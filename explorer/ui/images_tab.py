"""Tab "Images": the built-in digits diffusion model: sampling live, guidance by class, SDEdit, inpainting, Hub models."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from ..cost import S_DIGITS_IMAGE, check_budget, sampler_nfe
from ..nn.digit_classifier import shipped_classifier
from ..digits import digit_from_image, digits_split
from ..images import check_sketch, load_image, load_rgba
from ..inpaint import box_mask, inpaint, mask_from_drawing
from ..samplers import SAMPLERS, sample, samplers_where
from ..sdedit import sdedit
from ..nn.unet import GAMMA_MAX, X0Tap, shipped_digits_model
from ..viz.animation import figure_page, iframe
from ..viz.images import image_grid
from ..gpu import gpu_call, model_on_default_device
from .common import choice, number, plotly_src, read_markdown, seed_generator, user_errors
from .exports import ImagePairGif, build_downloads
from .link import Links
from .safe_text import markdown_text
from .streaming import stream_reports
from .uploads import CheckedSketchpad
from .startup import cached_only

IMAGE_SAMPLERS = [(SAMPLERS[n].label, n) for n in samplers_where(reverses_time=True, uses_grid=True)]   # x_t every step
CLASS_CHOICES = [("any digit (unconditional)", -1)] + [(str(d), d) for d in range(10)]
MASKS = {"left half": (0, 0, 8, 4), "right half": (0, 4, 8, 4), "top half": (0, 0, 4, 8),
         "bottom half": (4, 0, 4, 8), "centre square": (2, 2, 4, 4)}
MAX_IMAGES, ANIM_FRAMES = 36, 40


class _Stopped(Exception):
    """Raised in a sampler callback once the page has gone."""


def _model():
    """The shipped digits model, on the GPU when there is one (a copy: the cached CPU model stays shared and unchanged)."""
    try:
        return model_on_default_device(shipped_digits_model())
    except FileNotFoundError as e:
        raise gr.Error(f"The digits model is missing ({e}).") from None


def _sampler(name) -> str:
    return choice(name, "sampler", [v for _, v in IMAGE_SAMPLERS])


def _class(y) -> int | None:
    y = number(y, "Class", -1, 9, integer=True)
    return None if y < 0 else y


@user_errors
@gpu_call(duration=60)
def sample_digits_view(sampler, n_steps, n_images, digit, gamma, seed, progress=gr.Progress()):
    """API 'sample_digits' (streamed): x_t and the model's estimate x0_hat for every image as sampling runs, then an
    animation (and its HTML file); its data to this session's state, for its GIF."""
    model = _model()
    name = _sampler(sampler)
    steps = number(n_steps, "Steps", 5, 1000, integer=True)
    n = number(n_images, "Images", 1, MAX_IMAGES, integer=True)
    y = _class(digit)
    gamma = number(gamma, "Guidance scale γ", 0.0, GAMMA_MAX)
    g = seed_generator(seed)
    evals = 2 if y is not None and gamma != 1.0 else 1          # guidance: the conditional and the unconditional
    check_budget(sampler_nfe(SAMPLERS[name], steps) * evals * n * S_DIGITS_IMAGE, "Sampling digits",
                 "Steps or Images")
    ncol = int(np.ceil(np.sqrt(n)))
    scale = max(4, 256 // (ncol * model.config.shape[-1]))
    tap = X0Tap(model.score_fn(y, gamma=gamma if y is not None else 1.0), model.sde)
    x_init = model.prior_sample(n, generator=g)
    blank = np.zeros_like(x_init.numpy()) - 1
    yield (image_grid(x_init.numpy(), ncol, scale=scale), image_grid(blank, ncol, scale=scale), gr.skip(), "starting…",
           gr.skip())   # on screen at once
    keep = set(np.round(np.linspace(0, steps, ANIM_FRAMES)).astype(int).tolist())
    frames: list = []

    def work(report):
        def cb(i, t, x):
            if tap.x0_hat is not None and (i in keep or i == steps):
                frames.append((float(t), x.cpu().numpy().copy(), tap.x0_hat.cpu().numpy().copy()))
            if report((i, float(t), x.cpu().numpy().copy(),
                       None if tap.x0_hat is None else tap.x0_hat.cpu().numpy().copy())) is False:
                raise _Stopped
        return sample(name, tap, model.sde, x_init, n_steps=steps, generator=g, callback=cb)

    for kind, value in stream_reports(work, name="sample", every=0.25):
        if kind == "report":
            i, t, x, x0 = value
            progress(i / steps, desc=f"step {i}/{steps}")
            yield (image_grid(x, ncol, scale=scale), image_grid(blank if x0 is None else x0, ncol, scale=scale), gr.skip(),
                   f"step {i}/{steps}, t = {t:.3f}", gr.skip())
        else:
            res, x_final = value, value.x.cpu().numpy()
            labels = [f"{f[0]:.2f}" for f in frames] + ["0"]
            what = "unconditional" if y is None else f"digit {y}, γ = {gamma:g}"
            gif = ImagePairGif(f"digits-{name}-{'any' if y is None else y}", [f[1] for f in frames] + [x_final],
                               [f[2] for f in frames] + [x_final], labels, ncol=ncol, scale=scale)
            final = image_grid(x_final, ncol, scale=scale)
            yield (final, final, gr.HTML(iframe(figure_page(gif.figure(), plotly_src()), 420)),
                   f"Done: {n} samples ({what}), {res.nfe} network evaluations.", gif)


@user_errors
@gpu_call(duration=60)
def class_grid_view(gamma, seed, progress=gr.Progress()):
    """API 'digit_classes': one row per class 0-9 at guidance scale gamma, the same noise for every gamma."""
    model = _model()
    gamma = number(gamma, "Guidance scale γ", 0.0, GAMMA_MAX)
    g = seed_generator(seed)
    x_init = model.prior_sample(8, generator=g).repeat(10, 1, 1, 1)   # the same 8 noises in every row, for every gamma
    labels = torch.arange(10).repeat_interleave(8)
    progress(0.1, desc="sampling 10 rows of 8")
    x = sample("ddim", model.score_fn(labels, gamma=gamma), model.sde, x_init, n_steps=40,
               generator=torch.Generator().manual_seed(0)).x.cpu()
    correct = int((shipped_classifier().predict(x) == labels).sum())
    rows = [x]
    grid = image_grid(torch.cat(rows).numpy(), 8)
    return grid, (f"γ = {gamma:g}: the shipped classifier reads {correct} of 80 samples as the digit asked for. "
                  "γ = 0 ignores the label, 1 is conditional, above 1 guided.")


def _digit(index, upload):
    """x0 [1, 1, H, W]: an uploaded image (grayscale, resized, ink bright as in the data) or held-out digit `index`."""
    model = _model()
    size = model.config.shape[-1]
    if upload:
        return digit_from_image(load_image(upload), size), None   # load_image: [3, H, W] in [-1, 1], checked
    data = digits_split("heldout", size)
    k = number(index, "Digit index", 0, len(data) - 1, integer=True)
    return data.x[k:k + 1], int(data.y[k])


@user_errors
@gpu_call(duration=30)
def sdedit_view(index, upload, t0, seed):
    """API 'sdedit': noise the digit to t0, denoise it back 6 times: what the model keeps and what it invents."""
    model = _model()
    x0, label = _digit(index, upload)
    x0 = x0.to(model.device)
    t0 = number(t0, "Noise level t₀", 0.05, 1.0)
    g = seed_generator(seed)
    batch = x0.repeat(6, 1, 1, 1)
    res = sdedit(model.score_fn(), model.sde, batch, t0, sampler="ddim", n_steps=40, generator=g)
    row = torch.cat([x0, res.trajectory[0][:1].clamp(-1.5, 1.5), res.x]).cpu()
    pred = shipped_classifier().predict(res.x.cpu()).tolist()
    return image_grid(row.numpy(), 8, scale=6), (f"Original{'' if label is None else f' (a {label})'}, x_t₀ at "
                                                 f"t₀ = {t0:g}, then 6 denoised versions, read as {pred}.")


def _painted_alpha(drawn) -> np.ndarray | None:
    """The alpha channel [H, W] of the sketchpad's composite (a file path, headers checked first), or None."""
    composite = drawn.get("composite") if isinstance(drawn, dict) else drawn
    if composite is None:
        return None
    check_sketch(drawn)
    return load_rgba(composite)[..., -1]


@user_errors
@gpu_call(duration=30)
def inpaint_view(index, upload, mask_name, seed, drawn=None):
    """API 'inpaint': keep the pixels outside the mask (a preset, or painted on the sketchpad), let the model fill the rest."""
    model = _model()
    x0, label = _digit(index, upload)
    x0 = x0.to(model.device)
    size = model.config.shape[-1]
    painted = _painted_alpha(drawn)
    if painted is not None and painted.any():
        mask = mask_from_drawing(painted, size)                   # painted (alpha > 0) = to fill
    else:
        top, left, h, w = (v * size // 8 for v in MASKS[choice(mask_name, "mask", MASKS)])
        mask = box_mask((size, size), top, left, h, w)
    mask = mask.to(model.device)
    g = seed_generator(seed)
    batch = x0.repeat(4, 1, 1, 1)
    res = inpaint(model.score_fn(), model.sde, batch, mask, sampler="ddpm", n_steps=50, reconstruction=10.0,
                  generator=g)          # replacement + reconstruction guidance: keeps the class (benchmarks/RESULTS_digits.md)
    shown = torch.where(mask.bool(), x0, torch.zeros_like(x0))   # the hidden part shown grey
    row = torch.cat([x0, shown, res.x.clamp(-1, 1)]).cpu()
    pred = shipped_classifier().predict(res.x.cpu()).tolist()
    return image_grid(row.numpy(), 6, scale=6), (f"Original{'' if label is None else f' (a {label})'}, the kept "
                                                 f"pixels, then 4 fillings, read as {pred}.")


@user_errors
@gpu_call(duration=120)
def hub_view(model_id, n_steps, seed, progress=gr.Progress()):
    """API 'hub_sample': load a DDPM-style UNet from the Hugging Face Hub (or a local folder inside the one directory
    EXPLORER_HUB_LOCAL_DIR names, when set) and sample 4 images."""
    from ..hub import load_hub_unet, local_models_dir

    if not isinstance(model_id, str) or not model_id.strip():
        raise gr.Error("Give a Hub model id such as google/ddpm-cifar10-32.")
    steps = number(n_steps, "Steps", 5, 200, integer=True)
    g = seed_generator(seed)
    progress(0.05, desc="loading the model")
    hub = load_hub_unet(model_id.strip(), allow_local=local_models_dir())
    x_init = hub.prior_sample(4, generator=g)
    res = sample("ddim", hub.score_fn(), hub.sde, x_init, n_steps=steps, generator=g,
                 callback=lambda i, t, x: progress(i / steps, desc=f"step {i}/{steps}"))
    return image_grid(res.x.clamp(-1, 1).cpu().numpy(), 4, scale=max(1, 128 // hub.shape[-1])), \
        f"{markdown_text(hub.source)}: 4 samples, {res.nfe} network evaluations on {hub.device}."


def build_images_tab(links: Links) -> list:
    """Builds the tab; returns the (fn, inputs, outputs) to run when a page opens."""
    gr.Markdown(read_markdown("images"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    with gr.Row():
        seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", scale=0, min_width=100)
        sampler = gr.Dropdown(IMAGE_SAMPLERS, value="ddpm", label="Sampler")
        steps = gr.Slider(5, 1000, value=200, step=1, label="Steps")
        n_images = gr.Slider(1, MAX_IMAGES, value=16, step=1, label="Images")
        digit = gr.Dropdown(CLASS_CHOICES, value=-1, label="Digit")
        gamma = gr.Slider(0.0, GAMMA_MAX, value=3.0, step=0.1, label="Guidance scale γ (with a digit)")
    with gr.Row():
        go = gr.Button("Sample digits", variant="primary", scale=3)
        stop = gr.Button("Stop", variant="stop", scale=1)
    status = gr.Markdown()
    with gr.Row():
        xt = gr.Image(label="x_t (noisy)", height=300, interactive=False)
        x0 = gr.Image(label="x̂₀ (the model's current estimate)", height=300, interactive=False)
    replay = gr.HTML(elem_classes=["dx-wide"])
    downloads = build_downloads("images", "No animation yet: press 'Sample digits' and let it finish first.")
    sample_io = ([sampler, steps, n_images, digit, gamma, seed], [xt, x0, replay, status, downloads.spec])
    sampled = go.click(sample_digits_view, *sample_io, api_name="sample_digits", show_progress="minimal")
    downloads.after(sampled)
    stop.click(None, None, None, cancels=[sampled], api_visibility="private")
    with gr.Accordion("Every digit at one guidance scale (same noise for every γ)", open=False):
        with gr.Row():
            gamma_c = gr.Slider(0.0, GAMMA_MAX, value=3.0, step=0.1, label="Guidance scale γ")
            grid_btn = gr.Button("Sample rows 0–9")
        grid_note = gr.Markdown()
        grid = gr.Image(label="One row per digit", height=520, interactive=False)
        grid_btn.click(class_grid_view, [gamma_c, seed], [grid, grid_note], api_name="digit_classes")
    with gr.Accordion("Noise a digit, then denoise it (SDEdit) · Inpainting", open=False):
        with gr.Row():
            index = gr.Slider(0, len(digits_split("heldout")) - 1, value=0, step=1, label="Held-out digit")
            t0 = gr.Slider(0.05, 1.0, value=0.5, step=0.05, label="SDEdit: noise level t₀")
            mask = gr.Dropdown(list(MASKS), value="left half", label="Inpainting: hide")
        with gr.Row():
            upload = gr.File(label="…or your own image instead of the held-out digit",
                             file_types=[".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"], type="filepath")
            sketch = CheckedSketchpad(label="…or paint the part to hide (the square is the 8×8 digit)",
                                      canvas_size=(160, 160), brush=gr.Brush(colors=["#D55E00"], default_size=20))
        with gr.Row():
            sdedit_btn = gr.Button("Noise and denoise")
            inpaint_btn = gr.Button("Fill in the hidden part")
        edit_note = gr.Markdown()
        edit = gr.Image(label="Result", height=160, interactive=False)
        sdedit_btn.click(sdedit_view, [index, upload, t0, seed], [edit, edit_note], api_name="sdedit")
        inpaint_btn.click(inpaint_view, [index, upload, mask, seed, sketch], [edit, edit_note], api_name="inpaint")
    with gr.Accordion("A model from the Hugging Face Hub (needs network and `pip install diffusers`)", open=False):
        with gr.Row():
            hub_id = gr.Textbox(value="google/ddpm-cifar10-32", label="Model id")
            hub_steps = gr.Slider(5, 200, value=50, step=1, label="DDIM steps")
            hub_btn = gr.Button("Load and sample")
        hub_note = gr.Markdown()
        hub_img = gr.Image(label="Samples", height=160, interactive=False)
        hub_btn.click(hub_view, [hub_id, hub_steps, seed], [hub_img, hub_note], api_name="hub_sample")
    links.share_many("images", seed=seed, sampler=sampler, steps=steps, n=n_images, digit=digit, gamma=gamma)
    return [(cached_only(sample_digits_view), *sample_io)]         # a finished grid of digits on open
