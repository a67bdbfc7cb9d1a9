"""What every tab shares: server-side input checks, user-facing errors, the dataset/process controls."""
from __future__ import annotations

import functools
import inspect
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import torch

from .. import interrupt
from ..distributions import DATASETS, Dataset, custom_1d, get_dataset
from ..memory import release_memory
from ..process import PROCESSES, Process, get_process
from ..viz.animation import PLOTLY_URL
from .guard import client_gone

log = logging.getLogger("explorer.ui")

CUSTOM_1D = "custom_1d"
MY_DATA = "my_data"
DATASET_CHOICES = [(d.label, name) for name, d in DATASETS.items()] + [("1D: custom mixture (set below)", CUSTOM_1D),
                                                                       ("2D: my data (draw or upload below)", MY_DATA)]
PROCESS_CHOICES = [(cls.label, name) for name, cls in PROCESSES.items()]
DEFAULT_DATASET = "ring8"
DEFAULT_PROCESS = "vp_linear"
MAX_SEED = 2 ** 31 - 1


def plotly_src() -> str:
    """URL under which the app serves the installed plotly.min.js (explorer/ui/routes.py): no server path in it."""
    return PLOTLY_URL


# --- input checks: every value is checked here, whatever the widget allowed ------------------------
def number(value, name: str, lo: float, hi: float, *, integer: bool = False) -> float | int:
    """A finite number in [lo, hi], else a clear gr.Error naming the field and the range."""
    try:
        v = float(value)
    except OverflowError:                 # an integer beyond the float range: outside [lo, hi] either way
        raise gr.Error(f"{name} must be between {lo:g} and {hi:g}, got a number too large for a float.") from None
    except (TypeError, ValueError):
        raise gr.Error(f"{name} must be a number, got {short_repr(value)}.") from None
    if not math.isfinite(v):
        raise gr.Error(f"{name} must be a finite number, got {value!r}.")
    if v < lo or v > hi:
        raise gr.Error(f"{name} must be between {lo:g} and {hi:g}, got {v:g}.")
    if integer:
        if v != int(v):
            raise gr.Error(f"{name} must be a whole number, got {v:g}.")
        return int(v)
    return v


def check_seed(seed) -> int:
    """A seed: a whole number in [0, 2^31 - 1], else a clear gr.Error."""
    return number(seed, "Seed", 0, MAX_SEED, integer=True)


def seed_generator(seed) -> torch.Generator:
    """A CPU generator from a checked seed in [0, 2^31 - 1]."""
    return torch.Generator().manual_seed(check_seed(seed))


def parse_floats(text, name: str, *, max_count: int = 10) -> list[float]:
    """'a, b, c' -> floats; clear errors for empty, non-numeric, non-finite or too many values."""
    if not isinstance(text, str) or not text.strip():
        raise gr.Error(f"{name}: give comma-separated numbers, e.g. '-1, 1'.")
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    if len(parts) > max_count:
        raise gr.Error(f"{name}: at most {max_count} values, got {len(parts)}.")
    out = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            raise gr.Error(f"{name}: {p.strip()!r} is not a number.") from None
        if not math.isfinite(v) or abs(v) > 1e3:
            raise gr.Error(f"{name}: values must be finite and within ±1000, got {p.strip()}.")
        out.append(v)
    return out


def resolve_dataset(name, means="", stds="", weights="", user_data: Dataset | None = None) -> Dataset:
    """The chosen dataset; the custom 1D mixture is built (and checked) from its three text fields; 'my data' is the user's own."""
    if name == MY_DATA:
        if user_data is None:
            raise gr.Error("No data of your own yet: draw on the canvas or upload a CSV under 'My data', then press "
                           "'Use this data'.")
        return user_data
    if name == CUSTOM_1D:
        m, s, w = parse_floats(means, "Means"), parse_floats(stds, "Stds"), parse_floats(weights, "Weights")
        if any(v < 1e-3 for v in s):
            raise gr.Error("Stds: every std must be at least 0.001.")
        try:
            return custom_1d(m, s, w)
        except ValueError as e:
            raise gr.Error(str(e)) from None
    if not isinstance(name, str):
        raise gr.Error(f"Unknown dataset {name!r}; choose one of {sorted(DATASETS) + [CUSTOM_1D]}.")
    try:
        return get_dataset(name)
    except ValueError as e:
        raise gr.Error(f"{e}".replace("]", f", '{CUSTOM_1D}', '{MY_DATA}']")) from None


def short_repr(value, limit: int = 80) -> str:
    """repr(value) cut to about `limit` characters: error messages quote the input, not 20,000 characters of it."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def choice(value, name: str, choices) -> str:
    """value if it is one of choices (a list or any other unhashable value is not), else a clear gr.Error."""
    choices = list(choices)
    if isinstance(value, str) and value in choices:
        return value
    raise gr.Error(f"unknown {name} {short_repr(value)}; expected one of {choices}")


def resolve_process(name) -> Process:
    try:
        return get_process(str(name))
    except ValueError as e:
        raise gr.Error(str(e)) from None


# --- errors: a clear message, never a traceback; every request under a deadline and stopped when its client goes --
REQUEST_LIMIT_S = float(os.environ.get("EXPLORER_REQUEST_LIMIT_S", "45"))   # wall-clock ceiling per request: a last
# guard, the work budgets (explorer/cost.py) refuse anything estimated above 30 s before it starts
OUT_OF_TIME = ("This request was stopped after {s:g} s, the limit per request on this shared server: ask for less "
               "(fewer particles, steps or samplers) and try again.")


def user_errors(fn):
    """Turn ValueError into gr.Error(message) and anything unexpected into a short gr.Error (logged in full); run
    the handler under a deadline (REQUEST_LIMIT_S) and stop it between steps once its client has gone; free memory after."""
    def convert(e: Exception) -> gr.Error:
        if isinstance(e, gr.Error):
            return e
        if isinstance(e, interrupt.OutOfTime):
            return gr.Error(OUT_OF_TIME.format(s=REQUEST_LIMIT_S))
        if isinstance(e, interrupt.Cancelled):
            return gr.Error("Stopped.", print_exception=False)      # the client has gone: nothing to log
        if isinstance(e, ValueError):
            return gr.Error(str(e))
        log.exception("unexpected error in %s", fn.__name__)
        return gr.Error("Something went wrong on the server; the details are in its log.")   # no internals

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            limits = interrupt.Scope(REQUEST_LIMIT_S, client_gone())
            steps = fn(*args, **kwargs)
            try:
                while True:
                    with interrupt.activate(limits):      # each step may run in another thread: open it every time
                        try:
                            item = next(steps)
                        except StopIteration:
                            return
                    yield item
            except Exception as e:  # noqa: BLE001 - every error becomes a message
                raise convert(e) from None
            finally:
                steps.close()
                release_memory()
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with interrupt.scope(REQUEST_LIMIT_S, client_gone()):
                return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001
            raise convert(e) from None
        finally:
            release_memory()        # glibc keeps freed peaks per thread arena; a server for a class must not
    return wrapper


# --- the shared controls -------------------------------------------------------------------------
@dataclass
class Setup:
    """The controls above the tabs: dataset (custom 1D mixture fields, the user's own data), process, seed."""

    dataset: gr.Dropdown
    means: gr.Textbox
    stds: gr.Textbox
    weights: gr.Textbox
    process: gr.Dropdown
    seed: gr.Number
    user_data: gr.State

    @property
    def inputs(self) -> list:
        return [self.dataset, self.means, self.stds, self.weights, self.process, self.seed, self.user_data]


def build_setup() -> Setup:
    with gr.Row(equal_height=True):
        dataset = gr.Dropdown(DATASET_CHOICES, value=DEFAULT_DATASET, label="Data distribution p₀", scale=3)
        process = gr.Dropdown(PROCESS_CHOICES, value=DEFAULT_PROCESS, label="Forward process", scale=2)
        seed = gr.Number(value=0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED, scale=1)
    with gr.Accordion("Custom 1D mixture", open=False, visible=False) as custom:
        with gr.Row():
            means = gr.Textbox("-2, 0.5, 2", label="Means μ_k")
            stds = gr.Textbox("0.3, 0.5, 0.2", label="Stds s_k")
            weights = gr.Textbox("0.3, 0.5, 0.2", label="Weights w_k")
    dataset.change(lambda d: gr.Accordion(visible=d == CUSTOM_1D, open=d == CUSTOM_1D), dataset, custom,
                   api_visibility="private", show_progress="hidden")
    from .my_data import build_my_data  # my_data imports this module

    user_data = gr.State(None)          # this user's own point set (a Dataset), never shared
    build_my_data(dataset, user_data)
    return Setup(dataset, means, stds, weights, process, seed, user_data)


def read_markdown(name: str) -> str:
    """An explanation text shipped next to the UI code (explorer/ui/text/NAME.md)."""
    return (Path(__file__).parent / "text" / f"{name}.md").read_text(encoding="utf-8")
