"""Images under the forward process: load and check an image, noise it along a row of t, display it, histogram it.

x_t = alpha(t) x_0 + sigma(t) eps, the forward marginal q(x_t | x_0) of explorer.sde (Chan §2, Luo §2); one eps per row.
Pixels live in [-1, 1] as [C, H, W] float tensors, the convention of DDPM and score_sde.

Input rules (each refusal is an ImageInputError with a message meant for the user):
  - sources: a file path, bytes, a binary file object, a PIL image, or a numpy array
    (H, W), (H, W, 1), (H, W, 3), (H, W, 4); files must be PNG, JPEG, GIF, BMP, TIFF or WebP
    (other decoders, e.g. EPS, which runs Ghostscript, are never tried);
  - grayscale → RGB; RGBA / LA / palette with transparency → RGB composited on white;
    palette, CMYK, YCbCr, 1-bit → RGB; 16-bit → 8-bit; animated files → their first frame;
    the EXIF orientation is applied;
  - downscaled (aspect kept, Lanczos; JPEG decoded at a reduced scale first) so the longer
    side is ≤ max_side; never upscaled;
  - refused: not an image or unreadable; a side under min_side, before or after downscaling;
    more than MAX_PIXELS pixels (read from the header, before decoding); NaN / inf values;
  - numpy arrays: uint8 as is; bool as 0 / 255; other integers as 8-bit when ≤ 255, else as
    16-bit (≤ 65535), negative refused; floats as [0, 1], or as [0, 255] when the maximum
    exceeds 1, then clamped to that range.
"""
from __future__ import annotations

import io
import math
import os
import struct
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .sde import SDE
from .tensors import append_dims

Tensor = torch.Tensor

EXAMPLE_PATH = Path(__file__).resolve().parent.parent / "assets" / "example.png"
MAX_SIDE = 512
MIN_SIDE = 8
MAX_PIXELS = 120_000_000  # checked from the header; PIL itself refuses above 2 * Image.MAX_IMAGE_PIXELS
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")  # multi-picture JPEGs (MPO) open via "JPEG"
ACCEPTED = "PNG, JPEG, GIF, BMP, TIFF or WebP"
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError)


class ImageInputError(ValueError):
    """A user-supplied image that cannot be used; the message says why and what is accepted."""


# --- loading ----------------------------------------------------------------------------
def load_image(source, *, max_side: int = MAX_SIDE, min_side: int = MIN_SIDE) -> Tensor:
    """A path, bytes, file object, PIL image or array → [3, H, W] float32 in [-1, 1], longer side ≤ max_side."""
    if source is None:
        raise ImageInputError(f"no image given; upload a {ACCEPTED} file")
    opened = False
    if isinstance(source, Image.Image):
        im = source
    elif isinstance(source, np.ndarray):
        im = _array_to_pil(source, min_side=min_side)
    elif isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(source, "read"):
        im, opened = _open(source), True
    else:
        raise ImageInputError(
            f"cannot read an image from a {type(source).__name__}; "
            "expected a file path, bytes, a PIL image or a numpy array"
        )
    try:
        pixels = _decode(im, max_side=max_side, min_side=min_side, draft=opened)
    finally:
        if opened:
            im.close()
    x = pixels.astype(np.float32).transpose(2, 0, 1) / np.float32(127.5) - np.float32(1.0)
    return torch.from_numpy(np.ascontiguousarray(x))


def _decode(im: Image.Image, *, max_side: int, min_side: int, draft: bool) -> np.ndarray:
    """Check the size, decode and downscale; uint8 [H, W, 3] or ImageInputError."""
    _check_size(im.size, min_side=min_side)
    try:
        rgb = _to_small_rgb(im, max_side=max_side, draft=draft)
    except ImageInputError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageInputError(_too_large(im.size)) from err
    except _DECODE_ERRORS as err:
        raise ImageInputError(f"the image could not be decoded ({err}); is the file complete?") from err
    if min(rgb.size) < min_side:
        w, h = im.size
        raise ImageInputError(
            f"image is {w}×{h} pixels, {rgb.width}×{rgb.height} after downscaling to {max_side} on the "
            f"longer side; need at least {min_side}×{min_side} (aspect ratio at most {max_side // min_side}:1)"
        )
    return np.asarray(rgb, dtype=np.uint8)


def example_image(*, max_side: int = MAX_SIDE) -> Tensor:
    """The built-in example (assets/example.png, 128×128) as [3, H, W] in [-1, 1]."""
    return load_image(EXAMPLE_PATH, max_side=max_side)


def _open(source) -> Image.Image:
    """Image.open on a path, bytes or file object, reading only the header; failures → ImageInputError."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        if not _is_file(source):
            name = os.fsdecode(source)
            raise ImageInputError(f"no such image file: {name[:80] + '…' if len(name) > 80 else name!r}")
    try:
        return Image.open(source, formats=FORMATS)
    except Image.DecompressionBombError as err:
        raise ImageInputError(_too_large(None)) from err
    except UnidentifiedImageError as err:
        raise ImageInputError(f"this is not an image we can read; upload a {ACCEPTED} file") from err
    except _DECODE_ERRORS as err:
        raise ImageInputError(f"could not read the image ({err}); upload a {ACCEPTED} file") from err


def _is_file(path) -> bool:
    """Whether path names an existing regular file; malformed paths (NUL, too long) are not files."""
    try:
        return bool(os.fsdecode(path)) and Path(path).is_file()
    except (OSError, ValueError):
        return False


def _check_size(size: tuple[int, int], *, min_side: int) -> None:
    """Refuse images with a side under min_side or more than MAX_PIXELS pixels."""
    w, h = size
    if w < min_side or h < min_side:
        raise ImageInputError(f"image is {w}×{h} pixels; need at least {min_side}×{min_side}")
    if w * h > MAX_PIXELS:
        raise ImageInputError(_too_large(size))


def _too_large(size: tuple[int, int] | None) -> str:
    """The refusal message for images over MAX_PIXELS."""
    what = f"image is {size[0]}×{size[1]} pixels ({size[0] * size[1] / 1e6:.0f} MP)" if size else "image is too large"
    return f"{what}; the limit is {MAX_PIXELS / 1e6:.0f} megapixels — please upload a smaller image"


def _to_small_rgb(im: Image.Image, *, max_side: int, draft: bool) -> Image.Image:
    """Orient, convert to RGB (alpha composited on white) and downscale so the longer side ≤ max_side."""
    if draft and max(im.size) > max_side:  # JPEG: decode at 1/2, 1/4 or 1/8 scale, still ≥ 2× the target
        k = max_side / max(im.size)
        im.draft(None, (max(1, int(2 * k * im.width)), max(1, int(2 * k * im.height))))
    im = ImageOps.exif_transpose(im)
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        im = Image.fromarray(_array_to_uint8(np.asarray(im)), mode="L")
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA") or (im.mode in ("P", "L", "RGB") and "transparency" in im.info):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    if im.mode != "RGB":
        try:
            im = im.convert("RGB")
        except ValueError as err:
            raise ImageInputError(f"unsupported colour mode {im.mode!r}; use an RGB or grayscale image") from err
    if max(im.size) > max_side:
        im = im.copy()
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return im


def _array_to_pil(a: np.ndarray, *, min_side: int) -> Image.Image:
    """A numpy image (H, W), (H, W, 1|3|4) → PIL L / RGB / RGBA, by the dtype rules in the module docstring."""
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] in (3, 4))):
        raise ImageInputError(
            f"array of shape {tuple(a.shape)} is not an image; expected (H, W), (H, W, 3) or (H, W, 4)"
        )
    _check_size((a.shape[1], a.shape[0]), min_side=min_side)
    mode = {2: "L", 3: "RGB", 4: "RGBA"}[a.shape[-1] if a.ndim == 3 else 2]
    return Image.fromarray(_array_to_uint8(a), mode=mode)


def _array_to_uint8(a: np.ndarray) -> np.ndarray:
    """Pixel values of any numeric dtype → uint8 [0, 255] (see the module docstring for the rules)."""
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if np.issubdtype(a.dtype, np.integer):
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        if lo < 0 or hi > 65535:
            raise ImageInputError(f"integer pixel values must lie in [0, 255] or [0, 65535]; got [{lo}, {hi}]")
        top = 65535 if a.dtype == np.uint16 or hi > 255 else 255
        return np.round(a.astype(np.float64) * (255 / top)).astype(np.uint8)
    if np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
        if not np.isfinite(a).all():
            raise ImageInputError("image contains NaN or infinite values")
        top = 255.0 if a.size and a.max() > 1.0 else 1.0
        return np.round(np.clip(a / top, 0.0, 1.0) * 255).astype(np.uint8)
    raise ImageInputError(f"pixel values of dtype {a.dtype} are not supported; use uint8 or float")


# --- the forward process on an image ------------------------------------------------------
def noise_row(x0: Tensor, sde: SDE, ts: Sequence[float], *, generator: torch.Generator | None = None) -> Tensor:
    """x_t = alpha(t) x_0 + sigma(t) eps for each t in ts, ONE eps ~ N(0, I); x0 [C, H, W] → [len(ts), C, H, W]."""
    if x0.ndim != 3:
        raise ValueError(f"x0 must be one image [C, H, W]; got shape {tuple(x0.shape)}")
    t = torch.as_tensor([float(s) for s in ts], dtype=x0.dtype, device=x0.device)
    if t.numel() == 0 or not torch.isfinite(t).all() or (t < 0).any() or (t > sde.T).any():
        raise ValueError(f"times must be a non-empty list of numbers in [0, {sde.T}]; got {list(ts)}")
    gen_device = generator.device if generator is not None else x0.device
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=gen_device).to(x0.device)
    alpha, sigma = append_dims(sde.mean_coef(t), 4), append_dims(sde.std(t), 4)
    return alpha * x0 + sigma * eps


def to_display(x: Tensor, *, rescale: bool = False) -> np.ndarray:
    """[C, H, W] or [B, C, H, W] in [-1, 1] → uint8 [(B,) H, W, 3], clipped; rescale divides by max(1, pixel std).

    The pixel std of x_t estimates sqrt(alpha^2 Var(x_0) + sigma^2), so rescale=True shows each image standardised
    as the network's input is (EDM's c_in): VE at large t, with sigma up to sigma_max, stops saturating. The max(1, .)
    leaves VP / sub-VP images (std ≤ 1) and clean images untouched rather than stretching their contrast.
    """
    if x.ndim not in (3, 4) or x.shape[-3] not in (1, 3):
        raise ValueError(f"expected [C, H, W] or [B, C, H, W] with C in (1, 3); got shape {tuple(x.shape)}")
    x = torch.nan_to_num(x.detach().to(torch.float32))
    if rescale:
        std = x.flatten(-3).std(dim=-1, correction=0)
        x = x / append_dims(std.clamp(min=1.0), x.ndim)
    u8 = ((x.clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch.uint8)
    u8 = u8.expand(*u8.shape[:-3], 3, *u8.shape[-2:])
    return u8.movedim(-3, -1).contiguous().cpu().numpy()


def pixel_histogram(x_t: Tensor, t: float, sde: SDE, bins: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empirical density of the pixels of x_t and the N(0, sigma(t)^2) density at the same bin centres (float64).

    The bins span [-r, r], r = max(4 sigma(t), max |x_t|), so every pixel is counted and the density integrates to 1.
    At t = T under VP, alpha(T) x_0 ≈ 0 and the histogram approaches N(0, sigma^2); where sigma(t) = 0 (t = 0) the
    Gaussian is a point mass and gaussian_pdf is returned as zeros.
    """
    if int(bins) < 1:
        raise ValueError(f"bins must be a positive integer; got {bins}")
    values = x_t.detach().to(torch.float64).flatten().cpu().numpy()
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError("x_t must be non-empty and finite")
    sigma = float(sde.std(torch.tensor(float(t), dtype=torch.float64)))
    r = max(4.0 * sigma, float(np.abs(values).max()), 1e-6)
    density, edges = np.histogram(values, bins=int(bins), range=(-r, r), density=True)
    centres = 0.5 * (edges[:-1] + edges[1:])
    if sigma > 0:
        pdf = np.exp(-0.5 * (centres / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    else:
        pdf = np.zeros_like(centres)
    return centres, density.astype(np.float64), pdf
