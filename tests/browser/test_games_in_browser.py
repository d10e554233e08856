"""Each biofeedback game's live screen in a real browser at phone (390x844) and kiosk
(1024x768) sizes: started at the kiosk, the simulated athlete steps on and plays the game
("Play the game"), and the board shows the game's targets over the dot (games.js) with its
one-line caption. Screenshots: artifacts/screenshots/games-<task>-<phone|tablet>.png.
"""

from __future__ import annotations

import re

import pytest
from browser_support import PHONE, TABLET, new_page, no_horizontal_overflow, shot
from test_pages_in_browser import add_athlete, sim

ATHLETE = "Ines Garrido"  # this module's own athlete: the others count their athletes' trials
GAME_S = 30
# (protocol name on the kiosk, task, foot to lift or None, words the caption starts with)
GAMES = [
    ("Weight shift", "weight_shift", None, "Follow the target"),
    ("Limits of stability", "limits_of_stability", None, "Lean"),
    ("Target maze", "maze", None, "Target"),
    ("Toe taps", "toe_taps", "right", "Tap to the beat"),
]


@pytest.fixture(scope="module")
def games_athlete(station, browser, admin_state) -> str:
    page = new_page(browser, PHONE, admin_state)
    page.goto(station + "/coach")
    if not page.locator(f".card:has-text('{ATHLETE}')").count():
        add_athlete(page, station, ATHLETE)
    page.context.close()
    return ATHLETE


@pytest.mark.parametrize(("protocol", "task", "lift", "caption"), GAMES,
                         ids=[g[1] for g in GAMES])
@pytest.mark.parametrize(("viewport", "prefix"), [(PHONE, "phone"), (TABLET, "tablet")])
def test_each_game_draws_its_targets_over_the_dot(station, browser, admin_state, games_athlete,
                                                 viewport, prefix, protocol, task, lift,
                                                 caption):
    page = new_page(browser, viewport, admin_state)
    page.goto(f"{station}/kiosk?duration_s={GAME_S}")
    page.get_by_role("button", name=re.compile(ATHLETE)).click()
    page.get_by_role("button", name=re.compile(f"^{protocol}")).click()
    page.wait_for_function(
        "() => document.querySelector('#state-banner').textContent.includes('Step onto')")
    sim(page, "Step on")
    if lift:
        page.wait_for_function(
            "() => document.querySelector('#state-banner').textContent.includes('lift your')",
            timeout=20_000)
        sim(page, f"Lift {lift} foot")
    page.wait_for_function(f"() => BoardView.views[0].shown && BoardView.views[0].shown.game"
                           f" === '{task}' && document.querySelector('#state-banner')"
                           f".textContent.includes('Hold')", timeout=25_000)
    sim(page, "Play the game")
    # a few seconds of play (LOS: two directions leaned in), then the caption of a moment
    # that says what to do (LOS: a lean, not a return to the centre)
    page.wait_for_timeout(4500 if task != "limits_of_stability" else 11000)
    shown = page.wait_for_function(
        f"() => {{ const s = BoardView.views[0].shown; "
        f"return s && (s.gameText || '').startsWith('{caption}') ? s : null; }}",
        timeout=8_000).json_value()
    page.locator("#cop").evaluate("el => el.scrollIntoView({block: 'center'})")
    shot(page, f"games-{task}-{prefix}", full_page=False)
    assert shown["game"] == task, shown
    assert shown["gameText"].startswith(caption), shown["gameText"]
    assert shown["dotPx"] is not None
    assert no_horizontal_overflow(page)
    page.get_by_role("button", name="Stop trial").click()
    sim(page, "Step off")
    assert not page.errors, page.errors


@pytest.mark.parametrize(("viewport", "prefix"), [(PHONE, "phone"), (TABLET, "tablet")])
def test_a_finished_game_shows_its_own_measures_on_the_result_card(
        station, browser, admin_state, games_athlete, viewport, prefix):
    page = new_page(browser, viewport, admin_state)
    page.goto(f"{station}/kiosk?duration_s=10")
    page.get_by_role("button", name=re.compile(ATHLETE)).click()
    games = page.get_by_role("button", name=re.compile("^(Weight shift|Limits of stability|"
                                                       "Target maze|Toe taps)"))
    assert games.count() == 4  # the picker offers every game
    shot(page, f"games-kiosk-picker-{prefix}")
    page.get_by_role("button", name=re.compile("^Target maze")).click()
    page.wait_for_function(
        "() => document.querySelector('#state-banner').textContent.includes('Step onto')")
    sim(page, "Step on")
    page.wait_for_function("() => document.querySelector('#state-banner')"
                           ".textContent.includes('Hold')", timeout=25_000)
    sim(page, "Play the game")
    page.wait_for_selector("#step-result:not([hidden])", timeout=30_000)
    card = page.locator("#step-result").inner_text()
    # the maze's own measures (station.analysis.history.history_rows.TASK_MEASURES), not sway
    assert "Targets reached" in card and "Time per target" in card, card
    assert "maze score" in card.lower(), card
    shot(page, f"games-maze-result-{prefix}")
    sim(page, "Step off")
    assert not page.errors, page.errors
