"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json.

Endpoints are listed here by hand (summary, capability, parameters); request bodies
come from the same `Field` schemas the views validate with, so a body's
documentation is what is enforced. A test checks every /api/ route of the app is
described.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from station import __version__
from station.web.auth import CAPABILITIES
from station.web.views import api_admin, api_athletes, api_calibration, api_trials
from station.web.views.api_common import Field, Schema


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # OpenAPI form: /api/athletes/{uid}
    summary: str
    needs: tuple[str, ...] = ()  # any of these capabilities; ("login",): anyone logged in
    body: Schema | None = None
    query: dict[str, str] = field(default_factory=dict)
    produces: str = "application/json"
    tag: str = "station"


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "get",
        "/api/health",
        "Station health (no login, no personal data): version, board, "
        "calibration, achieved sample rate, discarded frames, uptime, disk free",
        tag="station",
    ),
    Endpoint("get", "/api/openapi.json", "This document", tag="station"),
    Endpoint(
        "get",
        "/api/address",
        "The station's URLs on the network (no login; station/web/views/address.py)",
        tag="station",
    ),
    Endpoint(
        "get",
        "/api/me",
        "Who is calling: username, role, capabilities, and the session's CSRF token",
        ("login",),
        tag="station",
    ),
    Endpoint(
        "get",
        "/api/live",
        "Server-Sent Events: live frames, hold state, trial results",
        ("run_tests", "view_history"),
        produces="text/event-stream",
        tag="station",
    ),
    Endpoint(
        "get",
        "/api/calibration",
        "Calibration status and warnings",
        ("run_tests", "view_history", "calibrate"),
        tag="station",
    ),
    Endpoint(
        "get",
        "/api/protocols",
        "Test protocols and their trials",
        ("run_tests", "view_history"),
        tag="trials",
    ),
    Endpoint(
        "get",
        "/api/athletes",
        "Athletes (a kiosk gets uid, name and team of active ones)",
        ("view_history", "run_tests"),
        query={"team": "only this team", "q": "name contains", "active": "1: active only"},
        tag="athletes",
    ),
    Endpoint(
        "post",
        "/api/athletes",
        "Add an athlete",
        ("edit_athletes",),
        api_athletes.ATHLETE_FIELDS,
        tag="athletes",
    ),
    Endpoint("get", "/api/athletes/{uid}", "One athlete", ("view_history",), tag="athletes"),
    Endpoint(
        "patch",
        "/api/athletes/{uid}",
        "Change an athlete (fields given only)",
        ("edit_athletes",),
        api_athletes.ATHLETE_FIELDS,
        tag="athletes",
    ),
    Endpoint(
        "delete",
        "/api/athletes/{uid}",
        "Delete an athlete and everything recorded about them; says what was deleted",
        ("edit_athletes",),
        tag="athletes",
    ),
    Endpoint(
        "get",
        "/api/athletes/{uid}/history",
        "Trial summaries, oldest first, decimated to max_points evenly spaced rows",
        ("view_history",),
        query={
            "max_points": "2-10000 (default 500)",
            "measure": "add this measure's value to each row (metrics key or score)",
            "condition": "only this condition key",
        },
        tag="athletes",
    ),
    Endpoint(
        "get",
        "/api/athletes/{uid}/sessions",
        "The athlete's sessions and daily logs",
        ("view_history",),
        tag="sessions",
    ),
    Endpoint(
        "post",
        "/api/athletes/{uid}/sessions",
        "Open a session (with the day's log)",
        ("edit_athletes", "run_tests"),
        api_athletes.SESSION_FIELDS,
        tag="sessions",
    ),
    Endpoint(
        "patch",
        "/api/sessions/{uid}",
        "Change a session's log",
        ("edit_athletes",),
        api_athletes.SESSION_LOG_FIELDS,
        tag="sessions",
    ),
    Endpoint(
        "get",
        "/api/athletes/{uid}/targets",
        "Targets with baseline, current and progress",
        ("view_history",),
        tag="targets",
    ),
    Endpoint(
        "post",
        "/api/athletes/{uid}/targets",
        "Set a target (direction defaults from the measure)",
        ("set_targets",),
        api_athletes.TARGET_FIELDS,
        tag="targets",
    ),
    Endpoint(
        "patch",
        "/api/targets/{uid}",
        "Change a target",
        ("set_targets",),
        api_athletes.TARGET_FIELDS,
        tag="targets",
    ),
    Endpoint("delete", "/api/targets/{uid}", "Delete a target", ("set_targets",), tag="targets"),
    Endpoint(
        "get",
        "/api/team",
        "Coach dashboard: last test, latest score, trend, L/R velocity asymmetry per athlete",
        ("view_history",),
        query={"team": "only this team", "lsi_threshold_pct": "flag below (default 85)"},
        tag="athletes",
    ),
    Endpoint(
        "get",
        "/api/trials/{uid}",
        "A trial: metrics, score, outcome, comparison with baseline and previous trial",
        ("view_history", "view_own_trial_result"),
        tag="trials",
    ),
    Endpoint(
        "get",
        "/api/trials/{uid}/raw.csv",
        "Raw counts per cell (CSV)",
        ("export",),
        produces="text/csv",
        tag="trials",
    ),
    Endpoint(
        "get",
        "/api/trials/{uid}/cop.csv",
        "Total force and COP (CSV)",
        ("export",),
        produces="text/csv",
        tag="trials",
    ),
    Endpoint(
        "get",
        "/api/trials/{uid}/forces.csv",
        "Per-cell and total force (CSV)",
        ("export",),
        produces="text/csv",
        tag="trials",
    ),
    Endpoint(
        "post",
        "/api/trials/start",
        "Start a trial on the board (409 when one runs or the station is uncalibrated)",
        ("run_tests",),
        api_trials.START_FIELDS,
        tag="trials",
    ),
    Endpoint(
        "post",
        "/api/trials/current/start",
        "Operator start of the waiting trial",
        ("run_tests",),
        {},
        tag="trials",
    ),
    Endpoint(
        "post",
        "/api/trials/current/abort",
        "Abort the running trial",
        ("run_tests",),
        {},
        tag="trials",
    ),
    Endpoint(
        "get",
        "/api/trials/current",
        "The runner's state and the last result",
        ("run_tests", "view_history"),
        tag="trials",
    ),
    Endpoint("get", "/api/users", "Users", ("manage_users",), tag="admin"),
    Endpoint(
        "post", "/api/users", "Add a user", ("manage_users",), api_admin.USER_FIELDS, tag="admin"
    ),
    Endpoint(
        "patch",
        "/api/users/{username}",
        "Change a user's role, password or active flag",
        ("manage_users",),
        api_admin.USER_CHANGE_FIELDS,
        tag="admin",
    ),
    Endpoint(
        "delete",
        "/api/users/{username}",
        "Delete a user (not the last admin)",
        ("manage_users",),
        tag="admin",
    ),
    Endpoint(
        "get", "/api/tokens", "API tokens (never their secret)", ("manage_users",), tag="admin"
    ),
    Endpoint(
        "post",
        "/api/tokens",
        "Create an API token; the secret is in this answer only",
        ("manage_users",),
        api_admin.TOKEN_FIELDS,
        tag="admin",
    ),
    Endpoint("delete", "/api/tokens/{uid}", "Revoke an API token", ("manage_users",), tag="admin"),
    # the guided calibration (station/web/views/api_calibration.py); refusals are 409 {error}
    Endpoint(
        "get",
        "/api/calibration/session",
        "The calibration in progress (tare, placements, fit, save, verification), the default "
        "plan of masses and marks, and where the file is saved",
        ("calibrate",),
        tag="calibration",
    ),
    Endpoint(
        "post",
        "/api/calibration/tare",
        "Tare: average the next ~2 s of frames of the empty board (409: moving, not empty, "
        "no frames)",
        ("calibrate",),
        api_calibration.EMPTY_FIELDS,
        tag="calibration",
    ),
    Endpoint(
        "post",
        "/api/calibration/placements",
        "Measure a known mass at a marked spot (~2 s of frames; 409: moving, not tared)",
        ("calibrate",),
        api_calibration.PLACEMENT_FIELDS,
        tag="calibration",
    ),
    Endpoint(
        "delete",
        "/api/calibration/placements/{index}",
        "Remove a placement (0-based index); drops the fit",
        ("calibrate",),
        tag="calibration",
    ),
    Endpoint(
        "post",
        "/api/calibration/fit",
        "Fit the gains from the placements; residuals per position (409: the fit is refused, "
        "with why)",
        ("calibrate",),
        api_calibration.FIT_FIELDS,
        tag="calibration",
    ),
    Endpoint(
        "post",
        "/api/calibration/save",
        "Write the fitted calibration to the station's file (atomic) and reload the station's "
        "estimator",
        ("calibrate",),
        api_calibration.SAVE_FIELDS,
        tag="calibration",
    ),
    Endpoint(
        "post",
        "/api/calibration/verify",
        "Measure a known mass with the saved calibration (or, with no calibration in progress, "
        "the station's file) and store the result in the file",
        ("calibrate",),
        api_calibration.VERIFY_FIELDS,
        tag="calibration",
    ),
    Endpoint(
        "post",
        "/api/calibration/cancel",
        "Drop the calibration in progress (the saved file stays)",
        ("calibrate",),
        api_calibration.EMPTY_FIELDS,
        tag="calibration",
    ),
    # pages' helpers (station/web/views/page_data.py, page_sim.py)
    Endpoint(
        "get",
        "/api/pages/result/{trial_uid}",
        "The result card of a trial (pages' data)",
        ("view_history", "view_own_trial_result"),
        tag="pages",
    ),
    Endpoint(
        "get",
        "/api/pages/trace/{trial_uid}",
        "A trial's COP trace for the pages' charts",
        ("view_history",),
        tag="pages",
    ),
    Endpoint(
        "post",
        "/api/sim/perform",
        "Tell the simulated athlete what to do (simulated boards only): "
        '{"action": "step_on", "params": {...}}',
        ("run_tests",),
        tag="pages",
    ),
)

_JSON_TYPES = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def field_schema(spec: Field) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_JSON_TYPES[spec.kind])
    if spec.nullable:
        schema["type"] = [schema["type"], "null"]
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    if spec.choices is not None:
        schema["enum"] = list(spec.choices) + ([None] if spec.nullable else [])
    if spec.kind == "str":
        schema["maxLength"] = spec.max_length
    if spec.description:
        schema["description"] = spec.description
    return schema


def body_schema(schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: field_schema(spec) for name, spec in schema.items()},
    }
    required = [name for name, spec in schema.items() if spec.required]
    if required:
        out["required"] = required
    return out


ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "what is wrong, in words"},
        "field": {"type": "string", "description": "the body field or parameter at fault"},
    },
    "required": ["error"],
}


def _operation(ep: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": ep.summary, "tags": [ep.tag]}
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_params(ep.path)
    ]
    params += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": {"type": "string"},
        }
        for name, text in ep.query.items()
    ]
    if params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {
            "required": ep.method == "post" and any(s.required for s in ep.body.values()),
            "content": {"application/json": {"schema": body_schema(ep.body)}},
        }
    error = {"description": "", "content": {"application/json": {"schema": ERROR}}}
    ok_code = (
        "201"
        if ep.method == "post"
        and ep.path.endswith(("athletes", "sessions", "targets", "trials/start", "users", "tokens"))
        else "200"
    )
    responses: dict[str, Any] = {ok_code: {"description": "done", "content": {ep.produces: {}}}}
    if ep.body is not None or ep.query:
        responses["400"] = {**error, "description": "invalid input (the field is named)"}
    if ep.needs:
        op["security"] = [{"session": []}, {"bearer": []}]
        op["x-capabilities"] = list(ep.needs)
        op["description"] = "Needs one of: " + ", ".join(ep.needs)
        responses["401"] = {**error, "description": "not logged in, no valid token"}
        responses["403"] = {**error, "description": "the role lacks the capability"}
    else:
        op["security"] = []
    if "{" in ep.path:
        responses["404"] = {**error, "description": "no such resource"}
    if ep.path.startswith("/api/trials/") and ep.method == "post":
        responses["409"] = {**error, "description": "the runner refuses (says why)"}
    if ep.path.startswith("/api/calibration/") and ep.method in ("post", "delete"):
        responses["409"] = {**error, "description": "the calibration step is refused (says why)"}
    op["responses"] = responses
    return op


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for ep in ENDPOINTS:
        paths.setdefault(ep.path, {})[ep.method] = _operation(ep)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Balance Station API",
            "version": __version__,
            "description": (
                "JSON API of a balance-board station. Authenticate with the session cookie "
                "(send the X-CSRF-Token header on POST/PATCH/DELETE) or an API token "
                "(`balance-station token create --role coach`) as `Authorization: Bearer`. "
                "Errors are JSON {error, field?}. Capabilities per role: docs/access.md."
            ),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {"Error": ERROR},
        },
        "x-capabilities": {name: sorted(roles) for name, roles in CAPABILITIES.items()},
        "paths": paths,
    }
