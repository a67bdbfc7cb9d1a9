"""explorer/ui/startup.py: the first figures' cache (same settings, same read-only answer; costly views only from the
cache) and the one page-load step that answers every tab at once (a failing tab warns and keeps its panels)."""
from __future__ import annotations

import gradio as gr
import pytest

from explorer.ui import startup


def _events():
    calls = []

    def cheap(a, b):
        calls.append(("cheap", a, b))
        return gr.Plot(label=f"{a}+{b}"), f"note {a}"

    def costly(b):
        calls.append(("costly", b))
        return f"costly {b}"

    def broken(a):
        raise gr.Error(f"no such setting {a!r}")

    cheap.__qualname__, costly.__qualname__ = f"cheap{id(calls)}", f"costly{id(calls)}"   # fresh cache keys per test
    with gr.Blocks():
        a, b, c = gr.Textbox("x"), gr.Number(1), gr.Textbox()
        outs = [gr.Plot(), gr.Markdown(), gr.Markdown(), gr.Markdown()]
    events = [(startup.first_figures(cheap, 2), [a, b], outs[:2]),
              (startup.first_figures(startup.cached_only(costly), 1), [b], outs[2:3]),
              (startup.first_figures(broken, 1), [c], outs[3:])]
    return events, calls, (a, b, c), outs


def test_the_cache_answers_the_same_settings_with_fresh_copies_and_costly_views_only_when_warmed():
    events, calls, _, _ = _events()
    cheap, costly = events[0][0], events[1][0]
    first, again = cheap("x", 1), cheap("x", 1)
    assert calls == [("cheap", "x", 1)]                          # computed once
    assert first[0] is not again[0] and first[0].label == again[0].label == "x+1"   # Gradio consumes what it is given
    assert cheap("y", 1)[1] == "note y" and len(calls) == 2      # other settings: computed live
    assert isinstance(costly(5), type(gr.skip())) and len(calls) == 2   # not warmed: its button's job
    startup.warm([events[1]]).join()                              # as at start: the default settings (b = 1)
    assert calls[-1] == ("costly", 1)
    assert costly(1) == "costly 1" and len(calls) == 3            # from the cache


def test_one_step_answers_every_tab_in_order_and_a_failing_tab_keeps_its_panels():
    events, calls, (a, b, c), outs = _events()
    load, inputs, outputs = startup.one_step(events)
    assert inputs == [a, b, c] and outputs == outs                # each input once, every output in its tab's order
    with pytest.warns(UserWarning, match="no such setting 'zzz'"):     # gr.Warning outside a request: a warning
        got = load("x", 1, "zzz")
    assert len(got) == 4 and got[0].label == "x+1" and got[1] == "note x"
    skip = type(gr.skip())
    assert isinstance(got[2], skip)                               # costly, not warmed: left to its button
    assert isinstance(got[3], skip)                               # failed (a warning is shown): its panel unchanged
    assert [k for k, *_ in calls] == ["cheap"]


def test_one_step_treats_a_wrong_number_of_answers_as_that_tab_failing():
    """A handler answering 1 value for its 2 outputs would shift every later tab's values onto the wrong panels."""
    with gr.Blocks():
        a, outs = gr.Textbox("x"), [gr.Markdown(), gr.Markdown(), gr.Markdown()]

    def short(v):
        return "only one"

    def later(v):
        return f"later {v}"

    short.__qualname__, later.__qualname__ = "short_once", "later_once"
    load, _, _ = startup.one_step([(startup.first_figures(short, 2), [a], outs[:2]),
                                   (startup.first_figures(later, 1), [a], outs[2:])])
    with pytest.warns(UserWarning):
        got = load("x")
    skip = type(gr.skip())
    assert isinstance(got[0], skip) and isinstance(got[1], skip) and got[2] == "later x"
