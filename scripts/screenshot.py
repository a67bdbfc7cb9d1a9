"""Screenshots of a running app in headless Chromium: python scripts/screenshot.py URL OUT_DIR [width height]."""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--enable-unsafe-swiftshader"]
TABS = ["forward", "score", "learned", "sampling", "likelihood", "flow", "guidance", "vae", "images", "lessons"]   # tab ids


def main(url: str, out: str, width: int = 1280, height: int = 800) -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for tab in TABS:             # each tab opened by a link (?tab=...), so a phone's folded tab bar is no obstacle
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{url.rstrip('/')}/?tab={tab}", wait_until="load")
            page.wait_for_timeout(5000)
            page.screenshot(path=str(out_dir / f"{tab}_{width}.png"), full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(v) for v in sys.argv[3:5]))
