"""Screenshots of a running app in headless Chromium: python scripts/screenshot.py URL OUT_DIR [width height]."""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--enable-unsafe-swiftshader"]
TABS = ["Forward process", "Score field", "Sampling", "Likelihood", "Learned score", "Images", "Guidance", "VAE", "Lessons"]


def main(url: str, out: str, width: int = 1280, height: int = 800) -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url, wait_until="load")
        page.wait_for_timeout(4000)
        for name in TABS:
            tab = page.get_by_role("tab", name=name)
            if tab.count() == 0:
                continue
            tab.first.click()
            page.wait_for_timeout(3500)
            page.screenshot(path=str(out_dir / f"{name.replace(' ', '_').lower()}_{width}.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(v) for v in sys.argv[3:5]))
