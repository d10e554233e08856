"""Corrections to the record: archive (and restore) an athlete, invalidate (and restore) a
bad trial with the reason kept.

Nothing is deleted: an archived athlete leaves the kiosk picker and the team but keeps their
history; an invalid trial stays in history with why, who and when, and the history reads
carry `invalid` and `invalid_reason` so baselines, trends and scores leave it out
(station.analysis.history). Each change is a security-log line. Physios and admins
(`edit_athletes`) may do both.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.wrappers import Response

from station.web import auth
from station.web.api import Field, ok, store_404
from station.web.context import context
from station.web.routes import ApiRoutes, request_body

EDITORS = ("edit_athletes",)
INVALIDATE_FIELDS = {
    "reason": Field("str", required=True, max_length=500,
                    description="why the trial is not to be counted, e.g. 'stepped off early'"),
}


def archived_json(athlete: Any) -> dict[str, Any]:
    return {"uid": athlete.uid, "name": athlete.name, "team": athlete.team,
            "archived": athlete.archived_at is not None, "archived_at": athlete.archived_at,
            "demo": athlete.demo}


def validity_json(trial: Any) -> dict[str, Any]:
    return {"uid": trial.uid, "invalid": trial.invalid, "invalid_reason": trial.invalid_reason,
            "invalidated_at": trial.invalidated_at, "invalidated_by": trial.invalidated_by}


def _who() -> tuple[str, str]:
    principal = auth.current_principal()
    assert principal is not None  # the route's guard refused strangers
    return principal.label, auth.client_address()


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="records")

    def archive(uid: str, archived: bool) -> Response:
        actor, address = _who()
        with store_404(f"no athlete with id {uid}"):
            athlete = context().store.archive_athlete(uid, archived, actor=actor,
                                                      address=address)
        return ok(archived_json(athlete))

    @api.route("POST", "/api/athletes/<uid>/archive", needs=EDITORS,
               summary="Archive an athlete: hidden from the kiosk and the team, history kept")
    def archive_athlete(uid: str) -> Response:
        return archive(uid, True)

    @api.route("POST", "/api/athletes/<uid>/unarchive", needs=EDITORS,
               summary="Bring an archived athlete back to the kiosk and the team")
    def unarchive_athlete(uid: str) -> Response:
        return archive(uid, False)

    @api.route("POST", "/api/trials/<uid>/invalidate", needs=EDITORS, body=INVALIDATE_FIELDS,
               summary="Mark a bad trial invalid (kept, with the reason, out of baselines, "
               "trends and scores)")
    def invalidate_trial(uid: str) -> Response:
        reason = request_body()["reason"]
        actor, address = _who()
        with store_404(f"no trial with id {uid}"):
            context().store.load_trial(uid, with_raw=False)
        trial = context().store.invalidate_trial(uid, reason, actor=actor, address=address)
        return ok(validity_json(trial))

    @api.route("POST", "/api/trials/<uid>/revalidate", needs=EDITORS,
               summary="Count an invalidated trial again (the last reason stays on record)")
    def revalidate_trial(uid: str) -> Response:
        actor, address = _who()
        with store_404(f"no trial with id {uid}"):
            trial = context().store.invalidate_trial(uid, None, invalid=False, actor=actor,
                                                     address=address)
        return ok(validity_json(trial))
