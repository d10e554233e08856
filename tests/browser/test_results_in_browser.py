"""Results people can trust, in a real browser at 390×844 and 1024×768, on a station with six
weeks of a team's history (history_seed.py): the team page's one condition and its switch,
the athlete page's per-day trends with tap tooltips and one colour per leg, and result cards
of a hold, a hop and a push run on the simulated board (baseline and rule named, time held
against the plan, each test's own measures, export buttons), and a kiosk reloaded during a
test's run that comes back to it. Screenshots in artifacts/screenshots/ (*-2x-*).
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
    ADMIN,
    PHONE,
    TABLET,
    login_state,
    new_page,
    no_horizontal_overflow,
    run_station,
    shot,
)
from history_seed import seed_team

banner_has = partial(browser_support.banner_has, timeout=20_000)  # this module's default wait

SIZES = [(PHONE, "phone"), (TABLET, "tablet")]
MIA = "Mia Jensen"


@pytest.fixture(scope="module")
def history_station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("history-station")
    seed_team(tmp / "data", ADMIN)
    yield from run_station(tmp, tmp / "data", "browser-history-station.log")


@pytest.fixture(scope="module")
def logged_in(history_station: str, browser: Any) -> dict[str, Any]:
    return login_state(browser, history_station)


def sim(page: Any, action: str, **params: Any) -> None:
    """The simulated athlete does `action` (the panel's buttons, and hop and push)."""
    page.evaluate("([a, p]) => BS.api('POST', '/api/sim/perform', {action: a, params: p})",
                  [action, params])


@pytest.mark.parametrize("viewport, prefix", SIZES)
def test_team_cards_show_one_condition_and_the_coach_switches_it(history_station, browser,
                                                                 logged_in, viewport, prefix):
    page = new_page(browser, viewport, logged_in)
    page.goto(history_station + "/coach")
    cards = page.locator(".card")
    cards.first.wait_for()
    assert cards.count() == 3
    note = page.locator("#condition-note").inner_text()
    assert note == "Cards show Left leg, eyes open (the battery's key condition)."
    for i in range(3):
        assert "Left leg, eyes open" in cards.nth(i).locator(".cond").inner_text()
    assert page.locator("#team-export").get_attribute("href") == "/api/team.csv"
    assert no_horizontal_overflow(page)
    shot(page, f"{prefix}-20-team")
    hop = page.locator("#f-condition option", has_text="hop").first.get_attribute("value")
    page.select_option("#f-condition", hop)
    page.wait_for_url(re.compile(r".*condition=.*hop"))
    assert "Left leg, eyes open, hop" in page.locator("#condition-note").inner_text()
    page.evaluate("localStorage.removeItem('coach-condition')")
    shot(page, f"{prefix}-20-team-hop")
    assert not page.errors, page.errors
    page.context.close()


def _rgb(page: Any, css: str) -> str:
    """A CSS colour as the browser computes it (rgb(...))."""
    return page.evaluate("(c) => { const d = document.createElement('i'); d.style.color = c; "
                         "document.body.append(d); const v = getComputedStyle(d).color; "
                         "d.remove(); return v; }", css)


@pytest.mark.parametrize("viewport, prefix", SIZES)
def test_the_athlete_page_trends_per_day_with_tap_tooltips_and_leg_colours(
        history_station, browser, logged_in, viewport, prefix):
    context = browser.new_context(viewport=viewport, device_scale_factor=1, has_touch=True,
                                  is_mobile=viewport is PHONE, storage_state=logged_in)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(history_station + "/coach")
    page.locator(".card", has_text=MIA).click()
    page.wait_for_url("**/athletes/*")
    page.wait_for_selector("#charts .uplot")
    assert page.locator("#charts .uplot").count() == 5  # score, velocity, ellipse, L/R, the log
    assert page.locator("#cond-baseline").inner_text().startswith(
        "Changes are measured from the baseline: ")
    # one point per day: six weekly days, not one per trial
    days = page.evaluate("BS.data.series['single-left · eyes open · firm'].measures.score.t")
    assert len(days) == 6
    # a tap on a chart shows that day's values
    over = page.locator("#charts .chart").first.locator(".u-over")
    box = over.bounding_box()
    over.tap(position={"x": box["width"] * 0.98, "y": box["height"] / 2})
    tip = page.locator("#charts .chart-tip").first
    tip.wait_for(state="visible")
    assert "mean of 2" in tip.inner_text()  # the last day had two holds of the left leg
    shot(page, f"{prefix}-21-athlete-tap", full_page=False)
    # one colour per leg: the L/R bars and the L/R chart's series
    left = _rgb(page, "var(--leg-left)")
    right = _rgb(page, "var(--leg-right)")
    assert left != right
    bar = page.evaluate("getComputedStyle(document.querySelector('.sym-bar .l')).backgroundColor")
    assert bar == left
    assert page.evaluate("Charts.LEG.left") and _rgb(page, page.evaluate("Charts.LEG.left")) == left
    markers = page.locator("#charts .chart-box", has_text="Left against right").locator(
        ".u-legend .u-series .u-marker")
    assert markers.count() >= 2
    assert markers.nth(0).evaluate("e => getComputedStyle(e).borderColor") == left
    assert markers.nth(1).evaluate("e => getComputedStyle(e).borderColor") == right
    rows = page.locator("#trials tbody tr")
    assert "✗ failed at 1.8 of 20 s" in page.locator("#trials tbody").inner_text()
    assert rows.count() > 20
    assert page.locator("#a-export").get_attribute("href").endswith("/trials.csv")
    assert no_horizontal_overflow(page)
    shot(page, f"{prefix}-21-athlete")
    page.locator("#cond-tabs button", has_text="Left leg, eyes open, hop").click()
    titles = page.locator("#charts .chart-box h3").all_inner_texts()
    assert any(t.startswith("Time to stabilization") for t in titles), titles
    assert any(t.startswith("Left against right: Time to stabilization") for t in titles)
    page.locator("#h-sym").scroll_into_view_if_needed()
    shot(page, f"{prefix}-21-athlete-hop")
    assert not errors, errors
    context.close()


def start_kiosk(page: Any, station: str, protocol: str, query: str) -> None:
    page.goto(f"{station}/kiosk?{query}")
    page.fill("#athlete-search", MIA.split()[0])
    page.get_by_role("button", name=re.compile(MIA)).click()
    page.get_by_role("button", name=re.compile(protocol)).click()
    banner_has(page, "Step onto")


def finish(page: Any, prefix: str, name: str) -> str:
    page.wait_for_selector("#step-result:not([hidden])", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#res-compare').textContent.length > 0")
    path = shot(page, f"{prefix}-{name}")
    assert path.exists()
    text = page.locator("#step-result").inner_text()
    page.get_by_role("button", name="Step off", exact=True).click()
    page.wait_for_function("() => document.querySelector('#kg').textContent === '\u2013'")
    page.get_by_role("button", name="Done", exact=True).click()
    return text


def measure_box(page: Any, key: str) -> Any:
    return page.locator(f"#res-measures .measure[data-key='{key}']")


@pytest.mark.parametrize("viewport, prefix", SIZES)
def test_a_hold_result_card_names_its_baseline_and_compares_time_with_the_plan(
        history_station, browser, logged_in, viewport, prefix):
    page = new_page(browser, viewport, logged_in)
    start_kiosk(page, history_station, "Single-leg hold, left", "duration_s=5")
    page.get_by_role("button", name="Step on", exact=True).click()
    banner_has(page, "lift your RIGHT")
    page.get_by_role("button", name="Lift right foot", exact=True).click()
    page.wait_for_selector("#step-result:not([hidden])", timeout=40_000)
    assert page.locator("#res-outcome").inner_text() == "✓ Completed: held the full 5 s"
    compare = page.locator("#res-compare").inner_text()
    assert re.search(r"Compared with the baseline: .+, single trial", compare), compare
    held = measure_box(page, "time_to_failure_s")
    assert "5 of 5 s" in held.locator(".v").inner_text()
    # planned 5 s here, 20 s in the baseline battery: not compared
    assert held.locator(".c").first.inner_text().endswith("–")
    assert "not compared" in held.locator(".c .chg").first.get_attribute("title")
    velocity = measure_box(page, "mean_velocity_mm_s.total").locator(".c .chg").first
    badge = velocity.inner_text()
    # an arrow follows the sign; within the measurement error: "≈", grey
    assert re.fullmatch(r"(▲ \+|▼ −|≈ [+−]?)\d+\.\d", badge), badge
    if badge.startswith("≈"):
        assert "chg-flat" in velocity.get_attribute("class")
    links = page.locator("#res-export a")
    assert links.count() == 3 and page.locator("#res-export").is_visible()
    assert links.nth(2).get_attribute("href").endswith("/metrics.csv")
    assert page.locator("#res-score-label").inner_text() == "stability score (0–100)"
    assert no_horizontal_overflow(page)
    finish(page, prefix, "22-result-hold")
    assert not page.errors, page.errors
    page.context.close()


def measured_result(page: Any, perform: Any, key: str, tries: int = 3) -> str:
    """Run the armed trial with `perform` until its card shows `key` (at most `tries`): on a
    loaded machine the simulated board's process can be starved and deliver frames with
    gaps, which the landing and push analyses rightly refuse ("–"); then step off and
    Repeat, as an operator would."""
    for _ in range(tries):
        perform()
        page.wait_for_selector("#step-result:not([hidden])", timeout=40_000)
        value = measure_box(page, key).locator(".v").inner_text()
        if not value.startswith("\u2013"):
            return value
        page.get_by_role("button", name="Step off", exact=True).click()
        page.wait_for_function("() => document.querySelector('#kg').textContent === '\u2013'")
        page.get_by_role("button", name="Repeat", exact=True).click()
        banner_has(page, "Step onto")
    pytest.fail(f"{key} was not measured in {tries} tries (see the station log)")


def test_a_hop_result_card_shows_its_landing(history_station, browser, logged_in):
    page = new_page(browser, TABLET, logged_in)
    start_kiosk(page, history_station, "Baseline battery", "duration_s=5&from=hop-left")
    assert "LEFT foot" in page.locator("#instructions").inner_text()

    def hop() -> None:
        page.get_by_role("button", name="Step on", exact=True).click()
        banner_has(page, "lift your RIGHT")
        page.get_by_role("button", name="Lift right foot", exact=True).click()
        banner_has(page, "Hold", timeout=20_000)
        page.wait_for_timeout(600)
        sim(page, "hop", peak_bw=2.6)

    peak = measured_result(page, hop, "landing.peak_force_bw")
    assert re.fullmatch(r"\d\.\d BW", peak), peak
    assert page.locator("#res-score-label").inner_text() == "landing score (0–100)"
    labels = page.locator("#res-measures .measure .k").all_inner_texts()
    assert labels[:3] == ["Time to stabilization", "Vertical time to stabilization",
                          "Peak landing force"], labels
    assert "COP velocity" not in labels
    assert page.locator("#h-result").inner_text().endswith("Left leg, eyes open, hop")
    finish(page, "tablet", "23-result-hop")
    assert not page.errors, page.errors
    page.context.close()


def test_a_push_result_card_shows_the_reaction(history_station, browser, logged_in):
    page = new_page(browser, PHONE, logged_in)
    start_kiosk(page, history_station, "Baseline battery", "duration_s=8&from=push-double")

    def push() -> None:
        page.get_by_role("button", name="Step on", exact=True).click()
        banner_has(page, "Hold", timeout=25_000)
        page.wait_for_timeout(3000)  # the push needs 2 s of quiet stance before it
        sim(page, "push", direction="forward", magnitude=6.0)

    excursion = measured_result(page, push, "perturbation.peak_excursion_mm")
    assert re.fullmatch(r"\d+\.\d mm", excursion), excursion
    assert page.locator("#res-score-label").inner_text() == "push-recovery score (0–100)"
    labels = page.locator("#res-measures .measure .k").all_inner_texts()
    assert labels[:2] == ["Peak excursion", "Recovery time"], labels
    assert no_horizontal_overflow(page)
    finish(page, "phone", "24-result-push")
    assert not page.errors, page.errors
    page.context.close()


def _state(page: Any, station: str) -> dict[str, Any]:
    return page.context.request.get(f"{station}/api/trials/current").json()["status"]


def test_a_reloaded_kiosk_comes_back_to_the_tests_run(history_station, browser, logged_in):
    """A reload while a trial of a test's run is armed picks it up at its place; a trial that
    ended while the page was away shows its result card and rest, and is not run again;
    Change test ends what was kept, so a reload then arms nothing."""
    page = new_page(browser, TABLET, logged_in)
    start_kiosk(page, history_station, "Single-leg hold, left", "duration_s=5")
    assert page.locator("#run-progress").inner_text() == "trial 1 of 3"
    page.reload()  # trial 1 is armed
    page.wait_for_selector("#step-run:not([hidden])")
    banner_has(page, "Step onto")
    assert page.locator("#run-progress").inner_text() == "trial 1 of 3"
    assert page.locator("#run-test").inner_text() == "Single-leg hold, left"
    assert page.locator("#run-athlete").inner_text() == MIA
    # trial 1 ends while the page is away (a reload that takes long)
    page.get_by_role("button", name="Step on", exact=True).click()
    banner_has(page, "lift your RIGHT")
    page.get_by_role("button", name="Lift right foot", exact=True).click()
    banner_has(page, "Hold")
    page.goto("about:blank")
    deadline = time.monotonic() + 30
    while _state(page, history_station)["state"] not in ("complete", "failed"):
        assert time.monotonic() < deadline, "trial 1 never ended"
        time.sleep(0.2)
    ended_run = _state(page, history_station)["run"]
    page.goto(f"{history_station}/kiosk?duration_s=5")
    page.wait_for_selector("#step-result:not([hidden])")
    assert page.locator("#res-athlete").inner_text() == MIA
    assert page.locator("#run-progress").inner_text() == "trial 1 of 3"
    assert page.locator("#res-next").inner_text().startswith("Next: ")
    assert page.locator("#res-outcome").inner_text().startswith(("✓ Completed", "The "))
    shot(page, "tablet-2x-kiosk-test-back-to-its-result")
    page.wait_for_timeout(1000)
    now = _state(page, history_station)
    assert now["run"] == ended_run and now["state"] in ("complete", "failed"), now  # not re-armed
    page.get_by_role("button", name="Step off", exact=True).click()
    page.get_by_role("button", name="Next trial").click()  # trial 2 is armed at once
    banner_has(page, "Step onto")
    assert page.locator("#run-progress").inner_text() == "trial 2 of 3"
    armed_run = _state(page, history_station)["run"]
    page.get_by_role("button", name="Change test").click()
    page.wait_for_selector("#step-test:not([hidden])")
    page.reload()
    page.wait_for_selector("#step-athlete:not([hidden])")
    page.wait_for_timeout(1000)
    after = _state(page, history_station)
    assert after["run"] == armed_run and after["state"] == "aborted"  # nothing armed again
    assert not page.errors, page.errors
    page.context.close()
