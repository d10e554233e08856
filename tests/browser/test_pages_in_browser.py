"""The station in a real browser (Debian's Chromium, headless) at phone and tablet sizes:
first-run setup, login, a full single-leg hold on the simulated board through the kiosk to
its result card, the result in the history and on the coach dashboard, a failed hold, the
report. Screenshots go to artifacts/screenshots/.

The holds are shortened to 5 s with the kiosk's `?duration_s=5` (the trial request's
duration override, stored with the trial) so the suite stays short; the hold engine, the
analysis and the store are the real ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import (
    ADMIN,
    PHONE,
    TABLET,
    banner_has,
    new_page,
    no_horizontal_overflow,
    shot,
    sim,
)

HOLD_S = 5
ATHLETE = "Noor Haddad"


def login(page, station: str, user: str = ADMIN[0], password: str = ADMIN[1]) -> None:
    page.goto(station + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_login_page_refuses_a_wrong_password_then_logs_in(station, browser, admin_state):
    page = new_page(browser, PHONE)
    page.goto(station + "/coach")
    assert "/login" in page.url  # not logged in: the page asks for a login
    login(page, station, password="not-the-password")
    assert page.get_by_role("alert").inner_text() == "wrong username or password"
    shot(page, "phone-02-login-refused")
    login(page, station)
    page.wait_for_url("**/coach")
    assert page.get_by_role("heading", name="Team").is_visible()
    assert no_horizontal_overflow(page)
    assert not page.errors, page.errors
    page.context.close()


def run_single_leg_hold(page, station: str, prefix: str, fail: bool) -> str:
    page.goto(f"{station}/kiosk?duration_s={HOLD_S}")
    page.fill("#athlete-search", ATHLETE.split()[0])
    shot(page, f"{prefix}-kiosk-athletes")
    page.get_by_role("button", name=re.compile(ATHLETE)).click()
    page.get_by_role("button", name=re.compile("Single-leg hold, left")).click()
    banner = page.locator("#state-banner")
    banner_has(page, "Step onto")
    assert "LEFT foot" in page.locator("#instructions").inner_text()
    sim(page, "Step on")
    banner_has(page, "lift your RIGHT", timeout=20_000)
    sim(page, "Lift right foot")
    page.wait_for_selector("#overlay:not([hidden])", timeout=15_000)  # the 3-2-1 countdown
    shot(page, f"{prefix}-kiosk-countdown", full_page=False)
    banner_has(page, "Hold", timeout=15_000)
    if fail:
        page.wait_for_timeout(1500)
        sim(page, "Touch down")
    else:
        page.wait_for_timeout(2000)
        shot(page, f"{prefix}-kiosk-holding", full_page=False)
    page.wait_for_selector("#step-result:not([hidden])", timeout=HOLD_S * 1000 + 15_000)
    # the result card waits for the comparison before it shows
    assert banner.count() == 1
    shot(page, f"{prefix}-kiosk-result")
    outcome = page.locator("#res-outcome").inner_text()
    sim(page, "Step off")  # the simulated athlete leaves the board for the next test
    page.wait_for_function("() => document.querySelector('#kg').textContent === '\u2013'")
    sim(page, "Done")
    return outcome


@pytest.fixture(scope="module")
def athlete(station, browser, admin_state) -> str:
    """The test athlete, added through the team page's form (phone size)."""
    page = new_page(browser, PHONE, admin_state)
    add_athlete(page, station)
    assert not page.errors, page.errors
    page.context.close()
    return ATHLETE


def add_athlete(page, station: str, name: str = ATHLETE) -> None:
    page.goto(station + "/coach")
    page.locator("#add-athlete summary").click()
    page.fill("#a-name", name)
    page.fill("#a-team", "U18 girls")
    page.select_option("#a-leg", "right")
    page.click("#a-form button[type=submit]")
    page.wait_for_selector(f".card:has-text('{name}')")


def test_kiosk_runs_a_full_hold_to_its_result_card(station, browser, admin_state, athlete):
    page = new_page(browser, TABLET, admin_state)
    outcome = run_single_leg_hold(page, station, "tablet-03", fail=False)
    assert outcome == f"✓ Completed: held the full {HOLD_S} s"
    assert 0 < int(page.locator("#res-score").inner_text()) <= 100
    velocity = page.locator(".measure", has_text="COP velocity").locator(".v").inner_text()
    assert re.fullmatch(r"\d+\.\d mm/s", velocity), velocity
    assert not page.errors, page.errors
    page.context.close()


def test_kiosk_shows_a_failed_hold(station, browser, admin_state, athlete):
    page = new_page(browser, PHONE, admin_state)
    outcome = run_single_leg_hold(page, station, "phone-04", fail=True)
    assert outcome.startswith("The free foot touched the floor: failed at ")
    assert outcome.endswith(f" of {HOLD_S} s")  # time held against the plan
    assert no_horizontal_overflow(page)
    assert not page.errors, page.errors
    page.context.close()


def test_the_results_show_in_history_and_on_the_coach_dashboard(station, browser, admin_state):
    page = new_page(browser, PHONE, admin_state)
    page.goto(station + "/coach")
    card = page.locator(".card", has_text=ATHLETE)
    assert card.locator(".sub").inner_text().startswith("U18 girls · last test")
    assert card.locator(".score").inner_text() != "\u2013"  # an en dash: no score
    assert no_horizontal_overflow(page)
    shot(page, "phone-05-coach")
    card.click()
    page.wait_for_url("**/athletes/*")
    rows = page.locator("#trials tbody tr")
    assert rows.count() == 2  # the completed and the failed hold, newest first
    assert "✗" in rows.nth(0).inner_text() and "✓" in rows.nth(1).inner_text()
    page.wait_for_selector("#charts .uplot")  # the trend charts drew
    # both trials were today: one point with its range, on a week of date axis (not years)
    x = page.evaluate("(() => { const u = document.querySelector('#charts .chart').uplot; "
                      "return [u.data[0].length, u.scales.x.max - u.scales.x.min]; })()")
    assert x[0] == 1 and 6 * 86400 < x[1] < 8 * 86400, x
    assert no_horizontal_overflow(page)
    shot(page, "phone-06-athlete-history")
    page.locator("#sessions tbody tr").first.click()  # the session log, edited in place
    page.fill("#sessions input[name=soreness]", "4")
    page.fill("#sessions input[name=notes]", "tight calf")
    page.click("#sessions button[type=submit]")
    page.wait_for_selector("#sessions tr:has-text('tight calf')")
    rows.nth(1).click()  # replay the completed hold's COP trace
    page.wait_for_selector("#replay:not([hidden])")
    page.wait_for_timeout(1500)
    shot(page, "phone-07-replay", full_page=False)
    assert not page.errors, page.errors
    page.context.close()


def test_the_report_page_is_print_ready(station, browser, admin_state):
    page = new_page(browser, TABLET, admin_state)
    page.goto(station + "/coach")
    page.locator(".card", has_text=ATHLETE).click()
    page.get_by_role("link", name="Report").click()
    page.wait_for_url("**/report/*")
    assert page.get_by_role("heading", name=f"Balance report: {ATHLETE}").is_visible()
    table = page.locator("section", has_text="Baseline and latest").locator("table").first
    assert "Time held" in table.inner_text()
    shot(page, "tablet-08-report")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    path = download.value.path()
    assert Path(path).read_bytes()[:4] == b"%PDF"
    assert download.value.suggested_filename == "report-Noor-Haddad.pdf"
    page.emulate_media(media="print")
    assert page.locator(".bar").is_hidden()  # no navigation on paper
    shot(page, "tablet-09-report-print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert not page.errors, page.errors
    page.context.close()


@pytest.mark.parametrize("viewport, prefix", [(PHONE, "phone"), (TABLET, "tablet")])
def test_every_page_fits_the_screen(station, browser, admin_state, viewport, prefix):
    page = new_page(browser, viewport, admin_state)
    for path in ("/kiosk", "/coach", "/physio", "/status", "/settings", "/calibrate", "/live"):
        page.goto(station + path)
        page.wait_for_load_state("networkidle") if path != "/kiosk" else None
        assert no_horizontal_overflow(page), path
        shot(page, f"{prefix}-10-{path.strip('/')}")
    assert not page.errors, page.errors
    page.context.close()


def test_physio_runs_a_battery_step_and_sets_a_target(station, browser, admin_state, athlete):
    page = new_page(browser, TABLET, admin_state)
    page.goto(station + "/physio")
    page.select_option("#p-athlete", label=f"{ATHLETE} · U18 girls")
    page.wait_for_url("**/physio?athlete=*")
    page.goto(page.url + f"&duration_s={HOLD_S}")
    page.fill("#b-stiff", "3")
    page.click("#b-begin")
    first = page.locator("#b-steps li").first
    first.wait_for()
    assert page.locator("#b-steps li").count() == 11  # the baseline battery's eleven trials
    first.get_by_role("button", name="Start").click()
    banner_has(page, "Left leg, eyes open")
    sim(page, "Step on")
    page.wait_for_function(
        "() => document.querySelector('#state-banner').textContent.includes('weighing')"
        " || document.querySelector('#state-banner').textContent.includes('Ready')",
        timeout=20_000)
    page.wait_for_timeout(2500)  # weighed while still on both feet
    sim(page, "Lift right foot")
    try:
        page.wait_for_selector("#b-steps li.done", timeout=HOLD_S * 1000 + 20_000)
    finally:
        shot(page, "tablet-11-physio-battery")
    assert f"held {HOLD_S} of {HOLD_S} s" in page.locator("#b-steps li.done").inner_text()
    sim(page, "Step off")
    page.fill("#b-notes", "left ankle taped")
    page.click("#b-save-notes")
    page.wait_for_selector(".toast:has-text('Notes saved')")
    page.select_option("#t-measure", "mean_velocity_mm_s.total")
    page.fill("#t-value", "15")
    page.fill("#t-notes", "before the season")
    page.click("#t-add")
    target = page.locator("#t-list .target", has_text="COP velocity <= 15.0")
    target.wait_for()
    assert "any condition (measured in Left leg, eyes open)" in target.inner_text()  # its condition
    assert "before the season" in target.inner_text()
    assert page.input_value("#t-notes") == ""  # the notes went with that target
    page.fill("#t-value", "999")  # the wrong side of the baseline: refused, and said why
    page.click("#t-add")
    page.wait_for_selector("#t-error:not([hidden])")
    assert "lower is better" in page.locator("#t-error").inner_text()
    assert page.locator("#t-list .target").count() == 1
    shot(page, "tablet-11-physio")
    assert not page.errors, page.errors
    page.context.close()


def test_admin_adds_a_coach_who_turns_a_tablet_into_the_kiosk(station, browser, admin_state,
                                                              athlete):
    admin = new_page(browser, PHONE, admin_state)
    admin.goto(station + "/settings")
    admin.fill("#u-name", "coach-kim")
    admin.select_option("#u-role", "coach")
    admin.fill("#u-pass", "coach-password-1")
    admin.click("#u-form button[type=submit]")
    admin.wait_for_selector("#users tr[data-user='coach-kim']")
    assert not admin.errors, admin.errors
    admin.context.close()

    page = new_page(browser, TABLET)
    login(page, station, "coach-kim", "coach-password-1")
    page.wait_for_url("**/coach")
    page.get_by_role("button", name="Kiosk mode").click()  # a 30-day lock: it asks first
    page.get_by_role("button", name="Turn into kiosk").click()
    page.wait_for_url("**/kiosk")
    assert page.locator("nav.nav").count() == 0  # a kiosk has no way into history
    page.get_by_role("button", name="Exit kiosk").click()  # asks first; Cancel keeps the kiosk
    page.get_by_role("button", name="Cancel").click()
    assert page.get_by_role("button", name="Exit kiosk").is_visible()
    page.get_by_role("button", name=re.compile(ATHLETE)).click()
    page.get_by_role("button", name=re.compile("Single-leg hold, right")).click()
    banner_has(page, "Step onto")
    assert "RIGHT foot" in page.locator("#instructions").inner_text()
    shot(page, "tablet-12-kiosk-mode-armed")
    page.get_by_role("button", name="Stop trial").click()
    page.wait_for_function(
        "() => document.querySelector('#state-banner').textContent === 'Stopped'")
    assert page.goto(station + "/coach").status == 403  # history stays closed
    assert not page.errors, page.errors
    page.context.close()
