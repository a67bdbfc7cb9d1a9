"""Exports: an animation as a standalone HTML file (plotly.js inlined: plays offline, no server, no CDN), and the
bounded folder every export file lives in (the GIFs of explorer/viz/gif.py and the MP4s of explorer/viz/mp4.py too).

The bound: each owner (a session) has one file per kind (suffix) in a folder of its own, replaced by its next export
of that kind; the folder as a whole holds at most CAP_BYTES (the oldest files of any owner are removed first, and an
export larger than the cap by itself is refused); files older than KEEP_S go; `forget(owner)` removes an owner's
folder when its session ends. What is on disk is what is counted: the app serves these files from here (a Gradio
static path), so Gradio keeps no copy of them in its cache.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from .animation import figure_page

EXPORT_DIR = Path(tempfile.gettempdir()) / "diffusion-explorer-exports"
KEEP_S = 3600          # exported files older than this are removed when a new one is written
CAP_BYTES = int(float(os.environ.get("EXPLORER_EXPORT_CAP_MB", "1024")) * 1_000_000)   # the folder as a whole
STAGING = ".staging-"  # files still being written: counted, never evicted
_SALT = secrets.token_hex(16)          # folder names cannot be derived from a session id without it
_LOCK = threading.Lock()


class ExportTooLarge(ValueError):
    """An export that the folder's cap cannot hold; the message says what to lower."""


def owner_dir(owner: str) -> Path:
    """The folder of one owner (a session id; "" for calls without a session): a salted hash, not the id itself."""
    digest = hashlib.sha256(f"{_SALT}:{owner}".encode()).hexdigest()[:32]
    return EXPORT_DIR / digest


def _stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:80] or "animation"


def write_export(name: str, suffix: str, write: Callable[[Path], object], *, owner: str = "") -> Path:
    """Run write(path) on a staging file, then publish it as owner's only `suffix` file (f"{name}{suffix}") under the
    folder's cap; returns its path. ExportTooLarge when the file alone is over the cap."""
    folder = owner_dir(owner)
    with _LOCK:                        # not between another export's cleanup and its rmdir of an empty folder
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=STAGING, suffix=suffix, dir=folder)
    os.close(fd)
    staged = Path(tmp)
    try:
        write(staged)
        size = staged.stat().st_size
        if size > CAP_BYTES:
            raise ExportTooLarge(f"This export is {size / 1e6:.0f} MB, more than the server keeps for downloads "
                                 f"({CAP_BYTES / 1e6:.0f} MB); lower the particles or the frames and try again.")
        final = folder / f"{_stem(name)}{suffix}"
        with _LOCK:
            os.replace(staged, final)
            for other in folder.glob(f"*{suffix}"):
                if other != final and not other.name.startswith(STAGING):
                    other.unlink(missing_ok=True)
            _enforce_cap(keep=final)
        return final
    finally:
        staged.unlink(missing_ok=True)


def _files() -> list[tuple[float, int, Path]]:
    """(mtime, size, path) of every file in the export folder, oldest first."""
    out = []
    for p in EXPORT_DIR.glob("*/*"):
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((st.st_mtime, st.st_size, p))
    return sorted(out)


def _enforce_cap(keep: Path) -> None:
    """Remove files older than KEEP_S, then the oldest published files until the folder is under CAP_BYTES."""
    files, now = _files(), time.time()
    total = sum(size for _, size, _ in files)
    for mtime, size, path in files:
        if path == keep or path.name.startswith(STAGING):
            continue
        if total <= CAP_BYTES and now - mtime <= KEEP_S:
            continue
        path.unlink(missing_ok=True)
        total -= size
    for folder in EXPORT_DIR.iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def folder_bytes() -> int:
    """Bytes in the export folder now (all owners, staging files included)."""
    return sum(size for _, size, _ in _files())


def forget(owner: str) -> None:
    """Remove an owner's exports (its session ended)."""
    with _LOCK:
        shutil.rmtree(owner_dir(owner), ignore_errors=True)


def write_standalone(fig: dict, name: str, *, owner: str = "", title: str = "Diffusion Explorer") -> Path:
    """Write the figure as a self-contained HTML page, owner's one HTML export, named after `name`; returns its path."""
    page = figure_page(fig, None, title=title)
    return write_export(name, ".html", lambda p: p.write_text(page, encoding="utf-8"), owner=owner)
