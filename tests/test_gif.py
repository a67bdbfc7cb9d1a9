"""GIF export (explorer/viz/gif.py): decoded frames show what was drawn, where it was drawn; bad input is refused."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageColor

from explorer.viz.animation import Panel
from explorer.viz.gif import images_gif, panels_gif
from explorer.viz.style import CLASS_COLORS


def decode(path) -> list[np.ndarray]:
    """Every frame of the GIF as RGB int arrays [H, W, 3]."""
    im = Image.open(path)
    out = []
    for k in range(im.n_frames):
        im.seek(k)
        out.append(np.asarray(im.convert("RGB"), dtype=np.int64))
    return out


def blended(color: str, alpha: float = 0.8) -> np.ndarray:
    """A class colour drawn with opacity alpha over white (how the particles look)."""
    rgb = np.array(ImageColor.getrgb(color), dtype=np.float64)
    return alpha * rgb + (1 - alpha) * 255


def near(frame: np.ndarray, color: np.ndarray, tol: float = 40.0) -> np.ndarray:
    """Mask [H, W] of pixels within tol (Euclidean, RGB) of color."""
    return np.linalg.norm(frame - color, axis=-1) < tol


def moving_right(n_frames: int = 8) -> np.ndarray:
    """One particle at y = 0 going from x = -0.8 to x = 0.8: frames [F, 1, 2]."""
    x = np.linspace(-0.8, 0.8, n_frames)
    return np.stack([x, np.zeros_like(x)], -1)[:, None, :].astype(np.float32)


def test_panels_gif_is_a_looping_gif_with_one_frame_per_step(tmp_path):
    path = panels_gif([Panel(moving_right(8), title="one particle")], [f"{t:.2f}" for t in np.linspace(0, 1, 8)],
                      tmp_path / "a.gif", title="A test", time_label="t = ")
    im = Image.open(path)
    assert im.format == "GIF" and im.n_frames == 8
    assert im.info.get("loop") == 0                      # loops forever
    assert 60 <= im.info["duration"] <= 100              # ~12 frames a second
    assert (decode(path)[0][:3, :3] == 255).all()          # a pure white background (it sits on white slides)


def test_a_particle_moving_right_moves_right_in_the_decoded_frames(tmp_path):
    """The centroid of the particle's (class-coloured) pixels moves right in every frame; text and axes are grey."""
    path = panels_gif([Panel(moving_right(8))], [str(k) for k in range(8)], tmp_path / "b.gif")
    colour = blended(CLASS_COLORS[0])
    xs = []
    for frame in decode(path):
        ys, cols = np.nonzero(near(frame, colour))
        assert 3 <= len(cols) <= 200, "one small marker per frame"
        xs.append(cols.mean())
        assert np.ptp(ys) < 10                            # y stays put
    steps = np.diff(xs)
    assert (steps > 0).all(), xs
    assert np.ptp(steps) < 0.25 * steps.mean()            # evenly spaced moves for evenly spaced positions


def test_class_colours_match_the_plotly_palette_and_positions(tmp_path):
    """Class 0 on the left, class 1 on the right: each drawn in its CLASS_COLORS colour, where it should be."""
    frames = np.array([[[-0.7, 0.0], [0.7, 0.0]]] * 2, dtype=np.float32)
    path = panels_gif([Panel(frames, labels=np.array([0, 1]), n_classes=2)], ["a", "b"], tmp_path / "c.gif")
    frame = decode(path)[0]
    left = np.nonzero(near(frame, blended(CLASS_COLORS[0])))[1]
    right = np.nonzero(near(frame, blended(CLASS_COLORS[1])))[1]
    assert len(left) and len(right)
    assert left.max() < right.min()


def test_more_panels_make_a_wider_gif(tmp_path):
    widths = []
    for k in (1, 2, 3, 4):
        panels = [Panel(moving_right(3), title=f"panel {i}") for i in range(k)]
        widths.append(Image.open(panels_gif(panels, ["0", "1", "2"], tmp_path / f"w{k}.gif")).size[0])
    assert widths == sorted(set(widths)), widths


def test_background_trails_and_density_are_drawn(tmp_path):
    """Grey data points, the dark trail and the blue density bands all appear; the frame count is unchanged."""
    rng = np.random.default_rng(0)
    f, g = 5, 20
    frames = rng.normal(size=(f, 50, 2)).astype(np.float32)
    axes = np.repeat(np.linspace(-3, 3, g)[None], f, 0)
    xx, yy = np.meshgrid(axes[0], axes[0])
    z = np.repeat((255 * np.exp(-(xx ** 2 + yy ** 2) / 4)).astype(np.uint8)[None], f, 0)
    panel = Panel(frames, background=rng.normal(size=(200, 2)) * 2, trails=frames[:, :2], density=(axes, z),
                  ranges=np.full((f, 2), 3.0))
    decoded = decode(panels_gif([panel], list("abcde"), tmp_path / "d.gif"))
    assert len(decoded) == f
    last = decoded[-1]
    assert near(last, np.array([187, 187, 187]), 12).sum() > 50          # background #BBBBBB
    blue = (last[..., 2] - last[..., 0] > 60) & (last[..., 2] > 150)    # the Blues bands (and blue particles)
    assert blue.sum() > 5000


def test_huge_clouds_are_thinned_evenly(tmp_path):
    """20,000 particles are drawn as at most max_points, every class still present (every k-th particle is kept)."""
    frames = np.zeros((2, 20_000, 2), np.float32)
    frames[:, :, 1] = np.tile(np.linspace(-0.9, 0.9, 10_000), 2)
    frames[:, :10_000, 0], frames[:, 10_000:, 0] = -0.5, 0.5        # class 0 on a line on the left, class 1 right
    labels = np.repeat([0, 1], 10_000)
    frame = decode(panels_gif([Panel(frames, labels=labels, ranges=np.ones((2, 2)))], ["a", "b"],
                              tmp_path / "h.gif", max_points=50))[0]
    left = np.nonzero(near(frame, blended(CLASS_COLORS[0])))
    right = np.nonzero(near(frame, blended(CLASS_COLORS[1])))
    assert len(left[1]) and len(right[1]) and left[1].max() < right[1].min()
    assert len(np.unique(left[0] // 8)) >= 15, "spread over the whole line, not one end of it"


def test_sampling_sized_animation_stays_small(tmp_path):
    """3 panels x 1,333 points x 60 frames (the Sampling tab's default) fits in under 3 MB."""
    rng = np.random.default_rng(1)
    s = np.linspace(1, 0, 60)[:, None, None]
    panels = []
    for i in range(3):
        data = rng.normal(size=(1333, 2)) * 0.2 + 2 * rng.choice([-1, 1], size=(1333, 2))
        frames = (s * rng.normal(size=(1333, 2)) + (1 - s) * data).astype(np.float32)
        panels.append(Panel(frames, title=f"sampler {i}", ranges=np.full((60, 2), 3.5), trails=frames[:, :6],
                            background=data[:600]))
    path = panels_gif(panels, [f"{j / 59:.0%}" for j in range(60)], tmp_path / "s.gif", title="samplers",
                      time_label="progress: ")
    assert Image.open(path).n_frames == 60
    assert path.stat().st_size < 3_000_000


def test_images_gif_frames_decode_to_the_input_images(tmp_path):
    """Grey 8x8 images come back pixel for pixel after nearest upscaling (below a label strip on top)."""
    rng = np.random.default_rng(2)
    frames = [(rng.integers(0, 8, size=(8, 8)) * 32 + 16).astype(np.uint8) for _ in range(5)]
    path = images_gif(frames, [f"t = {k}" for k in range(5)], tmp_path / "i.gif", scale=10)
    im = Image.open(path)
    assert im.format == "GIF" and im.n_frames == 5 and im.info.get("loop") == 0
    w, h = im.size
    assert w == 80 and h > 80                                 # label strip above the 80 x 80 image
    for img, frame in zip(frames, decode(path)):
        body = frame[h - 80:]
        assert (np.ptp(body, axis=-1) == 0).all()             # still grey
        centres = body[5::10, 5::10, 0]
        assert np.abs(centres - img).max() <= 4
        assert (body[::10, ::10, 0] == body[9::10, 9::10, 0]).all()   # each pixel a flat 10 x 10 block


def test_images_gif_rgb_and_automatic_scale(tmp_path):
    palette = np.array([[230, 159, 0], [0, 114, 178], [0, 158, 115], [255, 255, 255]], dtype=np.uint8)
    rng = np.random.default_rng(3)
    frames = [palette[rng.integers(0, 4, size=(8, 8))] for _ in range(3)]
    path = images_gif(frames, ["", "", ""], tmp_path / "rgb.gif")
    im = Image.open(path)
    assert im.size == (256, 256)                              # 8 x 8 upscaled to at least 256 px, no label strip
    for img, frame in zip(frames, decode(path)):
        assert np.abs(frame[16::32, 16::32] - img.astype(np.int64)).max() <= 6


@pytest.mark.parametrize(
    "panels, labels, message",
    [
        ([], [], "No panels"),
        ([Panel(np.zeros((0, 5, 2), np.float32))], [], "no frames"),
        ([Panel(moving_right(4))], ["a", "b"], "2 frame labels for 4 frames"),
        ([Panel(np.full((2, 3, 2), np.nan, np.float32))], ["a", "b"], "NaN"),
        ([Panel(moving_right(3)), Panel(moving_right(4))], ["a", "b", "c"], "same number of frames"),
        ([Panel(np.zeros((2, 3), np.float32))], ["a", "b"], r"shape \[F, N, 2\]"),
        ([Panel(moving_right(2), labels=np.array([0, 1, 2]))], ["a", "b"], "labels must have shape"),
        ([Panel(moving_right(2), ranges=np.array([[1.0, 1.0], [0.0, 1.0]]))], ["a", "b"], "positive"),
    ],
)
def test_bad_panels_are_refused_clearly(tmp_path, panels, labels, message):
    with pytest.raises(ValueError, match=message):
        panels_gif(panels, labels, tmp_path / "bad.gif")
    assert not (tmp_path / "bad.gif").exists()


@pytest.mark.parametrize(
    "frames, labels, message",
    [
        ([], [], "No frames"),
        ([np.zeros((8, 8), np.uint8)] * 2, ["a"], "1 labels for 2 frames"),
        ([np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8)], ["a", "b"], "same shape"),
        ([np.zeros((8, 8), np.float32)], ["a"], "uint8"),
        ([np.zeros((8, 8, 4), np.uint8)], ["a"], r"\[H, W\] or \[H, W, 3\]"),
    ],
)
def test_bad_images_are_refused_clearly(tmp_path, frames, labels, message):
    with pytest.raises(ValueError, match=message):
        images_gif(frames, labels, tmp_path / "bad.gif")


def test_rendering_leaves_matplotlib_global_state_alone():
    """No pyplot, no backend switch: a fresh interpreter renders a GIF and still has its default backend setting."""
    code = ("import matplotlib, sys, tempfile, numpy as np; before = matplotlib.rcParams._get_backend_or_none();"
            "from explorer.viz.animation import Panel; from explorer.viz.gif import panels_gif;"
            "panels_gif([Panel(np.zeros((2, 1, 2), np.float32) + 0.5)], ['a', 'b'], tempfile.mktemp(suffix='.gif'));"
            "assert 'matplotlib.pyplot' not in sys.modules;"
            "assert matplotlib.rcParams._get_backend_or_none() == before")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
