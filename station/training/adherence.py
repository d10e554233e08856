"""Adherence: training sessions per week against the plan's 2-3, and rest days kept.

Why: the coach's question is "is the athlete doing the programme", not how well; a week
below the plan, or hard sessions on consecutive days, is what a coach can act on.
A rest day is kept when the day after a hard session has no session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from station.analysis.history.history_rows import local_day
from station.training.ladder import Ladder
from station.training.today import HARD, TrainingDay, week_start


def adherence(ladder: Ladder, sessions: Sequence[TrainingDay], today: date,
              weeks: int = 4) -> dict[str, Any]:
    """The last `weeks` weeks (this one last, counted so far): sessions per week, whether each
    full week met the plan (`full_weeks`: those since the first training session), rest days
    kept after hard sessions, and the last day trained."""
    low, high = ladder.rules.sessions_per_week
    days = sorted({local_day(s.at) for s in sessions if local_day(s.at) <= today})
    hard_days = {local_day(s.at) for s in sessions if s.intensity == HARD}
    start = week_start(today) - timedelta(weeks=weeks - 1)
    began = week_start(days[0]) if days else week_start(today)
    rows = []
    for w in range(weeks):
        monday = start + timedelta(weeks=w)
        n = sum(1 for d in days if monday <= d < monday + timedelta(days=7))
        current = monday == week_start(today)
        status = "below" if n < low else "above" if n > high else "on plan"
        if monday < began:
            status = "before the plan"
        elif current and n < low:
            status = "so far"
        rows.append({"week_start": monday.isoformat(), "sessions": n, "current": current,
                     "status": status})
    hard_in_range = [d for d in sorted(hard_days) if start <= d < today]
    kept = [d for d in hard_in_range if d + timedelta(days=1) not in days]
    full = [r for r in rows if not r["current"] and r["status"] != "before the plan"]
    return {
        "planned_per_week": [low, high],
        "this_week": rows[-1]["sessions"],
        "weeks": rows,
        "weeks_on_plan": sum(1 for r in full if r["status"] == "on plan"),
        "full_weeks": len(full),
        "hard_sessions": len(hard_in_range),
        "rest_days_kept": len(kept),
        "last_trained": days[-1].isoformat() if days else None,
        "days_since_trained": (today - days[-1]).days if days else None,
    }
