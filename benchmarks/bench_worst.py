"""The worst in-range request of every expensive endpoint: how long it runs, or how fast it is refused.

Each case calls the endpoint's handler (the function the app serves, with its checks, its work budget and its
deadline) with the most expensive values its controls allow. Without a budget, several of these would run for
minutes to hours; with it, each is refused before it starts or runs within the 30 s target.

Run: python benchmarks/bench_worst.py            (as the app runs: budgets on, 45 s ceiling)
     EXPLORER_BUDGET_S=1e9 EXPLORER_REQUEST_LIMIT_S=60 python benchmarks/bench_worst.py   (no budget: "before",
     each case stopped by a 60 s ceiling)
"""
from __future__ import annotations

import inspect
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402


def _user_points(m: int = 20_000):
    """The largest 'my data' a user can upload: 20,000 labelled points (4 classes)."""
    import torch

    from explorer.custom_data import dataset_from_points

    g = torch.Generator().manual_seed(0)
    pts = torch.randn(m, 2, generator=g) + 3 * torch.randint(0, 2, (m, 2), generator=g)
    return dataset_from_points(pts, torch.randint(0, 4, (m,), generator=g), name="my_data", label="20,000 points")


def _photo():
    """A 16-megapixel RGB photo-like JPEG (the largest kind a user uploads)."""
    import tempfile

    import numpy as np
    from PIL import Image

    path = Path(tempfile.gettempdir()) / "dx-bench-photo.jpg"
    if not path.exists():
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 255, (4000, 4000, 3), dtype=np.uint8)).save(path, quality=90)
    return path


def _csv():
    """20,000 labelled x,y rows, the most a CSV may have."""
    import tempfile

    path = Path(tempfile.gettempdir()) / "dx-bench-points.csv"
    path.write_text("x,y,label\n" + "\n".join(f"{i % 97 / 9:.3f},{i % 89 / 7:.3f},{'abc'[i % 3]}" for i in range(20_000)))
    return path


def cases():
    """(name, handler, args) for the worst in-range request of each endpoint."""
    from explorer.pretrained import load_pretrained
    from explorer.ui import forward_tab, guidance_tab, images_tab, learned_tab, likelihood_tab, sampling_tab
    from explorer.ui import my_data, score_tab, vae_tab

    mine = _user_points()
    c = ("", "", "")
    six = ["langevin", "annealed_langevin", "reverse_sde", "pc", "ddpm", "pf_rk45"]
    opts = (0.0, 1e-3, 0.01, 0.16)
    moons_net = load_pretrained("moons", "vp_linear")
    return [
        ("/forward (20,000 points of my data, 20,000 particles, 200 frames)", forward_tab.forward_view,
         ("my_data", *c, "vp_linear", 0, mine, 20_000, 200)),
        ("/score_field (my data, 60 arrows per side)", score_tab.score_view,
         ("my_data", *c, "vp_linear", 0, mine, 0.05, 60, True)),
        ("/sample (my data exact, 6 samplers, 1,000 steps, 5,000 particles)", sampling_tab.sampling_view,
         ("my_data", *c, "vp_linear", 0, mine, "exact", six, 1000, 5000, *opts)),
        ("/sample (pretrained moons, 6 samplers, 1,000 steps, 5,000 particles)", sampling_tab.sampling_view,
         ("moons", *c, "vp_linear", 0, None, "pretrained", six, 1000, 5000, *opts)),
        ("/quality (my data exact, 6 samplers, 5,000 particles)", sampling_tab.quality_view,
         ("my_data", *c, "vp_linear", 0, mine, "exact", six, 5000, *opts)),
        ("/likelihood (pretrained moons, grid 60, 2,000 held out, rtol 1e-7)", likelihood_tab.likelihood_view,
         ("moons", *c, "vp_linear", 0, None, "pretrained", 60, 2000, -7)),
        ("/guidance (pretrained ring8, DDPM, 3,000 particles)", guidance_tab.guidance_view,
         ("ring8", *c, "vp_linear", 0, None, "pretrained", 0, 8.0, "ddpm", 3000)),
        ("/guidance_sweep (pretrained ring8, DDPM, 3,000 particles)", guidance_tab.sweep_view,
         ("ring8", *c, "vp_linear", 0, None, "pretrained", 0, "ddpm", 3000)),
        ("/compare (pretrained moons)", learned_tab.compare_view,
         ("moons", *c, "vp_linear", 0, None, "pretrained", 0.05, moons_net)),
        ("/train (20,000 steps, width 512)", learned_tab.train_view,
         ("moons", *c, "vp_linear", 0, None, "eps", 20_000, 3e-3, 512, 0.1)),
        ("/train_vae (20,000 steps)", vae_tab.train_vae_view, ("moons", *c, "vp_linear", 0, None, 20_000)),
        ("/train_classifier (my data)", guidance_tab.train_classifier_view, ("my_data", *c, "vp_linear", 0, mine)),
        ("/sample_digits (DDPM 1,000 steps, 36 images)", images_tab.sample_digits_view, ("ddpm", 1000, 36, -1, 3.0, 0)),
        ("/sample_digits (annealed Langevin 1,000 levels, 36 images, γ = 3)", images_tab.sample_digits_view,
         ("annealed_langevin", 1000, 36, 3, 3.0, 0)),
        ("/digit_classes (γ = 8)", images_tab.class_grid_view, (8.0, 0)),
        ("/sdedit (t₀ = 1)", images_tab.sdedit_view, (0, None, 1.0, 0)),
        ("/inpaint (centre square)", images_tab.inpaint_view, (0, None, "centre square", 0)),
        ("/guidance_field (pretrained ring8, t = 0.01)", guidance_tab.field_view,
         ("ring8", *c, "vp_linear", 0, None, "pretrained", 0, 8.0, 0.01)),
        ("/forward_images (a 4,000 × 4,000 photo, 8 times)", forward_tab.images_view,
         (str(_photo()), "vp_linear", 0, forward_tab.MAX_IMAGE_TIMES)),
        ("/my_data (a 20,000-row CSV)", my_data.my_data_view, (None, str(_csv()), 0)),
        ("/forward_gif (the 20,000-particle, 200-frame animation)", _export("gif"), ()),
        ("/forward_html (the same, standalone HTML)", _export("html"), ()),
    ]


def _export(kind: str):
    """The forward tab's largest animation, exported as the download buttons do (GIF or standalone HTML)."""
    from explorer.ui import forward_tab
    from explorer.ui.common import user_errors
    from explorer.viz.export import write_export, write_standalone

    spec = forward_tab.forward_view("moons", "", "", "", "vp_linear", 0, None, 20_000, 200)[-1]
    if kind == "gif":
        return user_errors(lambda: write_export(spec.name, ".gif", spec.render, owner="bench"))
    return user_errors(lambda: write_standalone(spec.figure(), spec.name, owner="bench"))


def run(fn, args) -> tuple[float, str]:
    """(seconds, outcome): the handler run to its end (a generator: every update consumed), or its message."""
    t0 = time.perf_counter()
    try:
        out = fn(*args)
        if inspect.isgenerator(out):
            for _ in out:
                pass
        return time.perf_counter() - t0, "ran"
    except Exception as e:  # noqa: BLE001 - the message is the outcome
        return time.perf_counter() - t0, f"refused: {str(e)[:150]}"


if __name__ == "__main__":
    import torch

    torch.set_num_threads(int(os.environ.get("EXPLORER_TORCH_THREADS", "1")))
    print(machine())
    print(f"budget {os.environ.get('EXPLORER_BUDGET_S', '30')} s, ceiling {os.environ.get('EXPLORER_REQUEST_LIMIT_S', '45')} s")
    print("| request | seconds | outcome |\n| --- | ---: | --- |")
    only = sys.argv[1:]
    for name, fn, args in cases():
        if only and not any(o in name for o in only):
            continue
        seconds, outcome = run(fn, args)
        print(f"| {name} | {seconds:.1f} | {outcome} |", flush=True)
