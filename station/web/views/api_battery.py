"""JSON API of a battery run's progress, kept by the station so a reload or another device
resumes it: the steps with human labels, their status (pending, done, failed with the reason
in words, skipped), the result of each, the current step and the rest before it.

The progress is read from the store (station.trials.battery: the session's trials and its
skipped/current steps); these routes only add the words and who may see what. Whoever may run
tests may follow and steer a battery (`run_tests`); the scores and why a step failed are
history, shown only to roles that browse it (`view_history`): a kiosk sees the steps' status.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.wrappers import Response

from station.protocols import load_protocols
from station.trials import battery
from station.trials.battery_repeats import key_change
from station.web import auth
from station.web.api import ApiError, Field, ok, store_404
from station.web.context import context
from station.web.routes import ApiRoutes, request_body
from station.web.views.api_athletes import get_athlete
from station.web.views.frontend_facts import FAILURE_LABELS

ATHLETE_FIELD = Field(
    "str", max_length=64,
    description="the athlete the page shows: refused when the session is someone else's",
)
STEP_FIELD = Field("int", required=True, minimum=1, maximum=1000,
                   description="the step's number (from 1; the trial's seq)")
STEP_FIELDS = {"athlete_uid": ATHLETE_FIELD, "step": STEP_FIELD}
CURRENT_FIELDS = {
    **STEP_FIELDS,
    "rest": Field("bool", description="the rest after the latest trial starts now (the page "
                  "saw that trial's result)"),
}
FINISH_FIELDS = {"athlete_uid": ATHLETE_FIELD}


def failure_text(step: battery.Step) -> str | None:
    """Why a step failed, as a person says it ("The free foot touched the floor at 12.4 s of
    20 s"); None for a step that did not fail."""
    if step.status != "failed":
        return None
    if step.last is None:
        return f"Marked invalid: {step.invalid_reason}; run it again"
    last = step.last
    planned = f"{last['planned_duration_s']:g} s"
    if last["outcome"] == "aborted":
        held = last.get("duration_s")
        return f"Stopped after {held:.1f} s of {planned}" if held else "Stopped before the hold"
    what = FAILURE_LABELS.get(last.get("failure_reason") or "", "Failed")
    ttf = last.get("time_to_failure_s")
    return f"{what} at {ttf:.1f} s of {planned}" if ttf is not None else what


def result_json(step: battery.Step) -> dict[str, Any] | None:
    """The latest counted trial of a step, summed up for the list."""
    last = step.last
    if last is None:
        return None
    held = last["planned_duration_s"] if last["outcome"] == "complete" else (
        last.get("time_to_failure_s"))
    return {"trial_uid": last["uid"], "outcome": last["outcome"], "score": last.get("score"),
            "held_s": held, "planned_s": last["planned_duration_s"],
            "failure_reason": last.get("failure_reason")}


def step_json(step: battery.Step, full: bool) -> dict[str, Any]:
    spec = step.spec
    out: dict[str, Any] = {
        "number": step.number, "trial_id": spec.id, "label": step.label,
        "rep": step.rep, "of": step.of, "stance": spec.stance, "eyes": spec.eyes,
        "surface": spec.surface, "task": spec.task, "duration_s": spec.duration_s,
        "rest_s": spec.rest_s, "status": step.status, "attempts": step.attempts,
        "reason": None, "result": None,
    }
    if full:
        out["reason"] = failure_text(step)
        out["result"] = result_json(step)
    return out


def progress_json(run: battery.Progress, full: bool) -> dict[str, Any]:
    """The battery as the physio page shows it; `full`: with results and reasons, and the
    key step's change against the baseline with an optional repeat when averaging could
    resolve it (`key_change`, station.trials.battery_repeats)."""
    counts = {status: run.count(status) for status in battery.STATUSES}
    return {
        "session_uid": run.session_uid,
        "athlete_uid": run.athlete_uid,
        "protocol": {"id": run.protocol.id, "name": run.protocol.name},
        "started_at": run.started_at,
        "n_steps": len(run.steps),
        "counts": counts,
        "current": run.current,
        "rest_remaining_s": round(run.rest_remaining_s, 1),
        "finished": run.finished,
        "finished_at": run.finished_at,
        "steps": [step_json(s, full) for s in run.steps],
        "key_change": key_change(run, _store().athlete_history(run.athlete_uid, metrics=True))
        if full else None,
    }


def _full() -> bool:
    principal = auth.current_principal()
    return principal is not None and principal.can("view_history")


def _store() -> Any:
    return context().store


def _progress(session_uid: str) -> battery.Progress:
    with store_404(f"no session with id {session_uid}"):
        try:
            return battery.progress(_store(), session_uid, load_protocols())
        except battery.BatteryError as exc:
            raise ApiError(409, str(exc)) from None


def _check_athlete(session_uid: str, athlete_uid: str | None) -> None:
    """A page showing one athlete must not change another's battery (a stale tab)."""
    run = _progress(session_uid)
    if athlete_uid is not None and run.athlete_uid != athlete_uid:
        raise ApiError(400, "this session is another athlete's: reload the page and pick the "
                       "athlete again", "athlete_uid")


def _change(session_uid: str, action: Any) -> Response:
    try:
        with store_404(f"no session with id {session_uid}"):
            run = action()
    except battery.BatteryError as exc:
        raise ApiError(409 if exc.conflict else 400, str(exc),
                       None if exc.conflict else "step") from None
    return ok(progress_json(run, _full()))


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="sessions")

    @api.route(
        "GET",
        "/api/sessions/<uid>/battery",
        summary="A battery run's progress: steps with labels and status, current step, rest",
        needs=("run_tests",),
    )
    def show_battery(uid: str) -> Response:
        return ok(progress_json(_progress(uid), _full()))

    @api.route(
        "GET",
        "/api/athletes/<uid>/battery",
        summary="The athlete's unfinished battery of today (to resume), or null",
        needs=("run_tests",),
    )
    def open_battery(uid: str) -> Response:
        get_athlete(uid)
        run = battery.open_battery(_store(), uid, load_protocols())
        return ok({"open": progress_json(run, _full()) if run is not None else None})

    @api.route(
        "POST",
        "/api/sessions/<uid>/battery/skip",
        summary="Skip a step of a battery run; the current step moves on",
        needs=("run_tests",),
        body=STEP_FIELDS,
    )
    def skip_step(uid: str) -> Response:
        fields = request_body()
        _check_athlete(uid, fields.get("athlete_uid"))
        return _change(uid, lambda: battery.skip(_store(), uid, fields["step"], load_protocols()))

    @api.route(
        "POST",
        "/api/sessions/<uid>/battery/current",
        summary="Make a step the current one (to run, repeat or un-skip it); rest: start the "
        "rest now",
        needs=("run_tests",),
        body=CURRENT_FIELDS,
    )
    def current_step(uid: str) -> Response:
        fields = request_body()
        _check_athlete(uid, fields.get("athlete_uid"))
        return _change(uid, lambda: battery.mark_current(
            _store(), uid, fields["step"], load_protocols(), rest=fields.get("rest", False)))

    @api.route(
        "POST",
        "/api/sessions/<uid>/battery/finish",
        summary="Finish a battery run (it is no longer offered to resume)",
        needs=("run_tests",),
        body=FINISH_FIELDS,
    )
    def finish_battery(uid: str) -> Response:
        fields = request_body()
        _check_athlete(uid, fields.get("athlete_uid"))
        return _change(uid, lambda: battery.finish(_store(), uid, load_protocols()))
