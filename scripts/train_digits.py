"""Retrain the shipped digits UNet deterministically on the CPU: python scripts/train_digits.py [--steps N] [--threads K].

Writes assets/digits_model/config.json + weights.pt and prints the training time. Same seed, steps and thread count
give the same weights on the same machine and torch version.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.digits import DEFAULT_SIZE, digits_split  # noqa: E402
from explorer.nn.unet import DIGITS_MODEL_DIR, DigitsConfig, save_digits_model  # noqa: E402
from explorer.nn.unet_training import DEFAULTS, train_digits  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=DEFAULTS["steps"])
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    p.add_argument("--p-uncond", type=float, default=DEFAULTS["p_uncond"], help="label dropout (classifier-free guidance)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=DEFAULT_SIZE, help="8 (native) or 16 (upsampled)")
    p.add_argument("--width", type=int, default=DigitsConfig.base_width)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: deterministic, fastest on a shared 2-core box)")
    p.add_argument("--out", type=Path, default=DIGITS_MODEL_DIR)
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = digits_split("train", args.size)
    config = DigitsConfig(image_size=args.size, base_width=args.width, dataset=f"sklearn_digits_{args.size}x{args.size}")

    def report(pr) -> None:
        print(f"step {pr.step:6d}/{pr.steps}  loss {pr.loss:.4f}  {pr.elapsed_s:7.1f} s", flush=True)

    t0 = time.perf_counter()
    model = train_digits(config, data, steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed, p_uncond=args.p_uncond,
                         callback=report, report_every=100, device="cpu")
    seconds = time.perf_counter() - t0
    model.info["train_seconds"] = round(seconds, 1)
    save_digits_model(model, args.out)
    n_params = sum(q.numel() for q in model.net.parameters())
    size_mb = (args.out / "weights.pt").stat().st_size / 1e6
    print(f"trained {args.steps} steps ({n_params:,} parameters) in {seconds:.1f} s = {seconds / 60:.1f} min "
          f"on {args.threads} thread(s); saved {args.out} ({size_mb:.2f} MB)")


if __name__ == "__main__":
    main()
