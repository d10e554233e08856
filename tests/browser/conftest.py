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
from browser_support import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    ROOT,
    SCREENSHOTS,
    STATION_PROCESS,
    new_page,
    shot,
)


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
    STATION_PROCESS["pid"] = proc.pid
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
