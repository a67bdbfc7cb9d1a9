"""Exports: an animation as a standalone HTML file (plotly.js inlined: plays offline, no server, no CDN)."""
from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from .animation import figure_page

EXPORT_DIR = Path(tempfile.gettempdir()) / "diffusion-explorer-exports"
KEEP_S = 3600          # exported files older than this are removed when a new one is written


def write_standalone(fig: dict, name: str, *, title: str = "Diffusion Explorer") -> Path:
    """Write the figure as a self-contained HTML page to a fresh file named after `name`; returns its path."""
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in EXPORT_DIR.glob("*.html"):
        try:
            if now - old.stat().st_mtime > KEEP_S:
                old.unlink()
        except OSError:
            pass
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "animation"
    fd, path = tempfile.mkstemp(prefix=f"{stem}-", suffix=".html", dir=EXPORT_DIR)
    with open(fd, "w", encoding="utf-8") as f:
        f.write(figure_page(fig, None, title=title))
    return Path(path)
