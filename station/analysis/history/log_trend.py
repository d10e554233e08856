"""The athlete's log (stiffness, soreness, relief, sleep) as per-day series beside the trends.

The programme adjusts pacing and intensity from the log, so the athlete page charts it on the
same date axis as the balance measures: a bad week of soreness sits over the dip in the
sway. One point per day with an entry (the day's mean, its range when logged twice, e.g. the
athlete's entry at the kiosk and the physio's later), decimated like the trends.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

import numpy as np

from station.analysis.history.day_series import decimate
from station.analysis.history.history_rows import local_day

# field -> (label, unit): the log's numbers, in the order the chart shows them
LOG_FIELDS = {
    "soreness": ("Soreness", "0–10"),
    "stiffness": ("Stiffness", "0–10"),
    "relief": ("Relief", "0–10"),
    "sleep_hours": ("Sleep", "h"),
}


def log_series(sessions: Iterable[Any]) -> dict[str, Any]:
    """{"fields": {field: {label, unit}}, "series": {field: {t, y, lo, hi, n}}}: a series per
    log field that has at least one entry (t: epoch s of the day's noon, station time)."""
    days: dict[str, dict[Any, list[float]]] = {f: {} for f in LOG_FIELDS}
    for s in sessions:
        for field in LOG_FIELDS:
            value = getattr(s, field, None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                days[field].setdefault(local_day(s.started_at), []).append(float(value))
    series = {}
    for field, by_day in days.items():
        if not by_day:
            continue
        ordered = sorted(by_day.items())
        t = np.array([datetime.combine(d, time(12)).astimezone().timestamp() for d, _ in ordered])
        values = [np.asarray(v) for _, v in ordered]
        series[field] = decimate(t, np.round([v.mean() for v in values], 2),
                                 lo=np.array([v.min() for v in values]),
                                 hi=np.array([v.max() for v in values]),
                                 n=np.array([len(v) for v in values]))
    fields = {f: {"label": label, "unit": unit} for f, (label, unit) in LOG_FIELDS.items()}
    return {"fields": fields, "series": series}
