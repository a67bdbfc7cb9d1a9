"""MP4 export (explorer/viz/mp4.py): the file decodes with the ffmpeg bundled in imageio-ffmpeg, with one video frame
per animation frame at the GIF's pace, and the decoded pictures show what was drawn; bad input is refused."""
import imageio_ffmpeg
import numpy as np
import pytest

from explorer.viz.animation import Panel
from explorer.viz.gif import FRAME_MS
from explorer.viz.mp4 import images_mp4, panels_mp4, write_mp4
from explorer.viz.style import CLASS_COLORS


def decode(path) -> list[np.ndarray]:
    """Every frame of the video as RGB int arrays [H, W, 3], decoded by the bundled ffmpeg."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return [np.frombuffer(b, np.uint8).reshape(h, w, 3).astype(np.int64) for b in reader]


def moving_right(n_frames: int) -> np.ndarray:
    """One particle at y = 0 going from x = -0.8 to x = 0.8: frames [F, 1, 2]."""
    x = np.linspace(-0.8, 0.8, n_frames)
    return np.stack([x, np.zeros_like(x)], -1)[:, None, :].astype(np.float32)


@pytest.mark.parametrize("n_frames", [1, 2, 13])
def test_the_video_has_one_frame_per_animation_frame_at_the_gif_pace(tmp_path, n_frames):
    path = panels_mp4([Panel(moving_right(n_frames), title="one particle")], [str(k) for k in range(n_frames)],
                      tmp_path / "a.mp4", title="A test", time_label="t = ")
    frames, secs = imageio_ffmpeg.count_frames_and_secs(str(path))      # ffmpeg decodes the whole stream
    assert frames == n_frames
    assert secs == pytest.approx(n_frames * FRAME_MS / 1000, abs=0.05)
    assert open(path, "rb").read(12)[4:8] == b"ftyp"                  # an MP4 container


def test_a_particle_moving_right_moves_right_in_the_decoded_video(tmp_path):
    """The centroid of the particle's blue pixels moves right by even steps; y stays put. Blue is found by its hue
    (blue channel well above red), not its exact colour: 4:2:0 chroma blurs the colour of a marker a few pixels wide."""
    path = panels_mp4([Panel(moving_right(8))], [str(k) for k in range(8)], tmp_path / "b.mp4")
    assert CLASS_COLORS[0] == "#0072B2"                                 # a blue: B - R = 178 before blending
    xs = []
    for frame in decode(path):
        ys, cols = np.nonzero(frame[..., 2] - frame[..., 0] > 60)      # axes, text and background are grey or white
        assert 3 <= len(cols) <= 300, "one small marker per frame"
        xs.append(cols.mean())
        assert np.ptp(ys) < 12
    steps = np.diff(xs)
    assert (steps > 0).all(), xs
    assert np.ptp(steps) < 0.3 * steps.mean()


def test_image_frames_decode_to_the_input_grey_levels(tmp_path):
    """Flat grey images 0, 40, ..., 240 come back within a few levels (x264 at CRF 20 on flat areas); odd sides are
    padded to even ones (4:2:0), never scaled."""
    levels = [0, 40, 80, 120, 160, 200, 240]
    frames = [np.full((7, 9), v, np.uint8) for v in levels]
    path = images_mp4(frames, [""] * len(levels), tmp_path / "i.mp4", scale=10)
    decoded = decode(path)
    assert len(decoded) == len(levels)
    assert decoded[0].shape[:2] == (70, 90)
    for v, frame in zip(levels, decoded):
        assert abs(frame[5:65, 5:85].mean() - v) < 4, (v, frame[5:65, 5:85].mean())


def test_odd_sized_frames_are_padded_white(tmp_path):
    frame = np.zeros((11, 13, 3), np.uint8)
    decoded = decode(write_mp4([frame, frame], tmp_path / "o.mp4"))
    assert decoded[0].shape == (12, 14, 3)
    assert decoded[0][:9, :11].mean() < 20 and decoded[0][-1, 2:10].mean() > 200 - 30


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match="No frames"):
        write_mp4([], tmp_path / "e.mp4")
    with pytest.raises(ValueError, match="same shape"):
        write_mp4([np.zeros((4, 4, 3), np.uint8), np.zeros((6, 4, 3), np.uint8)], tmp_path / "s.mp4")
    with pytest.raises(ValueError, match="uint8"):
        write_mp4([np.zeros((4, 4, 3), np.float32)], tmp_path / "f.mp4")
    with pytest.raises(ValueError, match="frame labels"):
        panels_mp4([Panel(moving_right(3))], ["a"], tmp_path / "l.mp4")


def test_the_app_serves_every_animation_as_mp4(client, tmp_path):
    """/forward_mp4 after /forward: the session's animation as a video with one frame per animation frame."""
    from gradio_client import Client

    c = Client(client.src, verbose=False, download_files=str(tmp_path))
    c.predict("moons", "", "", "", "vp_linear", 0, 200, 12, api_name="/forward")
    path = c.predict(api_name="/forward_mp4")
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 12
