"""Hostile uploads cost nothing: image and sketch bombs are refused from their headers, CSVs are streamed with limits.

Each bomb is small on disk (a single-colour PNG written row block by row block, never held decoded here) and must be
refused in under a second with resident memory up by less than 300 MB, both by the backend and through the app.
"""
from __future__ import annotations

import io
import math
import struct
import time
import zlib
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.custom_data import (
    MAX_CSV_BYTES,
    MAX_LINE_CHARS,
    MAX_POINTS,
    dataset_from_csv,
    parse_csv,
)
from explorer.drawing import points_from_drawing
from explorer.images import (
    MAX_DECODE_BYTES,
    MAX_LAYERS,
    MAX_SKETCH_SIDE,
    ImageInputError,
    check_image,
    check_sketch,
    load_image,
    load_rgba,
)

MB = 1 << 20
SECONDS, EXTRA_MB = 10.0, 300   # bounds on a disaster (a bomb decoded whole takes minutes and GBs), not speed targets:
                                # the guards' costs are measured in benchmarks/ (a loaded 2-core CI machine varies 20x)


def png_bomb(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 6) -> bytes:
    """A single-colour PNG (colour_type 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA) compressed block by block: a few 100 KB."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = b"\0" + b"\x7f" * ((width * channels * bit_depth + 7) // 8)
    rows_per_block = max(1, (1 << 22) // len(row))
    z, parts, left = zlib.compressobj(6), [], height
    while left > 0:
        k = min(rows_per_block, left)
        parts.append(z.compress(row * k))
        left -= k
    parts.append(z.flush())

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def rss_mb() -> float:
    """This process's resident memory (VmRSS) in MB."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


@contextmanager
def cheap(what: str):
    """Assert that the block takes < SECONDS and raises resident memory by < EXTRA_MB (sampled before and after,
    and at the peak: VmHWM after resetting it, where the kernel allows)."""
    peak = _reset_peak()
    r0, t0 = rss_mb(), time.perf_counter()
    yield
    dt, grown = time.perf_counter() - t0, rss_mb() - r0
    top = (_peak_mb() - r0) if peak else grown
    print(f"{what}: {dt:.3f} s, RSS +{grown:.0f} MB (peak +{top:.0f} MB)")
    assert dt < SECONDS, f"{what} took {dt:.2f} s"
    assert max(grown, top) < EXTRA_MB, f"{what}: resident memory +{max(grown, top):.0f} MB"


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict:
    """Bomb files (each < 1 MB on disk) and a normal drawing, by name → path."""
    d = tmp_path_factory.mktemp("bombs")
    files = {
        "rgba_10950.png": png_bomb(10950, 10950, colour_type=6),                      # +2.3 GB before (issue 11)
        "grey16_10950.png": png_bomb(10950, 10950, bit_depth=16, colour_type=0),      # +2.5 GB before
        "rgb16_8000.png": png_bomb(8000, 8000, bit_depth=16, colour_type=2),
        "composite_6000.png": png_bomb(6000, 6000, colour_type=6),                    # 43 s, +4.0 GB before
        "canvas_3000.png": png_bomb(3000, 3000, colour_type=6),                      # over MAX_SKETCH_SIDE
        "layer_2000.png": png_bomb(2000, 2000, colour_type=6),                       # fine alone, not 8 times over
    }
    out = {}
    for name, data in files.items():
        assert len(data) < MB, name
        (d / name).write_bytes(data)
        out[name] = str(d / name)
    canvas = Image.new("RGBA", (320, 320), (0, 0, 0, 0))
    canvas.paste((0, 114, 178, 255), (40, 40, 280, 60))
    canvas.paste((230, 159, 0, 255), (100, 150, 220, 270))
    canvas.save(d / "drawing.png")
    out["drawing.png"] = str(d / "drawing.png")
    return out


# --- images: the header check before any decode ------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("name", ["rgba_10950.png", "grey16_10950.png", "rgb16_8000.png"])
def test_image_bombs_are_refused_from_the_header(bombs, name):
    with cheap(f"load_image({name})"), pytest.raises(ImageInputError, match="decoding it would take") as err:
        load_image(bombs[name])
    message = str(err.value)
    assert "please upload a smaller image" in message and "/" not in message and "Error" not in message


@pytest.mark.parametrize("size, mode", [((5600, 5600), "RGB"), ((4000, 4000), "RGBA"), ((4600, 4600), "I;16"),
                                        ((8000, 8000), "1")])
def test_images_just_under_the_budget_load_within_the_memory_bound(size, mode):
    """The largest accepted images of each kind stay under the bound too (the budget counts PIL's copies)."""
    channels, bits = {"RGB": (2, 8), "RGBA": (6, 8), "I;16": (0, 16), "1": (0, 1)}[mode]
    data = png_bomb(*size, bit_depth=bits, colour_type=channels)
    assert check_image(data).cost <= MAX_DECODE_BYTES
    with cheap(f"load_image({mode} {size[0]}×{size[1]})"):
        x = load_image(data)
    assert max(x.shape[1:]) == 512


def test_normal_photos_still_load():
    buf = io.BytesIO()
    Image.new("RGB", (4032, 3024), (200, 120, 40)).save(buf, format="JPEG", quality=90)   # a 12 MP phone photo
    with cheap("load_image(12 MP JPEG)"):
        x = load_image(buf.getvalue())
    assert x.shape == (3, 384, 512)


def test_progressive_jpeg_counts_its_coefficients():
    """libjpeg keeps every DCT coefficient of a progressive JPEG: draft mode does not make a huge one cheap."""
    small = io.BytesIO()
    Image.new("RGB", (1000, 800), (10, 20, 30)).save(small, format="JPEG", progressive=True)
    with Image.open(small) as im:
        from explorer.images import decode_cost
        assert decode_cost(im) == 1000 * 800 * 4 + 1000 * 800 * 2 * 1.5     # 4:2:0: 1.5 coded samples per pixel


# --- sketches: composite, background, every layer -----------------------------------------------------------------
@pytest.mark.parametrize("value, message", [
    (lambda b: {"background": None, "layers": [], "composite": b["composite_6000.png"]}, "at most 2048×2048 pixels"),
    (lambda b: {"background": b["canvas_3000.png"], "layers": [], "composite": b["drawing.png"]}, "at most 2048"),
    (lambda b: {"background": None, "layers": [b["canvas_3000.png"]], "composite": b["drawing.png"]}, "at most 2048"),
    (lambda b: {"background": None, "layers": [b["drawing.png"]] * (MAX_LAYERS + 1), "composite": b["drawing.png"]},
     f"at most {MAX_LAYERS}"),
    (lambda b: {"background": None, "layers": [b["layer_2000.png"]] * MAX_LAYERS, "composite": b["layer_2000.png"]},
     "9 images would take about 288 MB to decode together; the limit is 128 MB"),
])
def test_sketch_bombs_are_refused_from_the_headers(bombs, value, message):
    with cheap("check_sketch"), pytest.raises(ImageInputError, match=message):
        check_sketch(value(bombs))


def test_drawing_bomb_is_refused_before_decoding_and_a_normal_drawing_works(bombs):
    palette = [(0, 114, 178), (230, 159, 0)]
    with cheap("points_from_drawing(6000×6000)"), pytest.raises(ImageInputError, match="at most 2048"):
        points_from_drawing(bombs["composite_6000.png"], palette)
    pts, y = points_from_drawing(bombs["drawing.png"], palette, max_points=500,
                                 generator=torch.Generator().manual_seed(0))
    assert pts.shape == (500, 2) and set(y.tolist()) == {0, 1}
    assert load_rgba(bombs["drawing.png"]).shape == (320, 320, 4)
    assert len(check_sketch({"background": None, "layers": [bombs["drawing.png"]] * 3,
                             "composite": bombs["drawing.png"]})) == 4


def test_drawing_from_a_file_matches_the_array(bombs, tmp_path):
    palette = [(0, 114, 178), (230, 159, 0)]
    rgba = np.asarray(Image.open(bombs["drawing.png"]))
    a = points_from_drawing(rgba, palette, generator=torch.Generator().manual_seed(3))
    b = points_from_drawing(bombs["drawing.png"], palette, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_largest_accepted_drawing_stays_cheap():
    side = MAX_SKETCH_SIDE
    data = png_bomb(side, side, colour_type=6)
    with cheap(f"points_from_drawing({side}×{side})"):
        pts, _ = points_from_drawing(data, [(127, 127, 127)])
    assert pts.shape == (2000, 2)


# --- CSV: streamed, bounded, every line ending ----------------------------------------------------------------------
def test_a_million_short_rows_are_refused_quickly_while_streaming(tmp_path):
    path = tmp_path / "million.csv"
    path.write_bytes(b"1,2\n" * 1_000_000)
    assert path.stat().st_size < MAX_CSV_BYTES
    with cheap("parse_csv(1,000,000 rows)"), pytest.raises(ValueError, match=f"more than {MAX_POINTS:,} rows"):
        parse_csv(path)
    with cheap("parse_csv(1,000,000 rows as bytes)"), pytest.raises(ValueError, match=f"more than {MAX_POINTS:,} rows"):
        parse_csv(path.read_bytes())


def _as(kind: str, text: str, tmp_path):
    """text as the source kind parse_csv takes: a path, bytes or an open binary file."""
    data = text.encode()
    if kind == "bytes":
        return data
    path = tmp_path / "rows.csv"
    path.write_bytes(data)
    return path if kind == "path" else open(path, "rb")


@pytest.mark.parametrize("kind", ["path", "bytes", "file"])
def test_the_refusal_comes_at_the_limit_before_the_rest_is_parsed(kind, tmp_path):
    """Streaming: the refusal comes at row MAX_POINTS + 1, before the reader reaches a broken line after it; the same
    broken line before the limit is reported (so a reader that parsed everything first would fail here)."""
    tail = "not,a number\n" + "1,2\n" * 10
    with pytest.raises(ValueError, match=f"more than {MAX_POINTS:,} rows"):
        parse_csv(_as(kind, "1,2\n" * (MAX_POINTS + 1) + tail, tmp_path))
    with pytest.raises(ValueError, match=f"line {MAX_POINTS}: x = .not. is not a number"):
        parse_csv(_as(kind, "1,2\n" * (MAX_POINTS - 1) + tail, tmp_path))


def test_a_file_is_read_no_further_than_the_limit(tmp_path):
    """An open file of 1,000,000 rows is read only as far as row MAX_POINTS + 1 and one read-ahead buffer (the text
    layer reads 8 KB blocks): its position afterwards is a small fraction of its size."""
    path = tmp_path / "million.csv"
    path.write_bytes(b"1,2\n" * 1_000_000)
    with open(path, "rb") as f:
        with pytest.raises(ValueError, match=f"more than {MAX_POINTS:,} rows"):
            parse_csv(f)
        assert f.tell() <= 4 * (MAX_POINTS + 1) + 64 * 1024 < path.stat().st_size / 20     # under 4% of the file


def test_a_million_blank_lines_are_refused_quickly():
    with cheap("parse_csv(1,000,000 blank lines)"), pytest.raises(ValueError, match="lines"):
        parse_csv("\n" * 1_000_000)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_every_line_ending_parses(ending, tmp_path):
    rows = ["x,y,label"] + [f"{math.cos(i)},{math.sin(i)},{'ab'[i % 2]}" for i in range(40)]
    text = ending.join(rows) + ending
    for source in (text, text.encode(), _file(tmp_path, text)):
        points, y, names = parse_csv(source)
        assert points.shape == (40, 2) and names == ("a", "b") and y.tolist()[:2] == [0, 1]
    mixed = "1,2\r3,4\n5,6\r\n" * 10
    assert parse_csv(mixed)[0].shape == (30, 2)


def _file(tmp_path, text: str):
    path = tmp_path / "points.csv"
    path.write_bytes(text.encode())
    return path


def test_a_200000_character_cell_gives_a_short_clear_message():
    for text in ("x,y\n1," + "2" * 200_000 + "\n", "x,y\n1," + "2" * 200_000):
        with cheap("parse_csv(200,000-character cell)"), pytest.raises(ValueError) as err:
            parse_csv(text)
        message = str(err.value)
        assert "line 2" in message and f"longer than {MAX_LINE_CHARS:,} characters" in message
        assert len(message) < 120


def test_a_multiline_quoted_cell_over_the_csv_field_limit_gives_a_clear_message():
    text = 'x,y\n1,"' + ("9" * 900 + "\n") * 200 + '"\n'
    with pytest.raises(ValueError, match="not CSV the reader understands") as err:
        parse_csv(text)
    assert len(str(err.value)) < 160


@pytest.mark.parametrize("cell", ["9" * 400, "-" + "9" * 500, "nan" + " " * 300 + "x"])
def test_bad_number_messages_quote_a_short_excerpt(cell):
    with pytest.raises(ValueError, match="line 3: y = ") as err:
        parse_csv(f"x,y\n1,2\n3,{cell}\n")
    message = str(err.value)
    assert len(message) < 130
    assert message.split("y = ", 1)[1].split(" is not", 1)[0].count(cell[0]) <= 40


def test_non_finite_message_quotes_at_most_40_characters_of_the_cell():
    with pytest.raises(ValueError, match="not a finite number") as err:
        parse_csv("x,y\n1,2\n3," + "9" * 990 + "\n")
    quoted = str(err.value).split("y = ", 1)[1].split(" is not", 1)[0]
    assert quoted.count("9") <= 40 and "990 characters" in quoted


def test_csv_dataset_from_a_path():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.csv"
        path.write_text("x,y\n" + "".join(f"{math.cos(i)},{math.sin(i)}\n" for i in range(50)))
        assert dataset_from_csv(path).label == "CSV: 50 points"


# --- through the running app ----------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_bombs_through_the_app(app_url, bombs, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    c = Client(app_url, verbose=False)
    f = lambda name: handle_file(bombs[name])
    calls = [
        ("/forward_images", (f("rgba_10950.png"), "vp_linear", 0, 3), "decoding it would take"),
        ("/forward_images", (f("grey16_10950.png"), "vp_linear", 0, 3), "decoding it would take"),
        ("/my_data", ({"background": None, "layers": [], "composite": f("composite_6000.png")}, None), "at most 2048"),
        ("/my_data", ({"background": None, "layers": [f("drawing.png")] * (MAX_LAYERS + 1),
                       "composite": f("drawing.png")}, None), f"at most {MAX_LAYERS}"),
        ("/my_data", ({"background": None, "layers": [f("layer_2000.png")] * MAX_LAYERS,
                       "composite": f("layer_2000.png")}, None), "to decode together"),
        ("/my_data", ({"background": f("canvas_3000.png"), "layers": [], "composite": f("drawing.png")}, None),
         "at most 2048"),
        ("/inpaint", (5, None, "left half", 0, {"background": None, "layers": [], "composite": f("composite_6000.png")}),
         "at most 2048"),
        ("/sdedit", (5, f("rgba_10950.png"), 0.5, 0), "decoding it would take"),
    ]
    for api, args, message in calls:
        with cheap(api), pytest.raises(AppError, match=message) as err:
            c.predict(*args, api_name=api)
        text = str(err.value)
        assert "Traceback" not in text and "/tmp" not in text and "Error:" not in text, text
    million = tmp_path / "million.csv"
    million.write_bytes(b"1,2\n" * 1_000_000)
    cr = tmp_path / "cr.csv"
    cr.write_bytes(b"x,y\r" + b"".join(f"{math.cos(i)},{math.sin(i)}\r".encode() for i in range(40)))
    with cheap("/my_data CSV 1,000,000 rows"), pytest.raises(AppError, match=f"more than {MAX_POINTS:,} rows"):
        c.predict(None, handle_file(str(million)), api_name="/my_data")
    status, _ = c.predict(None, handle_file(str(cr)), api_name="/my_data")
    assert "40 points" in status
    status, _ = c.predict({"background": None, "layers": [f("drawing.png")], "composite": f("drawing.png")}, None,
                          api_name="/my_data")
    assert "2 class(es)" in status


def test_canvas_blobs_are_checked_on_arrival():
    """The browser sends the canvas through accept_blobs: an oversized or non-image blob refuses its event."""
    import gradio as gr
    from gradio.components.image_editor import AcceptBlobs, EditorData

    from explorer.ui.uploads import MAX_BLOB_BYTES, CheckedSketchpad

    pad = CheckedSketchpad()
    assert pad.get_block_name() == pad.get_block_class() == gr.Sketchpad().get_block_class() == "imageeditor"
    assert pad.type == "filepath"
    good = io.BytesIO()
    Image.new("RGBA", (32, 32), (0, 114, 178, 255)).save(good, format="PNG")

    def send(blob_id, kind, data, index=None):
        pad.accept_blobs(AcceptBlobs(data={"type": kind, "index": index, "file": b"", "id": blob_id},
                                     files=[("blob", data)]))

    send("ok", "composite", good.getvalue())
    send("ok", "layer", good.getvalue(), 0)
    value = pad.preprocess(EditorData(id="ok"))
    assert load_rgba(value["composite"]).shape == (32, 32, 4) and len(value["layers"]) == 1
    for blob_id, kind, data, index, message in [
        ("big", "composite", png_bomb(6000, 6000), None, "at most 2048"),
        ("text", "composite", b"not an image", None, "not an image"),
        ("deep", "layer", good.getvalue(), 10 ** 9, f"at most {MAX_LAYERS}"),
        ("fat", "background", b"\0" * (MAX_BLOB_BYTES + 1), None, "MB"),
    ]:
        with cheap(f"accept_blobs({blob_id})"):
            send(blob_id, kind, data, index)
        assert blob_id not in pad.blob_storage
        with pytest.raises(gr.Error, match=message):
            pad.preprocess(EditorData(id=blob_id))


def test_a_drawing_in_the_browser_still_becomes_my_data(app_url):
    """The real canvas path (blobs or uploads, then CheckedSketchpad.preprocess): strokes become this session's data."""
    import os
    from pathlib import Path

    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.skip("no Chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(app_url, wait_until="load")
            page.get_by_text("My data: draw points or upload a CSV").click()
            page.locator("button[aria-label='Brush']").first.click()
            box = page.locator("canvas").first.bounding_box()
            x, y = box["x"] + box["width"] / 2 - 100, box["y"] + 60
            page.mouse.move(x, y)
            page.mouse.down()
            for i in range(25):
                page.mouse.move(x + 8 * i, y + 8 * i, steps=2)
            page.mouse.up()
            page.wait_for_timeout(1000)
            page.get_by_role("button", name="Use this data").click()
            page.wait_for_function("() => document.body.innerText.includes('from your drawing')", timeout=30_000)
            assert "1 class(es)" in page.inner_text("body")
        finally:
            browser.close()
