"""The VAE endpoints through gradio_client: streamed training, the comparison, bad input."""
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

C = ("", "", "")


def test_vae_trains_with_rising_elbo_and_compares(app_url):
    c = Client(app_url, verbose=False)
    with pytest.raises(AppError, match="Train the VAE first"):
        c.predict("ring8", *C, "vp_linear", 0, "pretrained", api_name="/compare_vae")
    job = c.submit("ring8", *C, "vp_linear", 0, 600, api_name="/train_vae")
    updates = list(job)
    assert len(updates) >= 2 and "Done" in job.outputs()[-1][1]
    latent, _, side, table = c.predict("ring8", *C, "vp_linear", 0, "pretrained", api_name="/compare_vae")
    rows = {r[0]: r for r in table["data"]}
    assert rows["VAE"][2].startswith("−ELBO") and rows["diffusion (pretrained network)"][2].startswith("PF-ODE NLL")
    with pytest.raises(AppError, match="trained on 'ring8'"):
        c.predict("moons", *C, "vp_linear", 0, "pretrained", api_name="/compare_vae")


def test_bad_vae_input(client):
    with pytest.raises(AppError, match="less than minimum value 100"):
        client.predict("ring8", *C, "vp_linear", 0, 10, api_name="/train_vae")
