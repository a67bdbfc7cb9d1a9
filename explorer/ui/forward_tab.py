"""Tab "Forward process": the particle cloud (2D), the density river (1D), the schedule panel, noised images."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from ..images import example_image, load_image, noise_row, pixel_histogram, to_display
from ..forward import forward_paths, log_density_frames, log_density_grid, quantize_log_density, view_half_width
from ..process import Process
from ..viz.animation import Panel, figure_page, iframe, panel_animation
from ..viz.forward import river_figure, schedule_figure
from ..viz.images import histogram_figure, image_row_figure
from .common import Setup, number, plotly_src, read_markdown, resolve_dataset, resolve_process, seed_generator, user_errors
from .exports import PanelsGif, build_downloads
from .flow_tab import forward_paths_animation_view, forward_paths_view
from .link import Links

MAX_PARTICLES = 20_000
MAX_FRAMES = 200
DENSITY_GRID = 40       # contour grid per frame (uint8): ~2 KB a frame
RIVER_TIMES, RIVER_GRID, RIVER_PATHS = 160, 240, 8
MAX_IMAGE_TIMES = 8
IMAGE_TYPES = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"]


def forward_cloud_panel(dataset, sde: Process, n_particles: int, n_frames: int,
                        generator: torch.Generator) -> tuple[Panel, list[str], str]:
    """2D: exact forward paths of n particles at n_frames times in [0, T] (over log p_t contours for mixtures) as a
    Panel (frames [F, N, 2]), its F frame labels (the t values) and its title."""
    x0, y = dataset.sample(n_particles, generator=generator, dtype=torch.float64)
    ts = torch.linspace(0.0, sde.T, n_frames, dtype=torch.float64)
    paths = forward_paths(x0, sde, ts, generator=generator)
    half = view_half_width(sde, ts)
    density = None
    if dataset.is_mixture:
        axes, log_p = log_density_frames(dataset.mixture, sde, ts, half, DENSITY_GRID)
        density = (axes.numpy(), quantize_log_density(log_p).numpy())
    ranges = np.repeat(half.numpy()[:, None], 2, axis=1)
    panel = Panel(paths.float().numpy(), labels=y.numpy(), n_classes=dataset.num_classes, ranges=ranges,
                  density=density)
    return panel, [f"{t:.2f}" for t in ts.numpy()], f"{dataset.label} under {sde.label}: x_t = α(t) x₀ + σ(t) ε"


def forward_cloud_figure(dataset, sde: Process, n_particles: int, n_frames: int, generator: torch.Generator) -> dict:
    """2D: the animated figure of forward_cloud_panel (frames, Play button, time slider)."""
    panel, labels, title = forward_cloud_panel(dataset, sde, n_particles, n_frames, generator)
    return panel_animation([panel], labels, title=title, time_label="t = ")


def river_plot(dataset, sde: Process, generator: torch.Generator):
    """1D: the exact p_t(x) over (t, x) with a few exact forward paths on top."""
    ts = torch.linspace(0.0, sde.T, RIVER_TIMES, dtype=torch.float64)
    half = float(view_half_width(sde, ts, data_std=float(dataset.mixture.variance().sqrt().max())).max())
    xs = torch.linspace(-half, half, RIVER_GRID, dtype=torch.float64) + float(dataset.mixture.mean()[0])
    density = log_density_grid(dataset.mixture, sde, ts, [xs]).exp()
    x0, _ = dataset.sample(RIVER_PATHS, generator=generator, dtype=torch.float64)
    paths = forward_paths(x0, sde, ts, generator=generator)[..., 0]
    return river_figure(ts.numpy(), xs.numpy(), density.numpy(), paths.numpy(),
                        title=f"{dataset.label} under {sde.label}: the density river p_t(x)")


def schedule_plot(sde: Process, n_steps: int = 1000):
    """alpha, sigma, SNR over t in [t_min, T]; DDPM's beta_i for VP processes, else the sigma_i."""
    t = torch.linspace(sde.t_min, sde.T, 300, dtype=torch.float64)
    sched = sde.discrete_schedule(n_steps)
    return schedule_figure(t.numpy(), sde.mean_coef(t).numpy(), sde.std(t).numpy(), sde.snr(t).numpy(),
                           np.arange(1, n_steps + 1), sched.beta.numpy() if sde.variance_preserving else None,
                           sched.sigma.numpy(),
                           title=f"Noise schedule of {sde.label}")


@user_errors
def forward_view(dataset, means, stds, weights, process, seed, user_data, n_particles, n_frames):
    """API 'forward': the 2D animation (HTML, and its file) or the 1D river (plot), whichever fits the dataset; the
    animation's data to this session's state, for its GIF."""
    ds = resolve_dataset(dataset, means, stds, weights, user_data)
    sde = resolve_process(process)
    g = seed_generator(seed)
    n = number(n_particles, "Particles", 10, MAX_PARTICLES, integer=True)
    f = number(n_frames, "Frames", 2, MAX_FRAMES, integer=True)
    if ds.dim == 2:
        panel, labels, title = forward_cloud_panel(ds, sde, n, f, g)
        gif = PanelsGif(f"forward-{ds.name}-{sde.name}", [panel], labels, title=title, time_label="t = ")
        return (gr.HTML(iframe(figure_page(gif.figure(), plotly_src()), height=640), visible=True),
                gr.Plot(visible=False), gif)
    return gr.HTML(visible=False), gr.Plot(river_plot(ds, sde, g), visible=True), None


@user_errors
def images_view(image, process, seed, n_times):
    """API 'forward_images': the image (a file path; None for the example) noised at n_times t values, and its histogram at t = T."""
    sde = resolve_process(process)
    g = seed_generator(seed)
    k = number(n_times, "Number of t values", 2, MAX_IMAGE_TIMES, integer=True)
    x0 = example_image() if image in (None, "") else load_image(image)
    ts = np.linspace(0.0, sde.T, k).tolist()
    row = noise_row(x0, sde, ts, generator=g)
    centres, density, pdf = pixel_histogram(row[-1], ts[-1], sde)
    sigma = float(sde.std(torch.tensor(ts[-1], dtype=torch.float64)))
    return (image_row_figure(to_display(row, rescale=True), ts,
                             title=f"x_t = α(t) x₀ + σ(t) ε under {sde.label} (one ε for the whole row)"),
            histogram_figure(centres, density, pdf, ts[-1], sigma, title="Pixels of the last x_t against N(0, σ²)"))


@user_errors
def schedule_view(process):
    """API 'schedule': the schedule panel of the chosen process."""
    return schedule_plot(resolve_process(process))


def build_forward_tab(setup: Setup, links: Links) -> list:
    """Builds the tab; returns the (fn, inputs, outputs) to run when a page opens."""
    gr.Markdown(read_markdown("forward"), latex_delimiters=[{"left": "$", "right": "$", "display": False}])
    with gr.Row():
        n_particles = gr.Slider(100, MAX_PARTICLES, value=2000, step=100, label="Particles (2D)")
        n_frames = gr.Slider(2, MAX_FRAMES, value=60, step=1, label="Frames")
        run = gr.Button("Run the forward process", variant="primary")
    anim = gr.HTML(label="Forward process animation", elem_id="forward-anim")
    river = gr.Plot(label="Density river", visible=False)
    downloads = build_downloads("forward", "No animation yet: run the forward process on a 2D dataset first.",
                                visible=True)
    schedule = gr.Plot(label="Schedule", elem_classes=["dx-wide"])
    with gr.Accordion("Paths: each pair's conditional path vs the marginal ODE through the same x_T", open=False):
        gr.Markdown("A pair $(x_0, \\varepsilon)$ moves along $x_t = \\alpha(t)\\,x_0 + \\sigma(t)\\,\\varepsilon$ (dashed; a "
                    "straight line for the linear path); the probability-flow ODE from the same $x_T$ (solid) follows "
                    "the *average* of all such paths and lands elsewhere. More in the Flow matching tab.",
                    latex_delimiters=[{"left": "$", "right": "$", "display": False}])
        with gr.Row():
            n_pairs = gr.Slider(1, 40, value=8, step=1, label="Pairs (x₀, ε)", scale=3)
            pairs_btn = gr.Button("Draw the paths", scale=1)
            pairs_anim_btn = gr.Button("Animate 1,000 pairs", scale=1)
        pairs_plot = gr.Plot(label="Conditional and marginal paths")
        pairs_anim = gr.HTML(visible=False)
        pairs_btn.click(forward_paths_view, setup.inputs + [n_pairs], pairs_plot, api_name="forward_paths")
        pairs_anim_btn.click(forward_paths_animation_view, setup.inputs + [n_pairs], pairs_anim,
                             api_name="forward_paths_animation")
    with gr.Accordion("Images: the same process on pixels", open=False):
        gr.Markdown("Each pixel is one coordinate of $x_0$: the same $x_t = \\alpha(t)\\,x_0 + \\sigma(t)\\,\\varepsilon$ "
                    "turns a picture into noise. Images are shown divided by max(1, their pixel std) so VE noise "
                    "does not saturate. Leave the upload empty to use the example.",
                    latex_delimiters=[{"left": "$", "right": "$", "display": False}])
        with gr.Row():
            image = gr.File(label="Image (PNG, JPEG, GIF, BMP, TIFF, WebP)", file_types=IMAGE_TYPES, type="filepath",
                            height=140, scale=1)
            with gr.Column(scale=1):
                n_times = gr.Slider(2, MAX_IMAGE_TIMES, value=6, step=1, label="Number of t values")
                noise_btn = gr.Button("Noise the image", variant="primary")
        row = gr.Plot(label="Noised images")
        hist = gr.Plot(label="Pixel histogram")
        noise_btn.click(images_view, [image, setup.process, setup.seed, n_times], [row, hist],
                        api_name="forward_images")
    inputs = setup.inputs + [n_particles, n_frames]
    outputs = [anim, river, downloads.spec]
    downloads.after(run.click(forward_view, inputs, outputs, api_name="forward"),
                    gr.on([setup.dataset.change, setup.process.change], forward_view, inputs, outputs,
                          api_visibility="private"))
    setup.process.change(schedule_view, setup.process, schedule, api_name="schedule")
    links.share_many("forward", particles=n_particles, frames=n_frames, times=n_times)
    return [(forward_view, inputs, outputs), (schedule_view, [setup.process], [schedule])]
