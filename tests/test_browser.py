"""A real browser: the 2D forward animation loads with its frames and Play moves the particles."""
import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
SHOTS = Path(__file__).parent / "_screenshots"

READ_STATE = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._transitionData) return null;
  const pts = gd.data[gd.data.length - 1];
  const arr = (v) => {  // plotly keeps base64 typed arrays as {dtype, bdata} until drawn
    if (v && v.bdata) { const b = atob(v.bdata); const u = new Uint8Array(b.length);
      for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return Array.from(new Float32Array(u.buffer)); }
    return Array.from(v);
  };
  return {frames: gd._transitionData._frames.length,
          x: arr(pts.x).slice(0, 50), y: arr(pts.y).slice(0, 50),
          slider: gd.layout.sliders[0].active};
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: install it (apt-get install -y chromium), see .ci/run"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _animation_frame(page):
    """The plotly page inside the Forward tab's iframe, once its figure and frames are there (the Lessons tab opens
    first: the Forward tab is opened here)."""
    page.get_by_role("tab", name="Forward process").click()
    page.wait_for_selector("#forward-anim iframe", timeout=60_000)
    frame = page.frame_locator("#forward-anim iframe")
    frame.locator(".js-plotly-plot").wait_for(timeout=60_000)
    return page.frames[[f.url for f in page.frames].index("about:srcdoc")]


def test_forward_animation_plays(browser, app_url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url, wait_until="load")
    frame = _animation_frame(page)
    frame.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                            " return gd && gd._transitionData && gd._transitionData._frames.length > 0; }",
                            timeout=30_000)
    before = frame.evaluate(READ_STATE)
    assert before["frames"] == 60, "the default animation has 60 frames"
    buttons = frame.evaluate("() => [...document.querySelectorAll('.modebar-btn')].map(b => b.dataset.title)")
    assert "Download plot as a PNG" in buttons and not any("Share" in t for t in buttons), buttons   # PNG, no upload
    frame.get_by_text("▶ Play").click()
    page.wait_for_timeout(1500)
    during = frame.evaluate(READ_STATE)
    assert during["slider"] > before["slider"], "the time slider advanced"
    assert during["x"] != before["x"] and during["y"] != before["y"], "the particles moved"
    page.wait_for_timeout(1000)
    later = frame.evaluate(READ_STATE)
    assert later["x"] != during["x"], "and kept moving"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "forward_playing.png"), full_page=True)
    page.close()


def test_a_lesson_sets_the_controls_and_opens_its_tab(browser, app_url):
    """The course opens first with its first lesson's figure; Next walks to the Langevin lesson, whose figure is
    computed in the lesson, and 'Explore in Sampling' sets its preset and opens that tab."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url, wait_until="load")
    page.wait_for_selector("#lesson-figure .js-plotly-plot", timeout=30_000)
    heading = "() => document.querySelector('#lesson-heading').textContent.includes('{}.')"
    for k in range(2, 7):
        page.get_by_role("button", name="Next lesson →").click()
        page.wait_for_function(heading.format(k), timeout=30_000)
    assert "Langevin" in page.locator("#lesson-heading").text_content()
    page.wait_for_function("() => document.querySelector('#lesson-note').textContent.includes('annealed')",
                           timeout=30_000)
    page.get_by_role("button", name="Explore in Sampling").click()
    page.wait_for_function("() => [...document.querySelectorAll('button[role=tab]')]"
                           ".some(b => b.textContent.trim() === 'Sampling' && b.getAttribute('aria-selected') === 'true')",
                           timeout=20_000)
    dataset = page.get_by_label("Data distribution p₀")
    assert "asymmetric 3-mode" in dataset.input_value()
    page.close()


def test_a_link_opens_its_lesson(browser, app_url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{app_url.rstrip('/')}/?lesson=luo-cfg", wait_until="load")
    page.wait_for_function("() => (document.querySelector('#lesson-heading') || {textContent: ''}).textContent"
                           ".includes('Classifier-free')", timeout=30_000)
    page.wait_for_selector("#lesson-figure .js-plotly-plot", timeout=30_000)
    page.close()


def test_exported_animation_plays_offline(browser, tmp_path):
    """The standalone export opens from a file with every network request refused, and Play advances it."""
    import numpy as np
    import torch

    from explorer.distributions import get_dataset
    from explorer.process import get_process
    from explorer.ui.forward_tab import forward_cloud_figure
    from explorer.viz.export import write_standalone

    fig = forward_cloud_figure(get_dataset("moons"), get_process("vp_linear"), 300, 20, torch.Generator().manual_seed(0))
    path = write_standalone(fig, "offline-test")
    context = browser.new_context()
    requests = []

    def refuse(route):
        requests.append(route.request.url)
        route.abort()

    context.route("http://*/**", refuse)
    context.route("https://*/**", refuse)
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                           " return gd && gd._transitionData && gd._transitionData._frames.length === 20; }",
                           timeout=30_000)
    before = page.evaluate(READ_STATE)
    page.get_by_text("▶ Play").click()
    page.wait_for_timeout(1200)
    after = page.evaluate(READ_STATE)
    assert after["slider"] > before["slider"] and after["x"] != before["x"]
    assert requests == [], f"the export asked the network for {requests}"
    assert np.isfinite(after["x"]).all()
    context.close()
    path.unlink()


def _selected_tab(page) -> str:
    return page.evaluate("() => document.querySelector('button[role=tab][aria-selected=true]').textContent.trim()")


def test_a_copied_link_restores_the_settings(browser, app_url):
    """Settings in the URL are restored on opening it; 'Copy link' writes them back, bad entries are ignored."""
    query = ("?setup.data=moons&setup.process=ve&setup.seed=7&tab=sampling&sampling.steps=50"
             "&sampling.samplers=ddim,pf_euler&present=1&setup.seed2=oops&sampling.particles=1e9")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url + query, wait_until="load")
    page.wait_for_function("() => { const b = document.querySelector('button[role=tab][aria-selected=true]');"
                           " return b && b.textContent.trim() === 'Sampling'; }", timeout=30_000)
    page.wait_for_function("() => document.documentElement.classList.contains('dx-present')", timeout=10_000)
    assert "moons" in page.get_by_label("Data distribution p₀").input_value().lower()
    assert "VE" in page.get_by_label("Forward process").input_value()
    assert page.get_by_label("Seed").first.input_value() == "7"
    assert page.get_by_label("Steps (0 = each sampler's default)").first.input_value() == "50"
    assert page.get_by_label("Particles").first.input_value() == "2000", "an out-of-range value is ignored"
    assert page.get_by_text("Some link settings were ignored").first.is_visible()

    page.get_by_role("button", name="Copy a link to these settings").click()
    box = page.locator("#settings-link textarea")
    page.wait_for_function("() => document.querySelector('#settings-link textarea').value.includes('?')",
                           timeout=10_000)
    link = box.input_value()
    for part in ("setup.data=moons", "setup.process=ve", "setup.seed=7", "tab=sampling", "sampling.steps=50",
                 "present=1"):
        assert part in link, (part, link)
    assert "sampling.samplers=ddim%2Cpf_euler" in link or "sampling.samplers=ddim,pf_euler" in link

    again = browser.new_page(viewport={"width": 1280, "height": 900})          # the copied link, opened afresh
    again.goto(link, wait_until="load")
    again.wait_for_function("() => { const b = document.querySelector('button[role=tab][aria-selected=true]');"
                            " return b && b.textContent.trim() === 'Sampling'; }", timeout=30_000)
    assert again.get_by_label("Steps (0 = each sampler's default)").first.input_value() == "50"
    assert again.get_by_label("Seed").first.input_value() == "7"
    SHOTS.mkdir(exist_ok=True)
    again.screenshot(path=str(SHOTS / "restored_link.png"))
    page.close()
    again.close()


def test_a_link_with_markup_shows_its_characters_not_markup(browser, app_url):
    """A link whose keys and values are HTML: the warning toast shows the characters, and no element, style or
    request comes from them."""
    from urllib.parse import urlencode

    literals = ("<b style='color:red'>bold</b>", "<img src=http://other.invalid/x.png>", "<a href=//evil.invalid>x</a>")
    query = urlencode({literals[0]: "1", literals[1]: "1", "setup.data": literals[2]})    # keys, and a value
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    foreign = []

    def watch(route):
        if not route.request.url.startswith(app_url.rstrip("/")):
            foreign.append(route.request.url)
            return route.abort()
        return route.continue_()

    page.route("**/*", watch)
    page.goto(app_url + "?" + query, wait_until="load")
    toast = page.locator('[data-testid="toast-body"]').filter(has_text="Some link settings were ignored").first
    toast.wait_for(timeout=30_000)
    text = toast.inner_text()
    for literal in literals:
        assert literal in text, (literal, text)
    made = toast.evaluate("t => [...t.querySelectorAll('b, a, img, [style*=\"color:red\"], [style*=\"color: red\"]')]"
                          ".map(e => e.outerHTML)")
    assert made == [], made
    assert foreign == [], f"the page asked other hosts for {foreign}"
    page.close()


def test_no_server_path_in_the_page_or_its_animations(browser, app_url):
    """The page's HTML, its config and the animation's iframe name no server path; plotly.js comes from the app's
    own route and draws the animation."""
    import re

    import httpx

    from explorer.viz.animation import PLOTLY_URL

    server_paths = re.compile(r"site-packages|/root/|/home/|/usr/lib|\.pyenv|\.venv|" + re.escape(str(Path.cwd())))
    for route in ("", "config"):
        body = httpx.get(app_url + route, timeout=30).text
        assert not server_paths.search(body), (route, server_paths.search(body))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url, wait_until="load")
    frame = _animation_frame(page)
    srcdoc = page.locator("#forward-anim iframe").get_attribute("srcdoc")
    assert not server_paths.search(srcdoc), server_paths.search(srcdoc)
    scripts = frame.evaluate("() => [...document.scripts].map(s => s.src).filter(Boolean)")
    assert scripts and all(s.endswith(PLOTLY_URL) for s in scripts), scripts
    assert frame.evaluate("() => typeof Plotly !== 'undefined' && !!document.querySelector('.js-plotly-plot')")
    page.close()


def test_a_closed_page_takes_its_exports_with_it(browser, app_url):
    """Press '⬇ HTML' on the Forward tab: the file is in a new session folder; close the page: the folder goes."""
    import time

    from explorer.viz.export import EXPORT_DIR

    before = set(EXPORT_DIR.glob("*")) if EXPORT_DIR.exists() else set()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url, wait_until="load")
    _animation_frame(page)
    page.get_by_role("button", name="⬇ HTML (plays offline)").first.click()
    page.get_by_text("Standalone HTML").first.wait_for(timeout=30_000)
    deadline = time.time() + 30
    while time.time() < deadline and not set(EXPORT_DIR.glob("*")) - before:
        time.sleep(0.2)
    new = set(EXPORT_DIR.glob("*")) - before
    assert len(new) == 1 and [p.suffix for p in next(iter(new)).iterdir()] == [".html"], new
    page.close()
    deadline = time.time() + 30
    while time.time() < deadline and next(iter(new)).exists():
        time.sleep(0.2)
    assert not next(iter(new)).exists(), "the session's exports were removed when its page closed"


def test_the_trade_off_button_switches_the_data_and_draws_the_sweep(browser, app_url):
    """Guidance tab, one click (#17 item 10): the shared data becomes the overlapping classes, the comparison and the
    sweep over gamma are computed for it, and the sweep chart has the star of the class's own data."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url.rstrip("/") + "/?tab=guidance", wait_until="load")
    page.get_by_role("button", name="The trade-off on overlapping classes").click()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].some(gd => gd.data &&
                              gd.data.some(t => t.name === "the class's own data"))""", timeout=120_000, polling=500)
    shown = page.evaluate("""() => {
      const names = [...document.querySelectorAll('.js-plotly-plot')].flatMap(gd => (gd.data || []).map(t => t.name));
      const data = [...document.querySelectorAll('input')].map(i => i.value);
      return {names, data}; }""")
    assert "2D: three overlapping classes" in shown["data"] and "top" in shown["data"], shown["data"]
    assert {"classifier guidance", "classifier-free"} <= set(shown["names"])
    assert "Something went wrong" not in page.content()
    page.close()
