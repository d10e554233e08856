"""Real-browser fixtures: the real station (simulated board) in a subprocess, Debian's Chromium
driven by Playwright (headless, never downloaded), screenshots into artifacts/screenshots/.

One station serves the whole browser suite (starting one takes seconds); tests that need an
account share the admin made through the first-run setup page by `admin_state`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a running `balance-station run --board sim` (no demo autopilot)."""
    tmp = tmp_path_factory.mktemp("station")
    (tmp / "empty.toml").write_text("# defaults only\n")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = (tmp / "station.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "run", "--board", "sim", "--host", "127.0.0.1",
         "--port", "0", "--data-dir", str(tmp / "data"), "--config", str(tmp / "empty.toml")],
        stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=ROOT,
    )
    url = None
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.strip().startswith("http://"):
            url = line.strip().rstrip("/")
            break
    if url is None:
        proc.kill()
        pytest.fail("station did not print its URL:\n" + (tmp / "station.log").read_text())
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp / "station.log", SCREENSHOTS.parent / "browser-station.log")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


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


@pytest.fixture(scope="session")
def admin_state(station: str, browser: Any) -> dict[str, Any]:
    """First-run setup through the real page (phone size): the admin account's cookies."""
    page = new_page(browser, PHONE)
    page.goto(station + "/")
    assert page.url.endswith("/setup"), page.url  # a fresh station sends everyone to setup
    shot(page, "phone-01-setup")
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.fill("input[name=password2]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/coach")
    assert not page.errors, page.errors
    state = page.context.storage_state()
    page.context.close()
    return state
