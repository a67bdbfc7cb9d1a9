"""The course: at least 15 lessons in three tracks in each tutorial's order, each computing its figure live with valid
controls, a question and its answer, previous/next through the whole course, and every tab naming its lessons."""
from __future__ import annotations

import time

import gradio as gr
import pytest

from explorer.distributions import DATASETS
from explorer.lessons import LESSON_BY_KEY, LESSONS, TRACKS, lessons_for_tab
from explorer.process import PROCESSES
from explorer.ui.lessons_tab import TAB_LABELS, _step, lessons_line, open_in_tab, redraw, show_lesson

KEYS = [lesson.key for lesson in LESSONS]


def test_at_least_fifteen_lessons_in_three_tracks():
    assert len(LESSONS) >= 15
    assert len(set(KEYS)) == len(KEYS)
    assert set(TRACKS) == {"chan", "luo", "notes", "more"}     # the three tutorials, and flow matching / design space
    for track in ("chan", "luo", "notes"):
        assert sum(lesson.track == track for lesson in LESSONS) >= 4, track
    assert sum(lesson.track == "more" for lesson in LESSONS) >= 2
    tracks = [lesson.track for lesson in LESSONS]          # each track is one contiguous run, in TRACKS' order
    assert sorted(dict.fromkeys(tracks), key=list(TRACKS).index) == list(dict.fromkeys(tracks)) == list(TRACKS)


def _pos(key):
    return KEYS.index(key)


def test_each_track_follows_its_tutorials_order():
    # Chan: VAE -> DDPM -> SMLD -> SDE
    assert _pos("chan-vae") < _pos("chan-forward") < _pos("chan-ddpm") < _pos("chan-score") < _pos("chan-langevin") \
        < _pos("chan-sde")
    # Luo: ELBO -> variational diffusion -> three objectives -> score -> guidance
    assert _pos("luo-elbo") < _pos("luo-hvae") < _pos("luo-vdm") < _pos("luo-three") < _pos("luo-tweedie") \
        < _pos("luo-classifier") < _pos("luo-cfg")
    # the lecture notes: DDPM -> DDIM -> guidance
    assert _pos("notes-posterior") < _pos("notes-ddim") < _pos("notes-digits")
    # beyond them: flow matching, then the design space
    assert _pos("notes-digits") < _pos("more-flow") < _pos("more-couplings") < _pos("more-grids")


@pytest.mark.parametrize("key", KEYS)
def test_every_lesson_computes_its_figure_with_valid_controls(key):
    lesson = LESSON_BY_KEY[key]
    for part in (lesson.title, lesson.text, lesson.look_for, lesson.question, lesson.answer):
        assert isinstance(part, str) and len(part.strip()) > 10
    assert lesson.tabs and all(tab in TAB_LABELS for tab in lesson.tabs)
    if lesson.preset is not None:
        dataset, process = lesson.preset
        assert dataset in DATASETS and process in PROCESSES
    c = lesson.control
    values = [None]
    if c is not None:
        assert c.minimum < c.maximum and c.step > 0 and c.minimum <= c.default <= c.maximum
        steps = (c.default - c.minimum) / c.step
        assert abs(steps - round(steps)) < 1e-6, "the default lies on the slider's grid"
        values += [c.minimum, c.maximum]
        for bad in (c.minimum - c.step, c.maximum + c.step, float("nan")):
            with pytest.raises(ValueError):
                lesson.compute(bad)
    for v in values:
        t0 = time.perf_counter()
        shown = lesson.compute(v)
        seconds = time.perf_counter() - t0
        fig = shown.figure
        assert len(fig.data) >= 1 and all(getattr(tr, "type", None) for tr in fig.data)
        assert shown.note and isinstance(shown.facts, dict) and shown.facts
        assert seconds < 10, f"{key} at {v} took {seconds:.1f} s"     # ~1 s on a quiet core; CI is shared


def test_the_tab_shows_a_lesson_and_walks_the_course():
    out = show_lesson(KEYS[0])
    assert out[0] == KEYS[0] and "1." in out[3]
    assert _step(KEYS[0], -1) == KEYS[0] and _step(KEYS[-1], +1) == KEYS[-1]
    walked = [KEYS[0]]
    while walked[-1] != KEYS[-1]:
        walked.append(_step(walked[-1], +1))
    assert walked == KEYS
    with pytest.raises(gr.Error):
        show_lesson("no-such-lesson")
    with pytest.raises(gr.Error):          # the slider's value is checked on the server
        redraw("chan-forward", 7.0)
    with pytest.raises(gr.Error):
        redraw("chan-forward", "abc")
    fig, note = redraw("chan-forward", 0.3)
    assert "t = 0.30" in note
    dataset, process, tabs = open_in_tab("chan-langevin")
    assert dataset["value"] == "asym3" and process["value"] and tabs.selected == "sampling"


def test_every_tab_says_which_lessons_explain_it():
    for tab in TAB_LABELS:
        numbers = lessons_for_tab(tab)
        assert numbers, f"no lesson explains the {tab} tab"
        line = lessons_line(tab)
        assert all(str(n) in line for n in numbers)
    assert lessons_line("lessons") == ""
