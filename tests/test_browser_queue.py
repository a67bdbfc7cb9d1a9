"""A real browser: clicking a button five times while its result is pending runs the work once."""
import threading
import time

from test_browser import browser  # noqa: F401  (the module's Chromium fixture)

import explorer.ui.sampling_tab as sampling_tab


def test_five_clicks_while_pending_queue_one_job(browser, app_url, monkeypatch):  # noqa: F811
    calls, lock = [], threading.Lock()
    original = sampling_tab.run_samplers

    def slow_run(*args, **kwargs):
        with lock:
            calls.append(time.time())
        time.sleep(2.0)                     # the result stays pending while the button is pressed again
        return original(*args, **kwargs)

    monkeypatch.setattr(sampling_tab, "run_samplers", slow_run)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url + "?tab=sampling", wait_until="load")
    button = page.get_by_role("button", name="Sample", exact=True)
    button.wait_for(timeout=60_000)
    page.wait_for_selector("#sampling-anim iframe", timeout=60_000)   # the page's own first figures are there
    page.wait_for_timeout(1500)
    with lock:
        calls.clear()                       # what the page load did is not a click
    for _ in range(5):
        button.click()
        page.wait_for_timeout(150)
    deadline = time.time() + 60
    while not calls and time.time() < deadline:
        page.wait_for_timeout(200)
    page.wait_for_timeout(5000)             # the first run (2 s + the sampling) done, and time for a further one to start
    page.close()
    assert len(calls) == 1, f"{len(calls)} sampling runs for five clicks while the first was pending"
