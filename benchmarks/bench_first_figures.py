"""#16 point 1, how long a teacher waits: every tab opened by link in headless Chromium (1280x900), with no button
pressed, timed in two parts: from navigation to the page's load event (Gradio's frontend), and from the load event to
the first drawn figure of the tab (the app's own answer, from the start-up cache).

Run: python benchmarks/bench_first_figures.py [--rounds 3]   (starts the app in this process as the tests do, warmed
like `python app.py`; needs Chromium at /usr/bin/chromium and playwright). Prints a Markdown table: median and worst
over the rounds, per tab.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from machine import machine  # noqa: E402

TABS = ["lessons", "forward", "score", "learned", "sampling", "likelihood", "flow", "guidance", "vae", "images"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--enable-unsafe-swiftshader"]


def time_tab(browser, url: str, tab: str, count_figures: str) -> tuple[float, float]:
    """(seconds from navigation to the load event, seconds from the load event to a drawn figure in the tab)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        t0 = time.monotonic()
        page.goto(f"{url.rstrip('/')}/?tab={tab}", wait_until="load")
        t_load = time.monotonic()
        page.wait_for_function(f"() => ({count_figures})() > 0", timeout=60_000, polling=50)
        return t_load - t0, time.monotonic() - t_load
    finally:
        page.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from app_server import launch_app
    from test_browser_open import COUNT_FIGURES

    t0 = time.monotonic()
    demo, url = launch_app()
    print(f"Machine: {machine()}\n\napp built and warmed in {time.monotonic() - t0:.1f} s\n")
    times: dict[str, list[tuple[float, float]]] = {tab: [] for tab in TABS}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        time_tab(browser, url, "lessons", COUNT_FIGURES)                     # the browser's own first start
        for _ in range(args.rounds):
            for tab in TABS:
                times[tab].append(time_tab(browser, url, tab, COUNT_FIGURES))
        browser.close()
    demo.close()
    print("| tab | navigation → load event, median (worst) | load event → first figure, median (worst) |")
    print("|---|---|---|")
    for tab, ts in times.items():
        load, fig = [t[0] for t in ts], [t[1] for t in ts]
        print(f"| {tab} | {statistics.median(load):.2f} s ({max(load):.2f}) | "
              f"{statistics.median(fig):.2f} s ({max(fig):.2f}) |")


if __name__ == "__main__":
    main()
