"""Training you can watch (explorer/live.py and the Learned score / VAE tabs): the samples of a network in training from
one fixed noise batch and their energy distance to the data, at a bounded share of the training time; in a real
browser the sample cloud and the distance chart change between updates while a network trains."""
import math

import numpy as np
import pytest
import torch

from explorer.distributions import get_dataset
from explorer.live import SampleWatch, score_watch, vae_watch
from explorer.metrics import energy_distance
from explorer.nn.networks import ScoreNetConfig
from explorer.nn.training import train
from explorer.process import get_process


def test_the_watch_draws_from_the_same_noise_and_its_distance_falls_to_the_floor():
    """A score network trained 600 steps: the first draw (step 50) is far from the data, the last near the floor; the
    same model drawn twice gives the same samples (one fixed x_T, a deterministic ODE)."""
    ds, sde = get_dataset("ring8"), get_process("vp_linear")
    watch = score_watch(ds, sde, seed=0, share=1.0)
    model = train(ScoreNetConfig.for_data(ds, sde), ds, sde, steps=600, seed=0, report_every=50,
                  callback=lambda p: watch(p.model, p.step, p.elapsed_s, final=p.step == p.steps))
    assert watch.steps == list(range(50, 601, 50)), "share 1.0: a draw at every report"
    first, last = watch.distances[0], watch.distances[-1]
    # the floor is D²(500 fresh points, the 1,000-point reference); 3x it is what 10 ODE steps of a 600-step network
    # reach on ring8 with room to spare, and a tenth of the first draw's is a fall no noise can fake
    assert last < 3 * watch.floor + 1e-3 and last < first / 5, watch.distances
    again = watch.draw(model).cpu()
    assert torch.allclose(again, torch.as_tensor(watch.samples), atol=1e-5), "the same x_T every draw"


def test_the_watch_keeps_to_its_share_of_the_training_time():
    """A draw costs ~10x a 'training step' here: with share 0.2 the time spent drawing stays within 20% of the time
    spent training (plus the one draw allowed at the first report)."""
    import time

    def slow_draw(model):
        time.sleep(0.02)
        return torch.zeros(10, 2)

    watch = SampleWatch(slow_draw, torch.randn(50, 2, generator=torch.Generator().manual_seed(0)), 0.01, share=0.2)
    t0 = time.perf_counter()
    for step in range(1, 201):
        time.sleep(0.002)                                     # one training step
        watch(None, step, time.perf_counter() - t0, final=step == 200)
    train_s = time.perf_counter() - t0 - watch.spent_s
    assert watch.spent_s <= 0.2 * train_s + 0.021 + 0.021     # the first and the final draw are free of the bound
    assert 5 <= len(watch.steps) <= 40 and watch.steps[0] == 1 and watch.steps[-1] == 200


def test_non_finite_samples_are_a_gap_not_an_error():
    watch = SampleWatch(lambda m: torch.tensor([[0.0, 1.0], [math.nan, 0.0]]), torch.zeros(4, 2), 0.0, share=1.0)
    watch(None, 1, 1.0)
    assert math.isnan(watch.distances[0]) and watch.samples.shape == (1, 2)


def test_the_vae_watch_and_its_floor_on_a_tensor():
    """Digits as a tensor: reference and floor from two disjoint subsets; the floor is small next to the distance of
    noise to the digits."""
    from explorer.digits import digits_split
    from explorer.nn.vae import train_vae

    x = digits_split("train").x
    watch = vae_watch(x, seed=0, share=1.0)
    noise = energy_distance(torch.randn(500, 64, generator=torch.Generator().manual_seed(1)), watch.reference)
    assert watch.reference.shape == (719, 64) and watch.floor < noise / 10
    moons = vae_watch(get_dataset("moons"), seed=0, share=1.0)
    train_vae(get_dataset("moons"), steps=600, seed=0, report_every=10,
              callback=lambda p: moons(p.model, p.step, p.elapsed_s))
    # step 10: a VAE barely trained; by step 600 its samples from the same z and ε are far closer to the data
    assert len(moons.steps) == 60 and moons.distances[-1] < moons.distances[0] / 2, moons.distances


READ = """(sel) => {
  const gd = document.querySelector(sel + ' .js-plotly-plot');
  if (!gd || !gd.data) return null;
  const arr = (v) => {
    if (v && v.bdata) { const b = atob(v.bdata); const u = new Uint8Array(b.length);
      for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);
      const T = {f8: Float64Array, f4: Float32Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array,
                 u2: Uint16Array, i4: Int32Array, u4: Uint32Array}[v.dtype];
      return Array.from(new T(u.buffer), Number); }
    return Array.from(v || []);
  };
  const t = gd.data.find(d => d.name === (sel === '#train-field' ? 'live samples' : 'samples to data'));
  return t ? {x: arr(t.x), y: arr(t.y)} : null;
}"""


def test_a_browser_sees_the_samples_and_the_distance_change_while_training(app_url):
    """Train 800 steps live on ring8 in Chromium; poll the page: the sample cloud redraws (different points between
    updates), the distance chart gains points and its last point is far below its first; the status line carries
    the progress (no Gradio progress bar over the figures)."""
    from playwright.sync_api import sync_playwright

    from test_browser import ARGS, CHROMIUM, SHOTS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{app_url}?tab=learned", wait_until="load")
        steps = page.get_by_label("Training steps").first
        steps.fill("800")
        steps.press("Enter")
        page.get_by_role("button", name="Train", exact=True).click()
        clouds, charts, bars, done = [], [], 0, -1
        for _ in range(600):                                  # up to 150 s on a busy 2-core machine
            page.wait_for_timeout(250)
            cloud, chart = page.evaluate(READ, "#train-field"), page.evaluate(READ, "#train-curves")
            bars += page.locator("#train-field .progress-bar, #train-curves .progress-bar, "
                                 "#train-field .eta-bar, #train-curves .eta-bar").count()
            if cloud and (not clouds or cloud["x"][:50] != clouds[-1]["x"][:50]):
                clouds.append(cloud)
            if chart and (not charts or len(chart["x"]) != len(charts[-1]["x"])):
                charts.append(chart)
            if "Done" in page.locator("#train-status").inner_text():
                done += 1
                if done >= 7:                                 # two more seconds: the final figures land
                    break
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "learned_live.png"), full_page=True)
        status = page.locator("#train-status").inner_text()
        browser.close()
    assert "Done" in status and "800 steps" in status, status
    assert len(clouds) >= 2, "the sample cloud was redrawn between updates"
    assert all(len(c["x"]) > 400 for c in clouds), "a cloud of the fixed batch (500, finite ones)"
    assert len(charts) >= 2 and len(charts[-1]["x"]) > len(charts[0]["x"]), "the distance chart gained points"
    d = charts[-1]["y"]
    assert d[-1] < d[0] / 3, d
    assert bars == 0, "no progress bar drawn over the figures"
