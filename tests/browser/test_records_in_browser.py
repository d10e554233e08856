"""Corrections to the record in a real browser at 390×844 and 1024×768, on a station with six
weeks of a team's history (history_seed.py) and a demo athlete: a physio-level user
invalidates a trial (a reason is required), sees it greyed with who, when and why and out of
the trend, counts it again; edits an athlete (an error shown under its field) and archives
them (asked first): off the team until "Show archived", badge on their page, back again. A
coach sees the greyed trial but no buttons. Screenshots: artifacts/screenshots/records-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import (
    ADMIN,
    PHONE,
    TABLET,
    new_page,
    no_horizontal_overflow,
    run_station,
    shot,
)
from history_seed import seed_team

from station import access
from station.store import open_store
from station.store.records import Athlete

SIZES = [(PHONE, "phone", "Mia Jensen"), (TABLET, "tablet", "Leo Brandt")]
COACH = ("coach1", "coach-password-1")
LEFT = "single-left · eyes open · firm"


@pytest.fixture(scope="module")
def records_station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("records-station")
    seed_team(tmp / "data", ADMIN)
    store = open_store(tmp / "data")
    try:
        access.create_user(store, COACH[0], "coach", COACH[1])
        store.add_athlete(Athlete(name="Demo Dana", team="U18 girls", demo=True))
    finally:
        store.close()
    yield from run_station(tmp, tmp / "data", "browser-records-station.log")


def _login(station: str, browser: Any, who: tuple[str, str], home: str) -> dict[str, Any]:
    page = new_page(browser, PHONE)
    page.goto(station + "/login")
    page.fill("input[name=username]", who[0])
    page.fill("input[name=password]", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"**{home}")
    state = page.context.storage_state()
    page.context.close()
    return state


@pytest.fixture(scope="module")
def admin_login(records_station: str, browser: Any) -> dict[str, Any]:
    return _login(records_station, browser, ADMIN, "/coach")


@pytest.fixture(scope="module")
def coach_login(records_station: str, browser: Any) -> dict[str, Any]:
    return _login(records_station, browser, COACH, "/coach")


def _athlete_page(page: Any, station: str, name: str) -> str:
    page.goto(station + "/coach")
    page.locator(".card", has_text=name).click()
    page.wait_for_url("**/athletes/*")
    page.wait_for_selector("#trials tbody tr")
    return page.url


def _left_n(page: Any) -> int:
    return page.evaluate(f"BS.data.series[{LEFT!r}].n")


@pytest.mark.parametrize("viewport, prefix, name", SIZES)
def test_a_trial_is_invalidated_greyed_with_its_reason_and_counted_again(
        records_station, browser, admin_login, coach_login, viewport, prefix, name):
    page = new_page(browser, viewport, admin_login)
    url = _athlete_page(page, records_station, name)
    n_left = _left_n(page)
    newest_left = page.evaluate(
        "BS.data.trials.find((t) => t.condition === 'Left leg, eyes open').uid")
    row = page.locator(f'#trials tr[data-uid="{newest_left}"]')
    row.locator("button.invalidate").click()
    reason_row = page.locator("tr.reason-row")
    reason_row.wait_for()
    assert page.locator("#replay").is_hidden()  # the button is not the row's replay
    reason_row.locator("button[type=submit]").click()  # no reason: refused in place
    assert reason_row.locator(".field-error").inner_text() == "Say why the trial does not count."
    reason_row.locator("input[name=reason]").fill("stepped off early, wrong leg down")
    assert reason_row.locator(".field-error").inner_text() == ""  # typing clears it
    shot(page, f"records-{prefix}-01-reason", full_page=False)
    reason_row.locator("button[type=submit]").click()
    page.wait_for_selector(f'#trials tr.trial-invalid[data-uid="{newest_left}"]')
    note = page.locator(f'tr.trial-invalid-note[data-for="{newest_left}"]')
    text = note.inner_text()
    assert "Not counted: invalidated by admin on " in text
    assert ": stepped off early, wrong leg down" in text and "Count again" in text
    assert _left_n(page) == n_left - 1  # out of the trend
    assert page.locator(".toast", has_text="Trial invalidated").count() == 1
    assert no_horizontal_overflow(page)
    note.scroll_into_view_if_needed()
    shot(page, f"records-{prefix}-02-invalid", full_page=False)

    coach = new_page(browser, viewport, coach_login)  # sees it, may not change it
    coach.goto(url)
    coach.wait_for_selector(f'#trials tr.trial-invalid[data-uid="{newest_left}"]')
    assert coach.locator("#a-edit, #a-archive, button.invalidate").count() == 0
    assert coach.locator("tr.trial-invalid-note button").count() == 0
    assert "stepped off early" in coach.locator("tr.trial-invalid-note").first.inner_text()
    coach.locator("tr.trial-invalid-note").first.scroll_into_view_if_needed()
    shot(coach, f"records-{prefix}-03-coach-view", full_page=False)
    assert not coach.errors, coach.errors
    coach.context.close()

    note.locator("button", has_text="Count again").click()
    page.wait_for_selector(".toast", state="attached")
    page.wait_for_function("() => !document.querySelector('#trials tr.trial-invalid')")
    assert _left_n(page) == n_left
    assert not page.errors, page.errors
    page.context.close()


@pytest.mark.parametrize("viewport, prefix, name", SIZES)
def test_an_athlete_is_edited_and_archived(records_station, browser, admin_login, viewport,
                                           prefix, name):
    page = new_page(browser, viewport, admin_login)
    url = _athlete_page(page, records_station, name)
    assert page.locator("#a-badges .pill").count() == 0
    page.click("#a-edit")
    form = page.locator("#edit-form")
    form.wait_for()
    page.wait_for_function(
        f"() => document.querySelector('#edit-form [name=name]')?.value === {name!r}")
    form.locator("[name=birth_year]").fill("1800")  # the API's check, shown under its field
    form.locator("button[type=submit]").click()
    error = form.locator('.field-error[data-field="birth_year"]')
    error.wait_for()
    page.wait_for_function("() => document.querySelector('.field-error[data-field=birth_year]')"
                           ".textContent.length > 0")
    assert "1900" in error.inner_text()
    assert form.locator("[name=birth_year]").get_attribute("aria-invalid") == "true"
    shot(page, f"records-{prefix}-04-edit-error", full_page=False)
    form.locator("[name=birth_year]").fill("2009")
    form.locator("[name=team]").fill("U19 squad")
    form.locator("[name=notes]").fill("ankle sprain in 2024")
    form.locator("[name=sex]").select_option("F")  # the profile norms use
    form.locator("[name=height_cm]").fill("171")
    form.locator("button[type=submit]").click()
    # the save reloads the page: while the new one loads there is no #a-meta to read
    page.wait_for_function("() => document.querySelector('#a-meta')?.textContent"
                           ".startsWith('U19 squad')")
    assert page.locator("#edit-athlete").is_hidden()
    page.click("#a-edit")  # the saved profile comes back in the form
    page.wait_for_function("() => document.querySelector('#edit-form [name=height_cm]')?.value"
                           " === '171'")
    assert form.locator("[name=sex]").input_value() == "F"
    page.click("#edit-cancel")

    page.click("#a-archive")  # asked first, in place
    confirm = page.locator("#a-archive-form .confirm")
    confirm.wait_for()
    assert "their history is kept" in confirm.inner_text()
    shot(page, f"records-{prefix}-05-archive-confirm", full_page=False)
    confirm.locator("[data-yes]").click()
    page.wait_for_selector("#a-badges .pill", state="attached")
    assert page.locator("#a-badges").inner_text() == "archived"
    assert page.locator("#a-archive").inner_text() == "Unarchive"
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, f"records-{prefix}-06-archived", full_page=False)

    page.goto(records_station + "/coach")
    page.locator(".card").first.wait_for()
    assert page.locator(".card", has_text=name).count() == 0
    assert page.locator(".card", has_text="Demo Dana").locator(".pill",
                                                              has_text="demo").count() == 1
    page.check("#f-archived")
    page.wait_for_url("**archived=1*")
    card = page.locator(".card", has_text=name)
    card.wait_for()
    assert card.locator(".pill", has_text="archived").count() == 1
    assert no_horizontal_overflow(page)
    shot(page, f"records-{prefix}-07-team-archived")
    page.uncheck("#f-archived")
    page.wait_for_function("() => !location.search.includes('archived')")

    page.goto(url)
    page.click("#a-archive")
    page.locator("#a-archive-form .confirm [data-yes]").click()
    page.wait_for_function("() => document.querySelector('#a-archive')?.textContent === 'Archive'")
    assert page.locator("#a-badges .pill").count() == 0
    assert not page.errors, page.errors
    page.context.close()
