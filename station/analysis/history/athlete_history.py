"""An athlete's history page: trend charts per condition, L/R symmetry, targets, trial table.

Long histories are decimated here, not in the browser: a chart gets at most
`MAX_POINTS` points per series (bucket means, with the bucket's min/max kept so a bad
day still shows), whatever the number of trials, so a phone gets a small page.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.analysis.history.history_rows import (
    CHARTED_MEASURES,
    KEY_MEASURES,
    athlete_json,
    aware,
    by_condition,
    condition_label,
    iso,
    measure_value,
    measured,
)
from station.analysis.history.limb_symmetry import symmetry_rows
from station.analysis.history.store_reads import HistoryStore
from station.analysis.history.targets import targets_view
from station.wire import json_safe

MAX_POINTS = 200
TABLE_ROWS = 100  # the newest trials listed in the table
SESSION_ROWS = 50  # the newest day logs listed


def decimate(t: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> dict[str, list]:
    """Bucket means (with min/max) so a chart never carries more than max_points points."""
    if len(t) <= max_points:
        return {"t": t.tolist(), "y": y.tolist(), "lo": y.tolist(), "hi": y.tolist()}
    edges = np.linspace(0, len(t), max_points + 1).astype(int)
    starts = edges[:-1]
    counts = np.diff(edges)
    mean = np.add.reduceat(y, starts) / counts
    tm = np.add.reduceat(t, starts) / counts
    return {
        "t": np.round(tm, 0).tolist(),
        "y": np.round(mean, 3).tolist(),
        "lo": np.minimum.reduceat(y, starts).tolist(),
        "hi": np.maximum.reduceat(y, starts).tolist(),
    }


def condition_series(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per condition: its label, number of measured trials and a decimated series per
    charted measure (t in epoch seconds)."""
    series: dict[str, dict[str, Any]] = {}
    for key, group in by_condition(rows).items():
        done = measured(group)
        entry: dict[str, Any] = {"label": condition_label(group[0]), "n": len(done),
                                 "stance": group[0]["stance"], "measures": {}}
        for measure in CHARTED_MEASURES:
            pts = [(aware(r["started_at"]).timestamp(), measure_value(r, measure)) for r in done]
            pts = [(t, v) for t, v in pts if v is not None]
            if pts:
                arr = np.asarray(pts, dtype=float)
                entry["measures"][measure] = decimate(arr[:, 0], arr[:, 1])
        series[key] = entry
    return series


def trial_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest trials first, one line each (aborted ones included)."""
    return [
        {
            "uid": r["uid"],
            "started_at": iso(r["started_at"]),
            "condition": condition_label(r),
            "protocol": r.get("protocol"),
            "outcome": r["outcome"],
            "score": r.get("score"),
            "velocity": measure_value(r, "mean_velocity_mm_s.total"),
            "ellipse": measure_value(r, "ellipse95_area_mm2"),
            "held_s": measure_value(r, "time_to_failure_s"),
            "has_raw": bool(r.get("has_raw")),
            "clock_synced": r.get("clock_synced") is not False,
        }
        for r in reversed(rows[-TABLE_ROWS:])
    ]


def sessions_view(store: HistoryStore, athlete_uid: str) -> list[dict[str, Any]]:
    """The athlete's day logs (stiffness, soreness, sleep, notes), newest first."""
    sessions = store.list_sessions(athlete_uid)
    return [
        {"uid": s.uid, "started_at": iso(s.started_at), "protocol": s.protocol,
         "stiffness": s.stiffness, "soreness": s.soreness, "sleep_hours": s.sleep_hours,
         "notes": s.notes}
        for s in reversed(sessions[-SESSION_ROWS:])
    ]


def history_view(store: HistoryStore, athlete_uid: str,
                 rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Trend series per condition and measure (decimated), the trial table (newest first),
    L/R symmetry, targets and day logs. `rows`: the history with metrics, when the caller
    has read it already. StoreError when there is no such athlete."""
    athlete = store.get_athlete(athlete_uid)
    rows = store.athlete_history(athlete_uid, metrics=True) if rows is None else rows
    return json_safe({
        "athlete": athlete_json(athlete),
        "n_trials": len(rows),
        "series": condition_series(rows),
        "symmetry": symmetry_rows(rows),
        "trials": trial_table(rows),
        "targets": targets_view(store, athlete_uid, rows),
        "sessions": sessions_view(store, athlete_uid),
        "measures": {k: {"label": v[0], "unit": v[1]} for k, v in KEY_MEASURES.items()},
    })
