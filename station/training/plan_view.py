"""An athlete's training as the pages show it, read from a store, and the one place where the
progression's decision is applied (recorded as a stage change).

Why here and not in the web: the API, the demo history and the simulated-weeks test all
read the plan the same way; nothing here knows Flask. The rules themselves are the pure
modules beside this one (progression, today, adherence, targets).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from station.analysis.history.baseline import baselines
from station.analysis.history.history_rows import local_day
from station.analysis.history.targets import applies_to
from station.store import training_plans
from station.store.records import SessionRecord
from station.store.repository import Store
from station.training.adherence import adherence
from station.training.ladder import Ladder
from station.training.progression import DOWN, UP, Decision, LogEntry, PlanState, evaluate
from station.training.targets import review_target, suggest_targets
from station.training.today import TrainingDay, build_today
from station.wire import json_safe

RULE_AUTHOR = "station (progression rule)"
TRAINING = "training"


def training_days(sessions: list[SessionRecord]) -> list[TrainingDay]:
    return [TrainingDay(s.started_at, s.intensity) for s in sessions if s.kind == TRAINING]


def log_entries(sessions: list[SessionRecord]) -> list[LogEntry]:
    """Every session's log that says something (assessments' logs count as much)."""
    return [LogEntry(s.started_at, s.soreness, s.stiffness, s.relief, s.sleep_hours, s.notes)
            for s in sessions
            if any(v is not None for v in (s.soreness, s.stiffness, s.relief, s.sleep_hours))]


def todays_log(sessions: list[SessionRecord], today: date) -> LogEntry | None:
    entries = [e for e in log_entries(sessions) if local_day(e.at) == today]
    return max(entries, key=lambda e: e.at) if entries else None


def plan_state(store: Store, athlete_uid: str, ladder: Ladder) -> PlanState:
    """The athlete's plan; a new athlete starts at the ladder's first available stage."""
    record = training_plans.get_plan(store, athlete_uid)
    if record is None or record.stage not in {s.id for s in ladder.stages}:
        return PlanState(ladder.first().id)
    changes = training_plans.stage_changes(store, athlete_uid)
    last = changes[-1] if changes else None
    return PlanState(record.stage, record.since, record.pinned,
                     last.by if last else None, last.reason if last else None)


def decide(store: Store, athlete_uid: str, ladder: Ladder, today: date,
           todays: LogEntry | None = None) -> Decision:
    """The progression's decision for today, not applied; `todays`: the log the athlete is
    entering now (not stored yet), which counts as much as the stored ones."""
    plan = plan_state(store, athlete_uid, ladder)
    sessions = store.list_sessions(athlete_uid)
    history = store.athlete_history(athlete_uid, metrics=True)
    log = log_entries(sessions) + ([todays] if todays is not None else [])
    return evaluate(ladder, plan, history, log, today)


def apply_decision(store: Store, athlete_uid: str, ladder: Ladder, today: date,
                   at: datetime | None = None, todays: LogEntry | None = None) -> Decision:
    """Decide and record: a first plan starts at the first stage; a move up or a step back
    becomes a stage change by the rule, with its reason (today's log included)."""
    if training_plans.get_plan(store, athlete_uid) is None:
        training_plans.change_stage(store, athlete_uid, ladder.first().id, change="start",
                                    reason="first training session: the ladder's first stage",
                                    by=RULE_AUTHOR, at=at)
    decision = decide(store, athlete_uid, ladder, today, todays)
    if decision.action in (UP, DOWN):
        training_plans.change_stage(store, athlete_uid, decision.to_stage,
                                    change=decision.action, reason=decision.reason,
                                    by=RULE_AUTHOR, at=at)
    return decision


def today_view(store: Store, athlete_uid: str, ladder: Ladder, today: date) -> dict[str, Any]:
    """Today's session at the athlete's stage, with the decision that would be applied."""
    plan = plan_state(store, athlete_uid, ladder)
    sessions = store.list_sessions(athlete_uid)
    decision = decide(store, athlete_uid, ladder, today)
    stage = decision.to_stage
    session = build_today(ladder, stage, training_days(sessions), todays_log(sessions, today),
                          today)
    open_today = [s.uid for s in sessions
                  if s.kind == TRAINING and local_day(s.started_at) == today]
    return json_safe({**session, "current_stage": plan.stage, "decision": decision.to_json(),
                      "session_uid": open_today[-1] if open_today else None})


def adherence_view(store: Store, athlete_uid: str, ladder: Ladder,
                   today: date) -> dict[str, Any]:
    return json_safe(adherence(ladder, training_days(store.list_sessions(athlete_uid)), today))


def plan_view(store: Store, athlete_uid: str, ladder: Ladder, today: date) -> dict[str, Any]:
    """The plan page: the stage and why, the ladder, every stage change, adherence, target
    suggestions and the review of the athlete's targets."""
    plan = plan_state(store, athlete_uid, ladder)
    history = store.athlete_history(athlete_uid, metrics=True)
    sessions = store.list_sessions(athlete_uid)
    decision = evaluate(ladder, plan, history, log_entries(sessions), today)
    reviews = []
    bases = baselines(history)
    for target in store.list_targets(athlete_uid):
        if target.due_date is None:
            continue
        condition = applies_to(target.condition, history)
        base = bases.get(condition or "")
        reviews.append({"uid": target.uid, **review_target(
            {"measure": target.measure, "value": target.value, "direction": target.direction,
             "condition": condition, "due_date": target.due_date,
             "baseline": base.value(target.measure) if base is not None else None},
            history, today)})
    stage = ladder.stage(plan.stage)
    return json_safe({
        "stage": stage.id, "stage_name": stage.name, "since": plan.since,
        "pinned": plan.pinned, "has_plan": training_plans.get_plan(store, athlete_uid) is not None,
        "decision": decision.to_json(),
        "ladder": ladder.to_json(),
        "changes": [c.to_json() for c in training_plans.stage_changes(store, athlete_uid)],
        "adherence": adherence(ladder, training_days(sessions), today),
        "targets": {"suggested": suggest_targets(ladder, stage.id, history, today),
                    "reviews": reviews},
    })
