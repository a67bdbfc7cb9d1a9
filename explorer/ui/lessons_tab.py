"""Tab "Lessons": the course (explorer.lessons) — three tracks, each lesson with its live figure, a question to answer,
previous / next, and a link into the tab it explains; the glossary of every symbol below it."""
from __future__ import annotations

import gradio as gr

from ..lessons import LESSON_BY_KEY, LESSONS, TRACKS, lesson_number, lessons_for_tab
from .common import Setup, number, read_markdown, user_errors

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
TAB_LABELS = {"forward": "Forward process", "score": "Score field", "learned": "Learned score", "sampling": "Sampling",
              "likelihood": "Likelihood", "guidance": "Guidance", "vae": "VAE", "images": "Images", "flow": "Flow matching"}
FIRST = LESSONS[0].key


CHOICES = [(f"{lesson_number(x.key)}. {x.title}", x.key) for x in LESSONS]    # the whole course, in order


def lessons_line(tab: str) -> str:
    """One line for a tab: the lessons that explain it (Markdown)."""
    numbers = lessons_for_tab(tab)
    if not numbers:
        return ""
    return f"*Explained in the Lessons tab: lesson{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))}.*"


def _lesson(key) -> object:
    if not isinstance(key, str) or key not in LESSON_BY_KEY:
        raise gr.Error(f"unknown lesson {key!r}; expected one of {list(LESSON_BY_KEY)}")
    return LESSON_BY_KEY[key]


def _heading(lesson) -> str:
    in_track = [x.key for x in LESSONS if x.track == lesson.track]
    k = in_track.index(lesson.key) + 1
    tabs = ", ".join(f"**{TAB_LABELS[t]}**" for t in lesson.tabs)
    return (f"## {lesson_number(lesson.key)}. {lesson.title}\n"
            f"{TRACKS[lesson.track]} · step {k} of {len(in_track)} · explore it further in {tabs}")


@user_errors
def show_lesson(key):
    """Everything a lesson shows, its figure computed at the control's default."""
    lesson = _lesson(key)
    shown = lesson.compute()
    c = lesson.control
    slider = (gr.Slider(visible=False) if c is None else
              gr.Slider(minimum=c.minimum, maximum=c.maximum, step=c.step, value=c.default, label=c.label, visible=True))
    i = lesson_number(key) - 1
    return (key, gr.Radio(value=lesson.track), gr.update(value=key),      # an update: the choices stay the widget's
            _heading(lesson), lesson.text, slider, shown.figure, f"Measured now: {shown.note}",
            f"**What to look for.** {lesson.look_for}", f"**Question.** {lesson.question}",
            gr.Markdown(f"**Answer.** {lesson.answer}", visible=False), gr.Button(interactive=i > 0),
            gr.Button(interactive=i < len(LESSONS) - 1), gr.Button(value=f"Explore in {TAB_LABELS[lesson.tabs[0]]}"))


@user_errors
def redraw(key, value):
    """The lesson's figure at the control's value (checked here, whatever the slider allowed)."""
    lesson = _lesson(key)
    c = lesson.control
    if c is None:
        shown = lesson.compute()
    else:
        shown = lesson.compute(number(value, c.label, c.minimum, c.maximum))
    return shown.figure, f"Measured now: {shown.note}"


def _step(key, delta: int) -> str:
    keys = [x.key for x in LESSONS]
    i = keys.index(_lesson(key).key) + delta
    return keys[min(max(i, 0), len(keys) - 1)]


def open_in_tab(key):
    """The lesson's preset in the shared controls, and its first tab opened."""
    lesson = _lesson(key)
    tab = lesson.tabs[0]
    if lesson.preset is None:
        return gr.skip(), gr.skip(), gr.Tabs(selected=tab)
    dataset, process = lesson.preset
    return gr.update(value=dataset), gr.update(value=process), gr.Tabs(selected=tab)


def build_lessons_tab(setup: Setup, tabs: gr.Tabs, links=None) -> list:
    """Builds the tab; returns the (fn, inputs, outputs) to run when a page opens (the lesson a link names, else the
    first, with its figure)."""
    gr.Markdown(f"### The course: {len(LESSONS)} lessons\nThree tracks follow their tutorials' order, a fourth goes beyond them. Every "
                "figure is computed now, by the same code as the other tabs; change the slider to recompute it, answer "
                "the question before you reveal the answer, and open the tab it explains to explore further.")
    key = gr.State(FIRST)
    with gr.Row(equal_height=True):
        track = gr.Radio([(label, name) for name, label in TRACKS.items()], value=LESSONS[0].track, label="Track",
                         scale=3)
        pick = gr.Dropdown(CHOICES, value=FIRST, label="Lesson", scale=2)
    heading = gr.Markdown(elem_id="lesson-heading")
    text = gr.Markdown(latex_delimiters=LATEX, elem_id="lesson-text")
    control = gr.Slider(0, 1, label="control", visible=False, elem_id="lesson-control")
    plot = gr.Plot(label="Lesson figure", elem_id="lesson-figure")
    note = gr.Markdown(elem_id="lesson-note")
    look = gr.Markdown(latex_delimiters=LATEX)
    question = gr.Markdown(latex_delimiters=LATEX)
    reveal = gr.Button("Show the answer", size="sm")
    answer = gr.Markdown(latex_delimiters=LATEX, visible=False, elem_id="lesson-answer")
    with gr.Row():
        prev_btn = gr.Button("← Previous lesson")
        next_btn = gr.Button("Next lesson →", variant="primary")
        explore = gr.Button("Explore in its tab")
    with gr.Accordion("Glossary: every symbol the app uses, one meaning each", open=False):
        gr.Markdown(read_markdown("glossary"), latex_delimiters=LATEX, elem_id="glossary")

    outputs = [key, track, pick, heading, text, control, plot, note, look, question, answer, prev_btn, next_btn,
               explore]
    private = dict(api_visibility="private", show_progress="minimal")
    pick.input(show_lesson, pick, outputs, **private)
    track.input(lambda t: next(x.key for x in LESSONS if x.track == t) if t in TRACKS else FIRST, track, key,
                api_visibility="private", show_progress="hidden").then(show_lesson, key, outputs, **private)
    prev_btn.click(lambda k: _step(k, -1), key, key, api_visibility="private", show_progress="hidden").then(
        show_lesson, key, outputs, **private)
    next_btn.click(lambda k: _step(k, +1), key, key, api_visibility="private", show_progress="hidden").then(
        show_lesson, key, outputs, **private)
    control.release(redraw, [key, control], [plot, note], **private)
    gr.Button("Lesson", visible=False).click(redraw, [key, control], [plot, note], api_name="lesson")
    reveal.click(lambda: gr.Markdown(visible=True), None, answer, api_visibility="private", show_progress="hidden")
    explore.click(open_in_tab, key, [setup.dataset, setup.process, tabs], api_visibility="private")
    if links is not None:
        links.share("lesson", pick)        # "Copy a link" carries the lesson; opening the link shows it
    return [(show_lesson, [pick], outputs)]
