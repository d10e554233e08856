"""Today's session: rest day, or a hard or light 15-25 minute list at the athlete's stage.

Why: the programme alternates hard and light days and keeps rest days (no hard session the
day after a hard one, at most the plan's sessions a week), and lightens the day when the
athlete's own log says they are sore or stiff. The list is the stage's items repeated in
rounds until the session has its length: a hard day fills up to the longest session, a light
day has fewer sets, stops at the shortest session, rests half as long again (or longer, to
fill the shortest session) and leaves out the items marked hard_only.
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
MAX_LIGHT_REST_S = 120.0


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


def _round_s(items: Sequence[Item], setup_s: float) -> float:
    return sum(i.time_s + setup_s * i.sets for i in items)


def _minutes(items: Sequence[Item], rounds: int, setup_s: float) -> float:
    """The session's length: its rounds, without the rest after the last set."""
    if not items:
        return 0.0
    return (rounds * _round_s(items, setup_s) - items[-1].rest_s) / 60.0


def _light(items: Sequence[Item], hard_rounds: int, setup_s: float, low_s: float,
           high_s: float) -> tuple[list[Item], int]:
    """A light day: no hard_only items, longer rests (LIGHT_REST, more when needed to reach
    the shortest session) and fewer sets than the hard day: the fewest rounds that reach the
    shortest session, one round fewer when that would be as many sets as a hard day."""
    easy = [replace(i, rest_s=round(i.rest_s * LIGHT_REST)) for i in items if not i.hard_only]
    hard_sets = hard_rounds * sum(i.sets for i in items)
    sets = sum(i.sets for i in easy)
    rounds = max(1, math.ceil((low_s + easy[-1].rest_s) / _round_s(easy, setup_s)))
    while rounds > 1 and (rounds * sets >= hard_sets
                          or _minutes(easy, rounds, setup_s) * 60 > high_s):
        rounds -= 1
    short = low_s - _minutes(easy, rounds, setup_s) * 60
    if short > 0:  # longer rests to fill the shortest session (at most MAX_LIGHT_REST_S)
        extra = short / max(1, rounds * sets - 1)
        easy = [replace(i, rest_s=min(MAX_LIGHT_REST_S, round(i.rest_s + extra + 0.5)))
                for i in easy]
    return easy, rounds


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
    setup = ladder.rules.setup_s
    low, high = (m * 60.0 for m in ladder.rules.session_minutes)
    hard_rounds = max(1, math.floor(high / _round_s(stage.items, setup)))
    if intensity == HARD:
        items, rounds = list(stage.items), hard_rounds
    else:
        items, rounds = _light(stage.items, hard_rounds, setup, low, high)
    steps = _steps(items, rounds)
    minutes = _minutes(items, rounds, setup)
    return {**base, "rest_day": False, "reason": why, "intensity": intensity,
            "minutes": round(minutes, 1), "rounds": rounds, "steps": steps}
