"""The Flow matching tab through the app: the field, the paths, live training with each coupling (reflow of the
session's own flow), the flow used by the Sampling and Likelihood tabs under process 'linear', and bad input."""
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

C = ("", "", "")
OPTS = (0.0, 1e-3, 0.01, 0.16)


def _train(client, coupling, steps=200):
    job = client.submit("ring8", *C, "linear", 0, coupling, steps, 1e-2, 32, 0.3, api_name="/flow_train")
    updates = [out for out in job]
    return updates, job.outputs()[-1]


def test_field_paths_and_the_steps_chart(app_url):
    client = Client(app_url, verbose=False)
    fig = client.predict("ring8", *C, "vp_linear", 0, 0.3, 9, True, api_name="/flow_field")
    assert "velocity u_t" in str(fig)
    paths = client.predict("ring8", *C, "linear", 0, 5, api_name="/flow_paths")
    assert "marginal ODE" in str(paths)
    anim = client.predict("ring8", *C, "linear", 0, 5, api_name="/flow_paths_animation")
    assert "dx-anim" in str(anim)
    vp_paths = client.predict("ring8", *C, "vp_linear", 0, 5, api_name="/forward_paths")
    assert "curved" in str(vp_paths)
    fig, note = client.predict("ring8", *C, "vp_linear", 0, api_name="/flow_steps")
    assert "pretrained flow" in note and "diffusion PF-ODE" in note


def test_train_reflow_and_use_the_flow_elsewhere(app_url):
    """Independent then reflow in one session; the Sampling and Likelihood tabs take it as 'My trained network'."""
    client = Client(app_url, verbose=False)
    with pytest.raises(AppError, match="reflow needs a trained flow"):
        client.predict("ring8", *C, "linear", 0, "reflow", 200, 1e-2, 32, 0.3, api_name="/flow_train")
    updates, final = _train(client, "independent")
    assert len(updates) >= 2 and "Done" in final[2]
    updates, final = _train(client, "reflow")
    assert "Done" in final[2] and "reflow" in final[2]
    out = client.predict("ring8", *C, "linear", 0, "trained", ["pf_heun"], 20, 200, *OPTS, api_name="/sample")
    assert out[3]["data"][0][2] == 40                                    # NFE of 20 Heun steps
    fig, table = client.predict("ring8", *C, "linear", 0, "trained", 5, 20, -4, api_name="/likelihood")
    assert "NLL" in str(table)
    fields, emap = client.predict("ring8", *C, "linear", 0, "trained", 0.3, api_name="/flow_compare")
    assert "reflow" in str(fields)


def test_bad_input_gets_a_clear_message(app_url):
    client = Client(app_url, verbose=False)
    with pytest.raises(AppError, match=r"sinkhorn.*\['independent', 'minibatch_ot', 'reflow'\]"):   # Gradio's or ours
        client.predict("ring8", *C, "linear", 0, "sinkhorn", 200, 1e-2, 32, 0.3, api_name="/flow_train")
    with pytest.raises(AppError, match="No flow trained in this session yet"):
        client.predict("ring8", *C, "linear", 0, "trained", 0.3, api_name="/flow_compare")
    with pytest.raises(AppError, match="1.5 is greater than maximum value 0.99"):       # the slider's own check
        client.predict("ring8", *C, "linear", 0, 1.5, 9, True, api_name="/flow_field")
    with pytest.raises(AppError, match="2D data"):
        client.predict("two_modes_1d", *C, "linear", 0, 5, api_name="/flow_paths")
    with pytest.raises(AppError, match="No pretrained velocity network"):
        client.predict("two_modes_1d", *C, "linear", 0, "pretrained", 0.3, api_name="/flow_compare")
