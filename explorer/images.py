"""Images under the forward process: load and check an image, noise it along a row of t, display it, histogram it.

x_t = alpha(t) x_0 + sigma(t) eps, the forward marginal q(x_t | x_0) of explorer.process (Chan §2, Luo §2); one eps per row.
Pixels live in [-1, 1] as [C, H, W] float tensors, the convention of DDPM and score_sde.

Input rules (each refusal is an ImageInputError with a message meant for the user):
  - sources: a file path, bytes, a binary file object, a PIL image, or a numpy array
    (H, W), (H, W, 1), (H, W, 3), (H, W, 4); files must be PNG, JPEG, GIF, BMP, TIFF or WebP
    (other decoders, e.g. EPS, which runs Ghostscript, are never tried);
  - nothing is decoded before its header passes check_header, the one check every path that accepts an image uses
    (load_image, load_rgba, check_image, check_sketch; a caller's PIL image is checked the same way): refused are a
    side under min_side or over largest, more than MAX_PIXELS pixels, or a decode cost over MAX_DECODE_BYTES
    (decode_cost: the bytes PIL holds to decode it before it is downscaled — width · height · bytes per pixel, plus
    the copies the decoders and mode conversions make);
  - grayscale → RGB; RGBA / LA / palette with transparency → RGB composited on white;
    palette, CMYK, YCbCr, 1-bit → RGB; 16-bit → 8-bit; animated files → their first frame (no other is decoded);
    the EXIF orientation is applied;
  - downscaled (aspect kept; JPEG decoded at a reduced scale first, other formats reduced by an integer factor right
    after decoding, then Lanczos) so the longer side is ≤ max_side; never upscaled;
  - refused: not an image or unreadable; a side under min_side, before or after downscaling; NaN / inf values;
  - numpy arrays (already in memory: only MAX_PIXELS applies): uint8 as is; bool as 0 / 255; other integers as
    8-bit when ≤ 255, else as 16-bit (≤ 65535), negative refused; floats as [0, 1], or as [0, 255] when the maximum
    exceeds 1, then clamped to that range.
Sketches (a drawing, an editor value {background, layers, composite}) are files too: check_sketch bounds the number of
layers (MAX_LAYERS), each side (MAX_SKETCH_SIDE) and the decode cost of all of them together.
"""
from __future__ import annotations

import io
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .process import Process
from .tensors import append_dims

Tensor = torch.Tensor

EXAMPLE_PATH = Path(__file__).resolve().parent.parent / "assets" / "example.png"
MAX_SIDE = 512
MIN_SIDE = 8
MAX_PIXELS = 120_000_000  # checked from the header; PIL itself refuses above 2 * Image.MAX_IMAGE_PIXELS
MAX_DECODE_BYTES = 128_000_000  # decode_cost of one request's images: with the downscaling, peak RSS stays < ~300 MB
MAX_SKETCH_SIDE = 2048    # a drawing or editor layer (the app's canvases are 320 and 160 pixels)
MAX_LAYERS = 8            # layers of one editor value
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")  # multi-picture JPEGs (MPO) open via "JPEG"
ACCEPTED = "PNG, JPEG, GIF, BMP, TIFF or WebP"
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError)

_SIXTEEN = ("I;16", "I;16L", "I;16B", "I;16N")
_STORAGE = {"1": 1, "L": 1, "P": 1, **{m: 2 for m in _SIXTEEN}}        # bytes PIL keeps per pixel; every other mode 4
_REDUCIBLE = {"L", "La", "RGB", "RGBa", "RGBX", "CMYK", "YCbCr", "I", "F"}   # Image.reduce averages these right
_COPY = {"1": 1, "P": 4, "LA": 4, "RGBA": 4, "PA": 4, **{m: 4 for m in _SIXTEEN}}   # the full-size copy first
_OWN_BUFFER = {"TIFF": 2, "WEBP": 4}   # libtiff / libwebp decode into buffers of their own, then PIL copies (measured)
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}   # EXIF orientation → the transposition that displays it upright
_SAME_SHAPE = {Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180, Image.Transpose.FLIP_TOP_BOTTOM}


class ImageInputError(ValueError):
    """A user-supplied image that cannot be used; the message says why and what is accepted."""


@dataclass(frozen=True)
class ImageHeader:
    """What a file says about itself before any pixel is decoded; cost = decode_cost in bytes."""

    format: str
    width: int
    height: int
    mode: str
    cost: int


# --- the header check: every path that accepts an image goes through check_header ----------------------------
def decode_cost(im: Image.Image, full_size: tuple[int, int] | None = None) -> int:
    """Bytes PIL holds to decode im (opened, not decoded) into a mode Image.reduce takes: w·h·(storage + copy)·k + coefs.

    storage: 1 byte per pixel for 1-bit / L / P, 2 for 16-bit grey, 4 otherwise (PIL pads RGB to 4); copy: the full-size
    conversions made before reducing (1-bit → L 1; palette → RGB, 16-bit → I, alpha → premultiplied 4; a transparent
    colour → RGBA → premultiplied 8; unknown modes 8); k = 2 for TIFF and 4 for WebP, whose decoders fill
    buffers of their own (measured); a progressive JPEG adds its DCT coefficients (2 bytes each, at
    full_size, the size before JPEG's draft mode), which libjpeg keeps for the whole image.
    """
    w, h = im.size
    copy = _COPY.get(im.mode, 0 if im.mode in _REDUCIBLE else 8)
    if "transparency" in im.info and im.mode in ("P", "L", "RGB"):
        copy = 8
    cost = w * h * (_STORAGE.get(im.mode, 4) + copy) * _OWN_BUFFER.get(str(im.format), 1)
    if im.format in ("JPEG", "MPO") and im.info.get("progressive"):
        w0, h0 = full_size or im.size
        cost += int(w0 * h0 * 2 * _jpeg_samples_per_pixel(im))
    return cost


def _jpeg_samples_per_pixel(im: Image.Image) -> float:
    """Coded samples per pixel of a JPEG, from its components' sampling factors (3 for 4:4:4 colour, 1.5 for 4:2:0)."""
    layers = getattr(im, "layer", None) or []
    try:
        hmax, vmax = max(int(c[1]) for c in layers), max(int(c[2]) for c in layers)
        return sum(int(c[1]) * int(c[2]) for c in layers) / (hmax * vmax)
    except (ValueError, TypeError, IndexError, ZeroDivisionError):
        return float(len(im.getbands()))


def check_header(im: Image.Image, *, min_side: int = MIN_SIDE, largest: int | None = None,
                 budget: int = MAX_DECODE_BYTES, full_size: tuple[int, int] | None = None) -> ImageHeader:
    """Refuse an opened, not yet decoded image from its header: a side < min_side or > largest, > MAX_PIXELS, cost > budget."""
    w, h = im.size
    if w < min_side or h < min_side:
        raise ImageInputError(f"image is {w}×{h} pixels; need at least {min_side}×{min_side}")
    if largest is not None and max(w, h) > largest:
        raise ImageInputError(f"image is {w}×{h} pixels; a drawing (and each of its layers) may be at most "
                              f"{largest}×{largest} pixels")
    w0, h0 = full_size or (w, h)
    if w0 * h0 > MAX_PIXELS:
        raise ImageInputError(_too_large((w0, h0)))
    cost = decode_cost(im, full_size)
    if cost > budget:
        raise ImageInputError(_too_costly((w0, h0), im.mode, cost, budget))
    return ImageHeader(str(im.format), w, h, im.mode, cost)


def _too_large(size: tuple[int, int] | None) -> str:
    """The refusal message for images over MAX_PIXELS."""
    what = f"image is {size[0]}×{size[1]} pixels ({size[0] * size[1] / 1e6:.0f} MP)" if size else "image is too large"
    return f"{what}; the limit is {MAX_PIXELS / 1e6:.0f} megapixels — please upload a smaller image"


def _too_costly(size: tuple[int, int], mode: str, cost: int, budget: int) -> str:
    """The refusal message for images whose decoding would take more memory than the budget."""
    w, h = size
    kind = {"1": "1-bit", "L": "grayscale", "P": "palette", "RGB": "colour", "RGBA": "colour with transparency"}.get(
        mode, "16-bit" if mode in _SIXTEEN else mode)
    return (f"image is {w}×{h} pixels ({w * h / 1e6:.0f} MP, {kind}): decoding it would take about "
            f"{cost / 1e6:.0f} MB; the limit is {budget / 1e6:.0f} MB (about {budget / 4e6:.0f} megapixels in colour) "
            f"— please upload a smaller image")


def open_checked(source, *, min_side: int = MIN_SIDE, largest: int | None = None, budget: int = MAX_DECODE_BYTES,
                 draft_side: int | None = None) -> Image.Image:
    """Image.open on a path, bytes or file object, checked by check_header (JPEG first drafted to ≥ 2·draft_side); not decoded."""
    im = _open(source)
    try:
        full = im.size
        if draft_side and im.format in ("JPEG", "MPO") and max(full) > draft_side:
            k = draft_side / max(full)    # decode at 1/2, 1/4 or 1/8 scale, still ≥ 2× the target
            im.draft(None, (max(1, int(2 * k * full[0])), max(1, int(2 * k * full[1]))))
        check_header(im, min_side=min_side, largest=largest, budget=budget, full_size=full)
    except BaseException:
        im.close()
        raise
    return im


def check_image(source, *, min_side: int = 1, largest: int | None = None,
                budget: int = MAX_DECODE_BYTES) -> ImageHeader:
    """The header of one image source (path, bytes, file object; arrays by their shape), checked by check_header."""
    if isinstance(source, np.ndarray):
        h, w = source.shape[:2] if source.ndim >= 2 else (0, 0)
        cost = int(source.nbytes)
        if min(w, h) < min_side or (largest is not None and max(w, h) > largest) or cost > budget:
            raise ImageInputError(f"array of shape {tuple(source.shape)} is not an accepted image size here")
        return ImageHeader("array", w, h, str(source.dtype), cost)
    if isinstance(source, Image.Image):
        return check_header(source, min_side=min_side, largest=largest, budget=budget)
    with open_checked(source, min_side=min_side, largest=largest, budget=budget) as im:
        return check_header(im, min_side=min_side, largest=largest, budget=budget)


def check_sketch(value, *, largest: int = MAX_SKETCH_SIDE, max_layers: int = MAX_LAYERS,
                 budget: int = MAX_DECODE_BYTES) -> list[ImageHeader]:
    """An editor value {background, layers, composite} (or one drawing) checked from headers: layers ≤ max_layers, sides
    ≤ largest, the decode costs of all its images together ≤ budget; returns their headers."""
    if not isinstance(value, dict):
        value = {"composite": value}
    layers = value.get("layers") or []
    if not isinstance(layers, (list, tuple)):
        raise ImageInputError("the drawing's layers must be a list of images")
    if len(layers) > max_layers:
        raise ImageInputError(f"the drawing has {len(layers)} layers; at most {max_layers} are accepted")
    headers = [check_image(part, min_side=1, largest=largest, budget=budget)
               for part in [value.get("background"), *layers, value.get("composite")] if part is not None]
    total = sum(h.cost for h in headers)
    if total > budget:
        raise ImageInputError(f"the drawing's {len(headers)} images would take about {total / 1e6:.0f} MB to decode "
                              f"together; the limit is {budget / 1e6:.0f} MB — use fewer or smaller layers")
    return headers


# --- loading ----------------------------------------------------------------------------
def load_image(source, *, max_side: int = MAX_SIDE, min_side: int = MIN_SIDE) -> Tensor:
    """A path, bytes, file object, PIL image or array → [3, H, W] float32 in [-1, 1], longer side ≤ max_side."""
    if source is None:
        raise ImageInputError(f"no image given; upload a {ACCEPTED} file")
    opened = False
    if isinstance(source, Image.Image):
        im = source
        check_header(im, min_side=min_side)
    elif isinstance(source, np.ndarray):
        im = _array_to_pil(source, min_side=min_side)
    elif isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(source, "read"):
        im, opened = open_checked(source, min_side=min_side, draft_side=max_side), True
    else:
        raise ImageInputError(
            f"cannot read an image from a {type(source).__name__}; "
            "expected a file path, bytes, a PIL image or a numpy array"
        )
    try:
        pixels = _decode(im, max_side=max_side, min_side=min_side)
    finally:
        if opened:
            im.close()
    x = pixels.astype(np.float32).transpose(2, 0, 1) / np.float32(127.5) - np.float32(1.0)
    return torch.from_numpy(np.ascontiguousarray(x))


def load_rgba(source, *, largest: int = MAX_SKETCH_SIDE, budget: int = MAX_DECODE_BYTES) -> np.ndarray:
    """A drawing (path, bytes, file object, PIL image; arrays as they are) → uint8 [H, W, 4] at its own size, header checked."""
    if isinstance(source, np.ndarray):
        return source
    if source is None:
        raise ImageInputError("no drawing given")
    if isinstance(source, Image.Image):
        check_header(source, min_side=1, largest=largest, budget=budget)
        return _rgba_array(source)
    with open_checked(source, min_side=1, largest=largest, budget=budget) as im:
        return _rgba_array(im)


def _rgba_array(im: Image.Image) -> np.ndarray:
    """Decode im as uint8 [H, W, 4]; decoder failures → ImageInputError."""
    try:
        return np.array(im.convert("RGBA"), dtype=np.uint8)           # writable: callers may make tensors of it
    except _DECODE_ERRORS as err:
        raise ImageInputError(f"the drawing could not be decoded ({_reason(err)}); is the file complete?") from err


def _decode(im: Image.Image, *, max_side: int, min_side: int) -> np.ndarray:
    """Decode and downscale a checked image; uint8 [H, W, 3] or ImageInputError."""
    try:
        rgb = _to_small_rgb(im, max_side=max_side)
    except ImageInputError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageInputError(_too_large(im.size)) from err
    except _DECODE_ERRORS as err:
        raise ImageInputError(f"the image could not be decoded ({_reason(err)}); is the file complete?") from err
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
        raise ImageInputError(f"could not read the image ({_reason(err)}); upload a {ACCEPTED} file") from err


def _reason(err: Exception) -> str:
    """A decoder's complaint, short and without file names (an OSError about a file gives only its strerror)."""
    if isinstance(err, OSError) and getattr(err, "filename", None):
        return err.strerror or "the file could not be read"
    return str(err)[:80]


def _is_file(path) -> bool:
    """Whether path names an existing regular file; malformed paths (NUL, too long) are not files."""
    try:
        return bool(os.fsdecode(path)) and Path(path).is_file()
    except (OSError, ValueError):
        return False


def _to_small_rgb(im: Image.Image, *, max_side: int) -> Image.Image:
    """Decode; reduce by an integer factor (as Image.thumbnail's reducing_gap = 2); Lanczos to ≤ max_side; orient; RGB.

    The big image is only ever in its own mode or one copy (decode_cost); everything after the reduction is small.
    Alpha is premultiplied while resampling, so transparent pixels add no colour; then composited on white.
    """
    im.load()
    turn = _TRANSPOSE.get(im.getexif().get(0x0112))
    swap = turn is not None and turn not in _SAME_SHAPE
    sixteen = im.mode in _SIXTEEN
    im = _reducible(im)
    fit = _fit(im.size[::-1] if swap else im.size, max_side)      # as displayed, like thumbnail after exif_transpose
    fit = fit[::-1] if swap else fit
    box = None
    if fit != im.size:
        fx, fy = (max(1, int(n / m / 2)) for n, m in zip(im.size, fit))
        if fx > 1 or fy > 1:
            box = (0.0, 0.0, im.width / fx, im.height / fy)
            im = im.reduce((fx, fy))
    im = _eight_bit(im, sixteen=sixteen)
    if fit != im.size or box is not None:
        im = im.resize(fit, Image.Resampling.LANCZOS, box=box)
    if turn is not None:
        im = im.transpose(turn)
    return _rgb_on_white(im)


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """Image.thumbnail's size for (W, H) in a max_side square: aspect kept as closely as whole pixels allow, never larger."""
    width, height = size
    if width <= max_side and height <= max_side:
        return size
    aspect = width / height

    def round_aspect(number: float, key) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    if aspect <= 1:
        return round_aspect(max_side * aspect, key=lambda n: abs(aspect - n / max_side)), max_side
    return max_side, round_aspect(max_side / aspect, key=lambda n: 0 if n == 0 else abs(aspect - max_side / n))


def _reducible(im: Image.Image) -> Image.Image:
    """A decoded image in a mode Image.reduce averages correctly: 1-bit → L, 16-bit → I, palette → RGB, alpha premultiplied."""
    if im.mode == "1":
        return im.convert("L")
    if im.mode in _SIXTEEN:
        return im.convert("I")
    if "transparency" in im.info and im.mode in ("P", "L", "RGB"):
        im = im.convert("RGBA")
    elif im.mode == "P":
        return im.convert("RGB")
    return im.convert({"RGBA": "RGBa", "LA": "La", "PA": "RGBa"}[im.mode]) if im.mode in ("RGBA", "LA", "PA") else im


def _eight_bit(im: Image.Image, *, sixteen: bool) -> Image.Image:
    """Grey levels of I / F as 8-bit L (16-bit sources scaled by 65535, the others by the dtype rules); others as they are."""
    if im.mode not in ("I", "F"):
        return im
    a = np.asarray(im)
    return Image.fromarray(_array_to_uint8(a.astype(np.uint16) if sixteen else a), mode="L")


def _rgb_on_white(im: Image.Image) -> Image.Image:
    """RGB uint8, (premultiplied) alpha composited on white."""
    if im.mode in ("RGBa", "La", "RGBA", "LA"):
        rgba = im.convert("LA" if im.mode == "La" else "RGBA").convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    if im.mode != "RGB":
        try:
            im = im.convert("RGB")
        except ValueError as err:
            raise ImageInputError(f"unsupported colour mode {im.mode!r}; use an RGB or grayscale image") from err
    return im


def _array_to_pil(a: np.ndarray, *, min_side: int) -> Image.Image:
    """A numpy image (H, W), (H, W, 1|3|4) → PIL L / RGB / RGBA, by the dtype rules in the module docstring."""
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] in (3, 4))):
        raise ImageInputError(
            f"array of shape {tuple(a.shape)} is not an image; expected (H, W), (H, W, 3) or (H, W, 4)"
        )
    _check_array_size((a.shape[1], a.shape[0]), min_side=min_side)
    mode = {2: "L", 3: "RGB", 4: "RGBA"}[a.shape[-1] if a.ndim == 3 else 2]
    return Image.fromarray(_array_to_uint8(a), mode=mode)


def _check_array_size(size: tuple[int, int], *, min_side: int) -> None:
    """Refuse arrays with a side under min_side or more than MAX_PIXELS pixels (they are in memory already)."""
    w, h = size
    if w < min_side or h < min_side:
        raise ImageInputError(f"image is {w}×{h} pixels; need at least {min_side}×{min_side}")
    if w * h > MAX_PIXELS:
        raise ImageInputError(_too_large(size))


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
def noise_row(x0: Tensor, sde: Process, ts: Sequence[float], *, generator: torch.Generator | None = None) -> Tensor:
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


def pixel_histogram(x_t: Tensor, t: float, sde: Process, bins: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
