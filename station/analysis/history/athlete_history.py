"""An athlete's history page: trend charts per condition, L/R symmetry, targets, trial table.

A trend point is a day of testing (the station's calendar day): the mean of that day's
trials and their range (min, max), on a date axis, so several trials on one day are one
point with a whisker rather than a vertical line. Superseded trials (a failed one the
physio repeated at once), aborted and invalidated ones are not in the trend; the trial
table lists every trial, an invalidated one with who, when and why. Long histories are
decimated here, not in the browser: a chart gets at most `MAX_POINTS` points per series
(means of neighbouring days, their min/max kept so a bad day still shows), whatever the
number of trials, so a phone gets a small page.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import numpy as np

from station.analysis.history.baseline import baselines
from station.analysis.history.comparison import held_text
from station.analysis.history.day_series import decimate
from station.analysis.history.history_rows import (
    CHARTED_BY_MODEL,
    KEY_MEASURES,
    LEFT_RIGHT_MEASURE,
    TASK_MEASURES,
    athlete_json,
    by_condition,
    condition_label,
    counted,
    held,
    invalid_json,
    iso,
    local_day,
    measure_json,
    measure_value,
    model_of,
    score_label,
)
from station.analysis.history.limb_symmetry import symmetry_rows
from station.analysis.history.log_trend import log_series
from station.analysis.history.norms_view import condition_bands
from station.analysis.history.store_reads import HistoryStore
from station.analysis.history.targets import targets_view
from station.analysis.scoring import better_direction
from station.wire import json_safe

TABLE_ROWS = 100  # the newest trials listed in the table
SESSION_ROWS = 50  # the newest day logs listed


def day_points(rows: list[dict[str, Any]], measure: str) -> dict[str, list] | None:
    """One point per day with a value: t (epoch s, the day's noon, station time), the
    day's mean, min, max, number of trials and how many of them were training
    (`n_training`: the chart marks training days apart from assessments); None when no
    trial has the measure."""
    days: dict[Any, list[float]] = {}
    training: dict[Any, int] = {}  # the day's trials that were training, not assessment
    for row in rows:
        value = measure_value(row, measure)
        if value is not None:
            day = local_day(row["started_at"])
            days.setdefault(day, []).append(value)
            training[day] = training.get(day, 0) + (row.get("session_kind") == "training")
    if not days:
        return None
    ordered = sorted(days.items())
    # a naive datetime's astimezone() reads it as the station's local time (DST included)
    t = np.array([datetime.combine(day, time(12)).astimezone().timestamp() for day, _ in ordered])
    values = [np.asarray(v, dtype=float) for _, v in ordered]
    return decimate(t, np.round([v.mean() for v in values], 3),
                    lo=np.array([v.min() for v in values]),
                    hi=np.array([v.max() for v in values]),
                    n=np.array([len(v) for v in values]),
                    n_training=np.array([training[day] for day, _ in ordered]))


def _hint(measure: str) -> str:
    if measure == "score":
        return "higher is better"
    return "higher is better" if better_direction(measure) else "lower is better"


def condition_series(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per condition: its label, task model, number of counted trials, the charts it has
    (its own measures) and a per-day series per charted measure."""
    series: dict[str, dict[str, Any]] = {}
    for key, group in by_condition(counted(rows)).items():
        model = model_of(group[0])
        charts = CHARTED_BY_MODEL[model]
        entry: dict[str, Any] = {
            "label": condition_label(group[0]), "n": len(group), "stance": group[0]["stance"],
            "task": group[0].get("task") or "hold", "model": model,
            "score_label": score_label(group[0]),
            "charts": [{**measure_json(m), "hint": _hint(m)} for m in charts],
            "left_right": LEFT_RIGHT_MEASURE.get(model), "measures": {},
        }
        for measure in dict.fromkeys((*charts, *TASK_MEASURES[model])):
            points = day_points(group, measure)
            if points is not None:
                entry["measures"][measure] = points
        series[key] = entry
    return series


def trial_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest trials first, one line each (aborted and invalidated ones included), with
    the task's key measure, time held against the plan and, when invalidated, why
    (`invalid`: history_rows.invalid_json, None for a trial that counts)."""
    out = []
    for r in reversed(rows[-TABLE_ROWS:]):
        key = TASK_MEASURES[model_of(r)][0]
        time_held = held(r)
        out.append({
            "uid": r["uid"],
            "started_at": iso(r["started_at"]),
            "condition": condition_label(r),
            "protocol": r.get("protocol"),
            "task": r.get("task") or "hold",
            "outcome": r["outcome"],
            "score": r.get("score"),
            "velocity": measure_value(r, "mean_velocity_mm_s.total"),
            "ellipse": measure_value(r, "ellipse95_area_mm2"),
            "held_s": time_held["held_s"],
            "planned_s": time_held["planned_s"],
            "held_text": held_text(time_held),
            "key_measure": {**measure_json(key), "value": measure_value(r, key)},
            "has_raw": bool(r.get("has_raw")),
            "clock_synced": r.get("clock_synced") is not False,
            "invalid": invalid_json(r),
            "session_kind": r.get("session_kind") or "assessment",  # or training (0008)
        })
    return out


def sessions_view(store: HistoryStore, athlete_uid: str) -> list[dict[str, Any]]:
    """The athlete's day logs (stiffness, soreness, sleep, notes), newest first."""
    sessions = store.list_sessions(athlete_uid)
    return [
        {"uid": s.uid, "started_at": iso(s.started_at), "protocol": s.protocol,
         "stiffness": s.stiffness, "soreness": s.soreness, "sleep_hours": s.sleep_hours,
         "notes": s.notes, "kind": s.kind, "intensity": s.intensity, "relief": s.relief}
        for s in reversed(sessions[-SESSION_ROWS:])
    ]


def history_view(store: HistoryStore, athlete_uid: str,
                 rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Trend series per condition and measure (per day, decimated), each condition's
    baseline, the trial table (newest first), L/R symmetry, targets and day logs. `rows`:
    the history with metrics, when the caller has read it already. StoreError when there
    is no such athlete."""
    athlete = store.get_athlete(athlete_uid)
    rows = store.athlete_history(athlete_uid, metrics=True) if rows is None else rows
    series = condition_series(rows)
    for key, base in baselines(rows).items():
        if key in series:
            series[key]["baseline"] = base.to_json()
    for key, group in by_condition(rows).items():  # the norm's band behind each trend
        if key in series:
            series[key]["norms"] = condition_bands(group, athlete, datetime.now(UTC))
    return json_safe({
        "athlete": athlete_json(athlete),
        "n_trials": len(rows),
        "series": series,
        "symmetry": symmetry_rows(rows),
        "trials": trial_table(rows),
        "targets": targets_view(store, athlete_uid, rows),
        "sessions": sessions_view(store, athlete_uid),
        "log": log_series(store.list_sessions(athlete_uid)),  # beside the trends
        "measures": {k: {"label": v[0], "unit": v[1]} for k, v in KEY_MEASURES.items()},
    })
