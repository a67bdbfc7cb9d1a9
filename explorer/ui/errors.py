"""What a user reads when a request fails: a short sentence, never a traceback or a server path, and for Gradio's
own errors never an exception's name.

The app's own handlers already raise gr.Error with clear messages (common.user_errors). What this adds is a hook on
Gradio's error path, for what fails before or after a handler: Gradio's input checks (a file outside the upload
folder, a file that is not an image, an unknown dropdown value, a payload of the wrong shape) raise their own
exceptions, whose text names server paths, class names and types. `install()` wraps the function that turns an
exception into the message sent to the browser (gradio.utils.error_payload, as gradio.queueing and gradio.routes call
it), the one that sends toasts (Queue.log_message: gr.Warning / gr.Info), and the refusal of the file route (its 403
named the requested path). Every message is also shown as text (HTML escaped once: toasts render HTML).
"""
from __future__ import annotations

import functools
import logging
import re

from .safe_text import toast_text

log = logging.getLogger("explorer.ui.errors")

MAX_CHARS = 500
FILE_REFUSED = "That file cannot be used here: upload it through the page's file box."
NOT_AN_IMAGE = "That file is not an image this app can read: upload a PNG or JPEG image."
WRONG_FORM = "An input had the wrong type or form for its control; reload the page and try again."
FILE_NOT_ALLOWED = "File not allowed."

PATH = re.compile(r"""(?<![\w.~/])(?:/[^\s/'"()<>,;:]+){2,}/?|[A-Za-z]:\\[^\s'"<>]+|\S*site-packages\S*""")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]*\", line \d+")
CHOICES = re.compile(r"^Value: (?P<value>.*?)(?: \(type: <class '\w+'>\))? is not in the list of choices: "
                     r"(?P<choices>\[.*\])$", re.S)
COMPONENT = re.compile(r"^Could not preprocess input component at index (?P<index>\d+) \(a `(?P<kind>\w+)` "
                       r"component\).*?(?:Expected a `(?P<expected>[^`]+)`, but the|The) value passed to the event "
                       r"handler was: (?P<value>.*?) \(of type `\w+`\)", re.S)
GRADIO_FILE = re.compile(r"^(?:Cannot move .* to the gradio cache dir|File .* is not in the cache folder|Dotfiles "
                         r"located in the temporary directory)", re.S)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def app_error_message(message: str) -> str:
    """A gr.Error's message (the app's or Gradio's own) as shown: Gradio's known ones rewritten, paths taken out, at
    most MAX_CHARS characters, as text. (The app's catch-all in common.user_errors names the exception's class on
    purpose; Gradio's own exceptions never reach the user by name, see internal_error_message.)"""
    message = str(message)
    if GRADIO_FILE.match(message):
        return FILE_REFUSED
    m = CHOICES.match(message)
    if m:
        message = f"{_short(m['value'])} is not in the list of choices: {_short(m['choices'], 300)}"
    if TRACEBACK.search(message):
        return WRONG_FORM
    message = PATH.sub("(a file)", message).strip() or WRONG_FORM
    return toast_text(_short(message, MAX_CHARS))


def internal_error_message(error: BaseException) -> str:
    """The message for an exception that is not a gr.Error (from Gradio's own processing): what to do, no details."""
    from gradio.exceptions import InvalidPathError

    causes = [error, error.__cause__] if error.__cause__ is not None else [error]
    names = {cls.__name__ for e in causes for cls in type(e).__mro__}
    if any(isinstance(e, (InvalidPathError, FileNotFoundError, PermissionError)) for e in causes):
        return FILE_REFUSED
    if names & {"UnidentifiedImageError", "DecompressionBombError"}:
        return NOT_AN_IMAGE
    m = COMPONENT.match(str(error))          # Gradio's own input check: which input, what it expects, what came
    if m:
        value = _short(PATH.sub("(a file)", m["value"]))
        expected = f"Expected a `{m['expected']}`" if m["expected"] else "Unexpected value"
        return toast_text(f"{expected} for input {int(m['index']) + 1} (a {m['kind']}), got {value}.")
    return WRONG_FORM


def _message(error: BaseException | None, shown: str) -> str:
    from gradio.exceptions import Error as AppError

    if isinstance(error, AppError):
        return app_error_message(shown)
    log.warning("an error reached Gradio outside the handlers' checks: %s: %s", type(error).__name__, error)
    return internal_error_message(error)


def _wrap_error_payload(original):
    @functools.wraps(original)
    def error_payload(error, show_error):
        content = original(error, show_error)
        if content.get("error") is not None:
            content["error"] = _message(error, content["error"])
        if content.get("title"):
            content["title"] = toast_text(_short(str(content["title"]), 80))
        return content
    error_payload.__dx_errors__ = True
    return error_payload


def _wrap_log_message(original):
    @functools.wraps(original)
    def log_message(self, event_id, log, title, level, duration=10, visible=True):
        return original(self, event_id, app_error_message(log), toast_text(_short(str(title), 80)), level,
                        duration, visible)
    log_message.__dx_errors__ = True
    return log_message


def _wrap_file_fetch(original):
    from starlette.exceptions import HTTPException      # what gradio.route_utils raises (FastAPI's is a subclass)

    @functools.wraps(original)
    def file_fetch(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        except HTTPException as e:            # "File not allowed: <the requested path>."
            raise HTTPException(e.status_code, FILE_NOT_ALLOWED if e.status_code == 403 else "Not available.") from None
    file_fetch.__dx_errors__ = True
    return file_fetch


def _patch(module, name: str, wrap) -> None:
    current = getattr(module, name)
    if not getattr(current, "__dx_errors__", False):
        setattr(module, name, wrap(current))


def install() -> None:
    """Put the hooks on Gradio's error path (idempotent; for every app in this process)."""
    import gradio.queueing
    import gradio.routes
    import gradio.utils

    _patch(gradio.utils, "error_payload", _wrap_error_payload)       # gradio.routes calls utils.error_payload
    _patch(gradio.queueing, "error_payload", _wrap_error_payload)    # gradio.queueing imported the name
    _patch(gradio.queueing.Queue, "log_message", _wrap_log_message)
    _patch(gradio.routes, "file_fetch", _wrap_file_fetch)
