"""The report's PDF as a reader gets it: printed by Chromium, rendered back to images and text
with poppler (pdftoppm, pdftotext), page by page.

Page 1 must be the summary (no blank first page: a "keep this section together" rule used to
push a long first section to page 2), no page may be blank, every page has its footer and
"page X of Y", and the details (trends, COP trace, hop and push, session log) are there.
Invalidated trials count nowhere. The rendered pages go to
artifacts/screenshots/report-page-N.png to be looked at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from web_fixtures import *  # noqa: F403 (fixtures: web_store, app, client...)
from web_fixtures import SIM_CALIBRATION, login_as, seed_history

from station.analysis.history import report_view as history_report
from station.calibration.file import load_calibration
from station.store import Store
from station.store.records import SessionRecord, TrialRecord
from station.store.synthetic_frames import simulated_trial_frames

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
INVALID_VELOCITY = 87.6  # a trial marked invalid: this value must appear nowhere
# the conditions of a baseline battery besides seed_history's single-leg holds: enough
# tables that "keep the whole section on one page" would leave page 1 empty
EXTRA_CONDITIONS = (("double", "open", "firm"), ("double", "closed", "firm"),
                    ("double", "open", "foam"), ("double", "closed", "foam"),
                    ("tandem", "open", "firm"), ("single-left", "closed", "firm"),
                    ("single-right", "closed", "firm"))


def _trial(session: str, seq: int, when: datetime, stance: str, *, eyes: str = "open",
           surface: str = "firm", task: str = "hold", velocity: float = 24.0,
           rng: np.random.Generator, raw: bool = False, **metrics: Any) -> TrialRecord:
    return TrialRecord(
        session_uid=session, seq=seq, stance=stance, eyes=eyes, surface=surface, task=task,
        planned_duration_s=5.0, outcome="complete", duration_s=5.0, started_at=when,
        protocol="baseline",
        metrics={"mean_velocity_mm_s": {"total": velocity}, "ellipse95_area_mm2": velocity * 6,
                 **metrics},
        score=70.0, calibration=load_calibration(SIM_CALIBRATION).to_dict(), board_id="sim",
        raw=simulated_trial_frames(rng, duration_s=5.0) if raw else None, rate_hz=80.0,
        analysis_version="test",
    )


def seed_report(store: Store) -> dict[str, Any]:
    """seed_history's athletes, and for Ada a fourth session with the battery's other
    conditions, a hop and a push, a day log with notes, a clinician, and one invalid trial."""
    seeded = seed_history(store)
    ada = seeded["athletes"][0]
    rng = np.random.default_rng(5)
    when = datetime(2025, 1, 27, 9, 0, tzinfo=UTC)
    session = store.create_session(SessionRecord(
        athlete_uid=ada, started_at=when, operator="physio Kim", protocol="baseline",
        stiffness=4, soreness=3, sleep_hours=6.5, notes="tight calf after the weekend match"))
    seq = 0
    for i, (stance, eyes, surface) in enumerate(EXTRA_CONDITIONS):
        seq += 1
        store.save_trial(_trial(session, seq, when + timedelta(minutes=i), stance, eyes=eyes,
                                surface=surface, velocity=18.0 + 3 * i, rng=rng))
    for task, extra in (("hop", {"landing": {"tts_cop_s": 1.42, "tts_vertical_s": 0.61,
                                             "peak_force_bw": 2.83}}),
                        ("push", {"perturbation": {"peak_excursion_mm": 47.5,
                                                   "recovery_time_s": 3.25}})):
        seq += 1
        store.save_trial(_trial(session, seq, when + timedelta(minutes=20 + seq), "double",
                                task=task, rng=rng, **extra))
    seq += 1
    bad = store.save_trial(_trial(session, seq, when + timedelta(minutes=40), "single-left",
                                  velocity=INVALID_VELOCITY, rng=rng, raw=True))
    store.invalidate_trial(bad, "stepped off early", actor="physio Kim")
    return {**seeded, "ada": ada, "invalid": bad}


def _run(*command: str | Path) -> str:
    return subprocess.run([str(c) for c in command], check=True, capture_output=True,
                          text=True, timeout=60).stdout


def _gray_page(pgm: Path) -> np.ndarray:
    """A binary PGM (P5, 8 bit) as a 2-D array."""
    data = pgm.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert fields, pgm
    width, height = int(fields[1]), int(fields[2])
    return np.frombuffer(data, np.uint8, width * height, fields.end()).reshape(height, width)


@pytest.fixture
def report_pdf(client, web_store, tmp_path) -> tuple[Path, dict[str, Any]]:
    from station.web.views.page_pdf import chromium_path

    if chromium_path() is None or not shutil.which("pdftoppm") or not shutil.which("pdftotext"):
        pytest.skip("needs chromium and poppler-utils (scripts/system-deps.sh installs them)")
    seeded = seed_report(web_store)
    login_as(client, "coach")
    response = client.get(f"/report/{seeded['ada']}.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)
    path = tmp_path / "report.pdf"
    path.write_bytes(response.data)
    return path, seeded


def test_the_printed_report_starts_with_its_summary_and_numbers_every_page(report_pdf, tmp_path):
    pdf, _ = report_pdf
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("report-page-*.png"):
        old.unlink()
    _run("pdftoppm", "-r", "80", "-png", pdf, SCREENSHOTS / "report-page")
    pages = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", pdf))[1])
    assert 2 <= pages <= 8, pages
    texts = [_run("pdftotext", "-layout", "-f", i, "-l", i, pdf, "-") for i in
             range(1, pages + 1)]
    first = texts[0]
    for wanted in ("Balance report: Ada Example", "Summary", "Key measure", "Verdict",
                   "Left leg, eyes open", "Right leg, eyes open", "COP velocity",
                   "Left / right", "Targets", "Day log", "physio Kim",
                   "tight calf after the weekend match"):
        assert wanted in first, f"{wanted!r} not on page 1:\n{first}"
    # the left leg's key result: baseline 30.0 (week 1), latest 26.0, beyond no MDC here
    left = next(line for line in first.splitlines() if "Left leg, eyes open" in line)
    assert "30.0" in left and "26.0" in left, left
    assert "Baseline and latest, per condition" not in first  # the details start on page 2
    for number, text in enumerate(texts, start=1):
        assert f"page {number} of {pages}" in text, (number, text[-400:])
        assert "Ada Example · Balance Station" in text, number
    everything = "\n".join(texts)
    for wanted in ("Trends", "Centre of pressure, latest key trial", "Hop landings",
                   "Time to stabilization", "Push (perturbation) reactions", "Recovery time",
                   "Session log", "Baseline and latest, per condition"):
        assert wanted in everything, wanted
    hops = everything[everything.index("Hop landings"):everything.index("Push (perturbation)")]
    # date, condition, then time to stabilization, vertical, peak force and score
    assert re.search(r"2025-01-27\s+Both feet, eyes open, hop\s+1\.4\s+0\.6\s+2\.8\s+70",
                     hops), hops
    assert f"{INVALID_VELOCITY}" not in everything  # the invalid trial counts nowhere

    prefix = tmp_path / "page"
    _run("pdftoppm", "-r", "40", "-gray", pdf, prefix)
    for number, pgm in enumerate(sorted(tmp_path.glob("page-*.pgm")), start=1):
        image = _gray_page(pgm)
        body = image[: int(image.shape[0] * 0.9)]  # above the footer band
        inked = float((body < 200).mean())
        assert inked > 0.01, f"page {number} is (nearly) blank: {inked:.4f} of it inked"


def test_the_report_leaves_invalid_trials_out(client, web_store):
    from station.analysis import history

    seeded = seed_report(web_store)
    report = history.report_view(web_store, seeded["ada"])
    left = next(c for c in report["conditions"] if c["key"] == "single-left · eyes open · firm")
    velocity = next(m for m in left["measures"] if m["key"] == "mean_velocity_mm_s.total")
    assert velocity["latest"] == 26.0  # not the invalid 87.6 saved after it
    assert report["n_trials"] == 6 + len(EXTRA_CONDITIONS) + 2
    assert seeded["invalid"] not in {t["uid"] for t in report["trials"]}
    assert report["trace"]["trial_uid"] != seeded["invalid"]
    # the battery's key condition (left leg, eyes open), though the right leg was tested after
    assert report["trace"]["condition"] == "Left leg, eyes open"
    assert report["trace"]["trial_uid"] == seeded["trials"][4]
    key = next(k for k in report["summary"]["key_results"] if k["key"] == left["key"])
    assert key["measure"]["latest"] == 26.0
    # with the trial restored it counts again: the filter is the flag, nothing else
    web_store.invalidate_trial(seeded["invalid"], None, invalid=False, actor="physio Kim")
    report = history.report_view(web_store, seeded["ada"])
    left = next(c for c in report["conditions"] if c["key"] == left["key"])
    assert next(m["latest"] for m in left["measures"]
                if m["key"] == "mean_velocity_mm_s.total") == INVALID_VELOCITY
    assert report["trace"]["trial_uid"] == seeded["invalid"]


def test_the_summary_reads_the_rows_it_was_given(client, web_store):
    from station.analysis import history

    seeded = seed_report(web_store)
    summary = history.report_view(web_store, seeded["ada"])["summary"]
    legs = [k["leg"] for k in summary["key_results"]]
    assert legs == sorted(legs, key=["Left leg", "Right leg", "Both feet", "Tandem"].index)
    left = summary["key_results"][0]
    assert left["measure"]["key"] == "mean_velocity_mm_s.total"
    assert left["measure"]["verdict_text"]
    assert summary["clinicians"] == ["physio Kim"]
    assert summary["recent_log"][0]["notes"] == "tight calf after the weekend match"
    assert summary["first_test"][:10] == "2025-01-06" and summary["last_test"][:10] == "2025-01-27"
    assert {p["condition"] for p in summary["left_right"]} >= {"eyes open"}
    assert summary["targets"][0]["status"] in {"reached", "on track", "behind", "open",
                                               "within the measurement noise: not a target"}


def test_an_athlete_without_trials_gets_one_page_that_says_so(report_pdf, client, web_store,
                                                             tmp_path):
    from station.store.records import Athlete

    new = web_store.add_athlete(Athlete(name="Cleo New", team="U18"))
    pdf = tmp_path / "empty.pdf"
    response = client.get(f"/report/{new}.pdf")
    assert response.status_code == 200
    pdf.write_bytes(response.data)
    assert re.search(r"Pages:\s+1\n", _run("pdfinfo", pdf))
    text = _run("pdftotext", "-layout", pdf, "-")
    assert "Balance report: Cleo New" in text and "No trials yet." in text
    assert "page 1 of 1" in text


def test_page_one_lists_at_most_twelve_conditions_and_says_how_many_more(client, web_store,
                                                                         tmp_path):
    seeded = seed_report(web_store)
    rng = np.random.default_rng(9)
    when = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)
    session = web_store.create_session(SessionRecord(athlete_uid=seeded["ada"], started_at=when))
    more = (("tandem", "closed", "firm"), ("single-left", "open", "foam"),
            ("single-right", "open", "foam"))
    for seq, (stance, eyes, surface) in enumerate(more, 1):
        web_store.save_trial(_trial(session, seq, when + timedelta(minutes=seq), stance,
                                    eyes=eyes, surface=surface, rng=rng))
    login_as(client, "coach")
    html = client.get(f"/report/{seeded['ada']}").get_data(as_text=True)
    table = html[html.index('id="key-results"'):]
    table = table[:table.index("</table>")]
    conditions = 2 + len(EXTRA_CONDITIONS) + 2 + len(more)  # left, right, extras, hop, push
    assert table.count('<td class="cond">') == 12
    assert f"{conditions - 12} more conditions in the details." in html
    log = history_report(web_store, seeded["ada"])["summary"]["recent_log"]
    assert log[0]["notes"] == "tight calf after the weekend match"  # not the unlogged visit
    from station.web.views.page_pdf import chromium_path

    if chromium_path() is None or not shutil.which("pdftotext"):
        return
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(client.get(f"/report/{seeded['ada']}.pdf").data)
    first = _run("pdftotext", "-layout", "-f", "1", "-l", "1", pdf, "-")
    assert "more conditions in the details" in first and "Day log" in first, first  # it fits
