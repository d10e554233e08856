"""The coach's team overview: per active athlete the last test, latest score and trend,
the L/R asymmetry flag and whether testing was missed.

One function for the /coach page and GET /api/team, so both show the same rows with the
same field names (documented in docs/web.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from station.analysis.history.history_rows import aware, measured
from station.analysis.history.limb_symmetry import symmetry_rows
from station.analysis.history.store_reads import HistoryStore
from station.wire import json_safe

ASYMMETRY_MEASURE = "mean_velocity_mm_s.total"  # sway speed: the measure L/R is judged on
ASYMMETRY_LSI_PCT = 85.0  # below this L/R index the coach sees a flag (a common RTS cut-off: 85-90)
MISSED_DAYS_DEFAULT = 14
TREND_N = 6  # the trend is the slope over this many last scores
SPARK_N = 12  # scores in the sparkline


def trend_slope(scores: list[float], n: int = TREND_N) -> float | None:
    """Least-squares slope of the last `n` scores, in points per test (None below 3)."""
    if len(scores) < 3:
        return None
    y = np.asarray(scores[-n:], dtype=float)
    return float(np.polyfit(np.arange(len(y)), y, 1)[0])


def worst_lsi(history: list[dict[str, Any]], measure: str = ASYMMETRY_MEASURE) -> float | None:
    """The lowest L/R index (%) of `measure` over the athlete's left/right pairs."""
    lsis = [m["lsi_pct"] for pair in symmetry_rows(history) for m in pair["measures"]
            if m["measure"] == measure and m["lsi_pct"] is not None]
    return min(lsis) if lsis else None


def athlete_row(athlete: Any, history: list[dict[str, Any]], *, today: date,
                lsi_threshold_pct: float, missed_days: int) -> dict[str, Any]:
    done = measured(history)
    last = done[-1] if done else None
    scores = [float(r["score"]) for r in done if r.get("score") is not None]
    lsi = worst_lsi(history)
    last_at = aware(last["started_at"]) if last else None
    days = (today - last_at.date()).days if last_at else None
    slope = trend_slope(scores)
    return {
        "uid": athlete.uid,
        "name": athlete.name,
        "team": athlete.team,
        "last_test": last_at,
        "days_since_last_test": days,
        "missed": days is None or days > missed_days,
        "latest_score": last.get("score") if last else None,
        "trend_points_per_test": None if slope is None else round(slope, 3),
        "velocity_lsi_pct": lsi,
        "asymmetry": lsi is not None and lsi < lsi_threshold_pct,
        "n_trials": len(done),
        "spark": [round(v, 1) for v in scores[-SPARK_N:]],
    }


def team_overview(store: HistoryStore, *, team: str | None = None,
                  lsi_threshold_pct: float = ASYMMETRY_LSI_PCT,
                  missed_days: int = MISSED_DAYS_DEFAULT,
                  today: date | None = None) -> dict[str, Any]:
    """One row per active athlete (of `team`, when given); `teams` lists every active
    athlete's team, whatever the filter, for the page's group choice."""
    today = today or datetime.now(UTC).date()
    active = store.list_athletes(active_only=True)
    rows = [
        athlete_row(athlete, store.athlete_history(athlete.uid, metrics=True), today=today,
                    lsi_threshold_pct=lsi_threshold_pct, missed_days=missed_days)
        for athlete in active
        if team is None or athlete.team == team
    ]
    teams = sorted({a.team for a in active if a.team})
    return json_safe({
        "athletes": rows,
        "teams": teams,
        "asymmetry_measure": ASYMMETRY_MEASURE,
        "lsi_threshold_pct": float(lsi_threshold_pct),
        "trend_last_n": TREND_N,
        "missed_days": missed_days,
    })
