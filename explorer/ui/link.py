"""'Copy link': the current settings encoded in the page URL's query string, checked and restored when it is opened."""
from __future__ import annotations

import json
import math

import gradio as gr

from .safe_text import html_text

MAX_TEXT = 200          # characters of a text field carried in a link
MAX_PARAMS = 64         # query parameters read from a link at least (a copied link has every setting: ~75 now)


def _choice_values(component) -> list:
    return [c[1] if isinstance(c, (tuple, list)) else c for c in (component.choices or [])]


def parse_value(component, raw: str):
    """The value a query-string entry gives `component` (typed like the widget's own values); ValueError if invalid."""
    if not isinstance(raw, str) or len(raw) > 4 * MAX_TEXT:
        raise ValueError("too long")
    if isinstance(component, gr.CheckboxGroup):
        allowed = {str(v): v for v in _choice_values(component)}
        parts = [p for p in raw.split(",") if p]
        if any(p not in allowed for p in parts):
            raise ValueError(f"expected some of {list(allowed)}")
        return [allowed[p] for p in parts]
    if isinstance(component, (gr.Dropdown, gr.Radio)):
        allowed = {str(v): v for v in _choice_values(component)}
        if raw not in allowed:
            raise ValueError(f"expected one of {list(allowed)}")
        return allowed[raw]
    if isinstance(component, gr.Checkbox):
        if raw not in ("0", "1", "true", "false"):
            raise ValueError("expected 0 or 1")
        return raw in ("1", "true")
    if isinstance(component, (gr.Slider, gr.Number)):
        v = float(raw)
        lo = component.minimum if component.minimum is not None else -math.inf
        hi = component.maximum if component.maximum is not None else math.inf
        if not math.isfinite(v) or not lo <= v <= hi:
            raise ValueError(f"expected a number in [{lo:g}, {hi:g}]")
        integral = getattr(component, "precision", None) == 0 or (
            isinstance(component, gr.Slider) and float(component.step).is_integer() and float(lo).is_integer())
        return int(round(v)) if integral else v
    if isinstance(component, gr.Textbox):
        if len(raw) > MAX_TEXT:
            raise ValueError(f"at most {MAX_TEXT} characters")
        return raw
    raise ValueError("not a shareable setting")


def _quoted(text: str) -> str:
    """A link's key or value in a message: at most 40 characters, quoted, escaped."""
    return html_text(repr(text[:40]))


class Links:
    """The settings a link carries: a key per control, plus the open tab; builds the copy button and the restore step."""

    def __init__(self):
        self.controls: dict[str, gr.components.Component] = {}
        self.tab_ids: dict[str, str] = {}           # tab label -> tab id

    def share(self, key: str, component) -> None:
        """Carry `component`'s value in links under `key` (unique, URL-safe)."""
        if key in self.controls or key == "tab":
            raise ValueError(f"link key {key!r} used twice")
        self.controls[key] = component

    def share_many(self, prefix: str, **components) -> None:
        """share(f"{prefix}.{name}", component) for each keyword."""
        for name, component in components.items():
            self.share(f"{prefix}.{name}", component)

    def restore(self, query: dict) -> tuple[dict, list[str]]:
        """The values a link's query gives (key -> value) and a message per entry that was ignored (the link's text
        escaped: the toast that shows them renders HTML)."""
        values, ignored = {}, []
        limit = max(MAX_PARAMS, len(self.controls) + 1)      # a copied link carries every control and the tab
        for key, raw in list(query.items())[:limit]:
            if key == "tab":
                if raw in self.tab_ids.values():
                    values["tab"] = raw
                else:
                    ignored.append(f"tab={_quoted(raw)} (no such tab)")
            elif key in self.controls:
                try:
                    values[key] = parse_value(self.controls[key], raw)
                except ValueError as e:
                    ignored.append(f"{html_text(key)}={_quoted(raw)} ({html_text(e)})")
            else:
                ignored.append(f"{_quoted(key)} (not a setting)")
        return values, ignored

    def copy_js(self) -> str:
        """JS for the copy button: the controls' values (in `controls` order) -> the page URL with them, to the clipboard."""
        keys = json.dumps(list(self.controls))
        tab_ids = json.dumps(self.tab_ids)
        return f"""(...vals) => {{
  const keys = {keys}, tabIds = {tab_ids};
  const q = new URLSearchParams();
  keys.forEach((k, i) => {{
    const v = vals[i];
    if (v === null || v === undefined) return;
    q.set(k, Array.isArray(v) ? v.join(",") : (typeof v === "boolean" ? (v ? "1" : "0") : String(v)));
  }});
  const sel = document.querySelector('button[role="tab"][aria-selected="true"]');
  if (sel && tabIds[sel.textContent.trim()]) q.set("tab", tabIds[sel.textContent.trim()]);
  const url = window.location.origin + window.location.pathname + "?" + q.toString();
  try {{ navigator.clipboard.writeText(url); }} catch (e) {{}}
  return url;
}}"""

    def attach(self, demo: gr.Blocks, tabs: gr.Tabs, button: gr.Button, out: gr.Textbox):
        """Wire the copy button, and a page-load step that restores a link's settings; returns that load event."""
        comps = list(self.controls.values())
        button.click(None, comps, out, js=self.copy_js())

        def restore(request: gr.Request):
            query = dict(request.query_params) if request is not None else {}
            values, ignored = self.restore(query)
            if ignored:
                gr.Warning("Some link settings were ignored: " + "; ".join(ignored[:5]))
            updates = [gr.update(value=values[k]) if k in values else gr.skip() for k in self.controls]
            return updates + [gr.Tabs(selected=values["tab"]) if "tab" in values else gr.skip()]

        return demo.load(restore, None, comps + [tabs], api_visibility="private", show_progress="hidden")
