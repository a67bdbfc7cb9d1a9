"""Regenerate assets/example.png: scikit-learn's bundled china.jpg, centre-cropped square, 128×128 (no network)."""
from __future__ import annotations

from pathlib import Path

from PIL import Image
from sklearn.datasets import load_sample_image

SIDE = 128
OUT = Path(__file__).resolve().parent.parent / "assets" / "example.png"


def make_example(side: int = SIDE) -> Image.Image:
    """The centre square of china.jpg, resized to side × side with Lanczos."""
    im = Image.fromarray(load_sample_image("china.jpg"))
    w, h = im.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return im.crop((left, top, left + s, top + s)).resize((side, side), Image.Resampling.LANCZOS)


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    make_example().save(OUT, format="PNG", optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.1f} KB)")
