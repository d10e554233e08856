"""The physio's battery in a real browser: steps run with the simulated athlete, the banner
prompts as the kiosk does, a failed step is red with its reason and a one-tap Repeat, a rest
counts down, and a reload (or another device) resumes the battery where the station says it
is. Tablet (1024x768) runs and reloads; a phone (390x844) picks the same battery up.

A station of its own so its board and its athlete meet no other test's. Holds are 5 s
(`?duration_s=5`); every step is done by clicking the page (the sim panel included).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import Any

import browser_support
import pytest
from browser_support import (
    PHONE,
    TABLET,
    first_admin_and_athlete,
    new_page,
    no_horizontal_overflow,
    run_station,
    shot,
    sim,
)

from station.protocols import load_protocols

banner_has = partial(browser_support.banner_has, timeout=30_000)  # this module's default wait

HOLD_S = 5
# the baseline battery's steps, as its protocol file lists them (a repeat count per trial)
STEPS = sum(t.count for t in load_protocols()["baseline"].trials)
ATHLETE = "Mia Lindqvist"


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("battery-station")
    yield from run_station(tmp, tmp / "data", "browser-battery-station.log")


@pytest.fixture(scope="module")
def login(station, browser) -> dict[str, Any]:
    """The admin set up through the first-run page, and the athlete: the login's cookies."""
    return first_admin_and_athlete(browser, station, ATHLETE, "U16")


def physio(browser, station: str, state, viewport) -> Any:
    page = new_page(browser, viewport, state)
    page.goto(station + "/physio")
    page.select_option("#p-athlete", label=f"{ATHLETE} · U16")
    page.wait_for_url("**/physio?athlete=*")
    page.goto(page.url + f"&duration_s={HOLD_S}")
    return page


def step(page, k: int) -> Any:
    return page.locator(f"#b-steps li[data-step='{k}']")


def hold_on(page, foot: str, fail: bool = False) -> None:
    """The simulated athlete steps on, lifts `foot` when the banner says so, holds (or
    touches down), then steps off once the step shows its result."""
    sim(page, "Step on")
    banner_has(page, "weighing")
    banner_has(page, f"Now lift your {foot.upper()} foot")
    sim(page, f"Lift {foot} foot")
    banner_has(page, "Hold!")
    if fail:
        page.wait_for_timeout(1500)
        sim(page, "Touch down")


def test_a_battery_runs_fails_rests_and_resumes_after_a_reload(station, browser, login):
    page = physio(browser, station, login, TABLET)
    page.fill("#b-stiff", "2")
    page.click("#b-begin")
    step(page, 1).wait_for()
    assert page.locator("#b-steps li").count() == STEPS
    labels = page.locator("#b-steps li .what").all_inner_texts()
    assert labels[0].startswith("Left leg, eyes open") and "left-open-firm" not in " ".join(labels)
    assert page.locator("#b-setup").is_hidden()  # one battery at a time on the page

    # step 1 held: ✓, then the rest counts down towards step 2
    step(page, 1).get_by_role("button", name="Start").click()
    banner_has(page, "Step onto the board")
    assert page.locator("#state-banner .banner-what").inner_text() == "Left leg, eyes open"
    hold_on(page, "right")
    page.wait_for_selector("#b-steps li[data-step='1'].done", timeout=HOLD_S * 1000 + 30_000)
    page.wait_for_selector("#b-rest:not([hidden])")
    rest = page.locator("#b-rest").inner_text()
    assert re.fullmatch(r"Rest: \d+ s · next: Right leg, eyes open", rest), rest
    first = page.locator("#b-rest").inner_text()
    page.wait_for_timeout(2100)
    assert page.locator("#b-rest").inner_text() != first  # it counts down
    banner_has(page, "Rest")
    assert re.fullmatch(r"\d+ s", page.locator("#timer").inner_text())
    assert page.locator("#state-banner .banner-what").inner_text() == "next: Right leg, eyes open"
    sim(page, "Step off")
    shot(page, "battery-tablet-1-done-and-rest")

    # step 2 fails: a red ✗ with the reason in words, and a one-tap Repeat
    step(page, 2).get_by_role("button", name="Start").click()
    banner_has(page, "Right leg, eyes open")
    hold_on(page, "left", fail=True)
    page.wait_for_selector("#b-steps li[data-step='2'].failed", timeout=30_000)
    reason = step(page, 2).locator(".reason").inner_text()
    assert re.fullmatch(r"The free foot touched the (floor|board) at \d+\.\d s of 5 s",
                        reason), reason
    assert "✗" in step(page, 2).evaluate("li => getComputedStyle(li, '::before').content")
    assert step(page, 2).get_by_role("button", name="Repeat").is_visible()
    sim(page, "Step off")
    shot(page, "battery-tablet-2-failed")

    # a reload: the station offers the battery where it is, and resumes it
    page.reload()
    offer = page.locator("#b-resume")
    offer.wait_for()
    assert page.locator("#b-resume-go").inner_text() == f"Resume battery from step 2 of {STEPS}"
    assert "1 done, 1 failed" in page.locator("#b-resume-text").inner_text()
    shot(page, "battery-tablet-3-resume-offer")
    page.click("#b-resume-go")
    page.wait_for_selector("#b-steps li[data-step='2'].current.failed")
    assert "done" in step(page, 1).get_attribute("class")
    assert "The free foot touched" in step(page, 2).inner_text()
    progress = page.locator("#b-progress").inner_text()
    assert progress.startswith(f"Baseline battery: step 2 of {STEPS}")
    assert no_horizontal_overflow(page)
    shot(page, "battery-tablet-4-after-reload")

    # the repeat, one tap: held this time; then step 3 is skipped
    step(page, 2).get_by_role("button", name="Repeat").click()
    banner_has(page, "Step onto the board")
    assert page.locator("#state-banner .banner-what").inner_text() == "Right leg, eyes open"
    hold_on(page, "left")
    page.wait_for_selector("#b-steps li[data-step='2'].done", timeout=HOLD_S * 1000 + 30_000)
    sim(page, "Step off")
    page.wait_for_selector("#b-steps li[data-step='3'].current")
    step(page, 3).get_by_role("button", name="Skip").click()
    page.wait_for_selector("#b-steps li[data-step='3'].skipped")
    page.wait_for_selector("#b-steps li[data-step='4'].current")
    assert step(page, 3).get_by_role("button", name="Run now").is_visible()
    shot(page, "battery-tablet-5-skipped")
    assert not page.errors, page.errors
    page.context.close()


def test_another_device_picks_the_battery_up_and_finishes_it(station, browser, login):
    page = physio(browser, station, login, PHONE)  # a phone: another device, same physio
    page.locator("#b-resume").wait_for()
    assert page.locator("#b-resume-go").inner_text() == f"Resume battery from step 4 of {STEPS}"
    page.click("#b-resume-go")
    page.wait_for_selector("#b-steps li[data-step='4'].current")
    statuses = [page.locator(f"#b-steps li[data-step='{k}']").get_attribute("data-status")
                for k in range(1, 6)]
    assert statuses == ["done", "done", "skipped", "pending", "pending"]
    assert no_horizontal_overflow(page)
    shot(page, "battery-phone-1-after-reload")
    page.locator("#b-steps").scroll_into_view_if_needed()
    shot(page, "battery-phone-2-steps", full_page=False)
    page.click("#b-finish")
    page.wait_for_selector(".toast:has-text('Battery finished')")
    assert page.locator("#b-setup").is_visible()
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator("#b-resume").is_hidden()  # a finished battery is not offered again
    assert not page.errors, page.errors
    page.context.close()
