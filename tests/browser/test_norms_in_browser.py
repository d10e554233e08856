"""What a number means, in a real browser at 390×844 and 1024×768: the result card of a
30 s quiet stance shows its percentile band for age and the real-change verdict, the athlete
page's trends carry the norm's band (or say why there is none), the report's norms section
renders, and the team page's form takes the profile. Screenshots in
artifacts/screenshots/ (*-norms-*).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
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
from norms_seed import NAME, seed_norms

from station.analysis.history.norms_view import report_norms
from station.store import open_store

SIZES = [(PHONE, "phone"), (TABLET, "tablet")]
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


@pytest.fixture(scope="module")
def norms_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("norms-station") / "data"
    seed_norms(data, ADMIN)
    return data


@pytest.fixture(scope="module")
def norms_station(norms_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from run_station(tmp_path_factory.mktemp("norms-run"), norms_data,
                           "browser-norms-station.log")


@pytest.fixture(scope="module")
def logged_in(norms_station: str, browser: Any) -> dict[str, Any]:
    return login_state(browser, norms_station)


def sim(page: Any, action: str) -> None:
    page.evaluate("([a]) => BS.api('POST', '/api/sim/perform', {action: a, params: {}})",
                  [action])


@pytest.mark.parametrize("viewport, prefix", SIZES)
def test_trends_show_the_norm_band_behind_the_line(norms_station, browser, logged_in,
                                                   viewport, prefix):
    page = new_page(browser, viewport, logged_in)
    page.goto(norms_station + "/coach")
    page.locator(".card", has_text=NAME).click()
    page.wait_for_url("**/athletes/*")
    page.wait_for_selector("#charts .uplot")
    page.locator("#cond-tabs button", has_text="eyes open").first.click()
    notes = page.locator("#charts .chart-band-note")
    notes.first.wait_for()
    texts = notes.all_inner_texts()
    assert any(t.startswith("Shaded: typical for adults 18-59") for t in texts), texts
    assert any("No norm band" in t and "55-65 s" in t for t in texts), texts  # area, 30 s
    # the velocity chart's y axis reaches over the band (its 10th-90th percentile)
    band = page.evaluate("""() => { const el = [...document.querySelectorAll('#charts .chart')]
        .find((c) => c.querySelector('.chart-band-note')?.textContent.startsWith('Shaded'));
        const s = el.uplot.scales.y; return [s.min, s.max]; }""")
    assert band[0] <= 5.6 and band[1] >= 13.2, band
    assert no_horizontal_overflow(page)
    page.locator("#charts").scroll_into_view_if_needed()
    shot(page, f"{prefix}-norms-trends")
    assert not page.errors, page.errors
    page.context.close()


@pytest.mark.parametrize("viewport, prefix", SIZES)
def test_result_card_shows_percentile_band_and_real_change(norms_station, browser, logged_in,
                                                           viewport, prefix):
    page = new_page(browser, viewport, logged_in)
    page.goto(f"{norms_station}/kiosk")
    page.fill("#athlete-search", NAME.split()[0])
    page.get_by_role("button", name=re.compile(NAME)).click()
    page.get_by_role("button", name=re.compile("Quiet stance")).click()
    page.wait_for_function(
        "() => document.querySelector('#state-banner').textContent.includes('Step onto')")
    sim(page, "step_on")
    page.wait_for_selector("#step-result:not([hidden])", timeout=70_000)
    page.wait_for_selector("#res-norms li")
    block = page.locator("#res-norms").inner_text()
    assert "for age" in block.lower() and "COP velocity" in block  # headings: upper case
    assert re.search(r"\d+(st|nd|rd|th) percentile", block), block
    assert "adults 18-59" in block
    assert "Ellipse area: no norm" in block and "55-65 s" in block
    assert "real change?" in block.lower()
    assert re.search(r"vs baseline: (real improvement|within measurement noise|real decline)",
                     block), block
    assert no_horizontal_overflow(page)
    page.locator("#res-norms").scroll_into_view_if_needed()
    shot(page, f"{prefix}-norms-result-card")
    sim(page, "step_off")
    page.wait_for_function("() => document.querySelector('#kg').textContent === '\u2013'")
    page.get_by_role("button", name="Done", exact=True).click()
    assert not page.errors, page.errors
    page.context.close()


@pytest.mark.parametrize("viewport, prefix", SIZES)
def test_the_report_norms_section_renders(norms_station, norms_data, browser, viewport,
                                          prefix):
    store = open_store(norms_data)
    try:
        athlete = next(a for a in store.list_athletes() if a.name == NAME)
        data = report_norms(store.athlete_history(athlete.uid, metrics=True), athlete)
    finally:
        store.close()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    section = env.get_template("_report_norms.html").render(norms=data)
    page = new_page(browser, viewport)
    page.goto(norms_station + "/static/station.css")  # same origin for the stylesheet
    page.set_content(f'<!doctype html><html><head><link rel="stylesheet" '
                     f'href="{norms_station}/static/station.css"></head><body>'
                     f'<main class="report">{section}</main></body></html>')
    page.wait_for_load_state("networkidle")
    text = page.locator(".report-norms").inner_text()
    assert "Norms and reliable change" in text and "Santos DA, Duarte M." in text
    assert "typical for age" in text or "sway than" in text
    assert "No single-leg norms" in text
    shot(page, f"{prefix}-norms-report")
    assert not page.errors, page.errors
    page.context.close()


def test_the_add_athlete_form_takes_the_profile(norms_station, browser, logged_in):
    page = new_page(browser, PHONE, logged_in)
    page.goto(norms_station + "/coach")
    page.locator("#add-athlete summary").click()
    page.fill("#a-name", "Pia Profil")
    page.fill("#a-year", "1999")
    page.select_option("#a-sex", "F")
    page.fill("#a-height", "171")
    page.fill("#a-mass", "64.5")
    page.fill("#a-level", "club")
    page.fill("#a-sport", "handball")  # last: the level's suggestion list is closed
    shot(page, "phone-norms-add-athlete")
    page.click("#a-form button[type=submit]")
    page.wait_for_selector(".card:has-text('Pia Profil')")  # the page reloads with the card
    got = page.evaluate("() => BS.api('GET', '/api/athletes?q=pia')")
    (pia,) = got["athletes"]
    assert (pia["sex"], pia["height_cm"], pia["body_mass_kg"], pia["sport"], pia["level"]) == (
        "F", 171, 64.5, "handball", "club")
    assert not page.errors, page.errors
    page.context.close()
