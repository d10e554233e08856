"""Reliable change where it is promised, in a real browser at 390×844 and 1024×768: the physio
page's targets say the verdict on the change since their baseline and which condition an
"any condition" target follows (a hold, not the push tested last), a target within the
reliable change is flagged, the battery's key step suggests an optional repeat with the
reason, the athlete page's targets and the coach cards say the verdict in words.
Screenshots in artifacts/screenshots/ (norms2-*).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from norms2_seed import NAME, seed_norms2

SIZES = [(PHONE, "phone"), (TABLET, "tablet")]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data = tmp_path_factory.mktemp("norms2-station") / "data"
    return data, seed_norms2(data, ADMIN)


@pytest.fixture(scope="module")
def station(seeded: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from run_station(tmp_path_factory.mktemp("norms2-run"), seeded[0],
                           "browser-norms2-station.log")


@pytest.fixture(scope="module")
def logged_in(station: str, browser: Any) -> dict[str, Any]:
    return login_state(browser, station)


@pytest.mark.parametrize("viewport, prefix", SIZES)
def test_targets_say_the_verdict_and_the_battery_offers_a_repeat(station, seeded, browser,
                                                                 logged_in, viewport, prefix):
    page = new_page(browser, viewport, logged_in)
    page.goto(f"{station}/physio?athlete={seeded[1]}")
    page.wait_for_selector("#t-list .target")
    targets = page.locator("#t-list .target").all_inner_texts()
    assert len(targets) == 4, targets
    right = next(t for t in targets if "keep going" in t)
    assert "since the baseline: real improvement" in right
    anyone = next(t for t in targets if "any condition" in t)
    assert "measured in Left leg, eyes open" in anyone and "push" not in anyone.lower()
    assert "within measurement noise" in anyone
    small = next(t for t in targets if "set before" in t)
    assert "Within the measurement noise, change or delete it" in small
    assert "not a target" in small
    # today's battery: resume it; the key step suggests one more trial, optional, with why
    page.wait_for_selector("#b-resume:not([hidden])")
    page.click("#b-resume-go")
    hint = page.locator("#b-steps .repeat-hint")
    hint.wait_for()
    text = hint.inner_text()
    assert "within the measurement noise with one trial" in text, text
    assert "one more trial suggested (optional)" in text, text
    assert page.locator("#b-steps .repeat-go").inner_text() == "Repeat (optional)"
    assert "within measurement noise" in page.locator("#b-steps .key-change").inner_text()
    assert no_horizontal_overflow(page)
    page.locator("#b-steps .repeat-hint").scroll_into_view_if_needed()
    shot(page, f"norms2-battery-repeat-{prefix}", full_page=False)
    page.locator("#t-list").scroll_into_view_if_needed()
    shot(page, f"norms2-targets-{prefix}")
    assert not page.errors, page.errors
    page.context.close()


@pytest.mark.parametrize("viewport, prefix", SIZES)
def test_the_athlete_page_and_the_coach_cards_say_the_verdict(station, seeded, browser,
                                                              logged_in, viewport, prefix):
    page = new_page(browser, viewport, logged_in)
    page.goto(f"{station}/coach")
    card = page.locator(".card", has_text=NAME)
    card.wait_for()
    words = card.locator(".verdict").inner_text()
    assert words in ("real improvement", "within measurement noise", "real decline"), words
    assert "▲" not in card.inner_text() and "▼" not in card.inner_text()
    assert no_horizontal_overflow(page)
    shot(page, f"norms2-coach-{prefix}", full_page=False)
    page.goto(f"{station}/athletes/{seeded[1]}")
    page.wait_for_selector("#targets .target")
    texts = page.locator("#targets .target").all_inner_texts()
    assert any("real improvement" in t for t in texts), texts
    assert any("any condition (measured in Left leg, eyes open)" in t for t in texts), texts
    small = next(t for t in texts if "not a target" in t)
    assert "achieved" not in small and "on track" not in small  # reaching noise is no result
    page.locator("#targets").scroll_into_view_if_needed()
    shot(page, f"norms2-athlete-targets-{prefix}", full_page=False)
    assert no_horizontal_overflow(page)
    assert not page.errors, page.errors
    page.context.close()


@pytest.mark.parametrize("viewport, prefix", SIZES)
def test_the_report_says_the_cards_words_and_no_minus_zero(station, seeded, browser,
                                                           logged_in, viewport, prefix):
    page = new_page(browser, viewport, logged_in)
    page.goto(f"{station}/report/{seeded[1]}")
    page.wait_for_selector("text=Targets")
    body = page.locator("body").inner_text()
    assert "−0.0" not in body and "-0.0" not in body
    assert "beyond MDC" not in body and "within MDC" not in body
    assert "real improvement" in body and "within measurement noise" in body
    assert "within the measurement noise: not a target" in body  # the 28.5 target's status
    page.locator("h3", has_text="Targets").first.scroll_into_view_if_needed()
    shot(page, f"norms2-report-targets-{prefix}", full_page=False)
    assert not page.errors, page.errors
    page.context.close()
