"""The progression rule: move up, stay or step back on the ladder, and why.

Pure: the athlete's plan, history rows (the store's `athlete_history` dicts, with metrics)
and log entries in, a Decision out; the web applies it and records it. Why these rules:
a stage is mastered when the last holds at it were completed well on more than one day
(one good day is not learning), and a step back follows the body first (soreness,
stiffness in the athlete's own log) and the measures second (a decline larger than the
measurement error: a change within it is noise, not a decline).

The decline is judged by station.analysis.history.comparison.change_against (the station's
MDC table, the same verdict every page shows). When the athlete's own measurement error is
known (the norms work, station/norms), pass it as `judge`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from station.analysis.history.comparison import change_against
from station.analysis.history.history_rows import counted, local_day, measure_value
from station.training.ladder import Ladder, Stage

UP, STAY, DOWN = "up", "stay", "down"
VELOCITY = "mean_velocity_mm_s.total"
Judge = Callable[[float | None, float | None, str, str], dict[str, Any] | None]


@dataclass(frozen=True)
class PlanState:
    """Where the athlete is: the stage, since when, and whether the physio pinned it there
    (a pinned stage is not changed by the rule)."""

    stage: str
    since: datetime | None = None
    pinned: bool = False
    set_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class LogEntry:
    """One day's log (the session's): 0-10 scales, None when not given."""

    at: datetime
    soreness: int | None = None
    stiffness: int | None = None
    relief: int | None = None
    sleep_hours: float | None = None
    notes: str | None = None


@dataclass(frozen=True)
class Decision:
    action: str  # up | stay | down
    stage: str  # where the athlete is now
    to_stage: str  # where the rule puts them (== stage when staying)
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "stage": self.stage, "to_stage": self.to_stage,
                "reason": self.reason, "details": self.details}


def _stance(value: Any) -> str:
    return str(value or "").replace("_", "-")


def stage_holds(stage: Stage, rows: Iterable[dict[str, Any]],
                since: datetime | None = None) -> list[dict[str, Any]]:
    """The counted hold trials of this stage's conditions (stance, eyes, surface and planned
    duration of one of its hold items), from `since`, oldest first; invalid trials are out."""
    conditions = {(i.task, i.stance, i.eyes, i.surface, i.duration_s) for i in stage.holds}
    out = []
    for row in counted(r for r in rows if not r.get("invalid")):
        planned = row.get("planned_duration_s")
        key = (row.get("task") or "hold", _stance(row.get("stance")), row.get("eyes"),
               row.get("surface"), None if planned is None else float(planned))
        if key not in conditions:
            continue
        if since is not None and row["started_at"] < since:
            continue
        out.append(row)
    return out


def _meets(row: dict[str, Any], ladder: Ladder) -> bool:
    rules = ladder.rules
    if row.get("outcome") != "complete":
        return False
    score = row.get("score")
    if score is None or score < rules.min_score:
        return False
    if rules.max_velocity_mm_s is not None:
        velocity = measure_value(row, VELOCITY)
        if velocity is None or velocity > rules.max_velocity_mm_s:
            return False
    return True


def criterion_text(ladder: Ladder) -> str:
    rules = ladder.rules
    text = f"completed with a score of at least {rules.min_score:g}"
    if rules.max_velocity_mm_s is not None:
        text += f" and COP velocity at most {rules.max_velocity_mm_s:g} mm/s"
    return text


def sore_entry(log: Sequence[LogEntry], ladder: Ladder, today: date,
               since: datetime | None = None) -> tuple[LogEntry, str] | None:
    """The latest log entry of the last `log_days` days with soreness or stiffness above the
    threshold, and what it says; None when there is none. Entries from before `since` (the
    stage began: a step back or the physio acted on them already) do not count."""
    rules = ladder.rules
    first_day = today - timedelta(days=rules.log_days - 1)
    for entry in sorted(log, key=lambda e: e.at, reverse=True):
        if not first_day <= local_day(entry.at) <= today:
            continue
        if since is not None and entry.at <= since:
            continue
        if entry.soreness is not None and entry.soreness > rules.soreness_above:
            return entry, (f"soreness {entry.soreness}/10 on {local_day(entry.at)} (above "
                           f"{rules.soreness_above})")
        if entry.stiffness is not None and entry.stiffness > rules.stiffness_above:
            return entry, (f"stiffness {entry.stiffness}/10 on {local_day(entry.at)} (above "
                           f"{rules.stiffness_above})")
    return None


def decline(holds: list[dict[str, Any]], ladder: Ladder,
            judge: Judge = change_against) -> tuple[str, dict[str, Any]] | None:
    """A real decline of COP velocity at this stage: per condition (stance, eyes, surface,
    planned duration), the median of the last `decline_holds` holds against the median of the
    first ones (at least twice as many holds needed), judged by `judge` ("worse" beyond the
    measurement error). None: no decline."""
    n = ladder.rules.decline_holds
    by_condition: dict[tuple[str, str, str, Any], list[float]] = {}
    for row in holds:
        value = measure_value(row, VELOCITY)
        if value is not None:
            key = (_stance(row.get("stance")), str(row.get("eyes")), str(row.get("surface")),
                   row.get("planned_duration_s"))
            by_condition.setdefault(key, []).append(value)
    for (stance, _, _, _), values in sorted(by_condition.items(), key=lambda kv: str(kv[0])):
        if len(values) < 2 * n:
            continue
        reference = float(np.median(values[:n]))
        current = float(np.median(values[-n:]))
        verdict = judge(current, reference, VELOCITY, stance)
        if verdict and verdict.get("verdict") == "worse":
            return (f"COP velocity on {stance} rose from {reference:.1f} to {current:.1f} mm/s "
                    f"(more than the measurement error, {verdict.get('mdc')} mm/s)",
                    {"stance": stance, "reference": reference, "current": current,
                     "mdc": verdict.get("mdc")})
    return None


def evaluate(ladder: Ladder, plan: PlanState, history: Sequence[dict[str, Any]],
             log: Sequence[LogEntry], today: date, judge: Judge = change_against) -> Decision:
    """Up, stay or down from the plan's stage, with the reason in words (for the physio and
    the athlete) and the figures behind it in `details`."""
    stage = ladder.stage(plan.stage)
    holds = stage_holds(stage, history, plan.since)
    sore = sore_entry(log, ladder, today, plan.since)
    fell = decline(holds, ladder, judge)
    if plan.pinned:
        note = ""
        if sore or fell:
            note = f"; the rule would step back: {(sore[1] if sore else fell[0])}"
        who = f" by {plan.set_by}" if plan.set_by else ""
        return Decision(STAY, stage.id, stage.id,
                        f"stage set{who}: {plan.reason or 'no reason given'} (automatic "
                        f"progression paused){note}", {"pinned": True})
    if sore or fell:
        why = sore[1] if sore else fell[0]
        below, skipped = ladder.step(stage.id, -1)
        details = {"soreness": sore is not None, "decline": fell[1] if fell else None}
        if below is None:
            return Decision(STAY, stage.id, stage.id,
                            f"{why}: already at the first stage, keep sessions light", details)
        return Decision(DOWN, stage.id, below.id, f"step back: {why}", details)
    rules = ladder.rules
    streak: list[dict[str, Any]] = []  # the good holds in a row, from the latest back
    for row in reversed(holds):
        if not _meets(row, ladder):
            break
        streak.append(row)
    days = sorted({local_day(r["started_at"]) for r in streak})
    details = {"holds": len(holds), "needed": rules.holds, "good_in_a_row": len(streak),
               "days": [d.isoformat() for d in days], "days_needed": rules.days}
    if len(holds) < rules.holds:
        return Decision(STAY, stage.id, stage.id,
                        f"{len(holds)} of {rules.holds} holds at this stage so far", details)
    if len(streak) < rules.holds:
        return Decision(STAY, stage.id, stage.id,
                        f"{len(streak)} of the last {rules.holds} holds in a row "
                        f"{criterion_text(ladder)}", details)
    if len(days) < rules.days:
        return Decision(STAY, stage.id, stage.id,
                        f"the last {len(streak)} holds were good, but on {len(days)} day"
                        f"{'s' if len(days) != 1 else ''}: needs {rules.days} different days",
                        details)
    above, skipped = ladder.step(stage.id, +1)
    skipped_text = "; ".join(f"{s.id} skipped: {s.skip_reason}" for s in skipped)
    details["skipped"] = [{"stage": s.id, "reason": s.skip_reason} for s in skipped]
    if above is None:
        return Decision(STAY, stage.id, stage.id,
                        "top of the ladder on this station" +
                        (f" ({skipped_text})" if skipped_text else ""), details)
    reason = (f"move up: the last {len(streak)} holds {criterion_text(ladder)}, on "
              f"{len(days)} different days")
    if skipped_text:
        reason += f" ({skipped_text})"
    return Decision(UP, stage.id, above.id, reason, details)
