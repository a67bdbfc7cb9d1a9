"""Benchmark of the digits image model: speed of live sampling, sample quality by the shipped classifier, inpainting.

    python benchmarks/bench_digits.py [--quick]            # prints the tables of benchmarks/RESULTS_digits.md

Speed: 16 digits with DDIM 50 steps (median of 5), and the first-frame proxy: one sampler step (with the x0_hat
tap) + the figure of x_t next to x0_hat. Quality: the share of class-conditional samples that the classifier
labels as the class asked for, at gamma = 0, 1, 3; the Fréchet distance in the classifier's feature space of
unconditional samples to the held-out digits, next to the floors (real training digits of the same count to the
held-out digits; two random halves of all 1,797 real digits). Inpainting: held-out digits with the bottom or the
right half filled (DDIM 50 steps, 1 resample), classified as their original class.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.nn.digit_classifier import frechet_distance, shipped_classifier  # noqa: E402
from explorer.digits import digits_split, load_digits_tensor  # noqa: E402
from explorer.images import to_display  # noqa: E402
from explorer.inpaint import box_mask, inpaint  # noqa: E402
from explorer.samplers import sample, time_grid  # noqa: E402
from explorer.samplers.ddpm import ddim  # noqa: E402
from explorer.nn.unet import X0Tap, shipped_digits_model  # noqa: E402
from explorer.viz.images import image_row_figure  # noqa: E402
from machine import machine  # noqa: E402  (benchmarks/machine.py)


def grid(x: torch.Tensor, rows: int) -> np.ndarray:
    """[N, 1, H, W] -> one uint8 [rows H, cols W, 3] tile image, each pixel shown as 8×8."""
    imgs = to_display(x)
    n, h, w, _ = imgs.shape
    cols = -(-n // rows)
    out = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = imgs[i]
    return out.repeat(8, 0).repeat(8, 1)


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def speed(model, repeats: int) -> None:
    for threads in (1, 2):
        torch.set_num_threads(threads)
        speed_rows(model, repeats, f"{threads} thread{'s' if threads > 1 else ''}")
    torch.set_num_threads(1)


def speed_rows(model, repeats: int, tag: str) -> None:
    g = torch.Generator().manual_seed(0)
    x_init = model.prior_sample(16, generator=g)
    y = torch.arange(16) % 10
    uncond = lambda: sample("ddim", model.score_fn(), model.sde, x_init, n_steps=50)               # noqa: E731
    guided = lambda: sample("ddim", model.score_fn(y, gamma=3.0), model.sde, x_init, n_steps=50)   # noqa: E731
    uncond()
    print(f"| 16 digits, DDIM 50 steps, unconditional ({tag}) | {timed(uncond, repeats):.3f} s |")
    print(f"| 16 digits, DDIM 50 steps, guided γ = 3, one batched pass of 32 per step ({tag}) | {timed(guided, repeats):.3f} s |")

    def first_frame():
        tap = X0Tap(model.score_fn(y, gamma=3.0), model.sde)
        ts = time_grid(model.sde, 50, dtype=torch.float64)
        res = ddim(tap, model.sde, x_init, ts[:2])
        return image_row_figure(np.stack([grid(res.x, 4), grid(tap.x0_hat, 4)]), [float(ts[1])] * 2)

    first_frame()
    print(f"| first streamed frame proxy: 1 DDIM step (γ = 3) + x_t / x̂0 figure ({tag}) | {timed(first_frame, repeats):.3f} s |")


@torch.no_grad()
def class_accuracy(model, clf, per_class: int) -> None:
    g = torch.Generator().manual_seed(1)
    y = torch.arange(10).repeat_interleave(per_class)
    x_init = model.prior_sample(len(y), generator=g)
    for gamma in (0.0, 1.0, 3.0):
        score = model.score_fn(None if gamma == 0 else y)
        if gamma not in (0.0, 1.0):
            score = model.score_fn(y, gamma=gamma)
        x = sample("ddim", score, model.sde, x_init, n_steps=50).x.clamp(-1, 1)
        pred = clf.predict(x)
        acc = float((pred == y).double().mean())
        worst = min(range(10), key=lambda c: float((pred[y == c] == c).double().mean()))
        worst_acc = float((pred[y == worst] == worst).double().mean())
        hist = pred.bincount(minlength=10).tolist()
        print(f"| γ = {gamma:g} | {acc:.3f} | {worst} ({worst_acc:.2f}) | {hist} |")


@torch.no_grad()
def frechet(model, clf, n: int) -> None:
    held, train = digits_split("heldout"), digits_split("train")
    g = torch.Generator().manual_seed(2)
    f_held = clf.features(held.x)
    for name, steps in (("ddim", 50), ("ddpm", 200)):
        x = sample(name, model.score_fn(), model.sde, model.prior_sample(n, generator=g), n_steps=steps,
                   generator=g).x.clamp(-1, 1)
        hist = clf.predict(x).bincount(minlength=10).tolist()
        print(f"| {n} unconditional samples ({name.upper()} {steps} steps) vs {len(held)} held-out | "
              f"{frechet_distance(clf.features(x), f_held):.3f} | classes {hist} |")
    idx = torch.randperm(len(train), generator=g)[:n]
    print(f"| floor: {len(idx)} real training digits vs {len(held)} held-out | "
          f"{frechet_distance(clf.features(train.x[idx]), f_held):.3f} | |")
    allx = load_digits_tensor().x
    perm = torch.randperm(len(allx), generator=g)
    a, b = perm[: len(allx) // 2], perm[len(allx) // 2:]
    print(f"| floor: two random halves of all 1,797 real digits ({len(a)} vs {len(b)}) | "
          f"{frechet_distance(clf.features(allx[a]), clf.features(allx[b])):.3f} | |")


@torch.no_grad()
def inpainting(model, clf, n: int | None) -> None:
    held = digits_split("heldout")
    x0, y = (held.x, held.y) if n is None else (held.x[:n], held.y[:n])
    g = torch.Generator().manual_seed(3)
    train = digits_split("train")
    for label, box in (("bottom half", (4, 0, 4, 8)), ("right half", (0, 4, 8, 4)), ("centre 4×4", (2, 2, 4, 4)),
                       ("top-left quadrant", (0, 0, 4, 4)), ("bottom-right quadrant", (4, 4, 4, 4))):
        mask = box_mask((8, 8), *box)
        keep = mask.flatten().bool()
        near = torch.cdist(x0.flatten(1)[:, keep], train.x.flatten(1)[:, keep]).topk(10, largest=False).indices
        knn = float((train.y[near] == y[:, None]).double().mean())
        for how, kw in (("RePaint, 1 resample", dict(resample=2)),
                        ("RePaint + reconstruction guidance w = 10, 1 resample", dict(resample=2, reconstruction=10.0))):
            t0 = time.perf_counter()
            res = inpaint(model.score_fn(), model.sde, x0, mask, sampler="ddpm", n_steps=50, generator=g, **kw)
            secs = time.perf_counter() - t0
            acc = float((clf.predict(res.x.clamp(-1, 1)) == y).double().mean())
            kept = float(((res.x - x0) * mask).abs().amax())
            print(f"| {label} filled ({len(y)} held-out) | {how} | {acc:.3f} | {knn:.3f} | {kept:.1e} | {secs:.1f} s |")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    args = p.parse_args()
    torch.set_num_threads(1)          # as the app does (app.py: one torch thread per request)
    model, clf = shipped_digits_model(), shipped_classifier()
    print(f"Machine: {machine()}\n")
    print(f"Model: {sum(q.numel() for q in model.net.parameters()):,} parameters, {model.config.image_size}×"
          f"{model.config.image_size}, {model.config.process}; trained {model.info.get('steps')} steps in "
          f"{model.info.get('train_seconds')} s ({model.info.get('threads')} thread(s)). Classifier held-out accuracy "
          f"{clf.info.get('heldout_accuracy')}.\n")
    print("| speed | median wall time |\n| --- | --- |")
    speed(model, 3 if args.quick else 5)
    print("\n| guidance scale | samples labelled as the class asked | worst class (its accuracy) | predicted-class counts |")
    print("| --- | --- | --- | --- |")
    class_accuracy(model, clf, 10 if args.quick else 50)
    print("\n| Fréchet distance in classifier feature space | FD | |\n| --- | --- | --- |")
    frechet(model, clf, 200 if args.quick else 1000)
    print("\n| inpainting (DDPM 50 steps) | method | class kept | reference: 10 nearest training digits on the kept "
          "pixels, share of the same class | max error on kept pixels | time |\n| --- | --- | --- | --- | --- | --- |")
    inpainting(model, clf, 60 if args.quick else None)


if __name__ == "__main__":
    main()
