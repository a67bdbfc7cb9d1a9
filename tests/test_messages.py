"""No internals in messages, text is text (explorer/ui/errors.py, explorer/ui/safe_text.py): Gradio's own errors become
short sentences without exception names or server paths; every toast, note and title shows a user's text as text; the
file route's refusal names no path; plotly.js comes from a route that names none."""
import re
import tempfile
from pathlib import Path

import pytest

from explorer.ui.errors import (FILE_NOT_ALLOWED, FILE_REFUSED, NOT_AN_IMAGE, WRONG_FORM, app_error_message,
                                internal_error_message)
from explorer.ui.safe_text import html_text, markdown_text, toast_text

# What a message must not show: an exception's class name, a traceback, a server path.
INTERNALS = re.compile(r"Traceback|File \"|\b[A-Z]\w*(?:Error|Exception|Warning)\b|site-packages|\.pyenv|\.venv|"
                       r"(?<![\w.])/(?:root|tmp|home|usr|var|etc|opt|proc|srv|mnt|app|work|private)(?:/|\b)")


@pytest.mark.parametrize("message", [
    "Cannot move /root/.cache/x.png to the gradio cache dir because it was not uploaded by a user.",
    "Cannot move /etc/passwd to the gradio cache dir because it was not created by the application or it is not "
    "located in either the current working directory or your system's temp directory. ... (/work/main) ... (/tmp)",
    "File /tmp/gradio/abc/x.csv is not in the cache folder and cannot be accessed.",
    "Value: <b>x</b> (type: <class 'list'>) is not in the list of choices: ['a', 'b']",
    "could not read /root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/PIL/Image.py",
    "Traceback (most recent call last):\n  File \"x.py\", line 1",
])
def test_app_errors_keep_their_sense_and_lose_their_internals(message):
    shown = app_error_message(message)
    assert not INTERNALS.search(shown), shown
    assert "<" not in shown and len(shown) <= 500


def test_known_gradio_messages_are_rewritten():
    assert app_error_message("Cannot move /etc/passwd to the gradio cache dir because x") == FILE_REFUSED
    assert app_error_message("Value: x" + "y" * 500 + " is not in the list of choices: ['a', 'b']").endswith(
        "is not in the list of choices: ['a', 'b']")
    assert app_error_message("Seed must be between 0 and 10, got 11.") == "Seed must be between 0 and 10, got 11."
    assert app_error_message("Means: '-1' is not a number.") == "Means: '-1' is not a number.", "quotes stay"
    assert app_error_message("google/ddpm-cifar10-32 is gated") == "google/ddpm-cifar10-32 is gated", "ids stay"


def test_errors_from_gradio_itself_become_one_sentence():
    from gradio.exceptions import InvalidPathError
    from PIL import UnidentifiedImageError

    assert internal_error_message(InvalidPathError("Cannot move /etc/passwd ...")) == FILE_REFUSED
    assert internal_error_message(UnidentifiedImageError("cannot identify image file '/tmp/gradio/x.png'")) == \
        NOT_AN_IMAGE
    assert internal_error_message(KeyError("/root/secret")) == WRONG_FORM
    wrapped = ValueError("Could not preprocess input component at index 6 (a `Slider` component) of the event handler "
                         "with input components: [Dropdown, Slider].\n\nExpected a `float`, but the value passed to "
                         "the event handler was: '/root/x' (of type `str`).\n\nOriginal error: ValueError: could not")
    shown = internal_error_message(wrapped)
    assert shown.startswith("Expected a `float` for input 7 (a Slider), got") and not INTERNALS.search(shown), shown


def test_toasts_show_text_escaped_once():
    assert toast_text("<img src=x>") == "&lt;img src=x&gt;"
    assert toast_text(html_text("<b>&</b>")) == toast_text("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"


@pytest.mark.parametrize("text", ["[x](http://evil)", "![i](http://other/x.png)", "<a href=//evil>x</a>", "**bold**",
                                  "`code`", "$$\\href{x}{y}$$", "http://evil.example", "www.evil.example", "a\n# h1",
                                  "<img src=x onerror=alert(1)>", "_i_ ~~s~~ | t |"])
def test_markdown_text_can_form_no_markup(text):
    import html

    out = markdown_text(text)
    bare = re.sub(r"&#\d+;", "", out)                 # what is left besides the entities
    assert not re.search(r"[\[\]()<>*_`$!#|~:&\n]", bare), out

    assert html.unescape(out) == text.replace("\n", " "), "and reads the same"


def _raw_call(app_url: str, api: str, data: list) -> str:
    """The error a hand-written request gets (gradio_client would upload a file path first; this sends it as it is)."""
    import json

    import httpx

    event = httpx.post(f"{app_url}gradio_api/call/{api}", json={"data": data}, timeout=30).json()["event_id"]
    with httpx.stream("GET", f"{app_url}gradio_api/call/{api}/{event}", timeout=60) as stream:
        body = "".join(stream.iter_text())
    assert "event: error" in body, body[:300]
    return json.loads(body.split("event: error", 1)[1].split("data:", 1)[1].strip().splitlines()[0])["error"]


def test_the_apps_messages_name_no_internals(app_url, tmp_path):
    """Through the running app: Gradio's validation errors (a file that is not an image, a path outside the upload
    folder, an unknown dropdown value, a number of the wrong type) arrive without paths or exception names."""
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(app_url, verbose=False, download_files=str(tmp_path))
    text_png = tmp_path / "notes.png"
    text_png.write_text("a text file that calls itself a PNG\n")
    outside = Path(tempfile.gettempdir()) / "dx-outside.csv"          # exists, but was never uploaded
    outside.write_text("x,y\n1,2\n")
    file_data = {"meta": {"_type": "gradio.FileData"}}
    shown = [
        (_raw_call(app_url, "my_data", [None, {"path": str(outside), **file_data}, 0]), FILE_REFUSED),
        (_raw_call(app_url, "my_data", [{"background": None, "layers": [], "composite": {"path": "/etc/hostname",
                                                                                          **file_data}}, None, 0]),
         FILE_REFUSED),
        (_raw_call(app_url, "my_data", [None, "/etc/passwd", 0]), None),
    ]
    forward = ("moons", "", "", "", "vp_linear", 0)
    for args, api, expected in [
            (({"background": None, "layers": [], "composite": handle_file(str(text_png))}, None, 0), "/my_data", None),
            (("no-such-data", "", "", "", "vp_linear", 0, 200, 10), "/forward", "not in the list of choices"),
            ((*forward, "many", 10), "/forward", "Expected a `float`"),
            (("/root/.cache/huggingface", 5, 0), "/hub_sample", "not available")]:
        with pytest.raises(AppError) as err:
            client.predict(*args, api_name=api)
        shown.append((str(err.value), expected))
    outside.unlink()
    for message, expected in shown:
        assert not INTERNALS.search(message), message
        assert expected is None or expected in message, message


def test_the_file_route_refuses_without_naming_the_path(app_url):
    import httpx

    for path in ("/etc/passwd", "/root/.bashrc", str(Path(__file__).resolve()), "/no/such/file"):
        r = httpx.get(f"{app_url}gradio_api/file={path}", timeout=30)
        assert r.status_code == 403 and r.json() == {"detail": FILE_NOT_ALLOWED}, (path, r.text)


def test_plotly_js_has_a_route_of_its_own(app_url):
    import httpx

    from explorer.ui.common import plotly_src
    from explorer.viz.animation import PLOTLY_JS

    assert "site-packages" not in plotly_src() and "=" not in plotly_src()
    r = httpx.get(app_url.rstrip("/") + plotly_src(), timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.content == PLOTLY_JS.read_bytes()


def test_an_exported_page_is_a_download_not_a_page_of_the_app(app_url, tmp_path):
    """Served from the export folder (a static path), an HTML export comes as an attachment."""
    import httpx
    from gradio_client import Client

    from explorer.viz import export

    client = Client(app_url, verbose=False, download_files=str(tmp_path))
    client.predict("moons", "", "", "", "vp_linear", 0, 200, 10, api_name="/forward")
    client.predict(api_name="/forward_html")
    page = next(export.owner_dir(client.session_hash).glob("*.html"))
    r = httpx.get(f"{app_url}gradio_api/file={page}", timeout=30)
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")


def test_an_animations_texts_are_text_in_plotly_and_as_written_in_the_gif(tmp_path, monkeypatch):
    """A CSV class name in an animation's title: escaped for plotly (which reads HTML, links included), drawn as
    written in the GIF."""
    import json

    import numpy as np

    from explorer.ui.exports import PanelsGif
    from explorer.viz.animation import Panel

    name = "<a href='//evil.invalid'>cats</a> & dogs"
    frames = np.random.default_rng(0).normal(size=(3, 20, 2)).astype(np.float32)
    spec = PanelsGif("t", [Panel(frames, title=f"{name} panel")], ["0", "0.5", "1"], title=f"Asking for {name}")
    text = json.dumps(spec.figure())
    assert "<a " not in text and "&lt;a href=" in text and "&amp; dogs" in text
    drawn = []
    monkeypatch.setattr("explorer.ui.exports.panels_gif", lambda panels, labels, path, title="", time_label="":
                        drawn.append((title, panels[0].title)))
    spec.render(tmp_path / "x.gif")
    assert drawn == [(f"Asking for {name}", f"{name} panel")]
