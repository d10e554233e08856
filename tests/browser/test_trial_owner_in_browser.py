"""One board, two screens, in a real browser: who owns the trial is shown on both, taking
it over asks first and tells the owner's screen, a reloaded kiosk resumes its trial, an
armed trial with nobody on the board expires, and the simulated-athlete panel plays the
whole baseline battery (every click on the page: the test calls no API).

A station of its own ([hold] armed_timeout_s = 10, the shortest allowed) so its trials
never meet the other browser tests'. Holds are 5 s (`?duration_s=5`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import browser_support
import pytest
from browser_support import (
    PHONE,
    TABLET,
    login_state,
    new_page,
    run_station,
    shot,
    sim,
)

banner_has = partial(browser_support.banner_has, timeout=20_000)  # this module's default wait

HOLD_S = 5
ATHLETE = "Jordan Smith"
EXPIRY_S = 10


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("owner-station")
    yield from run_station(tmp, tmp / "data", "browser-owner-station.log",
                           config=f"[hold]\narmed_timeout_s = {EXPIRY_S}\n")


@pytest.fixture(scope="module")
def screens(station, browser) -> dict[str, Any]:
    """Two logins (two screens, two owners) and the athlete."""
    kiosk = login_state(browser, station, first=True)
    physio = login_state(browser, station, first=False)
    page = new_page(browser, PHONE, kiosk)
    page.goto(station + "/coach")
    page.locator("#add-athlete summary").click()
    page.fill("#a-name", ATHLETE)
    page.fill("#a-team", "U18")
    page.click("#a-form button[type=submit]")
    page.wait_for_selector(f".card:has-text('{ATHLETE}')")
    page.context.close()
    return {"kiosk": kiosk, "physio": physio}


def slow_start_answers(page, seconds: float) -> None:
    """The station's answer to a start reaches this page late (a busy station, a slow
    network): the live stream shows the new trial before the page knows it is its own.
    Every text the owner line shows is kept in `window.ownerLines`."""
    def late(route) -> None:
        answer = route.fetch()
        time.sleep(seconds)
        route.fulfill(response=answer)
    page.route("**/api/trials/start", late)
    page.add_init_script("""
      window.ownerLines = [];
      new MutationObserver(() => {
        const el = document.getElementById("owner-line");
        const text = el && !el.hidden ? el.textContent : null;
        if (text && window.ownerLines.at(-1) !== text) window.ownerLines.push(text);
      }).observe(document,
                 { subtree: true, childList: true, characterData: true, attributes: true });
    """)


def arm_at_kiosk(page, station: str, protocol: str, query: str = "") -> None:
    page.goto(f"{station}/kiosk?duration_s={HOLD_S}{query}")
    page.get_by_role("button", name=re.compile(ATHLETE)).click()
    page.get_by_role("button", name=re.compile(protocol)).click()
    banner_has(page, "Step onto")


def physio_page(browser, station: str, state) -> Any:
    page = new_page(browser, PHONE, state)
    page.goto(station + "/physio")
    page.select_option("#p-athlete", label=f"{ATHLETE} · U18")
    page.wait_for_url("**/physio?athlete=*")
    page.goto(page.url + f"&duration_s={HOLD_S}")
    return page


def owner_line(page) -> str:
    line = page.locator("#owner-line")
    line.wait_for()
    return line.inner_text()


def test_ownership_takeover_and_reload_across_two_screens(station, browser, screens):
    kiosk = new_page(browser, TABLET, screens["kiosk"])
    slow_start_answers(kiosk, 1.5)
    arm_at_kiosk(kiosk, station, "Single-leg hold, left")
    kiosk.wait_for_function("() => !document.querySelector('#owner-line')?.hidden")
    assert owner_line(kiosk) == f"Your trial: {ATHLETE} — started at the kiosk (admin)"
    # and it never said otherwise while the start's answer was on its way
    assert kiosk.evaluate("window.ownerLines") == [
        f"Your trial: {ATHLETE} — started at the kiosk (admin)"]
    kiosk.unroute("**/api/trials/start")

    physio = physio_page(browser, station, screens["physio"])
    physio.wait_for_function("() => !document.querySelector('#owner-line')?.hidden")
    assert owner_line(physio) == f"Board in use: {ATHLETE} — started at the kiosk (admin)"

    # the kiosk reloads: it picks up its armed trial, and its own Stop works again later
    kiosk.reload()
    kiosk.wait_for_selector("#step-run:not([hidden])")
    banner_has(kiosk, "Step onto")
    assert "LEFT foot" in kiosk.locator("#instructions").inner_text()

    # the physio stops it: asked first; "Cancel" leaves the kiosk's trial alone
    asked: list[str] = []
    physio.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    physio.get_by_role("button", name="Stop trial").click()
    physio.wait_for_function("() => true")
    physio.wait_for_timeout(500)
    assert asked and "started at the kiosk" in asked[0], asked
    assert owner_line(kiosk).startswith("Your trial")

    # starting the physio's battery takes over after "OK"; the kiosk is told who did it
    physio.fill("#b-stiff", "2")
    physio.click("#b-begin")
    physio.locator("#b-steps li").first.wait_for()
    physio.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    physio.locator("#b-steps li").first.get_by_role("button", name="Start").click()
    banner_has(kiosk, "took over the board")
    text = kiosk.locator("#state-banner").inner_text()
    assert text == ("Stopped: another screen took over the board "
                    f"(now: {ATHLETE} — started by admin on the physio page)")
    shot(kiosk, "tablet-20-kiosk-taken-over", full_page=False)
    physio.wait_for_function("() => document.querySelector('#owner-line')?.dataset.mine === '1'")
    assert owner_line(physio).startswith("Your trial: ") and "physio page" in owner_line(physio)
    assert owner_line(kiosk).startswith("Board in use: ")
    shot(physio, "phone-21-physio-took-over", full_page=False)

    # nothing re-arms at the kiosk by itself after its trial was stopped
    kiosk.wait_for_timeout(3000)
    assert kiosk.locator("#step-run").is_visible()
    assert "took over" in kiosk.locator("#state-banner").inner_text()

    # the physio stops its own trial: no question asked
    physio.get_by_role("button", name="Stop trial").click()
    physio.wait_for_function(
        "() => document.querySelector('#state-banner').textContent.startsWith('Stopped')")
    assert len(asked) == 2
    assert not kiosk.errors and not physio.errors, (kiosk.errors, physio.errors)
    kiosk.context.close()
    physio.context.close()


def test_an_armed_trial_with_nobody_on_the_board_expires(station, browser, screens):
    kiosk = new_page(browser, TABLET, screens["kiosk"])
    physio = physio_page(browser, station, screens["physio"])
    arm_at_kiosk(kiosk, station, "Single-leg hold, right")
    banner_has(kiosk, "Nobody stepped on: the trial expired", timeout=(EXPIRY_S + 10) * 1000)
    physio.wait_for_function(
        "() => document.querySelector('#state-banner').textContent.includes('expired')")
    kiosk.wait_for_timeout(2000)
    assert "expired" in kiosk.locator("#state-banner").inner_text()  # not re-armed
    assert not kiosk.errors and not physio.errors, (kiosk.errors, physio.errors)
    kiosk.context.close()
    physio.context.close()


def play_trial(page, trial_id: str) -> tuple[str, str]:
    """Do one baseline trial with the sim panel's buttons only: the result's outcome, and
    the condition the panel says the athlete stepped on in."""
    single = not trial_id.startswith("push")
    sim(page, "Step on")  # a wobble trial's step-on puts the station's wobble board on first
    page.wait_for_function("() => document.querySelector('#sim-condition').textContent")
    condition = page.locator("#sim-condition").inner_text()
    if "wobble" in trial_id:
        sim(page, "Sway less")  # a steady athlete: the rim must not touch in this test
    if single:
        foot = "RIGHT" if trial_id.startswith(("left", "hop-left")) else "LEFT"
        banner_has(page, f"lift your {foot}")
        sim(page, f"Lift {foot.lower()} foot")
    banner_has(page, "Hold!", timeout=30_000)
    if trial_id.startswith("hop"):
        page.wait_for_timeout(500)
        sim(page, "Hop and land")
    elif trial_id.startswith("push"):
        page.wait_for_timeout(1500)
        sim(page, "Push forward")
    page.wait_for_selector("#step-result:not([hidden])", timeout=HOLD_S * 1000 + 30_000)
    outcome = page.locator("#res-outcome").inner_text()
    sim(page, "Step off")
    if "wobble" in trial_id:  # the wobble board stays on the platform: it weighs 2.5 kg
        page.wait_for_function("() => { const kg = document.querySelector('#kg').textContent; "
                               "return kg === '\u2013' || parseFloat(kg) < 4; }")
        page.wait_for_timeout(1500)  # the step-off's last foot leaves
    else:
        page.wait_for_function("() => document.querySelector('#kg').textContent === '\u2013'")
    return outcome, condition


def test_the_sim_panel_plays_the_whole_baseline_battery(station, browser, screens):
    page = new_page(browser, TABLET, screens["kiosk"])
    page.goto(f"{station}/kiosk?duration_s={HOLD_S}")
    page.get_by_role("button", name=re.compile(ATHLETE)).click()
    page.get_by_role("button", name=re.compile("Baseline battery")).click()
    banner_has(page, "Step onto")
    trials = ["left-open-firm", "right-open-firm", "left-closed-firm", "right-closed-firm",
              "left-open-foam", "right-open-foam", "left-open-wobble", "right-open-wobble",
              "push-double", "hop-left", "hop-right"]
    outcomes, conditions = {}, {}
    for k, trial_id in enumerate(trials):
        assert page.locator("#run-progress").inner_text() == f"trial {k + 1} of {len(trials)}"
        outcomes[trial_id], conditions[trial_id] = play_trial(page, trial_id)
        if k == 4:
            shot(page, "tablet-22-battery-foam-result")
        if k + 1 < len(trials):
            sim(page, "Next trial")
            banner_has(page, "Step onto")
    assert "all trials done" in page.locator("#res-next").inner_text()
    completed = [t for t, o in outcomes.items() if o.startswith("✓ Completed")]
    assert len(completed) == len(trials), outcomes
    # the panel played each trial in its condition (the server says which)
    for trial_id, said in conditions.items():
        surface = next((s for s in ("foam", "wobble") if s in trial_id), "firm")
        eyes = "closed" if "closed" in trial_id else "open"
        assert said == f"Doing it on {surface}, eyes {eyes} (the trial's condition).", trial_id
    assert not page.errors, page.errors
    page.context.close()
