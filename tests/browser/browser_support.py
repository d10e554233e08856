"""Helpers of the real-browser tests (constants, pages, screenshots), importable by name
from the tests and tests/browser/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("BALANCE_STATION_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}
ADMIN = ("admin", "admin-password-1")


def new_page(browser: Any, viewport: dict[str, int], storage_state: Any = None) -> Any:
    context = browser.new_context(viewport=viewport, device_scale_factor=1,
                                  storage_state=storage_state)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.errors = []  # uncaught JavaScript errors: every test asserts there are none
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def shot(page: Any, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def no_horizontal_overflow(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
