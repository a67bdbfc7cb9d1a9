"""Retrain the shipped digit classifier (the judge of the image model): python scripts/train_digit_classifier.py.

Trains on the real training digits of explorer.digits (seeded split) and writes assets/digit_classifier/config.json
(with the accuracy on the held-out digits) and weights.pt.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.nn.digit_classifier import CLASSIFIER_DIR, save_classifier, train_digit_classifier  # noqa: E402
from explorer.digits import digits_split  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=CLASSIFIER_DIR)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    train, held = digits_split("train"), digits_split("heldout")
    t0 = time.perf_counter()
    model = train_digit_classifier(train, held, epochs=args.epochs, seed=args.seed,
                             callback=lambda e, loss, acc: print(f"epoch {e:3d}  loss {loss:.4f}  held-out acc {acc:.4f}",
                                                                 flush=True))
    seconds = time.perf_counter() - t0
    model.info["train_seconds"] = round(seconds, 1)
    save_classifier(model, args.out)
    print(f"held-out accuracy {model.info['heldout_accuracy']:.4f} ({len(held)} digits); trained in {seconds:.1f} s; "
          f"saved {args.out}")


if __name__ == "__main__":
    main()
