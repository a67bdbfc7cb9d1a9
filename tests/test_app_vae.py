"""The VAE endpoints through gradio_client: streamed training, the comparison, bad input."""
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

C = ("", "", "")


def test_vae_trains_with_rising_elbo_and_compares(app_url):
    c = Client(app_url, verbose=False)
    _, _, _, table = c.predict("ring8", *C, "vp_linear", 0, "pretrained", api_name="/compare_vae")
    assert table["data"][0][0] == "VAE (the shipped VAE)"          # before any training: the shipped baseline
    job = c.submit("ring8", *C, "vp_linear", 0, 600, api_name="/train_vae")
    updates = list(job)
    assert len(updates) >= 2 and "Done" in job.outputs()[-1][1]
    latent, _, side, table = c.predict("ring8", *C, "vp_linear", 0, "pretrained", api_name="/compare_vae")
    rows = {r[0]: r for r in table["data"]}
    assert rows["VAE (your VAE)"][2].startswith("−ELBO") and rows["diffusion (pretrained network)"][2].startswith("PF-ODE NLL")
    assert "−ELBO" in rows["diffusion (pretrained network)"][2]       # the diffusion model's own bound, same unit
    _, _, _, table = c.predict("moons", *C, "vp_linear", 0, "pretrained", api_name="/compare_vae")
    assert table["data"][0][0] == "VAE (the shipped VAE (yours was trained on 'ring8'))"


def test_bad_vae_input(client):
    with pytest.raises(AppError, match="less than minimum value 100"):
        client.predict("ring8", *C, "vp_linear", 0, 10, api_name="/train_vae")


def test_the_likelihood_in_the_comparison_is_capped(monkeypatch):
    """A network trained on sharp spikes made the comparison's PF-ODE run up to 100,000 evaluations (found by
    fuzzing); the app caps it, and a capped run is a clear message."""
    import gradio as gr

    import explorer.ui.vae_tab as tab
    from explorer.distributions import get_dataset
    from explorer.nn.vae import train_vae

    vae = train_vae(get_dataset("ring8"), steps=100, seed=0)
    monkeypatch.setattr(tab, "LIKELIHOOD_MAX_NFE", 5)
    with pytest.raises(gr.Error, match="more than 5 evaluations"):
        tab.compare_vae_view("ring8", *C, "vp_linear", 0, None, "pretrained", vae)
