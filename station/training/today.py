"""Today's session: rest day, or a hard or light 15-25 minute list at the athlete's stage.

Why: the programme alternates hard and light days and keeps rest days (no hard session the
day after a hard one, at most the plan's sessions a week), and lightens the day when the
athlete's own log says they are sore or stiff. The list is the stage's items repeated in
rounds until the session has its length: a hard day fills up to the longest session, a light
day stops at the shortest, rests half as long again between sets and leaves out the items
marked hard_only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from station.analysis.history.history_rows import local_day
from station.training.ladder import Item, Ladder
from station.training.progression import LogEntry

HARD, LIGHT = "hard", "light"
LIGHT_REST = 1.5  # a light day's rests, against the stage's


@dataclass(frozen=True)
class TrainingDay:
    """A past training session: when, and how hard it was."""

    at: datetime
    intensity: str | None  # hard | light | None (not said)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def rest_day_reason(ladder: Ladder, sessions: Sequence[TrainingDay], today: date) -> str | None:
    """Why today is a rest day (None: it is not): a hard session yesterday, or the plan's
    most sessions this week done already (sessions today do not count: a session may be
    resumed)."""
    days = [(local_day(s.at), s.intensity) for s in sessions]
    yesterday = today - timedelta(days=1)
    if any(d == yesterday and i == HARD for d, i in days):
        return "rest day: you trained hard yesterday"
    most = ladder.rules.sessions_per_week[1]
    this_week = {d for d, _ in days if week_start(today) <= d < today}
    if len(this_week) >= most:
        return f"rest day: {len(this_week)} sessions this week already (the plan is " \
               f"{ladder.rules.sessions_per_week[0]}-{most})"
    return None


def intensity_for(ladder: Ladder, sessions: Sequence[TrainingDay], log: LogEntry | None,
                  today: date) -> tuple[str, str]:
    """(hard | light, why): light when today's log says sore or stiff, or the last session
    was hard; hard otherwise."""
    light_at = ladder.rules.light_at
    if log is not None:
        for name in ("soreness", "stiffness"):
            value = getattr(log, name)
            if value is not None and value >= light_at:
                return LIGHT, f"light: {name} {value}/10 today"
    before = [s for s in sessions if local_day(s.at) < today]
    if before:
        last = max(before, key=lambda s: s.at)
        if last.intensity == HARD:
            return LIGHT, f"light: the last session ({local_day(last.at)}) was hard"
        return HARD, (f"hard: the last session ({local_day(last.at)}) was "
                      f"{last.intensity or 'not marked'}")
    return HARD, "hard: the first session at this stage"


def _steps(items: Sequence[Item], rounds: int) -> list[dict[str, Any]]:
    steps = []
    for r in range(1, rounds + 1):
        for item in items:
            for s in range(1, item.sets + 1):
                steps.append({**item.to_json(), "round": r, "set": s, "seq": len(steps) + 1})
    return steps


def build_today(ladder: Ladder, stage_id: str, sessions: Sequence[TrainingDay],
                log: LogEntry | None, today: date) -> dict[str, Any]:
    """Today's session: {"rest_day", "reason", "intensity", "minutes", "rounds", "steps"}.
    steps: one per set, in order, each with its protocol trial, duration and rest after."""
    stage = ladder.stage(stage_id)
    base = {"stage": stage.id, "stage_name": stage.name, "date": today.isoformat()}
    if not stage.available:
        return {**base, "rest_day": False, "reason": f"stage {stage.id} cannot run here: "
                f"{stage.skip_reason}", "intensity": None, "minutes": 0, "rounds": 0,
                "steps": []}
    rest = rest_day_reason(ladder, sessions, today)
    if rest is not None:
        return {**base, "rest_day": True, "reason": rest, "intensity": None, "minutes": 0,
                "rounds": 0, "steps": []}
    intensity, why = intensity_for(ladder, sessions, log, today)
    items = [i for i in stage.items if intensity == HARD or not i.hard_only]
    if intensity == LIGHT:
        items = [replace(i, rest_s=round(i.rest_s * LIGHT_REST)) for i in items]
    setup = ladder.rules.setup_s
    round_s = sum(i.time_s + setup * i.sets for i in items)
    low, high = (m * 60.0 for m in ladder.rules.session_minutes)
    most = max(1, math.floor(high / round_s))
    rounds = most if intensity == HARD else min(most, max(1, math.ceil(low / round_s)))
    steps = _steps(items, rounds)
    minutes = (rounds * round_s - (steps[-1]["rest_s"] if steps else 0)) / 60.0
    return {**base, "rest_day": False, "reason": why, "intensity": intensity,
            "minutes": round(minutes, 1), "rounds": rounds, "steps": steps}
