"""The example notebook (examples/figures.ipynb) runs top to bottom with the Python API and shows the three figures it
promises: the forward cloud (an animation page and a video), samplers from one noise with their distances, the learned
score against the exact one; its figures as numbers say what each should (nbclient executes it in a fresh kernel)."""
import json
from pathlib import Path

import imageio_ffmpeg
import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "figures.ipynb"


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "committed without outputs"
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()   # raises on an error
    return nb


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def test_the_notebook_shows_the_three_figures(executed):
    outs = _outputs(executed)
    html = [o for o in outs if "text/html" in o.get("data", {})]
    assert any("dx-anim" in o["data"]["text/html"] and "Plotly.addFrames" in o["data"]["text/html"] for o in html), \
        "the forward animation (frames, Play, slider)"
    plotly = [o["data"]["application/vnd.plotly.v1+json"] for o in outs
              if "application/vnd.plotly.v1+json" in o.get("data", {})]
    titles = [f["layout"]["title"]["text"] for f in plotly]
    assert any("Final samples" in t for t in titles)
    assert any("against the exact score" in t for t in titles)
    assert any("Error averaged" in t for t in titles)
    samplers = next(f for f in plotly if "Final samples" in f["layout"]["title"]["text"])
    assert len([tr for tr in samplers["data"] if tr["name"] == "samples"]) == 4, "one panel per sampler"


def test_the_figures_say_what_they_should(executed):
    text = "".join(o.get("text", "") for o in _outputs(executed) if o.output_type == "stream")
    figures = json.loads(next(line for line in text.splitlines() if line.startswith('{"prior_cov"')))
    # t = 1 of VP-linear: alpha(1) = exp(-(0.1 + 19.9 / 2) / 2) < 0.01, so x_1 ~ N(0, I); 2,000 points estimate each
    # covariance entry to ~0.03 (sd sqrt(2 / 2000)): 0.15 is five of those
    cov = figures["prior_cov"]
    assert abs(cov[0][0] - 1) < 0.15 and abs(cov[1][1] - 1) < 0.15 and abs(cov[0][1]) < 0.15
    # every sampler carries x_T most of the way to the data: its distance a fifth of x_T's at most
    assert [r["nfe"] for r in figures["samplers"]] == [1000, 100, 100, 25]
    for r in figures["samplers"]:
        assert r["energy"] < figures["start"] / 5, r
    # the network explains most of the exact score once the smoothing is not tiny (t >= 0.1), and better than
    # predicting zero (relative error 1) everywhere
    rel = dict(zip(figures["ts"], figures["relative_error"]))
    assert all(v < 1 for v in rel.values())
    assert all(v < 0.5 for t, v in rel.items() if t >= 0.1 - 1e-6)
    page, video = map(Path, figures["files"])
    assert page.read_text(encoding="utf-8").count("Plotly.newPlot") == 1
    assert imageio_ffmpeg.count_frames_and_secs(str(video))[0] == 40


def test_the_readme_points_at_the_notebook():
    assert "examples/figures.ipynb" in (ROOT / "README.md").read_text(encoding="utf-8")
