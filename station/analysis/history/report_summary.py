"""The report's first page and its detail sections: what a physio hands over on paper.

Page one has to answer "how is this athlete doing" without turning over: who, when, by
whom, each condition's key result against its baseline with the noise verdict in words (a
printout may be black and white), left against right, the targets and the last few day
logs. The detail pages add the hop and push results and a COP trace of the latest key
trial with its 95 % ellipse. Everything here reads the rows the report was given (invalid
trials already left out by report.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.analysis.history.history_rows import (
    LEFT_RIGHT_MEASURE,
    STANCE_LABELS,
    TASK_MEASURES,
    condition_key,
    condition_label,
    condition_parts,
    counted,
    iso,
    measure_json,
    measure_value,
    model_of,
)
from station.analysis.history.replay_trace import trace_view
from station.analysis.history.store_reads import HistoryStore
from station.analysis.history.team_overview import ASYMMETRY_LSI_PCT, key_condition
from station.analysis.metrics.sway import confidence_ellipse
from station.protocols import load_protocols

SUMMARY_LOG_ROWS = 4  # day logs on page one (the latest that logged anything)
LOG_FIELDS = ("stiffness", "soreness", "sleep_hours", "notes")
TASK_RESULT_ROWS = 12  # hop / push trials listed, newest first
TRACE_POINTS = 600  # a printed trace needs no more
LEG_ORDER = ("single-left", "single-right", "double", "tandem")


def verdict_text(cmp: dict[str, Any] | None, in_baseline: bool) -> str:
    """The change's verdict in words, for paper without colour: the words of every page
    (station.norms.reliable_change: "real improvement", "within measurement noise",
    "real decline")."""
    if in_baseline:
        return "baseline only"
    if cmp is None:
        return "–"
    if cmp.get("change") is None:
        return cmp.get("note") or "not compared"
    return cmp.get("verdict_text") or "not judged (no measurement error known)"


def _leg_rank(key: str) -> int:
    stance = condition_parts(key)["stance"].replace("_", "-")
    return LEG_ORDER.index(stance) if stance in LEG_ORDER else len(LEG_ORDER)


def key_results(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per condition (left leg first, then right, both feet, tandem): its task's key measure
    and its score, baseline against latest, with the verdict in words."""
    out = []
    for c in sorted(conditions, key=lambda c: _leg_rank(c["key"])):
        by_key = {m["key"]: m for m in c["measures"]}
        key = next(k for k in by_key if k != "score")
        stance = condition_parts(c["key"])["stance"].replace("_", "-")
        in_baseline = bool(c.get("in_baseline"))
        measure = by_key[key]
        out.append({
            "key": c["key"], "condition": c["label"], "leg": STANCE_LABELS.get(stance, stance),
            "latest_date": c["latest_date"], "baseline_date": c["baseline_date"],
            "measure": {**measure, "verdict_text": verdict_text(measure["cmp"], in_baseline)},
            "score": by_key.get("score"),
        })
    return out


def left_right(symmetry: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per left/right pair: the measure the legs are judged on, both values and the index."""
    out = []
    for pair in symmetry:
        wanted = LEFT_RIGHT_MEASURE.get(pair["model"])
        m = next((m for m in pair["measures"] if m["key"] == wanted), None)
        if m is None:
            continue
        lsi = m["lsi_pct"]
        out.append({"condition": pair["condition"], "label": m["label"], "unit": m["unit"],
                    "digits": m["digits"], "left": m["left"], "right": m["right"],
                    "lsi_pct": lsi, "flagged": lsi is not None and lsi < ASYMMETRY_LSI_PCT})
    return out


def target_status(target: dict[str, Any]) -> str:
    """A target's state in words: reached, on track, behind, or why it cannot be said."""
    if target.get("wrong_side"):
        return "cannot be reached as set"
    if target.get("too_small"):
        return "within the measurement noise: not a target"
    if target.get("achieved"):
        return "reached"
    if target.get("current") is None:
        return "not tested yet"
    if target.get("on_track") is True:
        return "on track"
    if target.get("on_track") is False:
        return "behind"
    return "open"


def clinicians(store: HistoryStore, athlete_uid: str) -> list[str]:
    """Who ran the athlete's sessions (the session's operator), the latest first."""
    names = [s.operator for s in reversed(store.list_sessions(athlete_uid)) if s.operator]
    return list(dict.fromkeys(names))


def task_results(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The hop and push trials (each task by its own measures), newest first per task."""
    out = []
    for model in ("hop", "push"):
        done = [r for r in counted(rows) if model_of(r) == model]
        if not done:
            continue
        measures = [measure_json(m) for m in TASK_MEASURES[model] if m != "time_to_failure_s"]
        out.append({
            "model": model, "n": len(done), "measures": measures,
            "rows": [{"started_at": iso(r["started_at"]), "condition": condition_label(r),
                      "outcome": r["outcome"], "score": r.get("score"),
                      "measured": [measure_value(r, m["key"]) for m in measures]}
                     for r in reversed(done[-TASK_RESULT_ROWS:])],
        })
    return out


def key_trial(rows: list[dict[str, Any]], key: str | None) -> dict[str, Any] | None:
    """The latest counted hold with raw frames: in the battery's key condition (`key`) if
    one kept them, else a single-leg one, else any."""
    holds = [r for r in counted(rows) if model_of(r) == "hold" and r.get("has_raw")]
    in_key = [r for r in holds if condition_key(r) == key]
    single = [r for r in holds if str(r["stance"]).replace("_", "-").startswith("single")]
    return (in_key or single or holds or [None])[-1]


def key_trace(store: HistoryStore, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest key trial's COP trace (mm, decimated) and its 95 % ellipse (centre, semi-axes,
    angle: station.analysis.metrics.sway), or None when no hold kept its raw frames. The key
    trial is the baseline battery's `key_trial` condition (the left single-leg hold)."""
    row = key_trial(rows, key_condition(load_protocols()))
    if row is None:
        return None
    trace = trace_view(store, row["uid"])
    x, y = np.asarray(trace["x"], dtype=float), np.asarray(trace["y"], dtype=float)
    if x.size < 3:
        return None
    ellipse = confidence_ellipse(x, y)
    step = max(1, int(np.ceil(x.size / TRACE_POINTS)))
    return {
        "trial_uid": row["uid"], "started_at": iso(row["started_at"]),
        "condition": condition_label(row), "outcome": row["outcome"],
        "x": x[::step].round(1).tolist(), "y": y[::step].round(1).tolist(),
        "ellipse": {"cx": float(x.mean()), "cy": float(y.mean()),
                    "semi_major_mm": ellipse.semi_major_mm,
                    "semi_minor_mm": ellipse.semi_minor_mm, "angle_deg": ellipse.angle_deg,
                    "area_mm2": ellipse.area_mm2},
        "velocity": measure_value(row, "mean_velocity_mm_s.total"),
        "area_measured": measure_value(row, "ellipse95_area_mm2"),
    }


def summary_view(store: HistoryStore, athlete_uid: str, report: dict[str, Any],
                 rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Page one of the report, from the report's own parts (`report`: conditions, symmetry,
    targets, sessions) and the rows they came from."""
    done = counted(rows)
    return {
        "first_test": iso(done[0]["started_at"]) if done else None,
        "last_test": iso(done[-1]["started_at"]) if done else None,
        "n_sessions": len({r.get("session_uid") for r in done}),
        "clinicians": clinicians(store, athlete_uid),
        "key_results": key_results(report["conditions"]),
        "left_right": left_right(report["symmetry"]),
        "targets": [{**t, "status": target_status(t),
                     "progress_pct": None if t.get("fraction") is None
                     else round(100 * t["fraction"])} for t in report["targets"]],
        "recent_log": [log for log in report["sessions"] if any(
            log.get(k) not in (None, "") for k in LOG_FIELDS)][:SUMMARY_LOG_ROWS],
    }
