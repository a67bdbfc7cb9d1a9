"""Sketchpads whose images are checked from their headers before anything decodes them (explorer.images.check_sketch).

gr.Sketchpad decodes every image of its value (background, each layer, composite) in its preprocess, before the handler
runs, and keeps the canvas blobs the browser sends (accept_blobs) in memory until the event that uses them. Here the
value reaches the handler as file paths, undecoded, once check_sketch has read the headers; a blob that is too large,
not an image or past MAX_LAYERS is refused on arrival, and the blobs waiting for their event are bounded in all.
"""
from __future__ import annotations

import inspect
import threading
from collections import OrderedDict

import gradio as gr
from gradio import processing_utils
from gradio.components.base import server
from gradio.components.image_editor import AcceptBlobs, EditorData, EditorDataBlobs

from ..images import (
    MAX_LAYERS,
    MAX_SKETCH_SIDE,
    ImageInputError,
    check_image,
    check_sketch,
)

MAX_BLOB_BYTES = 4_000_000       # one canvas image as the browser sends it (a 320-pixel canvas is ~10-400 KB)
MAX_PENDING_BYTES = 64_000_000   # all blobs waiting for their event, every session together; the oldest go first
MAX_PENDING = 1_000              # drawings (blob ids) waiting for their event, and refusals waiting for theirs
PARTS = ("background", "layer", "composite")


class CheckedSketchpad(gr.Sketchpad):
    """gr.Sketchpad(type="filepath") whose value is refused from its headers (check_sketch) and never decoded here."""

    def __init__(self, *args, **kwargs):
        kwargs["type"] = "filepath"
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, int] = OrderedDict()        # blob id -> bytes held
        self._errors: OrderedDict[str, str] = OrderedDict()         # blob id -> why its blobs were refused

    __init__.__signature__ = inspect.signature(gr.Sketchpad.__init__)   # Gradio builds the config from it

    def get_block_name(self) -> str:
        return "imageeditor"                    # the browser's component (gr.Sketchpad is a template of it)

    def get_block_class(self) -> str:
        return "imageeditor"                    # what the API info names, as for gr.Sketchpad

    def preprocess(self, payload: EditorData | None) -> dict | None:
        """{background, layers, composite} as file paths (None where absent), after check_sketch; gr.Error if refused."""
        if payload is None:
            return None
        parts = self._parts(payload)
        try:
            check_sketch(parts)
        except ImageInputError as err:
            raise gr.Error(str(err)) from None
        return {"background": self._path(parts["background"], "background"),
                "layers": [self._path(p, f"layer_{i}") for i, p in enumerate(parts["layers"])],
                "composite": self._path(parts["composite"], "composite")}

    def _parts(self, payload: EditorData) -> dict:
        """The payload's images as paths (uploaded files) or bytes (canvas blobs); layer count checked first."""
        if payload.id is None:
            if len(payload.layers) > MAX_LAYERS:
                raise gr.Error(f"the drawing has {len(payload.layers)} layers; at most {MAX_LAYERS} are accepted")
            path = lambda f: f.path if f is not None else None
            return {"background": path(payload.background), "layers": [path(f) for f in payload.layers],
                    "composite": path(payload.composite)}
        with self._lock:
            error = self._errors.pop(payload.id, None)
            blobs = self.blob_storage.pop(payload.id, None)
            self._pending.pop(payload.id, None)
        if error:
            raise gr.Error(error)
        if blobs is None:
            return {"background": None, "layers": [], "composite": None}
        return {"background": blobs.background, "layers": [b for b in blobs.layers if b is not None],
                "composite": blobs.composite}

    def _path(self, part, name: str) -> str | None:
        """A path for one checked image: an uploaded file as it is, a blob written to Gradio's cache."""
        if part is None or isinstance(part, str):
            return part
        return processing_utils.save_bytes_to_cache(bytes(part), f"{name}.png", self.GRADIO_CACHE)

    @server
    def accept_blobs(self, data: AcceptBlobs):
        """Keep one canvas image the browser sends until its event; refuse it (and its event) when it is not acceptable."""
        info, files = data.data, data.files
        blob_id = str(info.get("id", ""))[:100]
        blob = files[0][1] if files else b""
        kind, index = info.get("type"), _index(info.get("index"))
        error = _blob_error(kind, index, blob)
        with self._lock:
            if error is not None:
                self.blob_storage.pop(blob_id, None)
                self._pending.pop(blob_id, None)
                self._errors[blob_id] = error
                while len(self._errors) > MAX_PENDING:
                    self._errors.popitem(last=False)
                return
            if blob_id in self._errors:
                return
            current = self.blob_storage.get(blob_id) or EditorDataBlobs(background=None, layers=[], composite=None)
            if kind == "layer":
                current.layers.extend([None] * (index + 1 - len(current.layers)))
                current.layers[index] = blob
            elif kind == "background":
                current.background = blob
            else:
                current.composite = blob
            self.blob_storage[blob_id] = current
            self._pending[blob_id] = self._pending.get(blob_id, 0) + len(blob)
            self._pending.move_to_end(blob_id)
            self._evict()

    def _evict(self) -> None:
        """Drop the oldest waiting drawings until at most MAX_PENDING hold at most MAX_PENDING_BYTES (lock held)."""
        while len(self._pending) > 1 and (len(self._pending) > MAX_PENDING
                                          or sum(self._pending.values()) > MAX_PENDING_BYTES):
            old, _ = self._pending.popitem(last=False)
            self.blob_storage.pop(old, None)


def _index(value) -> int | None:
    """A layer index as the browser sends it (a number, "null" or nothing)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _blob_error(kind, index: int | None, blob: bytes) -> str | None:
    """Why one canvas blob is refused (None when it is fine): its kind, layer index, size, then its header."""
    if kind not in PARTS:
        return "the drawing could not be read; draw again"
    if kind == "layer" and (index is None or not 0 <= index < MAX_LAYERS):
        return f"the drawing has more than {MAX_LAYERS} layers; at most {MAX_LAYERS} are accepted"
    if len(blob) > MAX_BLOB_BYTES:
        return f"the drawing is {len(blob) / 1e6:.1f} MB as a file; at most {MAX_BLOB_BYTES / 1e6:.0f} MB are accepted"
    try:
        check_image(blob, largest=MAX_SKETCH_SIDE)
    except ImageInputError as err:
        return str(err)
    return None
