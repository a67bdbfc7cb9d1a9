"""The figures each tab shows when a page opens, so no teacher faces empty panels.

A tab's builder returns (fn, inputs, outputs) load events; app.py runs them once a page has loaded (after a shared
link's settings are restored). `first_figures(fn)` answers repeated calls with the same settings from a small
read-only cache (the outputs are immutable figures and frozen animation specs), and `warm` computes the default
settings' answers in a background thread when the server starts, so the first visitor does not wait for them either.
Settings that are not in the cache (a link) are computed live for the cheap views; the costly ones (`cached_only`:
sampling, guidance, the digits, the VAE and network comparisons, the likelihoods) leave their panels to the buttons.
"""
from __future__ import annotations

import copy
import functools
import inspect
import logging
import threading
import time
from collections import OrderedDict
from typing import Callable

import gradio as gr
from gradio.components import Component

log = logging.getLogger(__name__)
MAX_ENTRIES = 64            # answers kept per server (a few per tab: the defaults and the presets of the lessons)
_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()
WARM_UP: dict[str, float] = {}          # fn name -> seconds it took at start (read by the benchmark and the log)


def _key(fn, args) -> tuple | None:
    """A hashable key of the call, or None when an argument is not a plain value (a model, a user's data)."""
    def plain(v):
        if v is None or isinstance(v, (str, int, float, bool)):
            return v
        if isinstance(v, (list, tuple)):
            items = tuple(plain(x) for x in v)
            return None if any(x is _NO for x in items) else items
        return _NO
    items = tuple(plain(a) for a in args if not isinstance(a, gr.Progress))    # Gradio passes its tracker positionally
    return None if any(x is _NO for x in items) else (fn.__module__, fn.__qualname__, items)


_NO = object()


def _run(fn, args, kwargs):
    """The handler's answer: its return value, or a generator's last item (the finished view)."""
    out = fn(*args, **kwargs)
    if inspect.isgenerator(out):
        last = None
        for last in out:
            pass
        return last
    return out


def _fresh(out):
    """A shallow copy of each returned component (gr.Plot(..., visible=...)): Gradio consumes the instance it is
    given, so the cached one must never be handed out itself."""
    if isinstance(out, tuple):
        return tuple(copy.copy(o) if isinstance(o, Component) else o for o in out)
    return copy.copy(out) if isinstance(out, Component) else out


def cached_only(fn: Callable) -> Callable:
    """Mark a costly view (seconds of CPU): on a page load it answers from the cache only (the settings the server
    warmed, or that another page already asked for), and leaves its panels to the buttons otherwise, so that opening
    a link with other settings does not start every tab's work at once."""
    fn.dx_cached_only = True
    return fn


def _store(key, out) -> None:
    with _lock:
        _cache[key] = out
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)


def first_figures(fn: Callable, n_outputs: int = 1) -> Callable:
    """fn for a page-load event: the same plain arguments give the same (cached, read-only) outputs; a cached_only
    fn not in the cache answers gr.skip() for its n_outputs outputs."""
    only_cached = getattr(fn, "dx_cached_only", False)

    @functools.wraps(fn)
    def load(*args, **kwargs):              # kwargs: what Gradio injects (a gr.Progress), not part of the key
        key = _key(fn, args)
        if key is not None:
            with _lock:
                if key in _cache:
                    _cache.move_to_end(key)
                    return _fresh(_cache[key])
        if only_cached and not kwargs.pop("_dx_fill", False):
            skip = tuple(gr.skip() for _ in range(n_outputs))
            return skip if n_outputs > 1 else skip[0]
        kwargs.pop("_dx_fill", None)
        out = _run(fn, args, kwargs)
        if key is not None:
            _store(key, out)
        return _fresh(out)
    return load


def one_step(events: list[tuple[Callable, list, list]]) -> tuple[Callable, list, list]:
    """Every tab's first figures (first_figures-wrapped load events) as one page-load step (fn, inputs, outputs): one
    request instead of one per tab, since a session's requests run one at a time (fifteen round trips took 3-5 s
    before a figure showed). A tab whose answer fails shows a warning and keeps its panels; the others still come."""
    inputs, outputs, parts = [], [], []
    for fn, ins, outs in events:
        for c in ins:
            if not any(c is x for x in inputs):
                inputs.append(c)
        parts.append((fn, [next(j for j, x in enumerate(inputs) if x is c) for c in ins], len(outs)))
        outputs += outs

    def load(*values):
        out = []
        for fn, idx, n in parts:
            try:
                got = fn(*(values[j] for j in idx))
                if n > 1 and not (isinstance(got, (tuple, list)) and len(got) == n):
                    raise TypeError(f"{n} outputs expected, got {type(got).__name__}")   # would shift the other tabs
            except Exception as e:  # noqa: BLE001 - the handlers' own messages (gr.Error) or a short one
                log.warning("first figures of %s failed: %s", getattr(fn, "__name__", fn), e)
                gr.Warning(e.message if isinstance(e, gr.Error) else "A tab's first figures could not be computed.")
                got = tuple(gr.skip() for _ in range(n)) if n > 1 else gr.skip()
            out += list(got) if n > 1 else [got]
        return out
    return load, inputs, outputs


def default_args(inputs: list) -> list:
    """The values the inputs show when a page opens (a gr.State: its initial value)."""
    return [getattr(c, "value", None) for c in inputs]


def warm(events: list[tuple[Callable, list, list]]) -> threading.Thread:
    """Compute every load event (first_figures-wrapped) at its default settings in one background thread (daemon);
    errors are logged only."""
    def work():
        for fn, inputs, _ in events:
            t0 = time.perf_counter()
            try:
                fn(*default_args(inputs), _dx_fill=True)
            except (gr.Error, Exception) as e:  # noqa: BLE001 - a failed warm-up only means the first visitor computes it
                log.warning("warm-up of %s failed: %s", getattr(fn, "__name__", fn), e)
            WARM_UP[getattr(fn, "__name__", str(fn))] = time.perf_counter() - t0
    thread = threading.Thread(target=work, name="dx-warm-up", daemon=True)
    thread.start()
    return thread
