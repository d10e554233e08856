"""The live board view at the board's own scale of sway, in a real browser at phone and
kiosk sizes: a single-leg hold's sway moves the dot by several pixels per mm (the view zooms
to the task), the drill's target is drawn larger than the dot, and the watch view (no login)
receives nothing but the dot. Screenshots: artifacts/screenshots/board-*.png.
"""

from __future__ import annotations

import re

import pytest
from browser_support import PHONE, TABLET, new_page, shot
from test_pages_in_browser import HOLD_S, add_athlete, sim

ATHLETE = "Lea Moreau"  # this module's own athlete: the others count their athletes' trials
MIN_PX_PER_MM = 3.0  # a single-leg hold's ±5–10 mm of sway: ±15–30 px, beyond the dot


def sample_shown(page, n: int = 20, every_ms: int = 100) -> list[dict]:
    out = []
    for _ in range(n):
        out.append(page.evaluate("() => BoardView.views[0].shown"))
        page.wait_for_timeout(every_ms)
    return out


def start_kiosk_trial(page, station: str, protocol: str) -> None:
    page.goto(f"{station}/kiosk?duration_s={HOLD_S * 2}")
    page.get_by_role("button", name=re.compile(ATHLETE)).click()
    page.get_by_role("button", name=re.compile(protocol)).click()
    page.wait_for_function(
        "() => document.querySelector('#state-banner').textContent.includes('Step onto')")


def wait_holding(page) -> None:
    page.wait_for_function(
        "() => document.querySelector('#state-banner').textContent.includes('Hold')",
        timeout=25_000)


@pytest.fixture(scope="module")
def board_athlete(station, browser, admin_state) -> str:
    page = new_page(browser, PHONE, admin_state)
    page.goto(station + "/coach")
    if not page.locator(f".card:has-text('{ATHLETE}')").count():
        add_athlete(page, station, ATHLETE)
    page.context.close()
    return ATHLETE


@pytest.mark.parametrize(("viewport", "prefix"), [(PHONE, "phone"), (TABLET, "tablet")])
def test_single_leg_sway_moves_the_dot_visibly(station, browser, admin_state, board_athlete,
                                               viewport, prefix):
    page = new_page(browser, viewport, admin_state)
    start_kiosk_trial(page, station, "Single-leg hold, left")
    sim(page, "Step on")
    page.wait_for_function(
        "() => document.querySelector('#state-banner').textContent.includes('lift your RIGHT')",
        timeout=20_000)
    sim(page, "Lift right foot")
    wait_holding(page)
    page.wait_for_timeout(1200)  # the view settles on the stance foot's sway
    shown = [s for s in sample_shown(page) if s and s["dotPx"]]
    assert len(shown) >= 15
    px_per_mm = min(s["pxPerMm"] for s in shown)
    assert px_per_mm >= MIN_PX_PER_MM, shown[-1]
    # the dot's drawn movement is its sway in mm times the scale: measured, not assumed
    mm = [s["dotMm"] for s in shown]
    px = [s["dotPx"] for s in shown]
    sway_mm = max(max(p[0] for p in mm) - min(p[0] for p in mm),
                  max(p[1] for p in mm) - min(p[1] for p in mm))
    moved_px = max(max(p[0] for p in px) - min(p[0] for p in px),
                   max(p[1] for p in px) - min(p[1] for p in px))
    assert sway_mm > 0.5, mm  # the simulated athlete sways
    assert moved_px >= MIN_PX_PER_MM * sway_mm * 0.7, (moved_px, sway_mm)
    assert shown[-1]["dotRadiusPx"] <= 13
    shot(page, f"board-{prefix}-kiosk-holding", full_page=False)
    page.get_by_role("button", name="Stop trial").click()
    sim(page, "Step off")
    assert not page.errors, page.errors
    page.context.close()


@pytest.mark.parametrize(("viewport", "prefix"), [(PHONE, "phone"), (TABLET, "tablet")])
def test_the_drills_target_is_larger_than_the_dot(station, browser, admin_state, board_athlete,
                                                  viewport, prefix):
    page = new_page(browser, viewport, admin_state)
    start_kiosk_trial(page, station, "Target drill")
    sim(page, "Step on")
    wait_holding(page)
    page.wait_for_function("() => (BoardView.views[0].shown || {}).targetRadiusPx")
    page.wait_for_timeout(1000)
    shown = page.evaluate("() => BoardView.views[0].shown")
    assert shown["targetRadiusPx"] >= 2 * shown["dotRadiusPx"], shown
    assert shown["pxPerMm"] >= MIN_PX_PER_MM, shown
    shot(page, f"board-{prefix}-kiosk-drill", full_page=False)
    page.get_by_role("button", name="Stop trial").click()
    sim(page, "Step off")
    assert not page.errors, page.errors
    page.context.close()


def test_the_watch_view_needs_no_login_and_gets_only_the_dot(station, browser, admin_state):
    page = new_page(browser, PHONE)  # no cookies: an athlete who scanned the kiosk's code
    assert page.goto(station + "/watch").status == 200
    assert page.request.get(station + "/favicon.ico").status == 200
    page.wait_for_function("() => document.querySelector('#conn').textContent === 'live'")
    message = page.evaluate("""() => new Promise((done) => {
        const es = new EventSource('/api/watch');
        es.onmessage = (ev) => { es.close(); done(JSON.parse(ev.data)); };
    })""")
    assert set(message) == {"kind", "cop_mm", "frames"}
    assert set(message["frames"]) == {"t", "cop_live_mm"}
    assert page.request.get(station + "/api/live").status == 401  # the full stream stays closed
    shot(page, "board-phone-watch", full_page=False)
    assert not page.errors, page.errors
    page.context.close()
