"""Bring your own data: a drawing or a CSV becomes this session's dataset, usable by every tab."""
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageDraw

from explorer.drawing import points_from_drawing

C = ("", "", "")
OPTS = (0.0, 1e-3, 0.01, 0.16)
BLUE, ORANGE = (0, 114, 178), (230, 159, 0)


def _drawing(path):
    img = Image.new("RGBA", (320, 320), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.line([(40, 40), (280, 60)], fill=BLUE + (255,), width=6)
    d.ellipse([100, 150, 220, 270], outline=ORANGE + (255,), width=6)
    img.save(path)
    return str(path)


def test_drawing_to_points_keeps_colours_as_classes(tmp_path):
    import numpy as np

    rgba = np.asarray(Image.open(_drawing(tmp_path / "d.png")))
    pts, y = points_from_drawing(rgba, [BLUE, ORANGE, (0, 158, 115)], max_points=500)
    assert pts.shape == (500, 2) and set(y.tolist()) == {0, 1}
    top = pts[y == 0][:, 1].mean()                     # the blue line is drawn near the top: large y
    assert top > pts[y == 1][:, 1].mean()
    with pytest.raises(ValueError, match="nothing is drawn"):
        points_from_drawing(np.zeros((10, 10, 4), np.uint8), [BLUE])


def test_drawing_through_the_app(app_url, tmp_path):
    c = Client(app_url, verbose=False)
    path = _drawing(tmp_path / "drawing.png")
    value = {"background": None, "layers": [], "composite": handle_file(path)}
    status, _ = c.predict(value, None, api_name="/my_data")
    assert "2 class(es)" in status
    anim, *_ = c.predict("my_data", *C, "vp_linear", 0, 300, 5, api_name="/forward")
    assert anim["visible"]
    out = c.predict("my_data", *C, "vp_linear", 0, "exact", ["ddim"], 20, 200, *OPTS, api_name="/sample")
    assert out[3]["data"][0][0] == "DDIM"


def test_csv_through_the_app_and_bad_files(app_url, tmp_path):
    c = Client(app_url, verbose=False)
    with pytest.raises(AppError, match="No data of your own yet"):
        c.predict("my_data", *C, "vp_linear", 0, 300, 5, api_name="/forward")
    good = tmp_path / "points.csv"
    good.write_text("x,y,label\n" + "\n".join(f"{i % 7},{(i * 3) % 11},{'ab'[i % 2]}" for i in range(100)))
    status, _ = c.predict(None, handle_file(str(good)), api_name="/my_data")
    assert "100 points" in status and "2 class(es)" in status
    for text, message in [("", "empty"), ("x,y\n1,2\n3,nan\n", "NaN|finite"), ("a,b\nfoo,bar\n", "number")]:
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(AppError, match=message):
            c.predict(None, handle_file(str(bad)), api_name="/my_data")
    with pytest.raises(AppError, match="Draw some strokes"):
        c.predict(None, None, api_name="/my_data")
    # the earlier good data is still this session's
    anim, *_ = c.predict("my_data", *C, "vp_linear", 0, 300, 5, api_name="/forward")
    assert anim["visible"]
