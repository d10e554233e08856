"""Real-browser fixtures: the real station (simulated board) in a subprocess, Debian's Chromium
driven by Playwright (headless, never downloaded), screenshots into artifacts/screenshots/.

A fresh station serves most of the suite (starting one takes seconds); tests that need an
account share the admin made through the first-run setup page by `admin_state`. The results
tests (test_results_in_browser.py) start a second one on a data directory with weeks of
history (history_seed.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    new_page,
    run_station,
    shot,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a running `balance-station run --board sim` on a fresh data directory."""
    tmp = tmp_path_factory.mktemp("station")
    yield from run_station(tmp, tmp / "data", "browser-station.log")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def close_the_tests_pages(request: pytest.FixtureRequest) -> Iterator[None]:
    """Close every browser context a test opened, when it ends (failed or not): a page left
    open keeps its live stream and keeps drawing the board, about a tenth of a core each, and
    a long suite then slows down until its timeouts fail."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    before = set(browser.contexts)
    yield
    for context in browser.contexts:
        if context not in before:
            with contextlib.suppress(Exception):  # already closed, or its page crashed
                context.close()


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
