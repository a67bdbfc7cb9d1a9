"""Presentation mode (explorer/ui/present.py): in a real browser the checkbox redraws the figures with larger fonts,
markers and lines — the gr.Plot figures and the animation in its iframe — and unchecking it restores them."""
from explorer.viz.animation import PRESENT_SCALE

FIGS = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(g => g.offsetParent !== null)
  .map(g => [g._fullLayout.font.size, g._fullData.map(d => d.line ? d.line.width : null)])"""
ANIM = "() => { const g = document.querySelector('.js-plotly-plot'); return [g._fullLayout.font.size, " \
       "g._fullData.map(d => d.marker ? d.marker.size : null)]; }"


def test_presentation_mode_enlarges_the_figures_not_only_the_page(app_url):
    from playwright.sync_api import sync_playwright

    from test_browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{app_url}?tab=forward", wait_until="load")
        page.wait_for_selector("#forward-anim iframe", timeout=60_000)
        page.frame_locator("#forward-anim iframe").locator(".js-plotly-plot").wait_for(timeout=60_000)
        anim = page.frames[[f.url for f in page.frames].index("about:srcdoc")]
        anim.wait_for_function("() => document.querySelector('.js-plotly-plot')._fullLayout", timeout=30_000)
        anim_before = anim.evaluate(ANIM)
        page.get_by_role("tab", name="Score field").click()
        page.wait_for_function(f"() => ({FIGS})().length > 0", timeout=60_000)
        before = page.evaluate(FIGS)
        toggle = page.get_by_label("Presentation mode (larger, for a projector)")
        toggle.check()
        page.wait_for_function(f"() => ({FIGS})()[0][0] > {before[0][0]}", timeout=20_000)
        after = page.evaluate(FIGS)
        anim.wait_for_function(f"() => document.querySelector('.js-plotly-plot')._fullLayout.font.size > "
                               f"{anim_before[0]}", timeout=20_000)
        anim_after = anim.evaluate(ANIM)
        toggle.uncheck()
        page.wait_for_function(f"() => ({FIGS})()[0][0] === {before[0][0]}", timeout=20_000)
        restored = page.evaluate(FIGS)
        browser.close()
    assert after[0][0] == before[0][0] * PRESENT_SCALE
    lines = [(b, a) for b, a in zip(before[0][1], after[0][1]) if b]
    assert lines and all(abs(a - b * PRESENT_SCALE) < 1e-6 for b, a in lines), "the arrows' lines are wider"
    assert anim_after[0] == anim_before[0] * PRESENT_SCALE
    markers = [(b, a) for b, a in zip(anim_before[1], anim_after[1]) if isinstance(b, (int, float))]
    assert markers and all(abs(a - b * PRESENT_SCALE) < 1e-6 for b, a in markers), "the particles are larger"
    assert restored == before
