"""Norms where they show: the result card's percentile band and real-change verdict, the
trend chart's band, the report's norms section (station/analysis/history/norms_view.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from web_fixtures import *  # noqa: F403 (fixtures: web_store ...)

from station.analysis import history
from station.analysis.history.norms_view import report_norms
from station.norms import load_tables
from station.store.records import Athlete, SessionRecord, TrialRecord


def _double_leg_athlete(store, *, birth_year=1990, sex="F", duration_s=60.0,
                        velocities=(9.0, 9.4, 8.8, 12.5)) -> tuple[str, list[str]]:
    """Two sessions of double-leg firm eyes-open trials; the last one sways more."""
    athlete = store.add_athlete(Athlete(name="Norma Double", birth_year=birth_year, sex=sex))
    base = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    uids = []
    for i, velocity in enumerate(velocities):
        when = base + timedelta(days=7 * (i // 3), minutes=i)
        if i % 3 == 0:
            session = store.create_session(SessionRecord(athlete_uid=athlete, started_at=when))
        uids.append(store.save_trial(TrialRecord(
            session_uid=session, seq=i + 1, stance="double", eyes="open", surface="firm",
            planned_duration_s=duration_s, outcome="complete", duration_s=duration_s,
            started_at=when, protocol=None, score=70.0,
            metrics={"duration_s": duration_s - 0.0125, "filter": "butter10",
                     "mean_velocity_mm_s": {"total": velocity}, "ellipse95_area_mm2": 200.0},
            calibration=None, board_id="sim", raw=None, rate_hz=80.0,
            analysis_version="test")))
    return athlete, uids


def _table(measure: str):
    return next(t for t in load_tables() if t.measure == measure and t.protocol.surface == "firm"
                and t.protocol.eyes == "open")


def test_result_card_shows_the_percentile_band_and_the_verdict(web_store):
    _athlete, uids = _double_leg_athlete(web_store)
    card = history.result_card(web_store, uids[-1])
    norms = {m["key"]: m for m in card["norms"]["measures"]}
    velocity = norms["mean_velocity_mm_s.total"]
    young = _table("mean_velocity_mm_s.total").group("young")
    assert velocity["group"] == "young" and velocity["n_people"] == young.n_people
    assert velocity["percentile"] == pytest.approx(
        float(np.interp(12.5, young.points, range(101))), abs=0.1)
    assert "60 s double-leg" in velocity["compared"]
    assert norms["ellipse95_area_mm2"]["percentile"] is not None  # a 60 s test
    measure = next(m for m in card["measures"] if m["key"] == "mean_velocity_mm_s.total")
    verdict = measure["vs_baseline"]
    assert verdict["verdict_text"] in ("real decline", "within measurement noise")
    assert verdict["mdc_basis"] == "data set"  # no own repeats enough: the BDS error


def test_a_card_without_a_matching_norm_says_why(web_store):
    _athlete, uids = _double_leg_athlete(web_store, duration_s=30.0, birth_year=None)
    card = history.result_card(web_store, uids[-1])
    reasons = {m["key"]: m["reason"] for m in card["norms"]["measures"]}
    assert "age is unknown" in reasons["mean_velocity_mm_s.total"]
    assert "55-65 s" in reasons["ellipse95_area_mm2"]  # a 30 s test: area is not compared


def test_seeded_single_leg_cards_refuse_with_the_protocol(web_store):
    from web_fixtures import seed_history

    seeded = seed_history(web_store)
    card = history.result_card(web_store, seeded["trials"][-1])
    for m in card["norms"]["measures"]:
        assert m["percentile"] is None and "single-leg" in m["reason"]


def test_trends_carry_the_band_and_the_report_its_section(web_store):
    athlete, _ = _double_leg_athlete(web_store)
    view = history.history_view(web_store, athlete)
    (series,) = view["series"].values()
    band = series["norms"]["mean_velocity_mm_s.total"]
    group = _table("mean_velocity_mm_s.total").group("young")
    assert (band["lo"], band["hi"], band["median"]) == (group.points[10], group.points[90],
                                                       group.points[50])
    assert "Santos" in band["text"]
    report = report_norms(web_store.athlete_history(athlete, metrics=True),
                          web_store.get_athlete(athlete))
    assert report["conditions"][0]["measures"][0]["percentile"] is not None
    assert any("CC BY 4.0" in s["licence"] for s in report["sources"])
    assert "MDC95" in report["reliable_change"]


def test_the_report_partial_renders_the_section(app, web_store):
    athlete, _ = _double_leg_athlete(web_store)
    data = report_norms(web_store.athlete_history(athlete, metrics=True),
                        web_store.get_athlete(athlete))
    html = app.jinja_env.get_template("_report_norms.html").render(norms=data)
    assert "Norms and reliable change" in html and "Santos DA, Duarte M." in html
    assert "percentile" in html.lower() and "within measurement noise" in html
    assert "No single-leg norms" in html
    assert app.jinja_env.get_template("_report_norms.html").render(norms=None).strip() == ""


def test_the_report_page_carries_the_norms_section(client, web_store):
    """The printed report includes the section with the athlete's own data (report_view)."""
    from web_fixtures import login_as

    athlete, _ = _double_leg_athlete(web_store)
    login_as(client, "physio")
    html = client.get(f"/report/{athlete}").get_data(as_text=True)
    section = html[html.index('id="norms"'):]
    assert "Norms and reliable change" in section and "Santos DA, Duarte M." in section
    assert html.index('id="norms"') > html.index("Baseline and latest, per condition")
