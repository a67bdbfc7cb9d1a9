"""The Sampling, Quality and Likelihood endpoints through gradio_client, good and bad input."""
import json

import pytest
from gradio_client.exceptions import AppError

C = ("", "", "")                         # custom 1D fields (unused here)
OPTS = (0.0, 1e-3, 0.01, 0.16)           # eta, Langevin step, Langevin t, PC snr


def _plot(value) -> dict:
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    return json.loads(value["plot"])


def test_sample_2d_side_by_side(client):
    anim, river, final, table, note = client.predict("ring8", *C, "vp_linear", 0, "exact", ["ddim", "pf_heun"], 0, 500,
                                                     *OPTS, api_name="/sample")
    assert anim["visible"] and "srcdoc" in anim["value"] and not river["visible"]
    rows = table["data"]
    assert [r[0] for r in rows] == ["DDIM", "PF-ODE, Heun"]
    assert rows[1][2] == 100                         # Heun: 2 evaluations per step, 50 steps
    floor = rows[0][5]
    # 500 samples from the exact score: within 5x the two-data-sets distance (sampler tests check this tightly)
    assert all(0 <= r[4] < 5 * floor + 1e-3 for r in rows)
    assert "same 500 draws" in note


def test_sample_1d_paths_over_river(client):
    anim, river, final, table, *_ = client.predict("far_mode_1d", *C, "ve", 2, "exact", ["ddpm"], 200, 300, *OPTS,
                                                  api_name="/sample")
    assert not anim["visible"] and river["visible"]
    fig = _plot(river)
    assert fig["data"][0]["type"] == "heatmap" and len(fig["data"]) == 1 + 20


def test_quality_vs_nfe(client):
    fig = _plot(client.predict("asym3", *C, "vp_linear", 0, "exact", ["pf_euler"], 200, *OPTS, api_name="/quality"))
    assert len(fig["data"]) == 1 and len(fig["data"][0]["x"]) == 6


@pytest.mark.parametrize(
    "samplers, steps, source, opts, message",
    [
        ([], 0, "exact", OPTS, "Tick at least one sampler"),
        (["dmm"], 0, "exact", OPTS, "not in the list of choices"),
        (["ddim"], 1001, "exact", OPTS, "greater than maximum value 1000"),
        (["ddim"], 0, "exact", (1.5, 1e-3, 0.01, 0.16), "greater than maximum value 1"),
        (["langevin"], 50, "exact", (0.0, -1.0, 0.01, 0.16), "Langevin step size must be between"),
        (["langevin"], 100, "exact", (0.0, 0.9, 0.01, 0.16), r"diverged at step \d+ of 100"),
        (["ddim"], 0, "pretrained", OPTS, "No pretrained network for"),
        (["ddim"], 0, "trained", OPTS, "No trained network in this session"),
    ],
)
def test_bad_sampling_input(client, samplers, steps, source, opts, message):
    process = "subvp" if source == "pretrained" else "vp_linear"
    with pytest.raises(AppError, match=message) as err:
        client.predict("ring8", *C, process, 0, source, samplers, steps, 300, *opts, api_name="/sample")
    assert "Traceback" not in str(err.value)


def test_likelihood_1d_matches_exact(client):
    fig, table = client.predict("two_modes_1d", *C, "vp_linear", 0, "exact", 10, 100, -5, api_name="/likelihood")
    rows = dict(table["data"])
    assert float(rows["mean |ODE − exact| over the grid (nats)"]) < 0.02
    exact, ode = float(rows["exact NLL of the same data (nats)"]), float(rows["PF-ODE NLL of held-out data (nats)"])
    assert abs(exact - ode) < 0.02


def test_likelihood_refuses_degenerate_empirical(client):
    with pytest.raises(AppError, match="degenerate"):
        client.predict("moons", *C, "vp_linear", 0, "exact", 10, 100, -4, api_name="/likelihood")


def _page_frames(path) -> int:
    """Frames of the animation inside a standalone HTML download."""
    page = open(path, encoding="utf-8").read()
    payload = page.split('id="fig-json">', 1)[1].split("</script>", 1)[0]
    return len(json.loads(payload)["frames"])


def test_sample_gif_on_demand(client):
    """One GIF frame per animation frame, two panels side by side; the HTML download has the same frames."""
    from PIL import Image

    client.predict("moons", *C, "vp_linear", 0, "exact", ["ddim", "pf_euler"], 20, 300, *OPTS, api_name="/sample")
    n = _page_frames(client.predict(api_name="/sample_html"))
    gif = Image.open(client.predict(api_name="/sample_gif"))
    assert gif.format == "GIF" and gif.n_frames == n == 60 and gif.info.get("loop") == 0
    assert gif.size[0] > gif.size[1]                    # panels side by side


def test_sample_gif_needs_an_animation(app_url):
    from gradio_client import Client

    with pytest.raises(AppError, match="No animation yet") as err:
        Client(app_url, verbose=False).predict(api_name="/sample_gif")
    assert "Traceback" not in str(err.value)


def test_an_integer_beyond_the_float_range_is_out_of_range(client):
    """float(10**400) raises OverflowError, which was a 'Something went wrong' (fuzzing): JSON carries such integers
    and a gr.Number has no range of its own."""
    with pytest.raises(AppError, match="Langevin step size must be between") as err:
        client.predict("ring8", *C, "vp_linear", 0, "exact", ["ddim"], 200, 0.0, 10 ** 400, 0.01, 0.16, api_name="/quality")
    assert "Something went wrong" not in str(err.value)


def test_likelihood_of_too_sharp_a_mixture_stops_with_a_message(client):
    """Spikes of std 0.001 at ±1000 made the PF-ODE run for minutes (a hang, found by fuzzing); now it stops."""
    import time

    start = time.monotonic()
    with pytest.raises(AppError, match="loosen the tolerance") as err:
        client.predict("custom_1d", "1000, -1000", "0.001, 0.001", "1, 1", "ve", 0, "exact", 5, 10, -7,
                       api_name="/likelihood")
    assert "Something went wrong" not in str(err.value) and time.monotonic() - start < 30


def test_adaptive_rk45_is_capped_in_the_app(monkeypatch):
    """A network trained on sharp spikes made PF-ODE RK45 run to its 20,000-evaluation default, about a minute per run
    and six runs in 'Quality vs steps' (found by fuzzing); the app caps it and says so."""
    import gradio as gr

    import explorer.ui.sampling_tab as tab

    monkeypatch.setattr(tab, "RK45_MAX_NFE", 5)
    with pytest.raises(gr.Error, match="after 5 evaluations"):
        tab.sampling_view("ring8", *C, "vp_linear", 0, None, "exact", ["pf_rk45"], 0, 100, *OPTS)


def test_grids_through_the_app(client):
    """The grid is a choice for /sample and /quality; /steps_land draws a grid on the log-SNR axis with finite errors;
    bad grid settings get the grid's own message, never a traceback."""
    table = client.predict("ring8", *C, "vp_linear", 0, "exact", ["edm", "ddim"], 16, 300, *OPTS, "karras", 0, 0, 7.0,
                           api_name="/sample")[3]
    assert [r[2] for r in table["data"]] == [32, 16]                      # EDM: 2 evaluations per step
    fig = _plot(client.predict("ring8", *C, "vp_linear", 0, "exact", "ddim", 8, "karras", 0, 0, 7.0,
                               api_name="/steps_land"))
    errors = [y for tr in fig["data"] if tr.get("mode") == "lines" for y in tr["y"] if y is not None]
    assert len(errors) == 3 * 2 * 8 and all(0 < y < 10 for y in errors)   # 3 grids x 8 steps, two ends per step
    for args, message in [((0.5, 0.1, 7.0), "σ_min of the Karras grid must be below σ_max"),
                          ((0, 0, 0.0), "ρ of the Karras grid must be in"),
                          ((0, 1e5, 7.0), "beyond the process's largest noise level")]:
        for api, extra in (("/sample", (["ddim"], 10, 100, *OPTS)), ("/steps_land", ("ddim", 10))):
            with pytest.raises(AppError, match=message) as err:
                client.predict("ring8", *C, "vp_linear", 0, "exact", *extra, "karras", *args, api_name=api)
            assert "Traceback" not in str(err.value) and "Something went wrong" not in str(err.value)
