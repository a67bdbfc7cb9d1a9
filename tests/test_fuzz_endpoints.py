"""Bad input across every endpoint: hypothesis sends random and extreme values to every public API endpoint.

Every named endpoint of the app is found from its declared API (never listed by hand, so an endpoint added later is
fuzzed too) and every parameter gets a strategy from its declared component: dropdowns and radios their choices,
sliders their range, numbers, checkboxes, checkbox groups, text, files, sketchpads. Each endpoint first gets explicit
examples (each parameter in turn at its nastiest values, the others cheap and valid), then random ones that make
zero, one or two parameters bad (NaN, ±inf, ±1e308, integers beyond the float range, negative numbers, the wrong type,
None, empty and very long strings, unknown choices, a list where one choice is expected, a text file where an image
is expected, a path outside the app) and keep the others valid, so each check of the server is reached on its own
and some calls run to the end. NaN and ±Infinity travel as JSON tokens, as a hand-written request can send them.
The property:

* the answer comes within CALL_TIMEOUT_S (else: a hang);
* it is a result, or an error whose message is a clear sentence: no traceback, no exception class name (``ValueError``,
  ``UnidentifiedImageError``, ``SomeError(...)``), no server path (``/tmp/gradio/...``, ``site-packages``, ``/root``),
  not the catch-all "Something went wrong" of explorer/ui/common.py ``user_errors`` (that one means an unexpected
  exception slipped past the checks);
* every number in every figure is finite (plotly outputs, the figure JSON inside HTML animations and downloads,
  typed and quantised arrays decoded; NaN only as plotly's line breaks in a line's x and y), so is every number in
  a table, and no text shown says nan or inf.

After the fuzzing the app still answers a normal request. Gradio's own checks (slider ranges, dropdown choices,
file types, its data models) answer before the handlers do; their messages are held to the same rule.
"""
from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import reprlib
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, Phase, assume, event, example, given, settings
from hypothesis import strategies as st

CORE_ENDPOINTS = {"/forward", "/schedule", "/score_field", "/sample", "/quality", "/train", "/likelihood",
                  "/guidance", "/train_vae", "/sample_digits", "/my_data"}
CALL_TIMEOUT_S = 60             # one call that has not answered by then is a hang
# Every endpoint first gets its explicit examples (the nastiest values of each parameter in turn), then up to
# MAX_EXAMPLES random ones, drawn in the same order on every run (derandomize) and stopped once the random ones have
# taken RANDOM_BUDGET_S: an endpoint whose valid calls train or sample for seconds gets fewer, one whose calls fail
# fast gets all, and the file stays at ~2-3 minutes on two slow cores however many endpoints are added.
# FUZZ_SCALE=10 (environment) searches ten times longer, by hand.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
MAX_EXAMPLES = round(25 * SCALE)
RANDOM_BUDGET_S = 3.0 * SCALE
# What an error message must not show, whether the app or Gradio's own checks wrote it: a traceback, the catch-all,
# an exception's class name (ValueError, UnidentifiedImageError, "KeyError('a')"), a server path (the upload folder,
# the virtualenv, the home or working directory; a path the request itself sent inside "../" is the caller's text).
MESSAGE_DUMPS = re.compile(r"Traceback|File \"|Something went wrong|\b[A-Z]\w*(?:Error|Exception|Warning)\b"
                           r"|site-packages|\.pyenv|\.venv|\.cache/"
                           r"|(?<![\w.~])/(?:root|tmp|home|usr|var|etc|opt|proc|srv|mnt|app|work|private)(?=/|\b)")
NONFINITE_WORD = re.compile(r"(?<![\w.])(?:nan|NaN|-?inf|-?Infinity)(?![\w])")
LINES = {"scatter", "scattergl", "scatterpolar", "scatter3d"}     # traces where plotly reads NaN in x, y as a break
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")     # text the Hub endpoint would look up online
STATS: dict[str, Counter] = {}


@lru_cache(maxsize=None)
def declared_endpoints() -> tuple[str, ...]:
    """The app's public named endpoints, read from its Blocks when the tests are collected (the same API view_api serves)."""
    import app

    return tuple(app.build_demo().get_api_info()["named_endpoints"])


@pytest.fixture(scope="module")
def fuzz_client(app_url):
    """A session of its own: what the fuzzing leaves in gr.State (a trained model, my data) stays out of other tests."""
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def live_api(fuzz_client):
    return fuzz_client.view_api(return_format="dict", print_info=False)["named_endpoints"]


@pytest.fixture(scope="module")
def nan_on_the_wire():
    """Let the client send NaN and ±Infinity as JSON tokens, as a hand-written request can (httpx refuses by default)."""
    import httpx._content as content

    original = getattr(content, "json_dumps", None)
    if original is None:          # another httpx: NaN and inf still reach the server as the strings "nan", "inf"
        yield False
        return

    def dumps(obj, **kwargs):
        kwargs["allow_nan"] = True
        return original(obj, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(content, "json_dumps", dumps)
        yield True


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Files to upload: images good and bad, CSVs good and bad, a text file, a drawing."""
    from PIL import Image, ImageDraw

    d = tmp_path_factory.mktemp("fuzz-files")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(d / "photo.png")
    Image.new("L", (4, 4), 128).save(d / "tiny.png")
    Image.new("RGB", (3000, 3000), (200, 30, 30)).save(d / "huge.png")
    canvas = Image.new("RGBA", (320, 320), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.line([(40, 40), (280, 60)], fill=(0, 114, 178, 255), width=6)
    draw.ellipse([100, 150, 220, 270], outline=(230, 159, 0, 255), width=6)
    canvas.save(d / "drawing.png")
    (d / "points.csv").write_text("x,y,label\n" + "\n".join(f"{i % 7},{(i * 3) % 11},{'ab'[i % 2]}"
                                                            for i in range(100)))
    (d / "nan.csv").write_text("x,y\n1,2\n3,nan\n" + "4,5\n" * 30)
    (d / "huge_values.csv").write_text("x,y\n" + "\n".join(f"{1e300 * (i % 3)},{-1e300 * (i % 5)}" for i in range(40)))
    (d / "same_point.csv").write_text("x,y\n" + "1,1\n" * 40)
    (d / "empty.csv").write_text("")
    (d / "notes.txt").write_text("not an image, not numbers\n")
    (d / "notes.png").write_text("a text file that calls itself a PNG\n")
    (d / "no_extension").write_text("x,y\n1,2\n")
    return {p.name: handle_file(str(p)) for p in d.iterdir()}


# --- strategies, from each parameter's declared component ---------------------------------------------------------
WORK = re.compile(r"^n_|step|particle|image|width|grid|frame|sample|count|size|fps|duration|batch")
EXTREME_NUMBERS = [math.nan, math.inf, -math.inf, 1e308, -1e308, 10 ** 400, -(10 ** 400), 2 ** 63, 2 ** 31, 10 ** 30,
                   -1, 0, -0.0, 3.5, 5e-324, 1e-300]
WRONG_TYPES = [None, "", " ", "abc", "nan", "inf", "-1e309", "../../../../etc/passwd", "no-such-choice", "\u202e\x00☃",
               "x" * 20_000, True, [], [1, 2], {}, {"a": 1}]


def _range(param) -> tuple[float, float] | None:
    m = re.search(r"between (-?[\d.e+-]+) and (-?[\d.e+-]+)", param["type"].get("description", ""))
    return (float(m.group(1)), float(m.group(2))) if m else None


def _integral(param) -> bool:
    """An integer slider: its range is written without a decimal point and its default is an int."""
    default = param.get("parameter_default")
    return "." not in param["type"].get("description", "") and (default is None or isinstance(default, int))


def _in_range(param):
    """Valid slider values. Parameters that scale the work (steps, particles, images, width, grid ...) are drawn no
    larger than a quarter of the way from the minimum to the UI default (from the first 5% of the range when the
    default is the minimum), and tolerances no tighter than the default, so a valid call stays cheap; the
    out-of-range and extreme values are drawn all the same (see _bad)."""
    (lo, hi), default, name = _range(param), param.get("parameter_default"), param["parameter_name"]
    top = hi
    if isinstance(default, (int, float)) and WORK.search(name):
        top = lo + (default - lo) / 4 if default > lo else lo + (hi - lo) / 20    # default = minimum: 0 steps is
                                                                                   # "each sampler's default", costly
    if isinstance(default, (int, float)) and "tol" in name:
        lo = default
    if _integral(param):
        return st.integers(math.ceil(lo), max(math.ceil(lo), math.floor(top)))
    return st.floats(lo, top)


def _valid(param, files: dict):
    """Values the widget itself could send."""
    comp, typ, default = param["component"], param["type"], param.get("parameter_default")
    choices = typ.get("enum")
    if comp == "Checkboxgroup":
        items = typ.get("items", {}).get("enum") or ["a"]
        return st.lists(st.sampled_from(items), min_size=1, max_size=min(3, len(items)), unique=True)
    if choices:
        return st.sampled_from(choices)
    if comp == "Slider" and _range(param):
        return _in_range(param)
    if comp == "Checkbox":
        return st.booleans()
    if comp == "Number":
        if typ.get("type") == "integer":
            return st.one_of(st.just(0), st.integers(0, 2 ** 31 - 1))
        d = abs(float(default)) if isinstance(default, (int, float)) and default else 1.0
        return st.one_of(st.just(default if default is not None else 0.0), st.floats(d / 10, d * 10))
    if comp == "Textbox":
        value = st.one_of(st.floats(-5, 5), st.sampled_from([1000, -1000, 999.5, 0.001, 0.0011]))   # spikes far apart
        numbers = st.lists(value.map(lambda v: f"{v:.4g}"), min_size=1, max_size=5)
        texts = st.one_of(numbers.map(", ".join), st.text(max_size=30))
        if isinstance(default, str) and not HUB_ID.match(default):
            texts = st.one_of(st.just(default), texts)
        return texts.filter(lambda s: not HUB_ID.match(s.strip()))   # never make the app go online
    if comp == "File":
        return st.sampled_from([None, files["photo.png"], files["points.csv"]])
    if comp == "Imageeditor":
        return st.sampled_from([None, {"background": None, "layers": [], "composite": files["drawing.png"]}])
    return st.just(default)


def _bad(param, files: dict):
    """Extreme numbers, wrong types, and what is out of range for this component."""
    comp, typ = param["component"], param["type"]
    extra = [st.sampled_from(EXTREME_NUMBERS), st.sampled_from(WRONG_TYPES)]
    rng = _range(param)
    if rng:
        lo, hi = rng
        span = hi - lo
        extra.append(st.sampled_from([lo - 1e-9, hi + 1e-9, lo - 1, hi + 1, hi * 10 + 1, -hi - 1, lo - span,
                                      lo + span / 3 + 0.5]))
    choices = typ.get("enum") or typ.get("items", {}).get("enum")
    if choices:
        extra.append(st.sampled_from([str(choices[0]).upper(), f" {choices[0]}", [choices[0]], choices * 2,
                                      list(choices), [None], [5], {"value": choices[0]}]))
    if comp in ("File", "Imageeditor"):
        bad_files = [files[n] for n in ("notes.txt", "notes.png", "tiny.png", "huge.png", "nan.csv", "empty.csv",
                                        "huge_values.csv", "same_point.csv", "points.csv", "photo.png")]
        extra.append(st.sampled_from(bad_files + [files["no_extension"], "/etc/passwd",         # a bare path: no upload
                                                  {"path": "/etc/passwd"}, {"url": "file:///etc/passwd"}]))
        if comp == "Imageeditor":
            extra.append(st.sampled_from(bad_files).map(
                lambda f: {"background": f, "layers": [f], "composite": f}))
            extra.append(st.sampled_from([{"composite": None}, {"background": None, "layers": [], "composite": None}]))
    if comp == "Textbox":
        extra.append(st.sampled_from(["1e308, -1e308", "nan, inf", "0, 0, 0", "-1, -2", "1e-300", ",,,", "1;2;3",
                                      ", ".join(["1"] * 1000), "1000, -1000", "0.001, 1000", "1e3, -1e3, 0"]))
        extra.append(st.sampled_from(["x" * 20_000, "x" * 300, "/" + "x" * 300, "~/" + "../" * 50]))
        extra.append(st.text(min_size=1, max_size=200).filter(lambda s: not HUB_ID.match(s.strip())))
    return st.one_of(*extra)


def _nastiest(param, files: dict) -> list:
    """Up to two values per parameter that every endpoint gets, whatever the random draws: the ones most likely to slip
    past a check (NaN and a number beyond the float range; a list where one choice is expected; a text file where an
    image or CSV is expected)."""
    comp, typ = param["component"], param["type"]
    choices = typ.get("enum") or typ.get("items", {}).get("enum")
    if comp == "Checkboxgroup":
        return [list(choices) * 2, ["no-such-choice"]]
    if choices:
        return [[choices[0]], "no-such-choice"]
    if comp in ("Slider", "Number"):
        return [math.nan, 10 ** 400]
    if comp == "Textbox":
        return []          # see explicit_examples
    if comp == "File":
        return [files["notes.txt"], files["notes.png"]]
    if comp == "Imageeditor":
        return [{"background": None, "layers": [], "composite": files["notes.png"]}, "abc"]
    return [None, "abc"]


def _cheap(param):
    """A valid value that keeps a call short: the UI default, or the minimum of a parameter that scales the work."""
    default, name, rng = param.get("parameter_default"), param["parameter_name"], _range(param)
    if param["component"] == "Slider" and rng and WORK.search(name):
        return max(int(rng[0]), 1) if _integral(param) else rng[0]         # 0 steps can mean "the default"
    if isinstance(default, str) and HUB_ID.match(default):
        return ""                                             # never make the app go online
    return default


def explicit_examples(params: list, files: dict) -> list[list]:
    """For every parameter, its nastiest values with every other parameter cheap and valid; and all text fields at
    once 20,000 characters long (at once: text is often unused, as the mixture fields are with a built-in dataset,
    and a valid call costs a run)."""
    base = [_cheap(p) for p in params]
    out = [base[:i] + [value] + base[i + 1:] for i, p in enumerate(params) for value in _nastiest(p, files)]
    if any(p["component"] == "Textbox" for p in params):
        out.append(["x" * 20_000 if p["component"] == "Textbox" else v for p, v in zip(params, base)])
    return out


@st.composite
def arguments(draw, valid: list, bad: list):
    """All parameters valid, or one or two bad (each check is then reached on its own)."""
    n = len(valid)
    k = min(n, draw(st.sampled_from([0, 1, 1, 2])))
    which = draw(st.sets(st.integers(0, n - 1), min_size=k, max_size=k)) if n else set()
    return [draw(bad[i] if i in which else valid[i]) for i in range(n)]


# --- the checks ----------------------------------------------------------------------------------------------------
def _decode(value):
    """A plotly typed array {"dtype", "bdata"} or the app's quantised {"dxq": "i2", "scale", "bdata"} -> float64 array."""
    if "dxq" in value:
        q = np.frombuffer(base64.b64decode(value["bdata"]), dtype="<i2")
        with np.errstate(invalid="ignore", over="ignore"):      # a non-finite scale gives NaN: reported, not warned
            return q.astype(np.float64) * float(value["scale"])
    return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).astype(np.float64)


def _array(value):
    """Numbers of a data array (list, typed or quantised) as float64 with None as NaN; None when it is not one."""
    if isinstance(value, dict) and "bdata" in value:
        return _decode(value)
    if isinstance(value, list) and value and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                                                 for v in value):
        return np.array([np.nan if v is None else v for v in value], dtype=np.float64)
    return None


def _gaps_only(x: np.ndarray, y: np.ndarray) -> bool:
    """NaN in a line's x and y only as plotly line breaks: at the same points, never first, never two in a row."""
    bad_x, bad_y = ~np.isfinite(x), ~np.isfinite(y)
    if x.shape != y.shape or not np.array_equal(bad_x, bad_y):
        return False
    if not bad_x.any():
        return True
    return (not bad_x[0] and not (bad_x[1:] & bad_x[:-1]).any() and not np.isinf(x).any() and not np.isinf(y).any())


def nonfinite(value, where: str = "") -> list[str]:
    """Where a figure (or table, or any output) holds a NaN or an infinity that is not a plotly line break."""
    out = []
    if isinstance(value, bool) or value is None:
        return out
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{where} = {value}"]
    if isinstance(value, str):
        return _in_text(value, where)
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out += nonfinite(v, f"{where}[{i}]")
        return out
    if isinstance(value, dict):
        if "bdata" in value:
            a = _decode(value)
            return [] if np.isfinite(a).all() else [f"{where}: {int((~np.isfinite(a)).sum())} non-finite of {a.size}"]
        if value.get("type") == "plotly" and isinstance(value.get("plot"), str):
            return nonfinite(json.loads(value["plot"]), f"{where}.plot")
        if "headers" in value and "data" in value:      # a Dataframe: every cell a finite number or text
            return nonfinite(value["data"], f"{where}.data")
        x, y = _array(value.get("x")), _array(value.get("y"))
        if x is not None and y is not None and value.get("type", "scatter") in LINES:   # NaN only as line breaks
            if not _gaps_only(x, y):
                out.append(f"{where}.x/y: non-finite values beyond line breaks")
            value = {k: v for k, v in value.items() if k not in ("x", "y")}
        for k, v in value.items():
            out += nonfinite(v, f"{where}.{k}")
    return out


def _in_text(text: str, where: str) -> list[str]:
    """An HTML page (or iframe) embedding the figure JSON, a downloaded page, or text shown to the user."""
    if _is_file(text):                                           # a file output, fetched by the client
        if not text.endswith(".html"):
            return []                                            # an image: no numbers to read
        text = Path(text).read_text(encoding="utf-8")
    if "srcdoc=" in text:
        text = html.unescape(text)
    payloads = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', text, flags=re.S)
    if payloads:
        return [p for i, s in enumerate(payloads) for p in nonfinite(json.loads(s), f"{where}<json {i}>")]
    if "<script" in text or "<iframe" in text:
        return [f"{where}: an HTML page with no figure JSON"] if "Plotly" in text else []
    m = NONFINITE_WORD.search(text)
    return [f"{where}: {text[max(0, m.start() - 60): m.end() + 20]!r}"] if m else []


def _is_file(text: str) -> bool:
    try:
        return len(text) < 4096 and "\n" not in text and Path(text).is_file()
    except (OSError, ValueError):
        return False


def check_message(message: str, context: str) -> None:
    assert message.strip(), f"empty error message; {context}"
    m = MESSAGE_DUMPS.search(message)
    assert m is None, f"not a clear message ({m.group(0)!r}): {message[:600]!r}; {context}"


def call(client: Client, api_name: str, args: list) -> str:
    """One call: it answers in time, with a clear error or with outputs whose numbers are all finite."""
    context = f"{api_name}{reprlib.repr(tuple(args))}"
    job = client.submit(*args, api_name=api_name)
    try:
        result = job.result(timeout=CALL_TIMEOUT_S)
    except AppError as e:
        check_message(str(e), context)
        event("a clear error")
        return "error"
    except TimeoutError:
        job.cancel()
        pytest.fail(f"hang: no answer within {CALL_TIMEOUT_S} s; {context}")
    for k, out in enumerate(list(job.outputs()) + [result]):     # streamed updates, then the final answer
        bad = nonfinite(out, "output")
        assert not bad, f"non-finite numbers in update {k}: {bad[:5]}; {context}"
    event("a result")
    return "result"


# --- the tests -----------------------------------------------------------------------------------------------------
def test_the_checks_see_what_they_must():
    """No app needed: the walkers find NaN and infinity where the app puts numbers, and pass plotly's line breaks."""
    import plotly.graph_objects as go

    from explorer.viz.animation import figure_page, iframe, quantized, typed

    line = np.array([0.0, 1.0, np.nan, 2.0, 3.0], dtype=np.float32)
    ok = {"data": [{"type": "scatter", "x": typed(line), "y": typed(line)}], "layout": {"title": {"text": "t"}}}
    assert nonfinite(ok) == []
    assert nonfinite(iframe(figure_page(ok, "/plotly.js"))) == []
    run = np.array([0.0, np.nan, np.nan, 1.0], dtype=np.float32)
    assert nonfinite({"data": [{"type": "scatter", "x": typed(run), "y": typed(run)}]})          # not a line break
    heat = np.array([[0.0, np.inf]], dtype=np.float32)
    bad = {"data": [{"type": "heatmap", "x": [0, 1], "y": [0], "z": typed(heat)}], "layout": {}}
    assert nonfinite(bad) and nonfinite(iframe(figure_page(bad, "/plotly.js")))
    q = quantized(np.array([0.0, 1.0]))
    assert nonfinite({"data": [{"type": "scatter", "x": dict(q, scale=math.inf), "y": [0, 1]}]})
    plot = {"type": "plotly", "plot": go.Figure(go.Scatter(x=[0, 1], y=np.array([0.0, np.inf]))).to_json()}
    assert nonfinite(plot) or "null" in plot["plot"]          # plotly may write inf as null: then it is no number
    assert nonfinite({"headers": ["a", "b"], "data": [["x", math.nan]]})
    assert nonfinite({"headers": ["a", "b"], "data": [["x", "nan"]]})
    assert nonfinite("final loss nan after 100 steps") and not nonfinite("Done: 100 steps, loss 0.25")
    check_message("Time t must be a finite number, got nan.", "")
    check_message("Means: '../../../../etc/passwd' is not a number.", "")      # the caller's own text, quoted
    check_message("An input had the wrong type or form for its control; reload the page and try again.", "")
    for dump in ("Traceback (most recent call last)", 'File "x.py", line 1', "KeyError('a')",
                 "Something went wrong (TypeError); the details are in the server log.",
                 "UnidentifiedImageError: cannot identify image file", "a ValueError occurred",
                 "Cannot move /root/x.png to the gradio cache dir", "cannot identify image file '/tmp/gradio/ab/x.png'",
                 "see /usr/lib/python3/site-packages/PIL/Image.py", "File not allowed: /home/user/app/app.py."):
        with pytest.raises(AssertionError):
            check_message(dump, "")


def test_every_endpoint_is_fuzzed(live_api):
    """The parametrisation below is the running app's API, and it holds the core endpoints."""
    assert CORE_ENDPOINTS <= set(live_api), sorted(CORE_ENDPOINTS - set(live_api))
    assert set(declared_endpoints()) == set(live_api)


@pytest.mark.parametrize("api_name", declared_endpoints())
def test_fuzz_endpoint(api_name, fuzz_client, live_api, files, nan_on_the_wire):
    params = live_api[api_name]["parameters"]
    valid = [_valid(p, files) for p in params]
    bad = [_bad(p, files) for p in params]

    explicit = explicit_examples(params, files)
    clock = {"calls": 0, "random_since": None}

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(arguments(valid, bad))
    def fuzz(args):
        clock["calls"] += 1
        if clock["calls"] > len(explicit):                  # a random example: within the time budget only
            clock["random_since"] = clock["random_since"] or time.monotonic()
            assume(time.monotonic() - clock["random_since"] < RANDOM_BUDGET_S)
        kind = "random" if clock["calls"] > len(explicit) else "explicit"
        STATS.setdefault(api_name, Counter())[f"{kind} {call(fuzz_client, api_name, args)}"] += 1

    for args in explicit:
        fuzz = example(args)(fuzz)
    fuzz()


def test_app_still_answers_after_fuzzing(app_url):
    """Run after the fuzzing (file order): a normal request from a fresh session gets a finite figure."""
    fresh = Client(app_url, verbose=False)
    fig = fresh.predict("ve", api_name="/schedule")
    assert fig["type"] == "plotly" and not nonfinite(fig)
    out = fresh.predict("ring8", "", "", "", "vp_linear", 0, 0.1, 11, True, api_name="/score_field")
    assert json.loads(out["plot"])["data"] and not nonfinite(out)
    for name, counts in STATS.items():           # shown with pytest -rP: what each endpoint was sent and answered
        print(f"{name}: {dict(sorted(counts.items()))}")
