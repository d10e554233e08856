"""Helpers of the real-browser tests (constants, pages, screenshots), importable by name
from the tests and tests/browser/conftest.py."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from station_process import running_station

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
STATION_PROCESS: dict[str, int] = {}  # PID of each running test station, by its log name


def acquisition_child(station_pid: int) -> int:
    """PID of the station's acquisition process (its child running station.acquisition.child)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == station_pid and "station.acquisition.child" in cmdline:
            return int(proc.name)
    raise LookupError(f"no acquisition child of {station_pid}")


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


def login_state(browser: Any, station: str, first: bool = False) -> dict[str, Any]:
    """The admin's cookies after a login (`first`: the station's first-run page, which makes
    the admin): every browser test module starts from one."""
    page = new_page(browser, PHONE)
    page.goto(station + ("/" if first else "/login"))
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    if first:
        page.fill("input[name=password2]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/coach")
    state = page.context.storage_state()
    page.context.close()
    return state


def first_admin_and_athlete(browser: Any, station: str, name: str, team: str) -> dict[str, Any]:
    """A new station's admin (first-run page) who adds one athlete on the team page."""
    state = login_state(browser, station, first=True)
    page = new_page(browser, PHONE, state)
    page.goto(station + "/coach")
    page.locator("#add-athlete summary").click()
    page.fill("#a-name", name)
    page.fill("#a-team", team)
    page.click("#a-form button[type=submit]")
    page.wait_for_selector(f".card:has-text('{name}')")
    state = page.context.storage_state()
    page.context.close()
    return state


def sim(page: Any, label: str) -> None:
    """Press a button of the simulated-athlete panel (its label, exactly)."""
    page.get_by_role("button", name=label, exact=True).click()


def banner_has(page: Any, text: str, timeout: float | None = None) -> None:
    """Wait until the state banner says `text` (`timeout` in ms; None: the page's default).
    A wait that runs out says what the banner said instead (a refusal, an error)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # a page: it is here

    try:
        page.wait_for_function(
            "t => document.querySelector('#state-banner').textContent.includes(t)", arg=text,
            timeout=timeout)
    except PlaywrightTimeoutError:
        said = page.evaluate("document.querySelector('#state-banner')?.textContent ?? null")
        raise AssertionError(f"the banner never said {text!r}; it says {said!r}") from None


def no_horizontal_overflow(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


# Every browser context of the suite connects from 127.0.0.1 as the same admin, and each open
# page holds a live stream: the per-address (24) and per-user (8) limits that protect a real
# station would refuse the suite.
TEST_SERVER_CONFIG = "[server]\nconnections_per_address = 400\nstreams_per_principal = 48\n"


def run_station(
    tmp: Path, data_dir: Path, log_name: str, config: str = ""
) -> Iterator[str]:
    """A `balance-station run --board sim` (no demo autopilot) on `data_dir`: yields its URL,
    stops it after, and keeps its log in artifacts/ as `log_name`; `config` is more TOML
    (sections other than [server])."""
    log = tmp / "station.log"
    try:
        with running_station(data_dir, TEST_SERVER_CONFIG + config, log=log,
                             must_stop=False) as station:
            STATION_PROCESS[log_name] = station.proc.pid
            yield station.url
    finally:
        SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
        if log.exists():
            shutil.copyfile(log, SCREENSHOTS.parent / log_name)
