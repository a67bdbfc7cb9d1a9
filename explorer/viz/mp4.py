"""Animations as MP4 videos (H.264, yuv420p: plays in browsers, slides and phones), frame for frame what the GIF shows.

The frames are drawn by explorer/viz/gif.py (the same matplotlib figure, the same image strips) and piped to the
ffmpeg that ships inside the imageio-ffmpeg wheel (nothing is downloaded at run time). One video frame per animation
step at the GIF's pace (FRAME_MS), so the video has exactly as many frames as the animation; a player stops on the
last one.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterable

import numpy as np

from .. import interrupt
from .animation import Panel
from .gif import FRAME_MS, MAX_POINTS, image_frames, panel_drawer

FPS = Fraction(1000, FRAME_MS)          # 12.5 frames a second, as the GIF
CRF = 20                                # x264 constant quality: small markers keep their colour in P-frames (at 24 some lose it); ~1.7 MB for 2,000 particles x 60 frames
THREADS = 2                             # the encoder's threads (a shared small CPU: never all of them)


def ffmpeg_exe() -> str:
    """The ffmpeg binary bundled with imageio-ffmpeg (a clear error if the package is missing)."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise RuntimeError("MP4 export needs the imageio-ffmpeg package (pip install imageio-ffmpeg); "
                           "HTML and GIF exports work without it.") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def _even(rgb: np.ndarray) -> np.ndarray:
    """Pad [H, W, 3] with white to even H and W (4:2:0 chroma halves both)."""
    h, w = rgb.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return np.ascontiguousarray(rgb, dtype=np.uint8)
    out = np.full((h + h % 2, w + w % 2, 3), 255, dtype=np.uint8)
    out[:h, :w] = rgb
    return out


def write_mp4(frames: Iterable[np.ndarray], path, *, fps: Fraction = FPS) -> Path:
    """RGB frames (uint8 [H, W, 3], one shape) -> an H.264 MP4 at fps, one video frame per frame; returns the path."""
    import imageio_ffmpeg

    ffmpeg_exe()
    path = Path(path)
    writer, shape, count = None, None, 0
    try:
        for rgb in frames:
            interrupt.check()
            rgb = np.asarray(rgb)
            if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[-1] != 3:
                raise ValueError(f"frame {count}: expected uint8 [H, W, 3], got {rgb.dtype} {list(rgb.shape)}.")
            rgb = _even(rgb)
            if writer is None:
                shape = rgb.shape
                writer = imageio_ffmpeg.write_frames(
                    str(path), (shape[1], shape[0]), fps=fps, codec="libx264", quality=None, macro_block_size=2,
                    ffmpeg_log_level="error", pix_fmt_out="yuv420p",
                    output_params=["-crf", str(CRF), "-preset", "veryfast", "-tune", "animation",
                                   "-threads", str(THREADS), "-movflags", "+faststart"])
                writer.send(None)
            elif rgb.shape != shape:
                raise ValueError(f"every frame needs the same shape: frame {count} is {list(rgb.shape)}, "
                                 f"frame 0 {list(shape)}.")
            writer.send(rgb)
            count += 1
        if writer is None:
            raise ValueError("No frames to animate.")
    finally:
        if writer is not None:
            writer.close()
    return path


def panels_mp4(panels: list[Panel], frame_labels: list[str], path, *, title: str = "", time_label: str = "",
               max_points: int = MAX_POINTS) -> Path:
    """Panels side by side (as panels_gif draws them) -> an MP4 of F frames."""
    with panel_drawer(panels, frame_labels, title=title, time_label=time_label, max_points=max_points) as (n, draw):
        return write_mp4((draw(k) for k in range(n)), path)


def images_mp4(frames: list[np.ndarray], labels: list[str], path, *, scale: int | None = None,
               font_px: int = 18) -> Path:
    """Images (uint8 [H, W] or [H, W, 3], one shape) -> an MP4, upscaled and labelled as images_gif does."""
    return write_mp4(image_frames(frames, labels, scale=scale, font_px=font_px), path)
