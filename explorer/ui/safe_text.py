"""Text is text: what a user, a link or an upload supplies is shown as its characters, never read as markup.

Gradio renders toasts (gr.Warning / gr.Info / gr.Error) and gr.HTML as HTML, gr.Markdown as Markdown with HTML in it,
and plotly renders titles, legends and hover text as a subset of HTML (links included). Escape a user's piece at the
point where it joins the app's own text: `html_text` for HTML, toasts and plotly strings, `markdown_text` for Markdown.
"""
from __future__ import annotations

import html
import re

_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")       # every ASCII punctuation character
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def html_text(value, limit: int | None = None) -> str:
    """str(value) (cut to `limit` characters) with & < > " ' escaped: shown literally in HTML and plotly text."""
    text = str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return html.escape(text, quote=True)


def markdown_text(value, limit: int | None = None) -> str:
    """str(value) on one line with every ASCII punctuation character as a numeric entity: no Markdown link, image,
    emphasis, code, autolink, LaTeX delimiter or HTML tag can form from it, and it reads the same."""
    text = _LINE_BREAKS.sub(" ", str(value))
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return _PUNCTUATION.sub(lambda m: f"&#{ord(m.group())};", text)


def toast_text(message) -> str:
    """A toast's message as text: escaped once, whether or not its author escaped it already (no &amp;lt; shown)."""
    return html.escape(html.unescape(str(message)), quote=False)
