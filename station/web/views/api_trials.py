"""JSON API of trials: results with their comparison, CSV downloads (samples and metrics),
protocols, calibration status, and running a trial on the board (start, operator start,
abort, current state).

A trial belongs to the screen that started it (`trial_owner`: the login or kiosk session,
named for every screen); starting or stopping someone else's trial needs `takeover: true`,
else 409 naming the owner (the pages ask their user first), and `GET /api/trials/current`
says whether the current trial is the caller's (`yours`), so a reloaded screen resumes it.

A kiosk sees the result of a trial it started and nothing else: the request object it
handed to the runner is remembered with the kiosk's id (station.web.result_access), and
once that trial is saved its uid joins the kiosk session's list
(station.web.auth.remember_kiosk_trial).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
from flask import Flask, session
from werkzeug.wrappers import Response

from station.analysis import history
from station.analysis.history.envelope import latest_envelope
from station.analysis.metrics.catalog import flatten
from station.calibration.conversion import force_and_cop
from station.calibration.file import CalibrationError, calibration_from_dict
from station.protocols import load_protocols, protocols_json
from station.protocols.games import GAME_TASKS
from station.store.records import TrialRecord
from station.trials import battery
from station.trials.runner import NotTheOwner, TrialError, TrialOwner, TrialRequest, TrialRunner
from station.web import auth, result_access
from station.web.api import ApiError, Field, ok, store_404
from station.web.context import context
from station.web.routes import ApiRoutes, request_body
from station.web.views.api_athletes import csv_download, csv_text, get_athlete
from station.web.views.hold_length import planned_duration_s

# tasks whose targets come from the athlete's limits of stability (their latest LOS trial)
ENVELOPE_TASKS = (*GAME_TASKS, "drill")

SCREENS = ("kiosk", "physio", "api")
START_FIELDS = {
    "protocol": Field("str", required=True, max_length=100, description="protocol id"),
    "trial": Field("str", required=True, max_length=100, description="trial id in the protocol"),
    "athlete_uid": Field(
        "str", nullable=True, max_length=64, description="null: a try that is not saved"
    ),
    "session_uid": Field(
        "str", nullable=True, max_length=64, description="the athlete's session; null: a new one"
    ),
    "duration_s": Field("float", nullable=True, minimum=1, maximum=600,
                        description="the hold's length; none given: the station's default "
                        "(station.default_duration_s, Settings page), else the protocol's"),
    "operator_start": Field("bool", description="wait for POST /api/trials/current/start"),
    "seq": Field("int", minimum=1, maximum=1000),
    "screen": Field(
        "str", choices=SCREENS, description="where it is started (shown to other screens); "
        "default: kiosk for a kiosk session, physio for a login, api for a token"
    ),
    "takeover": Field(
        "bool", description="stop another screen's running trial first (else 409 naming it)"
    ),
}
TAKEOVER_FIELDS = {
    "takeover": Field("bool", description="stop another screen's trial (else 409 naming it)"),
}
NO_FIELDS: dict[str, Field] = {}  # a body, if any, must be {}
CSV_SUMMARIES = {
    "raw": "Raw counts per cell (CSV)",
    "cop": "Total force and COP (CSV)",
    "forces": "Per-cell and total force (CSV)",
}
CSV_KINDS = tuple(CSV_SUMMARIES)
METRICS_CSV_FIELDS = (
    "uid", "athlete_uid", "session_uid", "started_at", "protocol", "task", "stance", "eyes",
    "surface", "planned_duration_s", "duration_s", "outcome", "time_to_failure_s",
    "failure_reason", "score", "analysis_version",
)


def _runner() -> TrialRunner:
    trials = context().trials
    if trials is None:
        raise ApiError(503, "trials are not available on this station (no trial runner)")
    return trials


def trial_owner(screen: str | None = None, athlete: str | None = None) -> TrialOwner | None:
    """This request's principal as a trial owner: one login or kiosk session is one owner
    (a reloaded page is the same owner); None without a principal."""
    principal = auth.current_principal()
    if principal is None:
        return None
    default = {"kiosk": "kiosk", "token": "api"}.get(principal.via, "physio")
    key = f"{principal.via}:{principal.session or principal.username}"
    if principal.via == "kiosk":
        key += f":{session.get('kiosk_id', '')}"
    who = principal.label if principal.via != "session" else str(principal.username)
    return TrialOwner(key=key, who=who, screen=screen or default, athlete=athlete)


def not_the_owner(exc: NotTheOwner) -> Response:
    """409 naming the trial's owner: the caller may retry with takeover: true."""
    return auth.api_error(409, str(exc), owner=exc.owner.to_json(), takeover=True)


def _load(uid: str, with_raw: bool = False) -> TrialRecord:
    with store_404(f"no trial with id {uid}"):
        return context().store.load_trial(uid, with_raw=with_raw)


def _may_see_trial(uid: str) -> bool:
    principal = auth.current_principal()
    if principal is None:
        return False
    if principal.can("view_history"):
        return True
    return principal.can("view_own_trial_result") and auth.kiosk_may_see(uid)


def trial_json(uid: str) -> dict[str, Any]:
    """A trial's record, metrics and score, with its comparison to the athlete's baseline
    and previous trial of the same condition
    (station.analysis.history.result_card, the kiosk's result card)."""
    trial = _load(uid)
    body = {
        "uid": trial.uid,
        "athlete_uid": trial.athlete_uid,
        "session_uid": trial.session_uid,
        "seq": trial.seq,
        "started_at": trial.started_at,
        "clock_synced": trial.clock_synced,
        "protocol": trial.protocol,
        "task": trial.task,
        "stance": trial.stance,
        "eyes": trial.eyes,
        "surface": trial.surface,
        "planned_duration_s": trial.planned_duration_s,
        "duration_s": trial.duration_s,
        "outcome": trial.outcome,
        "time_to_failure_s": trial.time_to_failure_s,
        "failure_reason": trial.failure_reason,
        "score": trial.score,
        "metrics": trial.metrics,
        "analysis_version": trial.analysis_version,
        "rate_hz": trial.rate_hz,
    }
    card = history.result_card(context().store, uid)
    body["comparison"] = {
        "baseline_date": card["baseline_date"],
        "previous_date": card["last_date"],
        "baseline": card["baseline"],
        "measures": card["measures"],
    }
    return body


def metrics_csv(trial: TrialRecord) -> str:
    """One line per field: the trial's record, then every metric by its flattened key
    (metric.mean_velocity_mm_s.total, metric.landing.tts_cop_s, ...)."""
    rows = [{"field": name, "value": getattr(trial, name)} for name in METRICS_CSV_FIELDS]
    for key, value in flatten(trial.metrics or {}).items():
        rows.append({"field": f"metric.{key}", "value": value})
    for row in rows:
        if hasattr(row["value"], "isoformat"):
            row["value"] = row["value"].isoformat()
    return csv_text(("field", "value"), rows)


def _csv(columns: dict[str, np.ndarray]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    rows = zip(*(np.asarray(c).tolist() for c in columns.values()), strict=True)
    writer.writerows(["" if isinstance(v, float) and v != v else v for v in row] for row in rows)
    return out.getvalue()


def trial_csv(trial: TrialRecord, kind: str) -> str:
    """raw: time and counts per cell (+ flags); forces: per-cell and total newtons;
    cop: total force and centre of pressure (empty when nobody is on the board)."""
    raw = trial.raw
    if raw is None:
        raise ApiError(404, "this trial's raw frames are not kept (removed by retention)")
    t_s = np.round((raw.t_ns - raw.t_ns[0]) / 1e9, 6)
    if kind == "raw":
        columns: dict[str, np.ndarray] = {"t_s": t_s}
        for c in range(4):
            columns[f"counts_c{c}"] = raw.counts[:, c]
        columns["flags"] = raw.flags
        return _csv(columns)
    try:
        cal = calibration_from_dict(trial.calibration)
    except (CalibrationError, ValueError, TypeError):
        raise ApiError(
            409, "this trial's calibration snapshot cannot be read: only raw.csv is available"
        ) from None
    cells, total, cop = force_and_cop(cal, raw.counts)
    if kind == "forces":
        columns = {"t_s": t_s}
        for c in range(4):
            columns[f"force_c{c}_n"] = np.round(cells[:, c], 3)
        columns["force_n"] = np.round(total, 3)
        return _csv(columns)
    return _csv(
        {
            "t_s": t_s,
            "force_n": np.round(total, 3),
            "cop_x_mm": np.round(cop[:, 0], 3),
            "cop_y_mm": np.round(cop[:, 1], 3),
        }
    )


def current_json() -> dict[str, Any]:
    runner = _runner()
    last = runner.last_result
    body: dict[str, Any] = {
        "status": runner.status(),
        "last_result": None,
        "yours": runner.owns_current(trial_owner()),
    }
    if last is None:
        return body
    viewer = result_access.current_viewer()
    if viewer.may_see(last):
        body["last_result"] = last.summary()
        if not viewer.sees_all and last.saved_uid is not None:
            auth.remember_kiosk_trial(last.saved_uid)
    return body


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="trials")

    @api.route(
        "GET",
        "/api/trials/<uid>",
        summary="A trial: metrics, score, outcome, comparison with baseline and previous trial",
        needs=("view_history", "view_own_trial_result"),
    )
    def show_trial(uid: str) -> Response:
        if not _may_see_trial(uid):
            return auth.api_error(
                403, "a kiosk sees only the result of the trial it ran", capability="view_history"
            )
        return ok(trial_json(uid))

    def samples_download(uid: str, kind: str) -> Response:
        return csv_download(trial_csv(_load(uid, with_raw=True), kind), f"{uid}-{kind}.csv")

    for kind in CSV_KINDS:
        api.route(
            "GET",
            f"/api/trials/<uid>/{kind}.csv",
            summary=CSV_SUMMARIES[kind],
            needs=("export",),
            produces="text/csv",
            endpoint=f"api_trial_{kind}_csv",
        )(lambda uid, kind=kind: samples_download(uid, kind))

    @api.route(
        "GET",
        "/api/trials/<uid>/metrics.csv",
        summary="The trial's record and every metric, one field a line (CSV)",
        needs=("export",),
        produces="text/csv",
    )
    def trial_metrics_csv(uid: str) -> Response:
        return csv_download(metrics_csv(_load(uid)), f"{uid}-metrics.csv")

    @api.route(
        "GET", "/api/protocols", summary="Test protocols and their trials",
        needs=("run_tests", "view_history"),
    )
    def protocols() -> Response:
        return ok({"protocols": protocols_json()})

    @api.route(
        "GET",
        "/api/calibration",
        summary="Calibration status and warnings",
        needs=("run_tests", "view_history", "calibrate"),
        tag="station",
    )
    def calibration() -> Response:
        return ok(context().runtime.calibration_status())

    @api.route(
        "POST",
        "/api/trials/start",
        summary="Start a trial on the board (409 when one runs or the station is uncalibrated)",
        needs=("run_tests",),
        body=START_FIELDS,
    )
    def start_trial() -> Response:
        fields = request_body()
        protocol = load_protocols().get(fields["protocol"])
        if protocol is None:
            known = ", ".join(sorted(load_protocols()))
            raise ApiError(400, f"unknown protocol (known: {known})", "protocol")
        if fields["trial"] not in {t.id for t in protocol.trials}:
            known = ", ".join(t.id for t in protocol.trials)
            raise ApiError(400, f"protocol {protocol.id} has no such trial ({known})", "trial")
        duration_s = planned_duration_s(protocol.trial(fields["trial"]), fields.get("duration_s"))
        athlete_uid, session_uid = fields.get("athlete_uid"), fields.get("session_uid")
        athlete_name = None
        if athlete_uid is not None:
            try:
                athlete_name = get_athlete(athlete_uid).name
            except ApiError:
                raise ApiError(400, f"no athlete with id {athlete_uid}", "athlete_uid") from None
        if session_uid is not None:
            if athlete_uid is None:
                raise ApiError(400, "athlete_uid is required with session_uid", "athlete_uid")
            known = {s.uid for s in context().store.list_sessions(athlete_uid)}
            if session_uid not in known:
                raise ApiError(400, "no such session of this athlete", "session_uid")
            if battery.is_finished(context().store, session_uid):
                raise ApiError(409, "this battery is finished: begin a new session to test "
                               "again", "session_uid")
        envelope = None
        if athlete_uid is not None and protocol.trial(fields["trial"]).task in ENVELOPE_TASKS:
            found = latest_envelope(context().store, athlete_uid)  # the games' targets
            envelope = list(found.envelope_mm) if found is not None else None
        request = TrialRequest(
            protocol_id=fields["protocol"],
            trial_id=fields["trial"],
            athlete_uid=athlete_uid,
            session_uid=session_uid,
            duration_s=duration_s,
            operator_start=fields.get("operator_start", False),
            seq=fields.get("seq", 1),
            owner=trial_owner(fields.get("screen"), athlete_name),
            envelope_mm=envelope,
        )
        try:
            status = _runner().start(request, takeover=fields.get("takeover", False))
        except NotTheOwner as exc:
            return not_the_owner(exc)
        except TrialError as exc:
            raise ApiError(409, str(exc)) from None
        kiosk_id = result_access.kiosk_id()
        if kiosk_id is not None:
            result_access.starters().add(request, kiosk_id)
        return ok({"status": status}, 201)

    @api.route(
        "POST",
        "/api/trials/current/start",
        summary="Operator start of the waiting trial (its owner only: 409 naming the owner)",
        needs=("run_tests",),
        body=NO_FIELDS,
    )
    def operator_start() -> Response:
        request_body()
        try:
            _runner().operator_start(by=trial_owner())
        except NotTheOwner as exc:
            return not_the_owner(exc)
        except TrialError as exc:
            raise ApiError(409, str(exc)) from None
        return ok({"status": _runner().status()})

    @api.route(
        "POST",
        "/api/trials/current/abort",
        summary="Abort the running trial (another screen's: 409 naming it, unless takeover)",
        needs=("run_tests",),
        body=TAKEOVER_FIELDS,
    )
    def abort() -> Response:
        fields = request_body()
        try:
            _runner().abort(by=trial_owner(), takeover=fields.get("takeover", False))
        except NotTheOwner as exc:
            return not_the_owner(exc)
        except TrialError as exc:
            raise ApiError(409, str(exc)) from None
        return ok({"status": _runner().status()})

    @api.route(
        "GET",
        "/api/trials/current",
        summary="The runner's state (with its owner), whether it is yours, and the last result",
        needs=("run_tests", "view_history"),
    )
    def current() -> Response:
        return ok(current_json())
