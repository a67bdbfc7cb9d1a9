"""The compact encodings of animation data: quantised positions decode to within half a step, and never hide a NaN."""
import base64

import numpy as np
import pytest

from explorer.viz.animation import Panel, panel_animation, quantized


def _decode(q: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(q["bdata"]), dtype="<i2") * q["scale"]


def test_quantized_positions_decode_within_half_a_step():
    a = np.random.default_rng(0).normal(size=1000) * 3
    q = quantized(a)
    assert np.abs(_decode(q) - a).max() <= q["scale"] / 2 + 1e-12


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_positions_are_refused_not_drawn_at_zero(bad):
    """int16 has no NaN: a NaN used to become a point at 0 (or a NaN scale), invisible in the figure's numbers."""
    with pytest.raises(ValueError, match="NaN or infinite"):
        quantized(np.array([1.0, bad, 2.0]))
    frames = np.zeros((3, 4, 2), dtype=np.float32)
    frames[2, 1, 0] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        panel_animation([Panel(frames, title="p")], ["a", "b", "c"])
