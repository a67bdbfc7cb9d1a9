"""Images under the forward process: loading rules, bad inputs, the noised row, display and the pixel histogram."""
from __future__ import annotations

import io
import math
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.images import (
    EXAMPLE_PATH,
    MAX_PIXELS,
    ImageInputError,
    example_image,
    load_image,
    noise_row,
    pixel_histogram,
    to_display,
)
from explorer.process import PROCESSES, get_process


def png_bytes(im: Image.Image, **kw) -> bytes:
    """The image encoded as PNG."""
    buf = io.BytesIO()
    im.save(buf, format="PNG", **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming width × height, with no real pixel data (cheap bomb stand-in)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def assert_image_tensor(x: torch.Tensor, h: int, w: int) -> None:
    """[3, h, w] float32 with values in [-1, 1]."""
    assert x.shape == (3, h, w) and x.dtype == torch.float32
    assert x.min() >= -1.0 and x.max() <= 1.0


@pytest.fixture(scope="module")
def x0() -> torch.Tensor:
    return example_image()


# --- the example and loading ------------------------------------------------------------
def test_example_asset_is_small_128_square_png(x0):
    assert EXAMPLE_PATH.stat().st_size < 60_000
    with Image.open(EXAMPLE_PATH) as im:
        assert (im.format, im.size, im.mode) == ("PNG", (128, 128), "RGB")
    assert_image_tensor(x0, 128, 128)


def test_to_display_inverts_load_image_on_uint8_pixels(x0):
    with Image.open(EXAMPLE_PATH) as im:
        pixels = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(to_display(x0), pixels)


def test_path_bytes_file_object_pil_and_array_agree(x0):
    data = EXAMPLE_PATH.read_bytes()
    with Image.open(EXAMPLE_PATH) as im:
        arr = np.asarray(im)
        pil = im.copy()
    for source in (str(EXAMPLE_PATH), data, io.BytesIO(data), pil, arr, arr.astype(np.float32) / 255):
        torch.testing.assert_close(load_image(source), x0, atol=1e-6, rtol=0)


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "1", "I;16"])
def test_png_modes_load_as_three_channels(mode):
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8))
    ramp16 = (np.arange(24 * 32, dtype=np.uint16) * 80).reshape(24, 32)
    im = Image.fromarray(ramp16) if mode == "I;16" else rgb.convert(mode)
    x = load_image(png_bytes(im))
    assert_image_tensor(x, 24, 32)
    if mode in ("L", "LA", "1", "I;16"):
        assert torch.equal(x[0], x[1]) and torch.equal(x[1], x[2])


def test_cmyk_jpeg_loads_as_rgb():
    buf = io.BytesIO()
    Image.new("CMYK", (20, 10), (0, 255, 255, 0)).save(buf, format="JPEG")
    assert_image_tensor(load_image(buf.getvalue()), 10, 20)


def test_rgba_and_palette_transparency_are_composited_on_white():
    a = np.zeros((8, 10, 4), dtype=np.uint8)
    a[:, :5] = (255, 0, 0, 255)  # opaque red, then fully transparent black
    for source in (png_bytes(Image.fromarray(a, "RGBA")), a):
        x = load_image(source)
        torch.testing.assert_close(x[:, 0, 0], torch.tensor([1.0, -1.0, -1.0]))
        torch.testing.assert_close(x[:, 0, -1], torch.ones(3))
    pal = Image.new("P", (10, 8), 0)
    pal.putpalette([0, 0, 0] * 256)
    x = load_image(png_bytes(pal, transparency=0))
    assert torch.equal(x, torch.ones_like(x))


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 200, 30)).save(buf, format="JPEG", exif=exif)
    assert_image_tensor(load_image(buf.getvalue()), 40, 20)


def test_numpy_dtype_rules():
    gray = np.full((9, 11), 255, dtype=np.uint8)
    assert torch.equal(load_image(gray), torch.ones(3, 9, 11))
    assert torch.equal(load_image(gray[..., None]), torch.ones(3, 9, 11))
    assert torch.equal(load_image(np.full((9, 11), 255.0)), torch.ones(3, 9, 11))  # max > 1: read as [0, 255]
    assert torch.equal(load_image(np.full((9, 11), 65535, dtype=np.uint16)), torch.ones(3, 9, 11))
    assert torch.equal(load_image(np.ones((9, 11), dtype=bool)), torch.ones(3, 9, 11))
    assert torch.equal(load_image(np.full((9, 11, 3), -0.5)), -torch.ones(3, 9, 11))  # clamped to [0, 1]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_array_is_refused(bad):
    a = np.random.default_rng(0).random((16, 16, 3))
    a[3, 4, 1] = bad
    with pytest.raises(ImageInputError, match="NaN or infinite"):
        load_image(a)


@pytest.mark.parametrize("shape", [(16, 16, 5), (3, 16, 16), (16,), (2, 16, 16, 3)])
def test_array_of_wrong_shape_is_refused(shape):
    with pytest.raises(ImageInputError, match="not an image"):
        load_image(np.zeros(shape, dtype=np.uint8))


def test_negative_integer_pixels_are_refused():
    with pytest.raises(ImageInputError, match=r"\[0, 255\]"):
        load_image(np.full((16, 16), -3, dtype=np.int32))


# --- bad inputs -------------------------------------------------------------------------
def test_one_pixel_image_is_refused_with_its_size():
    with pytest.raises(ImageInputError, match="image is 1×1 pixels; need at least 8×8"):
        load_image(png_bytes(Image.new("RGB", (1, 1))))
    with pytest.raises(ImageInputError, match="7×100"):
        load_image(np.zeros((100, 7), dtype=np.uint8))


def test_extreme_aspect_ratio_is_refused_after_downscaling():
    with pytest.raises(ImageInputError, match="512×4 after downscaling"):
        load_image(png_bytes(Image.new("L", (5000, 40))))


@pytest.mark.parametrize("source", [b"hello, this is text", b"", "%!PS-Adobe-3.0 EPSF-3.0\n"])
def test_non_image_bytes_are_refused_naming_the_formats(source):
    data = source.encode() if isinstance(source, str) else source
    with pytest.raises(ImageInputError, match="not an image we can read; upload a PNG, JPEG"):
        load_image(data)


def test_text_file_missing_file_and_odd_types_are_refused(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("not an image\n")
    with pytest.raises(ImageInputError, match="not an image we can read; upload a PNG, JPEG"):
        load_image(txt)
    with pytest.raises(ImageInputError, match="no such image file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageInputError, match="no such image file"):
        load_image(tmp_path)
    for odd in ("", "a\0b", "x" * 5000):  # empty, NUL byte, name too long: still a clear refusal
        with pytest.raises(ImageInputError, match="no such image file"):
            load_image(odd)
    with pytest.raises(ImageInputError, match="no image given"):
        load_image(None)
    with pytest.raises(ImageInputError, match="cannot read an image from a int"):
        load_image(5)


def test_truncated_png_is_refused_not_a_traceback():
    data = png_bytes(Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)))
    with pytest.raises(ImageInputError):
        load_image(data[: len(data) // 2])


def test_forty_megapixel_jpeg_is_downscaled_not_refused():
    buf = io.BytesIO()
    Image.new("RGB", (8000, 5000), (200, 120, 40)).save(buf, format="JPEG", quality=75)
    x = load_image(buf.getvalue())
    assert_image_tensor(x, 320, 512)
    expected = torch.tensor([200, 120, 40]) / 127.5 - 1
    torch.testing.assert_close(x.mean(dim=(1, 2)), expected, atol=4 / 127.5, rtol=0)  # JPEG rounding


def test_small_image_is_not_upscaled_and_max_side_is_respected():
    im = png_bytes(Image.new("RGB", (100, 60)))
    assert load_image(im).shape == (3, 60, 100)
    assert load_image(im, max_side=50).shape == (3, 30, 50)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(13_000, 10_000), (20_000, 12_000)])  # ours (> 120 MP), PIL's bomb error (> 179 MP)
def test_pathological_pixel_counts_are_refused_from_the_header(size):
    assert size[0] * size[1] > MAX_PIXELS
    with pytest.raises(ImageInputError, match="megapixels"):
        load_image(png_header_only(*size))


# --- the forward process on an image --------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_noise_row_starts_at_x0_and_shares_one_eps(name, x0):
    sde = get_process(name)
    ts = [0.0, 0.1, 0.5, sde.T]         # the process's end: T = 1, or 0.999 for the linear path (alpha(1) = 0)
    row = noise_row(x0, sde, ts, generator=torch.Generator().manual_seed(0))
    assert row.shape == (4, 3, 128, 128) and row.dtype == x0.dtype and row.device == x0.device
    assert torch.equal(row[0], x0)
    t = torch.tensor(ts[1:])
    alpha, sigma = sde.mean_coef(t), sde.std(t)
    eps = (row[1:] - alpha[:, None, None, None] * x0) / sigma[:, None, None, None]
    for e in eps[1:]:
        torch.testing.assert_close(e, eps[0], atol=2e-4, rtol=0)  # float32 rounding of alpha x0 + sigma eps


def test_noise_row_is_reproducible_from_the_generator(x0):
    sde = get_process("vp_cosine")
    a, b, c = (noise_row(x0, sde, [0.5], generator=torch.Generator().manual_seed(s)) for s in (3, 3, 4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_noise_row_at_t1_vp_linear_has_the_prior_moments(x0):
    """|mean| <= a max|x0| + 5 sigma/sqrt(n), |std - sigma| <= a max|x0| + 5 sigma/sqrt(2n): 5 s.e. + the signal."""
    sde = get_process("vp_linear")
    x1 = noise_row(x0, sde, [1.0], generator=torch.Generator().manual_seed(1))[0].double()
    n = x1.numel()
    alpha, sigma = float(sde.mean_coef(torch.tensor(1.0))), float(sde.std(torch.tensor(1.0)))
    signal = alpha * float(x0.abs().max())
    assert abs(float(x1.mean())) <= signal + 5 * sigma / math.sqrt(n)
    assert abs(float(x1.std(correction=0)) - sigma) <= signal + 5 * sigma / math.sqrt(2 * n)


@pytest.mark.parametrize("ts", [[], [float("nan")], [-0.1], [1.5]])
def test_noise_row_refuses_bad_times(ts, x0):
    with pytest.raises(ValueError, match="times"):
        noise_row(x0, get_process("ve"), ts)


def test_noise_row_refuses_a_batch(x0):
    with pytest.raises(ValueError, match=r"\[C, H, W\]"):
        noise_row(x0[None], get_process("ve"), [0.5])


# --- display ------------------------------------------------------------------------------
def test_to_display_shapes_dtype_and_clipping():
    x = torch.tensor([-5.0, -1.0, 0.0, 1.0, 5.0]).reshape(1, 1, 5).expand(3, 1, 5)
    out = to_display(x)
    assert out.shape == (1, 5, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, :, 0], [0, 0, 128, 255, 255])
    assert to_display(torch.zeros(4, 3, 6, 7)).shape == (4, 6, 7, 3)
    gray = to_display(torch.linspace(-1, 1, 12).reshape(1, 1, 3, 4))
    assert gray.shape == (1, 3, 4, 3) and (gray[..., 0] == gray[..., 2]).all()
    with pytest.raises(ValueError, match="C in"):
        to_display(torch.zeros(2, 6, 7))


def test_rescale_keeps_clean_images_and_unsaturates_ve(x0):
    np.testing.assert_array_equal(to_display(x0, rescale=True), to_display(x0))  # pixel std < 1: untouched
    x1 = noise_row(x0, get_process("ve"), [1.0], generator=torch.Generator().manual_seed(2))
    saturated = lambda u: float(np.mean((u == 0) | (u == 255)))
    # sigma(1) = 10: raw, P(|x| > 1) ~ 0.92; standardised, P(|z| > 1) ~ 0.32
    assert saturated(to_display(x1)) > 0.85
    assert saturated(to_display(x1, rescale=True)) < 0.4


# --- histogram ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_histogram_at_T_matches_the_prior_density(name, x0):
    """Both integrate to 1; TV(hist, N(0, s^2)) <= 3 x sqrt(2k/(pi n))/2 + a max|x0|/(s sqrt(2 pi)) (shift)."""
    sde = get_process(name)
    bins = 60
    x1 = noise_row(x0, sde, [sde.T], generator=torch.Generator().manual_seed(5))[-1]
    centres, density, pdf = pixel_histogram(x1, sde.T, sde, bins=bins)
    assert centres.shape == density.shape == pdf.shape == (bins,)
    assert centres.dtype == density.dtype == pdf.dtype == np.float64
    width = centres[1] - centres[0]
    assert abs(density.sum() * width - 1) < 1e-9
    assert abs(pdf.sum() * width - 1) < 1e-3  # bins cover >= +-4 sigma
    alpha = float(sde.mean_coef(torch.tensor(sde.T)))
    sigma = float(sde.std(torch.tensor(sde.T)))
    n = x1.numel()
    tol = 1.5 * math.sqrt(2 * bins / (math.pi * n)) + alpha * float(x0.abs().max()) / (sigma * math.sqrt(2 * math.pi))
    assert 0.5 * np.abs(density - pdf).sum() * width < tol


def test_histogram_at_t0_has_no_gaussian_and_refuses_bad_input(x0):
    centres, density, pdf = pixel_histogram(x0, 0.0, get_process("vp_linear"))
    assert abs(density.sum() * (centres[1] - centres[0]) - 1) < 1e-9
    assert not pdf.any()
    with pytest.raises(ValueError, match="finite"):
        pixel_histogram(torch.tensor([1.0, float("nan")]), 0.5, get_process("ve"))
    with pytest.raises(ValueError, match="bins"):
        pixel_histogram(x0, 0.5, get_process("ve"), bins=0)
