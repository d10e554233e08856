"""Training made whole, in a real browser at phone (390x844) and kiosk (1024x768) sizes, on a
station whose demo athletes have the demo's weeks of history (station.trials.demo_history:
assessments, training sessions with their games, the athletes' logs):
- the athlete page's trends show the log (soreness, stiffness, relief, sleep) on the same days
  and tell training days (hollow diamonds) from assessments;
- a game's result card speaks the game's own measures and never calls it a baseline
  assessment;
- a kiosk reloaded in the middle of today's training comes back to the training queue.
Screenshots: artifacts/screenshots/training2-*.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
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
    sim,
)

from station import access
from station.calibration import try_load_calibration
from station.store import open_store
from station.store.records import Athlete
from station.trials.demo_history import ensure_demo_history

banner_has = partial(browser_support.banner_has, timeout=25_000)  # this module's default wait

ROOT = Path(__file__).resolve().parents[2]
MIA = "Demo · Mia Lindqvist"
FRESH = "Rhea Reload"  # no history: a new plan's first stage, today's list is never a rest day
SIZES = [(PHONE, "phone"), (TABLET, "tablet")]
GAME_S = 12


@pytest.fixture(scope="module")
def demo_station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    tmp = tmp_path_factory.mktemp("training2-station")
    calibration, problem = try_load_calibration(ROOT / "calibration" / "sim-board.json")
    assert calibration is not None, problem
    store = open_store(tmp / "data", upgrade=True)
    try:
        access.create_user(store, ADMIN[0], "admin", ADMIN[1])
        ensure_demo_history(store, calibration.to_dict(), now=datetime.now(UTC))
        uids = {a.name: a.uid for a in store.list_athletes()}
        uids[FRESH] = store.add_athlete(Athlete(name=FRESH, team="Training group"))
    finally:
        store.close()
    for url in run_station(tmp, tmp / "data", "browser-training2-station.log"):
        yield url, uids


@pytest.fixture(scope="module")
def logged_in(demo_station, browser: Any) -> dict[str, Any]:
    return login_state(browser, demo_station[0])


@pytest.mark.parametrize(("viewport", "prefix"), SIZES)
def test_the_trends_show_the_log_and_training_days(demo_station, browser, logged_in,
                                                    viewport, prefix):
    url, uids = demo_station
    page = new_page(browser, viewport, logged_in)
    page.goto(f"{url}/athletes/{uids[MIA]}")
    page.wait_for_selector("#charts .log-chart .uplot")
    # a condition with both assessment and training days: the double-leg hold (Monday's quiet
    # stance, the first stage's training holds)
    key = page.evaluate("""() => Object.keys(BS.data.series).find((k) => {
        const m = BS.data.series[k].measures.score;
        return m.n_training.some((x) => x > 0) && m.n_training.some((x) => x === 0); })""")
    assert key, "no condition with both training and assessment days"
    page.locator(f"#cond-tabs button[data-key='{key}']").click()
    page.wait_for_selector("#charts .log-chart .uplot")
    assert page.locator("#charts .chart-kind-key").first.is_visible()
    assert "training session" in page.locator("#charts .chart-kind-key").first.inner_text()
    log = page.locator("#charts .log-chart")
    labels = log.locator(".u-legend .u-series .u-label").all_inner_texts()
    assert {"Soreness", "Stiffness", "Relief", "Sleep (h)"} <= set(labels), labels
    # the log is on the trends' days: its x axis covers every day of the condition's charts
    days = page.evaluate(f"BS.data.series[{key!r}].measures.score.t")
    x_min, x_max = page.evaluate(
        "(() => { const u = document.querySelector('#charts .log-chart .chart').uplot;"
        " return [u.scales.x.min, u.scales.x.max]; })()")
    assert x_min <= min(days) and x_max >= max(days)
    # Mia's soreness rises over the weeks: the log's last days are sorer than its first
    sore = page.evaluate("BS.data.log.series.soreness.y")
    assert sum(sore[-3:]) / 3 > sum(sore[:3]) / 3 + 1.5
    # a tap on the first chart says whether the day was training or an assessment
    over = page.locator("#charts .chart").first.locator(".u-over")
    box = over.bounding_box()
    over.click(position={"x": box["width"] * 0.98, "y": box["height"] / 2})
    tip = page.locator("#charts .chart-tip").first
    tip.wait_for(state="visible")
    assert re.search(r"training|assessment", tip.inner_text()), tip.inner_text()
    assert page.locator("#trials .pill", has_text="training").count() > 0
    assert no_horizontal_overflow(page)
    page.locator("#h-trend").scroll_into_view_if_needed()
    shot(page, f"training2-{prefix}-athlete-trends", full_page=False)
    log.scroll_into_view_if_needed()
    shot(page, f"training2-{prefix}-athlete-log", full_page=False)
    assert not page.errors, page.errors
    page.context.close()


@pytest.mark.parametrize(("viewport", "prefix"), SIZES)
def test_a_games_result_card_speaks_its_own_measures(demo_station, browser, logged_in,
                                                     viewport, prefix):
    url, _ = demo_station
    page = new_page(browser, viewport, logged_in)
    page.goto(f"{url}/kiosk?duration_s={GAME_S}")
    page.fill("#athlete-search", "Mia")
    page.get_by_role("button", name=re.compile("Mia Lindqvist")).click()
    page.get_by_role("button", name=re.compile("^Weight shift")).click()
    banner_has(page, "Step onto")
    sim(page, "Step on")
    page.wait_for_function("() => BoardView.views[0].shown && BoardView.views[0].shown.game"
                           " === 'weight_shift' && document.querySelector('#state-banner')"
                           ".textContent.includes('Hold')", timeout=25_000)
    sim(page, "Play the game")
    page.wait_for_selector("#step-result:not([hidden])", timeout=GAME_S * 1000 + 25_000)
    page.wait_for_function(
        "() => document.querySelector('#res-outcome').textContent.includes('tracking error')")
    outcome = page.locator("#res-outcome").inner_text()
    assert re.fullmatch(r"✓ Done: tracking error \d+\.\d mm, \d+ % in band", outcome), outcome
    assert "held" not in outcome
    compare = page.locator("#res-compare").inner_text()
    assert "baseline assessment" not in compare, compare
    # she played weight shifts in her training sessions: compared with the first of them
    assert compare.startswith("Compared with your first training session"), compare
    keys = page.locator("#res-measures .measure").evaluate_all(
        "els => els.map((e) => e.dataset.key)")
    assert "weight_shift.rms_error_mm" in keys and "time_to_failure_s" not in keys
    assert no_horizontal_overflow(page)
    shot(page, f"training2-{prefix}-game-result")
    sim(page, "Step off")
    page.get_by_role("button", name="Done", exact=True).click()
    assert not page.errors, page.errors
    page.context.close()


def test_a_reloaded_kiosk_comes_back_to_todays_training(demo_station, browser, logged_in):
    url, _ = demo_station
    page = new_page(browser, TABLET, logged_in)
    page.goto(f"{url}/kiosk?duration_s=5")
    page.fill("#athlete-search", FRESH.split()[0])
    page.get_by_role("button", name=re.compile(FRESH)).click()
    page.get_by_role("button", name=re.compile("Today's training")).click()
    page.wait_for_selector("#tr-log:not([hidden])")
    page.locator(".tr-scale[data-field=soreness] button[data-value='1']").click()
    page.get_by_role("button", name="Save and show today's list").click()
    page.wait_for_selector("#tr-plan:not([hidden])")
    page.get_by_role("button", name="Start").click()
    banner_has(page, "Step onto")
    progress = page.locator("#run-progress").inner_text()
    assert progress.startswith("trial 1 of "), progress
    page.reload()  # in the middle of the first step: its trial is armed
    page.wait_for_selector("#step-run:not([hidden])")
    banner_has(page, "Step onto")
    assert "Today's training" in page.locator("#run-test").inner_text()
    assert page.locator("#run-progress").inner_text() == progress
    assert "BOTH feet" in page.locator("#instructions").inner_text()
    shot(page, "training2-tablet-kiosk-reloaded")
    # the step is run to its result, the next one is named; a reload in the rest arms it
    sim(page, "Step on")
    page.wait_for_selector("#step-result:not([hidden])", timeout=5_000 + 25_000)
    assert "Next:" in page.locator("#res-next").inner_text()
    sim(page, "Step off")
    page.wait_for_function("() => document.querySelector('#kg').textContent === '\u2013'")
    page.reload()
    page.wait_for_selector("#step-run:not([hidden])")
    banner_has(page, "Step onto")
    assert page.locator("#run-progress").inner_text().startswith("trial 2 of ")
    assert "Today's training" in page.locator("#run-test").inner_text()
    # step 2 ends while the page is away (a reload that takes long): coming back shows its
    # result and rest, it does not run step 2 again
    sim(page, "Step on")
    banner_has(page, "Hold")
    page.goto("about:blank")
    api = page.context.request
    deadline = time.monotonic() + 30
    while api.get(f"{url}/api/trials/current").json()["status"]["state"] not in (
            "complete", "failed"):
        assert time.monotonic() < deadline, "step 2 never ended"
        time.sleep(0.2)
    ended_run = api.get(f"{url}/api/trials/current").json()["status"]["run"]
    page.goto(f"{url}/kiosk?duration_s=5")
    page.wait_for_selector("#step-result:not([hidden])")
    assert page.locator("#run-progress").inner_text().startswith("trial 2 of ")
    assert "Next:" in page.locator("#res-next").inner_text()
    shot(page, "training2-tablet-kiosk-back-to-its-result")
    page.wait_for_timeout(1000)
    now = api.get(f"{url}/api/trials/current").json()["status"]
    assert now["run"] == ended_run and now["state"] in ("complete", "failed")  # not re-armed
    sim(page, "Step off")
    page.get_by_role("button", name="Done", exact=True).click()
    assert not page.errors, page.errors
    page.context.close()
