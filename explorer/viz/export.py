"""Exports: an animation as a standalone HTML file (plotly.js inlined: plays offline, no server, no CDN), and fresh
file paths for the other export formats (the GIFs of explorer/viz/gif.py)."""
from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from .animation import figure_page

EXPORT_DIR = Path(tempfile.gettempdir()) / "diffusion-explorer-exports"
KEEP_S = 3600          # exported files older than this are removed when a new one is written


def export_path(name: str, suffix: str) -> Path:
    """A fresh, empty file in EXPORT_DIR named after `name` with `suffix` (".html", ".gif"); old exports are removed."""
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in EXPORT_DIR.glob("*" + suffix):
        try:
            if now - old.stat().st_mtime > KEEP_S:
                old.unlink()
        except OSError:
            pass
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "animation"
    fd, path = tempfile.mkstemp(prefix=f"{stem}-", suffix=suffix, dir=EXPORT_DIR)
    os.close(fd)
    return Path(path)


def write_standalone(fig: dict, name: str, *, title: str = "Diffusion Explorer") -> Path:
    """Write the figure as a self-contained HTML page to a fresh file named after `name`; returns its path."""
    path = export_path(name, ".html")
    path.write_text(figure_page(fig, None, title=title), encoding="utf-8")
    return path
