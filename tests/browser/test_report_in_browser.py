"""The report in a real browser, on a station with six weeks of a team's history
(history_seed.py) plus a session with a day-log note, its clinician, a hold with raw frames
(the COP trace) and an invalidated trial: the page at 390×844 and 1024×768 (no sideways
scrolling, the summary first, the charts drawn as SVG), and the same page printed by the
browser to A4, rendered back to images (pdftoppm) and read (pdftotext): page 1 is the
summary, no page is blank, every page has "page X of Y". Screenshots in
artifacts/screenshots/ (*-report*: the screens, and each PDF's pages).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_support import (
    ADMIN,
    PHONE,
    ROOT,
    SCREENSHOTS,
    TABLET,
    login_state,
    new_page,
    no_horizontal_overflow,
    run_station,
    shot,
)
from history_seed import seed_team

from station.calibration.file import load_calibration
from station.store import open_store
from station.store.records import SessionRecord, TrialRecord
from station.store.synthetic_frames import simulated_trial_frames

MIA = "Mia Jensen"
NOTE = "left ankle stiff in the morning, taped"
INVALID_VELOCITY = 91.3


def _add_todays_session(data_dir: Path) -> None:
    """Mia's visit today: a logged day with a note and its physio, a left-leg hold with its
    raw frames, and a right-leg hold the physio marked invalid."""
    store = open_store(data_dir)
    try:
        mia = next(a for a in store.list_athletes() if a.name == MIA)
        now = datetime.now(UTC) - timedelta(hours=1)
        session = store.create_session(SessionRecord(
            athlete_uid=mia.uid, started_at=now, operator="physio Ana",
            protocol="single-leg-left", stiffness=5, soreness=2, sleep_hours=8.0, notes=NOTE))
        calibration = load_calibration(ROOT / "calibration" / "sim-board.json").to_dict()
        rng = np.random.default_rng(3)
        for seq, (stance, velocity) in enumerate((("single-left", 24.5),
                                                   ("single-right", INVALID_VELOCITY)), 1):
            uid = store.save_trial(TrialRecord(
                session_uid=session, seq=seq, stance=stance, eyes="open", surface="firm",
                planned_duration_s=30.0, outcome="complete", duration_s=30.0,
                started_at=now + timedelta(minutes=seq), protocol="single-leg-left",
                metrics={"mean_velocity_mm_s": {"total": velocity},
                         "ellipse95_area_mm2": velocity * 22},
                score=60.0, calibration=calibration, board_id="sim",
                raw=simulated_trial_frames(rng, duration_s=30.0), rate_hz=80.0,
                analysis_version="browser-seed"))
            if stance == "single-right":
                store.invalidate_trial(uid, "stepped off the board", actor="physio Ana")
    finally:
        store.close()


@pytest.fixture(scope="module")
def report_station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("report-station")
    seed_team(tmp / "data", ADMIN)
    _add_todays_session(tmp / "data")
    yield from run_station(tmp, tmp / "data", "browser-report-station.log")


@pytest.fixture(scope="module")
def admin(report_station: str, browser: Any) -> dict[str, Any]:
    return login_state(browser, report_station)


def _open_report(browser: Any, station: str, state: Any, viewport: dict[str, int]) -> Any:
    page = new_page(browser, viewport, state)
    page.goto(station + "/coach")
    page.locator(".card", has_text=MIA).click()
    page.get_by_role("link", name="Report").click()
    # The module's first report is cold (scipy's import, the raw trace analysed): 1.5 s here
    # idle, 3.0 s beside two busy loops; once in the clean-clone CI at 5de2e39 it passed the
    # 15 s default while the page loaded. What this test checks is the page, not that wait.
    page.wait_for_url("**/report/*", timeout=45_000)
    return page


def _run(*command: str | Path) -> str:
    return subprocess.run([str(c) for c in command], check=True, capture_output=True,
                          text=True, timeout=60).stdout


@pytest.mark.parametrize("viewport, prefix", [(PHONE, "phone"), (TABLET, "tablet")])
def test_the_report_page_reads_on_a_phone_and_the_tablet(report_station, browser, admin,
                                                         viewport, prefix):
    page = _open_report(browser, report_station, admin, viewport)
    assert page.get_by_role("heading", name=f"Balance report: {MIA}").is_visible()
    summary = page.locator("#summary")
    assert summary.get_by_role("heading", name="Summary").is_visible()
    key = page.locator("#key-results").inner_text()
    assert "Left leg, eyes open" in key and "COP velocity" in key, key
    assert "measurement noise" in key or "real " in key, key  # the verdict, in words
    assert NOTE in summary.inner_text() and "physio Ana" in summary.inner_text()
    assert page.locator("#trends svg.rep-svg").count() >= 2  # drawn in the HTML, no script
    assert page.locator("#trace svg ellipse.ellipse95").count() == 1
    assert "Hop landings" in page.locator("#tasks").inner_text()
    assert str(INVALID_VELOCITY) not in page.locator("main").inner_text()
    shot(page, f"{prefix}-report", full_page=False)  # what shows first: the summary
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    summary.screenshot(path=str(SCREENSHOTS / f"{prefix}-report-summary.png"))
    page.locator("#trends").scroll_into_view_if_needed()
    shot(page, f"{prefix}-report-charts", full_page=False)
    wide = page.evaluate("[...document.querySelectorAll('main *')].filter((e) => "
                         "e.getBoundingClientRect().right > window.innerWidth + 1)"
                         ".map((e) => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)")
    assert no_horizontal_overflow(page), wide
    assert not page.errors, page.errors
    page.context.close()


def test_the_printed_report_has_its_summary_on_page_one(report_station, browser, admin,
                                                        tmp_path):
    if not shutil.which("pdftoppm") or not shutil.which("pdftotext"):
        pytest.skip("needs poppler-utils (scripts/system-deps.sh installs it)")
    page = _open_report(browser, report_station, admin, TABLET)
    page.emulate_media(media="print")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(page.pdf(format="A4", prefer_css_page_size=True))
    with page.expect_download() as download:  # the station's own PDF, printed by Chromium
        page.emulate_media(media="screen")
        page.get_by_role("link", name="Download PDF").click()
    station_pdf = tmp_path / "station.pdf"
    shutil.copyfile(download.value.path(), station_pdf)
    page.context.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in (("browser", pdf), ("station", station_pdf)):
        for old in SCREENSHOTS.glob(f"{name}-pdf-report-page-*.png"):
            old.unlink()
        _run("pdftoppm", "-r", "70", "-png", path, SCREENSHOTS / f"{name}-pdf-report-page")
    for name, path in (("browser", pdf), ("station", station_pdf)):
        pages = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", path))[1])
        assert 2 <= pages <= 10, (name, pages)
        first = _run("pdftotext", "-layout", "-f", "1", "-l", "1", path, "-")
        for wanted in (f"Balance report: {MIA}", "Summary", "Key measure", "Left leg, eyes open",
                       "Day log", NOTE, "physio Ana", f"page 1 of {pages}"):
            assert wanted in first, (name, wanted, first)
        for number in range(2, pages + 1):
            text = _run("pdftotext", "-layout", "-f", str(number), "-l", str(number), path, "-")
            assert f"page {number} of {pages}" in text and MIA in text, (name, number)
        _run("pdftoppm", "-r", "30", "-gray", path, tmp_path / name)
        for number, pgm in enumerate(sorted(tmp_path.glob(f"{name}-*.pgm")), start=1):
            data = pgm.read_bytes()
            head = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
            assert head, pgm
            width, height = int(head[1]), int(head[2])
            image = np.frombuffer(data, np.uint8, width * height, head.end())
            body = image.reshape(height, width)[: int(height * 0.9)]
            assert (body < 200).mean() > 0.01, f"{name} PDF page {number} is blank"
