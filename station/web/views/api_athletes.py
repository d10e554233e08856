"""JSON API of athletes and what belongs to them: history, sessions (the day's log), targets,
the coach's team overview, and the CSV exports of an athlete's trials and of the team's
latest results. Health data: every endpoint names its capability.

A session's log (stiffness, soreness, sleep, notes) is health data of its own: writing it
needs `write_health_log`, whoever may open the session, and its author (`operator`) is
always the authenticated principal (`author_of`), never a field of the request."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask, request
from werkzeug.wrappers import Response

from station.access import Principal
from station.analysis import history
from station.analysis.metrics.catalog import VALUE_RANGE, is_measure, value_range
from station.analysis.scoring import better_direction
from station.store.export import export_athlete_csv
from station.store.records import Athlete, SessionRecord, Target
from station.store.schema import BODY_MASS_KG, HEIGHT_CM, SEXES
from station.web import auth
from station.web.api import ApiError, Field, json_body, ok, query_int, store_404
from station.web.context import context
from station.web.routes import ApiRoutes, request_body

ATHLETE_FIELDS = {
    "name": Field("str", required=True, max_length=100, description="full name"),
    "team": Field("str", nullable=True, max_length=100),
    "dominant_leg": Field("str", nullable=True, choices=("left", "right", "both")),
    "birth_year": Field("int", nullable=True, minimum=1900, maximum=2100),
    "notes": Field("str", nullable=True, max_length=4000),
    "active": Field("bool"),
    # the profile norms need (all optional): age comes from birth_year
    "sex": Field("str", nullable=True, choices=SEXES,
                 description="F or M, as the norms' reference groups record it"),
    "height_cm": Field("float", nullable=True, minimum=HEIGHT_CM[0], maximum=HEIGHT_CM[1]),
    "body_mass_kg": Field("float", nullable=True, minimum=BODY_MASS_KG[0],
                          maximum=BODY_MASS_KG[1]),
    "sport": Field("str", nullable=True, max_length=100),
    "level": Field("str", nullable=True, max_length=100,
                   description="e.g. recreational, club, national, elite"),
}
SESSION_LOG_FIELDS = {
    "stiffness": Field("int", nullable=True, minimum=0, maximum=10, description="0-10"),
    "soreness": Field("int", nullable=True, minimum=0, maximum=10, description="0-10"),
    "sleep_hours": Field("float", nullable=True, minimum=0, maximum=24),
    "sleep_quality": Field("int", nullable=True, minimum=0, maximum=10, description="0-10"),
    "relief": Field("int", nullable=True, minimum=0, maximum=10,
                    description="0-10: how much relief the athlete feels"),
    "notes": Field("str", nullable=True, max_length=4000),
}
AUTHOR_FIELD = "operator"  # recorded by the station, refused in a body
SESSION_FIELDS = {**SESSION_LOG_FIELDS, "protocol": Field("str", nullable=True, max_length=100)}
TARGET_FIELDS = {
    "measure": Field(
        "str",
        required=True,
        max_length=100,
        description="a metrics key (docs/metrics.md), e.g. mean_velocity_mm_s.total, or score",
    ),
    "value": Field("float", required=True),
    "direction": Field("str", choices=("<=", ">=")),
    "condition": Field(
        "str",
        nullable=True,
        max_length=200,
        description="the condition key the target applies to; null: any",
    ),
    "due_date": Field("date", nullable=True),
    "notes": Field("str", nullable=True, max_length=4000),
    "achieved_at": Field("datetime", nullable=True),
}
HISTORY_MAX_POINTS = 10_000
TARGET_MEASURES_EXTRA = ("score", "time_to_failure_s")


def _store() -> Any:
    return context().store


def athlete_json(athlete: Athlete, full: bool = True) -> dict[str, Any]:
    """All fields for roles that browse history; uid/name/team for a kiosk's picker."""
    if not full:
        return {"uid": athlete.uid, "name": athlete.name, "team": athlete.team}
    return {
        "uid": athlete.uid,
        "name": athlete.name,
        "team": athlete.team,
        "dominant_leg": athlete.dominant_leg,
        "birth_year": athlete.birth_year,
        "sex": athlete.sex,
        "height_cm": athlete.height_cm,
        "body_mass_kg": athlete.body_mass_kg,
        "sport": athlete.sport,
        "level": athlete.level,
        "notes": athlete.notes,
        "active": athlete.active,
        "archived": athlete.archived_at is not None,  # POST /api/athletes/<uid>/archive
        "demo": athlete.demo,
        "created_at": athlete.created_at,
        "updated_at": athlete.updated_at,
    }


def get_athlete(uid: str) -> Athlete:
    with store_404(f"no athlete with id {uid}"):
        return _store().get_athlete(uid)


def session_json(record: SessionRecord) -> dict[str, Any]:
    return {
        "uid": record.uid,
        "athlete_uid": record.athlete_uid,
        "started_at": record.started_at,
        "operator": record.operator,
        "protocol": record.protocol,
        "stiffness": record.stiffness,
        "soreness": record.soreness,
        "sleep_hours": record.sleep_hours,
        "sleep_quality": record.sleep_quality,
        "relief": record.relief,
        "notes": record.notes,
        "kind": record.kind,
        "intensity": record.intensity,
    }


def author_of(principal: Principal) -> str:
    """The author stored with a session's log: the user logged in; a kiosk as the kiosk
    (of the user who turned it on); a token as a token (its name is no user's name)."""
    if principal.via == "kiosk":
        return f"kiosk of {principal.username}"
    if principal.via == "token":
        return f"API token {principal.username}"
    return str(principal.username)


def _principal() -> Principal:
    principal = auth.current_principal()
    if principal is None:  # the route's guard answers 401 before the view runs
        raise ApiError(401, "authentication required: log in or send a Bearer token")
    return principal


def log_request_body() -> dict[str, Any]:
    """The validated body of a session-log write, refusing an author given as a field."""
    if AUTHOR_FIELD in json_body():
        raise ApiError(
            400,
            f"{AUTHOR_FIELD} is not accepted: the station records the authenticated user "
            "(or kiosk, or API token) as the log's author",
            AUTHOR_FIELD,
        )
    return request_body()


def _history_row(row: dict[str, Any], measure: str | None) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "metrics"}
    out["has_raw"] = bool(row.get("has_raw"))
    out["condition"] = history.condition_key(row)
    if measure is not None:
        out["value"] = history.measure_value(row, measure)
    return out


def decimate_rows(rows: list[dict[str, Any]], max_points: int) -> list[dict[str, Any]]:
    """At most `max_points` rows, evenly spaced in order, first and last always kept."""
    if len(rows) <= max_points:
        return rows
    keep = np.unique(np.rint(np.linspace(0, len(rows) - 1, max_points)).astype(int))
    return [rows[i] for i in keep]


def csv_text(fields: Iterable[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV table of dict rows (None as an empty cell)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_download(text: str, filename: str) -> Response:
    """A CSV file the browser saves as `filename` (kept to safe characters)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-") or "export.csv"
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


def _measure_arg(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if (value not in TARGET_MEASURES_EXTRA and value not in history.KEY_MEASURES
            and not is_measure(value)):
        raise ApiError(400, f"{name} {value!r} is not a known measure (see docs/metrics.md)", name)
    return value


def _check_target_measure(fields: dict[str, Any]) -> None:
    """The measure is known and the value within what that measure can be (a change that
    gives a value alone: within what any measure can be)."""
    if "measure" in fields:
        _measure_arg("measure", fields["measure"])
    if fields.get("value") is None:
        return
    measure = fields.get("measure")
    if measure is None:
        low = min(lo for lo, _ in VALUE_RANGE.values())
        high = max(hi for _, hi in VALUE_RANGE.values())
        what = "any measure"
    else:
        low, high = value_range(measure)
        what = measure
    if not low <= fields["value"] <= high:
        message = f"value for {what} must be from {low:g} to {high:g}, got {fields['value']:g}"
        raise ApiError(400, message, "value")


def _default_direction(measure: str) -> str:
    """Reached when the measure is <= value for sway-like measures, >= for score/hold time."""
    return ">=" if better_direction(measure) else "<="


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="athletes")

    @api.route(
        "GET",
        "/api/athletes",
        summary="Athletes (a kiosk gets uid, name and team of active ones)",
        needs=("view_history", "run_tests"),
        query={"team": "only this team", "q": "name contains", "active": "1: active only"},
    )
    def list_athletes() -> Response:
        principal = auth.current_principal()
        full = principal is not None and principal.can("view_history")
        active = request.args.get("active")
        athletes = _store().list_athletes(
            active_only=active in ("1", "true") or not full,
            team=request.args.get("team") or None,
            name_contains=request.args.get("q") or None,
        )
        return ok({"athletes": [athlete_json(a, full) for a in athletes]})

    @api.route(
        "POST", "/api/athletes", summary="Add an athlete", needs=("edit_athletes",),
        body=ATHLETE_FIELDS,
    )
    def add_athlete() -> Response:
        fields = request_body()
        athlete = Athlete(**fields)
        _store().add_athlete(athlete)
        return ok(athlete_json(get_athlete(athlete.uid)), 201)

    @api.route("GET", "/api/athletes/<uid>", summary="One athlete", needs=("view_history",))
    def show_athlete(uid: str) -> Response:
        return ok(athlete_json(get_athlete(uid)))

    @api.route(
        "PATCH",
        "/api/athletes/<uid>",
        summary="Change an athlete (fields given only)",
        needs=("edit_athletes",),
        body=ATHLETE_FIELDS,
    )
    def change_athlete(uid: str) -> Response:
        get_athlete(uid)
        fields = request_body()
        _store().update_athlete(uid, **fields)
        return ok(athlete_json(get_athlete(uid)))

    @api.route(
        "DELETE",
        "/api/athletes/<uid>",
        summary="Delete an athlete and everything recorded about them; says what was deleted",
        needs=("edit_athletes",),
    )
    def delete_athlete(uid: str) -> Response:
        athlete = get_athlete(uid)
        counts = _store().delete_athlete(uid)
        return ok({"deleted": {"uid": athlete.uid, "name": athlete.name, **counts}})

    @api.route(
        "GET",
        "/api/athletes/<uid>/history",
        summary="Trial summaries, oldest first, decimated to max_points evenly spaced rows",
        needs=("view_history",),
        query={
            "max_points": "2-10000 (default 500)",
            "measure": "add this measure's value to each row (metrics key or score)",
            "condition": "only this condition key",
        },
    )
    def athlete_history(uid: str) -> Response:
        get_athlete(uid)
        max_points = query_int("max_points", 500, 2, HISTORY_MAX_POINTS)
        measure = _measure_arg("measure", request.args.get("measure"))
        condition = request.args.get("condition")
        rows = _store().athlete_history(uid, metrics=measure is not None)
        if condition:
            rows = [r for r in rows if history.condition_key(r) == condition]
        picked = decimate_rows(rows, max_points)
        return ok(
            {
                "athlete_uid": uid,
                "n_trials": len(rows),
                "decimated": len(picked) < len(rows),
                "measure": measure,
                "trials": [_history_row(r, measure) for r in picked],
            }
        )

    @api.route(
        "GET",
        "/api/athletes/<uid>/sessions",
        summary="The athlete's sessions and daily logs",
        needs=("view_history",),
        tag="sessions",
    )
    def list_sessions(uid: str) -> Response:
        get_athlete(uid)
        return ok({"sessions": [session_json(s) for s in _store().list_sessions(uid)]})

    @api.route(
        "POST",
        "/api/athletes/<uid>/sessions",
        summary="Open a session; its day's log (stiffness, soreness, sleep, notes) needs "
        "write_health_log; the author is who is logged in",
        needs=("run_tests", "write_health_log"),
        body=SESSION_FIELDS,
        tag="sessions",
    )
    def add_session(uid: str) -> Response:
        get_athlete(uid)
        fields = log_request_body()
        principal = _principal()
        logged = [name for name in SESSION_LOG_FIELDS if name in fields]
        if logged and not principal.can("write_health_log"):
            return auth.api_error(
                403,
                f"your role ({principal.role}) may open a session but not write its health "
                f"log (needs write_health_log): leave out {', '.join(logged)}",
                capability="write_health_log",
                field=logged[0],
            )
        record = SessionRecord(athlete_uid=uid, operator=author_of(principal), **fields)
        _store().create_session(record)
        return ok(session_json(record), 201)

    @api.route(
        "PATCH",
        "/api/sessions/<uid>",
        summary="Change a session's log; its author becomes who is logged in",
        needs=("write_health_log",),
        body=SESSION_LOG_FIELDS,
        tag="sessions",
    )
    def change_session_log(uid: str) -> Response:
        fields = log_request_body()
        with store_404():
            _store().update_session_log(uid, **fields, operator=author_of(_principal()))
        return ok({"uid": uid, "updated": fields})

    @api.route(
        "GET",
        "/api/athletes/<uid>/targets",
        summary="Targets with baseline, current and progress",
        needs=("view_history",),
        tag="targets",
    )
    def list_targets(uid: str) -> Response:
        get_athlete(uid)
        rows = _store().athlete_history(uid, metrics=True)
        return ok({"targets": history.targets_view(_store(), uid, rows)})

    @api.route(
        "POST",
        "/api/athletes/<uid>/targets",
        summary="Set a target (direction defaults from the measure; 400 when it is on the "
        "wrong side of the condition's baseline)",
        needs=("set_targets",),
        body=TARGET_FIELDS,
        tag="targets",
    )
    def add_target(uid: str) -> Response:
        get_athlete(uid)
        fields = request_body()
        _check_target_measure(fields)
        rows = _store().athlete_history(uid, metrics=True)
        try:
            history.check_target(rows, fields["measure"], fields["value"],
                                 fields.get("direction"), fields.get("condition"))
        except ValueError as exc:
            raise ApiError(400, str(exc), "value") from None
        fields.setdefault("direction", _default_direction(fields["measure"]))
        principal = auth.current_principal()
        target = Target(
            athlete_uid=uid,
            set_by=principal.username if principal else None,
            created_at=datetime.now(UTC),
            **fields,
        )
        _store().add_target(target)
        return ok(target, 201)

    @api.route(
        "PATCH",
        "/api/targets/<uid>",
        summary="Change a target",
        needs=("set_targets",),
        body=TARGET_FIELDS,
        tag="targets",
    )
    def change_target(uid: str) -> Response:
        fields = request_body()
        _check_target_measure(fields)
        with store_404():
            _store().update_target(uid, **fields)
        return ok({"uid": uid, "updated": fields})

    @api.route(
        "DELETE", "/api/targets/<uid>", summary="Delete a target", needs=("set_targets",),
        tag="targets",
    )
    def delete_target(uid: str) -> Response:
        with store_404():
            _store().delete_target(uid)
        return ok({"deleted": {"target_uid": uid}})

    @api.route(
        "GET",
        "/api/team",
        summary="Coach dashboard: last test, latest score and trend in one condition, L/R "
        "velocity asymmetry per athlete",
        needs=("view_history",),
        query={"team": "only this team",
               "condition": "the condition key the cards show (default: the battery's key "
               "condition)",
               "lsi_threshold_pct": "flag below (default 85)",
               "missed_days": "days without a test before an athlete counts as missed "
               "(default 14)",
               "archived": "1: archived athletes too (default: left out)"},
    )
    def team() -> Response:
        default = int(history.ASYMMETRY_LSI_PCT)
        threshold = float(query_int("lsi_threshold_pct", default, 1, 100))
        missed_days = query_int("missed_days", history.MISSED_DAYS_DEFAULT, 1, 365)
        only_team = request.args.get("team") or None
        try:
            overview = history.team_overview(
                _store(), team=only_team, condition=request.args.get("condition") or None,
                lsi_threshold_pct=threshold, missed_days=missed_days,
                include_archived=request.args.get("archived") in ("1", "true"))
        except ValueError as exc:
            raise ApiError(400, str(exc), "condition") from None
        return ok(overview)  # the /coach page embeds this same dict

    @api.route(
        "GET",
        "/api/team.csv",
        summary="The team's latest result per athlete and condition (CSV)",
        needs=("export",),
        query={"team": "only this team"},
        produces="text/csv",
    )
    def team_csv() -> Response:
        only_team = request.args.get("team") or None
        rows = history.team_latest(_store(), team=only_team)
        name = f"team-{only_team or 'all'}-latest.csv"
        return csv_download(csv_text(history.TEAM_CSV_FIELDS, rows), name)

    @api.route(
        "GET",
        "/api/athletes/<uid>/trials.csv",
        summary="Every trial of an athlete with its metrics (CSV, as `balance-station export`)",
        needs=("export",),
        produces="text/csv",
    )
    def athlete_csv(uid: str) -> Response:
        athlete = get_athlete(uid)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "trials.csv"
            export_athlete_csv(_store(), uid, path)
            text = path.read_text()
        return csv_download(text, f"{athlete.name}-trials.csv")
