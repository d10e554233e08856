"""JSON API of training: an athlete's plan on the ladder, today's session, the athlete's own
log before it, adherence (the athlete's and the team's).

Roles (docs/access.md): a physio or admin sees the plan and sets or overrides the stage
(`view_training`, `set_training_stage`; a reason is required and recorded with who and
when); the kiosk sees the chosen athlete's session for today and records their log as the
athlete's own entry (`train`); a coach reads adherence only (`view_adherence`). The rules
are station.training; this module reads the request, calls them and answers.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from flask import Flask
from werkzeug.wrappers import Response

from station.access import Principal
from station.store import training_plans
from station.store.records import SessionRecord, utcnow
from station.training import Ladder, load_ladder
from station.training.plan_view import (
    adherence_view,
    apply_decision,
    plan_view,
    today_view,
    todays_log,
    training_days,
)
from station.training.progression import LogEntry
from station.training.today import build_today
from station.trials.tasks import DETECTORS
from station.web import auth
from station.web.api import ApiError, Field, ok, store_404
from station.web.context import context
from station.web.routes import ApiRoutes, request_body
from station.web.views.api_athletes import SESSION_LOG_FIELDS, get_athlete

TRAINING_LOG_FIELDS = SESSION_LOG_FIELDS  # stiffness, soreness, relief, sleep, notes
STAGE_FIELDS = {
    "stage": Field("str", required=True, max_length=100, description="a stage id of the ladder"),
    "reason": Field("str", required=True, max_length=2000,
                    description="why (recorded with who and when, shown on the plan)"),
    "pin": Field("bool", description="keep the athlete here: the automatic progression pauses "
                 "(default true)"),
}


@lru_cache(maxsize=1)
def ladder() -> Ladder:
    """The shipped ladder, checked against this station's task table."""
    return load_ladder(available_tasks=set(DETECTORS))


def _today() -> date:
    return date.today()


def _store() -> Any:
    return context().store


def _principal() -> Principal:
    principal = auth.current_principal()
    if principal is None:  # the route's guard answers 401 before the view runs
        raise ApiError(401, "authentication required: log in or send a Bearer token")
    return principal


def log_author(principal: Principal) -> str:
    """Who wrote a training log: at a kiosk (or with a kiosk token) the athlete themselves,
    on that kiosk; a physio or admin logged in is the author."""
    if principal.via == "kiosk" or principal.role == "kiosk":
        return f"athlete's own entry ({principal.label})"
    return principal.label


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="training")

    @api.route(
        "GET",
        "/api/athletes/<uid>/training/plan",
        summary="The athlete's plan: stage, the rule's decision and why, the ladder, every "
        "stage change, adherence, target suggestions and reviews",
        needs=("view_training",),
    )
    def show_plan(uid: str) -> Response:
        get_athlete(uid)
        return ok(plan_view(_store(), uid, ladder(), _today()))

    @api.route(
        "POST",
        "/api/athletes/<uid>/training/stage",
        summary="Set or override the athlete's stage (reason required; recorded with who and "
        "when); a stage that cannot run on this station is refused",
        needs=("set_training_stage",),
        body=STAGE_FIELDS,
    )
    def set_stage(uid: str) -> Response:
        get_athlete(uid)
        fields = request_body()
        reason = fields["reason"].strip()  # the body check refuses an empty one
        try:
            stage = ladder().stage(fields["stage"])
        except KeyError as exc:
            raise ApiError(400, str(exc.args[0]), "stage") from None
        if not stage.available:
            raise ApiError(400, f"stage {stage.id} cannot run on this station: "
                           f"{stage.skip_reason}", "stage")
        with store_404():
            change = training_plans.change_stage(
                _store(), uid, stage.id, change="set", reason=reason,
                by=_principal().label, pinned=fields.get("pin", True))
        return ok(change.to_json(), 201)

    @api.route(
        "GET",
        "/api/athletes/<uid>/training/today",
        summary="Today's session at the athlete's stage: rest day, or a hard or light list of "
        "steps (protocol trial, duration, rest after)",
        needs=("train",),
    )
    def show_today(uid: str) -> Response:
        get_athlete(uid)
        return ok(today_view(_store(), uid, ladder(), _today()))

    @api.route(
        "POST",
        "/api/athletes/<uid>/training/log",
        summary="The athlete's log before today's training (stiffness, soreness, relief, sleep, "
        "notes): opens today's training session; the progression's decision is applied first; "
        "at a kiosk it is recorded as the athlete's own entry",
        needs=("train",),
        body=TRAINING_LOG_FIELDS,
    )
    def add_log(uid: str) -> Response:
        get_athlete(uid)
        fields = request_body()
        store, today = _store(), _today()
        entry = LogEntry(at=utcnow(), soreness=fields.get("soreness"),
                         stiffness=fields.get("stiffness"), relief=fields.get("relief"),
                         sleep_hours=fields.get("sleep_hours"), notes=fields.get("notes"))
        decision = apply_decision(store, uid, ladder(), today, todays=entry)
        sessions = store.list_sessions(uid)
        logged = entry if any(k in fields for k in TRAINING_LOG_FIELDS) else todays_log(
            sessions, today)
        session = build_today(ladder(), decision.to_stage, training_days(sessions), logged,
                              today)
        record = SessionRecord(athlete_uid=uid, operator=log_author(_principal()),
                               protocol="training", kind="training",
                               intensity=session["intensity"], **fields)
        store.create_session(record)
        view = today_view(store, uid, ladder(), today)
        return ok({"session_uid": record.uid, "operator": record.operator,
                   "decision": decision.to_json(), "today": view}, 201)

    @api.route(
        "GET",
        "/api/athletes/<uid>/training/adherence",
        summary="Training sessions per week against the plan, rest days kept, last trained",
        needs=("view_adherence",),
    )
    def show_adherence(uid: str) -> Response:
        get_athlete(uid)
        return ok(adherence_view(_store(), uid, ladder(), _today()))

    @api.route(
        "GET",
        "/api/training/adherence",
        summary="The team's adherence: per active athlete, sessions this week and last trained",
        needs=("view_adherence",),
    )
    def team_adherence() -> Response:
        store, today = _store(), _today()
        rows = []
        for athlete in store.list_athletes(active_only=True):
            if athlete.archived_at is not None:
                continue
            a = adherence_view(store, athlete.uid, ladder(), today)
            rows.append({"uid": athlete.uid, "name": athlete.name, "team": athlete.team,
                         "this_week": a["this_week"], "planned_per_week": a["planned_per_week"],
                         "last_trained": a["last_trained"],
                         "days_since_trained": a["days_since_trained"]})
        return ok({"athletes": rows})
