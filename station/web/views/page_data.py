"""The pages' JSON helpers: the result card and replay trace routes, who may see a result,
and the kiosk's protocol list.

What the pages show is read by station.analysis.history (a function of the store per
view); this module only adds what is the web's: the routes, the kiosk's access check.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, jsonify

from station.analysis import history
from station.protocols import load_protocols
from station.store import StoreError
from station.web import auth
from station.web.app import context


def protocols_view() -> list[dict[str, Any]]:
    """The protocols the kiosk and physio pages offer, with each trial's settings."""
    return [
        {"id": p.id, "name": p.name, "description": p.description, "kind": p.kind,
         "trials": [{"id": t.id, "stance": t.stance, "eyes": t.eyes, "surface": t.surface,
                     "task": t.task, "duration_s": t.duration_s, "count": t.count,
                     "rest_s": t.rest_s, "instructions": t.instructions,
                     "target_radius_mm": t.target_radius_mm} for t in p.trials]}
        for p in load_protocols().values()
    ]


def kiosk_may_see(trial_uid: str) -> bool:
    """A kiosk sees the result of the trial it ran (the station's last one) and no other."""
    if auth.kiosk_may_see(trial_uid):
        return True
    trials = context().runtime.trials
    last = trials.last_result if trials is not None else None
    return last is not None and last.saved_uid == trial_uid


def register(app: Flask) -> None:
    @app.get("/api/pages/result/<trial_uid>")
    @auth.require("view_history", "view_own_trial_result")
    def result_card_api(trial_uid: str):
        principal = auth.current_principal()
        if principal is not None and not principal.can("view_history") and not kiosk_may_see(
            trial_uid
        ):
            return auth.api_error(403, "a kiosk sees only the result of the trial it ran")
        try:
            return jsonify(history.result_card(context().store, trial_uid))
        except StoreError:
            abort(404)

    @app.get("/api/pages/trace/<trial_uid>")
    @auth.require("view_history")
    def trace_api(trial_uid: str):
        try:
            return jsonify(history.trace_view(context().store, trial_uid))
        except StoreError:
            abort(404)
