"""The Forward-process and Score-field endpoints through gradio_client, good and bad input."""
import json
import math

import pytest
from gradio_client.exceptions import AppError

CUSTOM = ("-2, 0.5, 2", "0.3, 0.5, 0.2", "0.3, 0.5, 0.2")


def _plot(value) -> dict:
    """The plotly figure inside a gr.Plot update returned by the client."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    return json.loads(value["plot"])


def test_forward_2d_returns_an_animation(client):
    anim, river = client.predict("ring8", *CUSTOM, "vp_linear", 0, 500, 12, api_name="/forward")
    assert anim["visible"] is True and "srcdoc" in anim["value"] and river["visible"] is False
    assert anim["value"].count("&quot;name&quot;:&quot;11&quot;") == 1     # 12 frames, named 0..11
    page = open(client.predict(api_name="/forward_html"), encoding="utf-8").read()   # the standalone export, on demand
    assert "/gradio_api/" not in page and "<script src=" not in page and len(page) > 3_000_000   # plotly.js inlined


def test_forward_1d_returns_the_river(client):
    anim, river = client.predict("three_modes_1d", *CUSTOM, "ve", 1, 500, 12, api_name="/forward")
    assert anim["visible"] is False
    fig = _plot(river)
    assert fig["data"][0]["type"] == "heatmap" and len(fig["data"]) == 1 + 8


def test_custom_mixture(client):
    _, river = client.predict("custom_1d", "-1, 3", "0.2, 0.4", "1, 2", "vp_cosine", 0, 100, 10, api_name="/forward")
    assert _plot(river)["data"][0]["type"] == "heatmap"


@pytest.mark.parametrize("process", ["vp_linear", "vp_cosine", "subvp", "ve"])
def test_schedule(client, process):
    fig = _plot(client.predict(process, api_name="/schedule"))
    assert len(fig["data"]) == 4


@pytest.mark.parametrize("dataset", ["moons", "asym3", "two_modes_1d"])
def test_score_field(client, dataset):
    fig = _plot(client.predict(dataset, *CUSTOM, "vp_linear", 0, 0.2, 15, True, api_name="/score_field"))
    assert len(fig["data"]) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (("ring8", *CUSTOM, "vp_linear", 0, "nan", 12), "Expected a `float`"),
        (("ring8", *CUSTOM, "vp_linear", 0, 1e12, 12), "greater than maximum value 20000"),
        (("ring8", *CUSTOM, "vp_linear", 0, 500, 201), "greater than maximum value 200"),
        (("ring8", *CUSTOM, "vp_linear", -5, 500, 12), "less than minimum value 0"),
        (("nope", *CUSTOM, "vp_linear", 0, 500, 12), "nope is not in the list of choices"),
        (("ring8", *CUSTOM, "vpx", 0, 500, 12), "vpx is not in the list of choices"),
        (("custom_1d", "1, x", "1, 1", "1, 1", "ve", 0, 500, 12), "'x' is not a number"),
        (("custom_1d", "1, 2", "1, 0", "1, 1", "ve", 0, 500, 12), "at least 0.001"),
        (("custom_1d", "", "1", "1", "ve", 0, 500, 12), "comma-separated"),
        (("custom_1d", "1, 2", "1, 1", "1", "ve", 0, 500, 12), "same number"),
    ],
)
def test_bad_forward_input_gives_a_clear_message(client, args, message):
    """Over the API, Gradio's component checks or ours answer with a message, never a traceback."""
    with pytest.raises(AppError, match=message) as err:
        client.predict(*args, api_name="/forward")
    assert "Traceback" not in str(err.value)


@pytest.mark.parametrize("t, n, message", [(0.0, 15, "less than minimum value 0.01"), ("inf", 15, "Expected a `float`"),
                                           (0.5, 1000, "greater than maximum value 60")])
def test_bad_score_input(client, t, n, message):
    with pytest.raises(AppError, match=message):
        client.predict("moons", *CUSTOM, "vp_linear", 0, t, n, True, api_name="/score_field")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_particles=math.nan), "Particles must be a finite number"),
        (dict(n_particles=1e12), "Particles must be between 10 and 20000"),
        (dict(n_particles=12.5), "whole number"),
        (dict(n_frames=math.inf), "Frames must be a finite number"),
        (dict(seed=None), "Seed must be a number"),
        (dict(dataset="nope"), "unknown dataset 'nope'"),
        (dict(dataset=None), "Unknown dataset None"),
        (dict(process="vpx"), "unknown process 'vpx'"),
    ],
)
def test_handlers_check_every_value_themselves(kwargs, message):
    """The server checks values itself too (a NaN cannot travel as JSON, but a direct call can send it)."""
    import gradio as gr

    from explorer.ui.forward_tab import forward_view

    args = dict(dataset="ring8", means="", stds="", weights="", process="vp_linear", seed=0, user_data=None,
                n_particles=100, n_frames=5)
    args.update(kwargs)
    with pytest.raises(gr.Error, match=message):
        forward_view(**args)


@pytest.mark.parametrize("t", [math.nan, -1.0, 2.0])
def test_score_handler_checks_time(t):
    import gradio as gr

    from explorer.ui.score_tab import score_view

    with pytest.raises(gr.Error, match="Time t"):
        score_view("moons", "", "", "", "vp_linear", 0, None, t, 10, True)


def test_app_still_serves_after_errors(client):
    anim, *_ = client.predict("moons", *CUSTOM, "subvp", 3, 200, 5, api_name="/forward")
    assert anim["visible"] is True


def _write_png(path, mode, size):
    from PIL import Image

    Image.new(mode, size, color=128 if mode in ("L", "P") else (200, 30, 30, 128)[: len(mode)]).save(path)
    return str(path)


def test_forward_images_example(client):
    from gradio_client import handle_file  # noqa: F401  (the example needs no file)

    row, hist = client.predict(None, "vp_linear", 0, 5, api_name="/forward_images")
    assert len(_plot(row)["data"]) == 5
    bars, curve = _plot(hist)["data"]
    assert bars["type"] == "bar" and curve["type"] == "scatter"


@pytest.mark.parametrize("mode, size", [("RGBA", (40, 30)), ("L", (64, 64)), ("P", (20, 50))])
def test_forward_images_upload_modes(client, tmp_path, mode, size):
    from gradio_client import handle_file

    path = _write_png(tmp_path / f"img_{mode}.png", mode, size)
    row, _ = client.predict(handle_file(path), "ve", 1, 3, api_name="/forward_images")
    assert len(_plot(row)["data"]) == 3


def test_forward_images_bad_files(client, tmp_path):
    from gradio_client import handle_file

    tiny = _write_png(tmp_path / "tiny.png", "RGB", (1, 1))
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    for path, message in [(tiny, "1×1 pixels; need at least 8×8"), (str(text), "not an image we can read")]:
        with pytest.raises(AppError, match=message) as err:
            client.predict(handle_file(path), "vp_linear", 0, 3, api_name="/forward_images")
        assert "Traceback" not in str(err.value)


def test_forward_images_wrong_extension_and_huge_image(client, tmp_path):
    """A .txt upload is refused by type; a 40-megapixel JPEG is downscaled (longest side 512), not refused."""
    from gradio_client import handle_file
    from PIL import Image

    txt = tmp_path / "data.txt"
    txt.write_text("1,2,3")
    with pytest.raises(AppError):
        client.predict(handle_file(str(txt)), "vp_linear", 0, 3, api_name="/forward_images")
    big = tmp_path / "big.jpg"
    Image.new("RGB", (8000, 5000), (90, 140, 200)).save(big, quality=70)
    row, _ = client.predict(handle_file(str(big)), "vp_linear", 0, 2, api_name="/forward_images")
    img = _plot(row)["data"][0]
    assert img["type"] == "image" and img["source"].startswith("data:image/png;base64,")


def _page_frames(path) -> int:
    """Frames of the animation inside a standalone HTML download."""
    page = open(path, encoding="utf-8").read()
    payload = page.split('id="fig-json">', 1)[1].split("</script>", 1)[0]
    return len(json.loads(payload)["frames"])


def test_forward_gif_on_demand(client):
    """The GIF is made by its own endpoint from the animation kept in this session: same frames as the HTML file."""
    from PIL import Image

    client.predict("asym3", *CUSTOM, "ve", 0, 400, 9, api_name="/forward")
    assert _page_frames(client.predict(api_name="/forward_html")) == 9
    gif = Image.open(client.predict(api_name="/forward_gif"))
    assert gif.format == "GIF" and gif.n_frames == 9 and gif.info.get("loop") == 0


def test_forward_gif_needs_an_animation(app_url):
    """A fresh session, or one whose last run was the 1D river, gets a clear message instead of a GIF."""
    from gradio_client import Client

    fresh = Client(app_url, verbose=False)
    with pytest.raises(AppError, match="No animation yet") as err:
        fresh.predict(api_name="/forward_gif")
    assert "Traceback" not in str(err.value)
    fresh.predict("ring8", *CUSTOM, "vp_linear", 0, 100, 3, api_name="/forward")
    fresh.predict("three_modes_1d", *CUSTOM, "vp_linear", 0, 100, 3, api_name="/forward")
    with pytest.raises(AppError, match="No animation yet"):
        fresh.predict(api_name="/forward_gif")
