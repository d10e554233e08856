"""The report's wobble section: the function (wobble_report) and its template partial."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask import Flask

from station.analysis.history.wobble_report import QUADRANT_LABELS, ZONE_LABELS, wobble_section
from station.analysis.metrics.wobble import QUADRANT_KEYS, ZONE_KEYS
from station.web.app import web_dir

WOBBLE = {
    "stability_index_deg": {"overall": 3.21, "ap": 2.5, "ml": 2.0},
    "zone_time_pct": {"0-5": 71.0, "5-10": 25.0, "10-15": 4.0, "15-max": 0.0},
    "quadrant_time_pct": {"front_right": 30.0, "front_left": 20.0, "back_left": 25.0,
                          "back_right": 25.0},
    "mean_tilt_velocity_deg_s": 6.4, "max_tilt_reached_deg": 13.2,
    "time_to_first_rim_contact_s": None, "rim_contacts": {"count": 0, "total_s": 0.0},
    "board": {"name": "round-40-hemisphere", "max_tilt_deg": 17.5}, "setup": "set-up",
}


def row(uid: str, surface: str, task: str, minute: int, wobble=None) -> dict:
    metrics = {"mean_velocity_mm_s": {"total": 30.0}}
    if wobble is not None:
        metrics["wobble"] = wobble
    return {"uid": uid, "session_uid": "s", "seq": minute, "task": task,
            "started_at": datetime(2025, 3, 3, tzinfo=UTC) + timedelta(minutes=minute),
            "clock_synced": True, "protocol": "baseline", "stance": "single-left",
            "eyes": "open", "surface": surface, "planned_duration_s": 20.0,
            "outcome": "complete", "score": 60.0, "time_to_failure_s": None,
            "duration_s": 20.0, "has_raw": False, "metrics": metrics}


def test_only_wobble_conditions_with_a_tilt_trace_are_reported():
    rows = [row("firm", "firm", "hold", 1), row("w", "wobble", "wobble", 2, WOBBLE),
            row("broken", "wobble", "hold", 3, {"error": "too short"})]
    [section] = wobble_section(rows)
    assert section["label"] == "Left leg, eyes open, wobble"
    assert section["indices"][0] == {"label": "Overall stability index", "value": 3.21,
                                     "unit": "°"}
    assert [z["pct"] for z in section["zones"]] == [71.0, 25.0, 4.0, 0.0]
    assert section["zones"][-1]["label"] == "15° to the rim (17.5°)"
    assert section["rim_contacts"] == 0


def test_zones_and_quadrants_keep_their_order_after_the_store_sorted_the_keys():
    """The store writes metrics with sorted keys (station.store.schema): "10-15" before
    "5-10". The report's columns still run from level to the rim, and front before back."""
    assert (tuple(ZONE_LABELS), tuple(QUADRANT_LABELS)) == (ZONE_KEYS, QUADRANT_KEYS)
    stored = json.loads(json.dumps(WOBBLE, sort_keys=True))
    assert list(stored["zone_time_pct"]) == ["0-5", "10-15", "15-max", "5-10"]
    [section] = wobble_section([row("w", "wobble", "wobble", 2, stored)])
    assert [z["label"] for z in section["zones"]] == [
        "0–5°", "5–10°", "10–15°", "15° to the rim (17.5°)"]
    assert [z["pct"] for z in section["zones"]] == [71.0, 25.0, 4.0, 0.0]
    assert [q["label"] for q in section["quadrants"]] == [
        "front right", "front left", "back left", "back right"]
    assert [q["pct"] for q in section["quadrants"]] == [30.0, 20.0, 25.0, 25.0]


def test_the_partial_shows_the_measures():
    app = Flask("t", template_folder=str(web_dir() / "templates"))
    with app.test_request_context():
        html = app.jinja_env.get_template("_report_wobble.html").render(
            d={"wobble": wobble_section([row("w", "wobble", "wobble", 2, WOBBLE)])})
        empty = app.jinja_env.get_template("_report_wobble.html").render(d={"wobble": []})
    assert "Wobble board" in html and "Overall stability index" in html and "3.2" in html
    assert "71 %" in html and "front right" in html and "round-40-hemisphere" in html
    assert empty.strip() == ""
