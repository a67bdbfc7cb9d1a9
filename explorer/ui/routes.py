"""What the app adds to Gradio's web server: plotly.js at a stable URL that names no server path (PLOTLY_URL; the
animations' iframes load it from there), and exported HTML pages sent as downloads (never opened as pages of the app's
own origin). Gradio builds its FastAPI app inside launch(), so `install()` wraps the function that builds it."""
from __future__ import annotations

import functools
from pathlib import Path

from ..viz.animation import PLOTLY_JS, PLOTLY_URL
from ..viz.export import EXPORT_DIR

CACHE = "public, max-age=86400"          # the URL names plotly's version: a new version is a new URL


def _plotly_js():
    from fastapi.responses import FileResponse

    return FileResponse(PLOTLY_JS, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": CACHE})


def add_routes(app) -> None:
    """Add the app's own routes to a Gradio (FastAPI) app, once."""
    if any(getattr(r, "path", None) == PLOTLY_URL for r in app.routes):
        return
    app.add_api_route(PLOTLY_URL, _plotly_js, methods=["GET", "HEAD"], include_in_schema=False)


def _exported_page(response) -> None:
    """An HTML file from the export folder: a download (attachment), not a page on the app's origin."""
    path = getattr(response, "path", None)
    if path and str(path).endswith(".html") and Path(path).resolve().is_relative_to(EXPORT_DIR.resolve()):
        response.headers["content-disposition"] = response.headers.get("content-disposition", "").replace(
            "inline", "attachment", 1) or "attachment"


def _wrap_create_app(original):
    @functools.wraps(original)
    def create_app(*args, **kwargs):
        app = original(*args, **kwargs)
        add_routes(app)
        return app
    create_app.__dx_wrapped__ = True
    return staticmethod(create_app)


def _wrap_file_fetch(original):
    @functools.wraps(original)
    def file_fetch(*args, **kwargs):
        response = original(*args, **kwargs)
        _exported_page(response)
        return response
    file_fetch.__dx_routes__ = True
    return file_fetch


def install() -> None:
    """Wrap gradio.routes.App.create_app (every app built from now on gets add_routes) and its file route (idempotent)."""
    import gradio.routes

    if not getattr(gradio.routes.App.create_app, "__dx_wrapped__", False):
        gradio.routes.App.create_app = _wrap_create_app(gradio.routes.App.create_app)
    if not getattr(gradio.routes.file_fetch, "__dx_routes__", False):
        gradio.routes.file_fetch = _wrap_file_fetch(gradio.routes.file_fetch)
