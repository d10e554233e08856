"""Wobble trials are scored by their own measures, and left is compared with right on them."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from station.analysis.history.limb_symmetry import symmetry_rows
from station.analysis.scoring import (
    log_scale_score,
    mdc_for,
    score_model,
    score_trial,
    wobble_anchors,
)

SI = "wobble.stability_index_deg.overall"
ZONE = "wobble.zone_time_pct.0-5"


def metrics(si: float, zone: float) -> dict:
    return {"mean_velocity_mm_s": {"total": 40.0}, "ellipse95_area_mm2": 500.0,
            "wobble": {"stability_index_deg": {"overall": si, "ap": si, "ml": si},
                       "zone_time_pct": {"0-5": zone, "5-10": 100.0 - zone, "10-15": 0.0,
                                         "15-max": 0.0}}}


def test_a_wobble_hold_scores_on_its_index_and_zone_time_by_hand():
    cond = {"stance": "double", "eyes": "open", "surface": "wobble"}
    got = score_trial(metrics(3.0, 80.0), cond, completed=True, time_to_failure_s=None,
                      duration_s=30.0, task="wobble")
    assert score_model("wobble") == "wobble" and got.model == "wobble"
    si = 100 * math.log(8.0 / 3.0) / math.log(8.0 / 2.0)  # good 2 deg, poor 8 deg
    zone = 100 * math.log(80.0 / 40.0) / math.log(95.0 / 40.0)  # good 95 %, poor 40 %
    parts = {c.measure: c.score for c in got.components}
    assert parts == pytest.approx({SI: si, ZONE: zone})
    assert got.total == pytest.approx(0.5 * si + 0.5 * zone)
    # failed at a third of the hold: a third of that
    failed = score_trial(metrics(3.0, 80.0), cond, completed=False, time_to_failure_s=10.0,
                         duration_s=30.0, task="wobble")
    assert failed.total == pytest.approx(got.total / 3.0)


def test_zone_time_is_better_higher_the_index_lower():
    assert log_scale_score(95.0, 95.0, 40.0) == 100.0
    assert log_scale_score(40.0, 95.0, 40.0) == 0.0 and log_scale_score(0.0, 95.0, 40.0) == 0.0
    assert log_scale_score(2.0, 2.0, 8.0) == 100.0 and log_scale_score(9.0, 2.0, 8.0) == 0.0


def test_single_leg_and_eyes_closed_move_the_anchors():
    single_open = {"stance": "single-left", "eyes": "open", "surface": "wobble"}
    single_closed = {**single_open, "eyes": "closed"}
    assert wobble_anchors(SI, single_open) == (3.0, 12.0)
    assert wobble_anchors(SI, single_closed) == pytest.approx((4.2, 16.8))
    assert wobble_anchors(ZONE, single_closed) == pytest.approx((68.0, 20.0))
    assert mdc_for(SI).assumption and mdc_for(ZONE).value == 15.0


def test_no_wobble_analysis_scores_zero_and_says_why():
    got = score_trial({"mean_velocity_mm_s": {"total": 40.0}}, {"stance": "double",
                      "eyes": "open", "surface": "wobble"}, completed=True,
                      time_to_failure_s=None, duration_s=30.0, task="wobble")
    assert got.total == 0.0 and all("wobble analysis" in c.note for c in got.components)


def history_row(uid: str, stance: str, si: float, zone: float, minute: int) -> dict:
    return {"uid": uid, "session_uid": "s0", "seq": minute + 1,
            "started_at": datetime(2025, 3, 3, tzinfo=UTC) + timedelta(minutes=minute),
            "clock_synced": True, "protocol": "baseline", "task": "wobble", "stance": stance,
            "eyes": "open", "surface": "wobble", "planned_duration_s": 20.0,
            "outcome": "complete", "score": 60.0, "time_to_failure_s": None,
            "duration_s": 20.0, "has_raw": False, "metrics": metrics(si, zone)}


def test_single_leg_wobble_holds_are_compared_left_with_right():
    rows = [history_row("l", "single-left", 4.0, 60.0, 0),
            history_row("r", "single-right", 5.0, 45.0, 1)]
    pair = next(p for p in symmetry_rows(rows) if p["model"] == "wobble")
    by = {m["measure"]: m for m in pair["measures"]}
    assert (by[SI]["left"], by[SI]["right"]) == (4.0, 5.0)
    assert by[SI]["label"] == "Stability index" and by[ZONE]["label"] == "Time inside 5°"
    assert by[SI]["lsi_pct"] is not None and by[ZONE]["lsi_pct"] is not None
    assert "time_to_failure_s" not in by
