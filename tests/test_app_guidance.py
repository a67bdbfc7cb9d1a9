"""The Guidance endpoints through gradio_client: guided sampling, the sweep, the field, bad input."""
import pytest
from gradio_client.exceptions import AppError

C = ("", "", "")


def test_guidance_on_a_mixture(client):
    """Asking ring8 for class 2 at gamma = 3: both kinds of guidance land (almost) all samples in class 2."""
    anim, final, table, note = client.predict("ring8", *C, "vp_linear", 0, "pretrained", 2, 3.0, "ddim", 400,
                                              api_name="/guidance")
    rows = {r[0]: r for r in table["data"]}
    assert set(rows) == {"class data (reference)", "unguided", "classifier guidance γ=3", "classifier-free γ=3",
                         "autoguidance w=3", "exact conditional p(x | y)"}
    assert table["headers"][4] == "outside the support" and rows["class data (reference)"][1] == 1.0
    # 8 equal classes: unguided accuracy ~1/8; 400 samples give a standard error of ~0.017
    assert rows["unguided"][1] < 0.3
    assert rows["classifier guidance γ=3"][1] > 0.9 and rows["classifier-free γ=3"][1] > 0.9
    assert "exact classifier" in note and "srcdoc" in str(anim)


def test_guidance_field_and_sweep(client):
    fig = client.predict("asym3", *C, "vp_linear", 0, "pretrained", 1, 2.0, 0.3, api_name="/guidance_field")
    assert fig is not None
    chart = client.predict("asym3", *C, "vp_linear", 0, "pretrained", 1, "ddim", 200, api_name="/guidance_sweep")
    assert chart is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (("ring8", *C, "vp_linear", 0, "pretrained", 8, 3.0, "ddim", 200), "Class must be between 0 and 7"),
        (("ring8", *C, "vp_linear", 0, "pretrained", 0, 25.0, "ddim", 200), "greater than maximum value 20"),
        (("three_modes_1d", *C, "vp_linear", 0, "pretrained", 0, 1.0, "ddim", 200), "pick a 2D dataset"),
        (("moons", *C, "vp_linear", 0, "pretrained", 0, 1.0, "ddim", 200), "Train a classifier"),
        (("ring8", *C, "subvp", 0, "pretrained", 0, 1.0, "ddim", 200), "No pretrained network"),
        (("ring8", *C, "vp_linear", 0, "trained", 0, 1.0, "ddim", 200), "No trained network"),
    ],
)
def test_bad_guidance_input(client, args, message):
    with pytest.raises(AppError, match=message) as err:
        client.predict(*args, api_name="/guidance")
    assert "Traceback" not in str(err.value)


def test_guidance_gif_and_html_downloads(client):
    """The guidance animation downloads as a standalone HTML page and, on demand, as a GIF with the same frames."""
    import json

    from PIL import Image

    client.predict("ring8", *C, "vp_linear", 1, "pretrained", 3, 2.0, "ddim", 100, api_name="/guidance")
    page = open(client.predict(api_name="/guidance_html"), encoding="utf-8").read()
    assert "/gradio_api/" not in page and "<script src=" not in page          # plays offline
    spec = json.loads(page.split('id="fig-json">', 1)[1].split("</script>", 1)[0])
    gif = Image.open(client.predict(api_name="/guidance_gif"))
    assert gif.format == "GIF" and gif.n_frames == len(spec["frames"]) == 40 and gif.info.get("loop") == 0


def test_guidance_gif_needs_an_animation(app_url):
    from gradio_client import Client

    with pytest.raises(AppError, match="No animation yet") as err:
        Client(app_url, verbose=False).predict(api_name="/guidance_gif")
    assert "Traceback" not in str(err.value)


def test_a_list_for_the_sampler_is_refused_clearly(client):
    """Gradio lets a list of valid choices through a single-choice dropdown; it was a TypeError (fuzzing)."""
    for api, extra in (("/guidance", (3.0, ["ddim"], 100)), ("/guidance_sweep", (["ddim"], 100))):
        with pytest.raises(AppError, match=r"unknown sampler \['ddim'\]") as err:
            client.predict("ring8", *C, "vp_linear", 0, "pretrained", 0, *extra, api_name=api)
        assert "Something went wrong" not in str(err.value)
