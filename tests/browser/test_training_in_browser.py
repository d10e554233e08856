"""Training in a real browser at tablet (1024x768) and phone (390x844) sizes: the kiosk's
"Today's training" (the athlete's log in a few taps, today's list, the first step run on the
simulated board to its result card, in a training session), the plan on the athlete page
(stage, the ladder, stage changes, the physio's override with a reason) and adherence on the
coach dashboard. Screenshots: artifacts/screenshots/training-*.png.

Holds are shortened with the kiosk's ?duration_s=5 like the other kiosk tests.
"""

from __future__ import annotations

import re

import pytest
from browser_support import (
    PHONE,
    SCREENSHOTS,
    TABLET,
    banner_has,
    new_page,
    no_horizontal_overflow,
    shot,
    sim,
)

HOLD_S = 5
ATHLETE = "Tia Trainer"


def add_athlete(station, browser, admin_state, name: str) -> str:
    page = new_page(browser, PHONE, admin_state)
    page.goto(station + "/coach")
    page.locator("#add-athlete summary").click()
    page.fill("#a-name", name)
    page.fill("#a-team", "Training group")
    page.click("#a-form button[type=submit]")
    card = page.wait_for_selector(f".card:has-text('{name}')")
    uid = card.get_attribute("data-uid")
    assert not page.errors, page.errors
    page.context.close()
    return uid


@pytest.fixture(scope="module")
def athlete_uid(station, browser, admin_state) -> str:
    return add_athlete(station, browser, admin_state, ATHLETE)


def open_todays_training(page, station: str, prefix: str, name: str = ATHLETE,
                         shot_name: str = "kiosk-log") -> None:
    page.goto(f"{station}/kiosk?duration_s={HOLD_S}")
    page.fill("#athlete-search", name.split()[0])
    page.get_by_role("button", name=re.compile(name)).click()
    page.get_by_role("button", name=re.compile("Today's training")).click()
    page.wait_for_selector("#step-training:not([hidden])")
    page.wait_for_function(
        "() => document.querySelector('#tr-stage').textContent.includes('Your stage')")
    shot(page, f"training-{prefix.split('-')[0]}-{shot_name}")


def log_and_list(page, prefix: str) -> None:
    for field, value in (("soreness", "2"), ("stiffness", "1"), ("relief", "7")):
        page.locator(f".tr-scale[data-field={field}] button[data-value='{value}']").click()
    page.locator(".tr-scale[data-field=sleep_hours] button", has_text="8 h").click()
    pressed = page.locator("#tr-log button[aria-pressed=true]").count()
    assert pressed == 4
    page.fill("#tr-notes", "a bit stiff after the bus")
    page.get_by_role("button", name="Save and show today's list").click()
    page.wait_for_selector("#tr-plan:not([hidden])")
    assert page.locator("#tr-steps li").count() >= 1
    shot(page, f"training-{prefix}-kiosk-list")


def test_the_kiosk_runs_todays_training_from_the_log(station, browser, admin_state,
                                                     athlete_uid):
    page = new_page(browser, TABLET, admin_state)
    open_todays_training(page, station, "tablet")
    assert "Both feet" in page.locator("#tr-stage").inner_text()  # a new plan's first stage
    log_and_list(page, "tablet")
    assert page.locator("#tr-intensity").inner_text() == "hard day"
    title = page.locator("#tr-title").inner_text()
    assert re.fullmatch(r"About \d+ minutes", title), title
    minutes = int(title.split()[1])
    assert 15 <= minutes <= 25
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("#step-run:not([hidden])")
    assert "Today's training" in page.locator("#run-test").inner_text()
    banner_has(page, "Step onto")
    assert "BOTH feet" in page.locator("#instructions").inner_text()
    sim(page, "Step on")
    page.wait_for_selector("#step-result:not([hidden])", timeout=HOLD_S * 1000 + 25_000)
    shot(page, "training-tablet-kiosk-result")
    assert page.locator("#res-outcome").inner_text() == f"✓ Completed: held the full {HOLD_S} s"
    assert "Next:" in page.locator("#res-next").inner_text()  # the next step after a rest
    sim(page, "Step off")
    page.wait_for_function("() => document.querySelector('#kg').textContent === '\u2013'")
    sim(page, "Done")
    assert not page.errors, page.errors
    page.context.close()


def test_the_plan_on_the_athlete_page_and_the_physio_sets_the_stage(
    station, browser, admin_state, athlete_uid
):
    page = new_page(browser, TABLET, admin_state)
    page.goto(f"{station}/athletes/{athlete_uid}")
    page.wait_for_selector("#tp-plan:not([hidden])")
    assert "Both feet, firm" in page.locator("#tp-now").inner_text()
    assert page.locator("#tp-ladder li").count() >= 8
    assert page.locator("#tp-ladder li.skipped").count() == 0  # every stage can run here
    changes = page.locator("#tp-changes tbody")
    assert "started" in changes.inner_text()  # the kiosk's training session began the plan
    page.select_option("#tp-stage", "single-firm-20")
    page.fill("#tp-reason", "steady on both feet: try one leg")
    page.get_by_role("button", name="Set stage").click()
    page.wait_for_function(
        "() => document.querySelector('#tp-changes tbody').textContent.includes('set by hand')")
    assert "steady on both feet" in changes.inner_text()
    assert "Single leg, firm, eyes open, 20 s" in page.locator("#tp-now").inner_text()
    page.locator("#training-plan").scroll_into_view_if_needed()
    shot(page, "training-tablet-athlete-plan")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#training-plan").screenshot(
        path=str(SCREENSHOTS / "training-tablet-plan-panel.png"))
    assert no_horizontal_overflow(page)
    assert not page.errors, page.errors
    page.context.close()


def test_phone_sizes_log_list_plan_and_coach(station, browser, admin_state, athlete_uid):
    page = new_page(browser, PHONE, admin_state)
    other = add_athlete(station, browser, admin_state, "Pia Phone")
    open_todays_training(page, station, "phone", "Pia Phone")
    assert no_horizontal_overflow(page)
    log_and_list(page, "phone")
    assert no_horizontal_overflow(page)
    # logged today already: the kiosk goes straight to today's list, at the stage the physio set
    open_todays_training(page, station, "phone-again", shot_name="kiosk-list-again")
    assert page.locator("#tr-log").is_hidden() and page.locator("#tr-plan").is_visible()
    assert "Single leg, firm, eyes open, 20 s" in page.locator("#tr-stage").inner_text()
    page.goto(f"{station}/athletes/{athlete_uid}")
    page.wait_for_selector("#tp-plan:not([hidden])")
    assert no_horizontal_overflow(page)
    page.locator("#training-plan").scroll_into_view_if_needed()
    shot(page, "training-phone-athlete-plan", full_page=False)
    page.goto(station + "/coach")
    line = page.wait_for_selector(f".card[data-uid='{athlete_uid}'] .trained")
    assert line.get_attribute("data-this-week") == "1"
    assert page.locator(f".card[data-uid='{other}'] .trained").get_attribute(
        "data-this-week") == "1"
    shot(page, "training-phone-coach")
    assert no_horizontal_overflow(page)
    assert not page.errors, page.errors
    page.context.close()
