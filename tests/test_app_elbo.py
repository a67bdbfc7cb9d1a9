"""The ELBO view of the Likelihood tab through gradio_client: the table in one unit, the sweep over N, the weightings."""
import math

import pytest
from gradio_client.exceptions import AppError

C = ("", "", "")


def _value(cell: str) -> tuple[float, float | None]:
    parts = cell.split("±")
    return float(parts[0]), (float(parts[1]) if len(parts) > 1 else None)


def test_elbo_table_bounds_the_exact_nll_in_nats_and_bits(client):
    fig, table = client.predict("ring8", *C, "vp_linear", 0, "exact", 100, 300, api_name="/elbo")
    rows = {r[0].strip(): r for r in table["data"]}
    nll, _ = _value(rows["exact NLL, −log p₀(x₀)"][1])
    beta, se_b = _value(rows["−ELBO, σ²ᵢ = βᵢ (N = 100)"][1])
    post, se_p = _value(rows["−ELBO, σ²ᵢ = β̃ᵢ (N = 100)"][1])
    assert beta > nll - 3 * se_b and post > beta           # a bound; beta the tighter choice for a density
    bits, _ = _value(rows["−ELBO, σ²ᵢ = βᵢ (N = 100)"][2])
    assert bits == pytest.approx(beta / (2 * math.log(2)), abs=2e-3)
    assert any(r.startswith("PF-ODE NLL") for r in rows)
    vae, _ = _value(rows["VAE −ELBO (the shipped VAE)"][1])          # the baseline in the same unit
    assert vae > nll
    assert len(fig["plot"]) > 100


def test_the_sweep_over_levels_and_the_weightings(client):
    fig = client.predict("two_modes_1d", *C, "vp_linear", 0, "exact", 50, api_name="/elbo_levels")
    assert "levels" in fig["plot"]
    w = client.predict("ve", api_name="/weightings")
    assert "w(λ)" in w["plot"]


def test_bad_elbo_input_is_a_message(client):
    with pytest.raises(AppError, match="greater than maximum value 1000"):
        client.predict("ring8", *C, "vp_linear", 0, "exact", 5000, 300, api_name="/elbo")
    with pytest.raises(AppError, match="degenerate"):
        client.predict("moons", *C, "vp_linear", 0, "exact", 100, 300, api_name="/elbo")


def test_an_elbo_over_budget_is_refused_before_it_starts(monkeypatch):
    """The estimate (2 choices x points x levels x one score evaluation, plus the PF-ODE) is checked first."""
    import gradio as gr

    import explorer.ui.likelihood_tab as tab

    monkeypatch.setattr(tab, "score_cost", lambda *a: 1e-4)      # a score 100x slower than the exact mixture's
    with pytest.raises(gr.Error, match="lower the levels N or the held-out samples"):
        tab.elbo_view("ring8", *C, "vp_linear", 0, None, "exact", 1000, 2000)
    with pytest.raises(gr.Error, match="lower the held-out samples"):
        tab.elbo_levels_view("ring8", *C, "vp_linear", 0, None, "exact", 2000)
