"""The pages' JSON routes (result card, replay trace), who may see a result, the protocol list.

What the pages show is read by station.analysis.history (a function of the store per
view); this module only adds what is the web's: the routes and the kiosk's access check.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify

from station.analysis import history
from station.protocols import protocols_json
from station.web import auth
from station.web.api import store_404
from station.web.context import context
from station.web.routes import ApiRoutes


def protocols_view() -> list[dict[str, Any]]:
    """The protocols the kiosk and physio pages offer, with each trial's settings."""
    return protocols_json()


def kiosk_may_see(trial_uid: str) -> bool:
    """A kiosk sees the result of the trial it ran (the station's last one) and no other."""
    if auth.kiosk_may_see(trial_uid):
        return True
    trials = context().trials
    last = trials.last_result if trials is not None else None
    return last is not None and last.saved_uid == trial_uid


def register(app: Flask) -> None:
    routes = ApiRoutes(app, tag="pages")

    @routes.route("GET", "/api/pages/result/<trial_uid>",
                  summary="The result card of a trial (pages' data)",
                  needs=("view_history", "view_own_trial_result"))
    def result_card_api(trial_uid: str) -> Response:
        principal = auth.current_principal()
        if principal is not None and not principal.can("view_history") and not kiosk_may_see(
            trial_uid
        ):
            return auth.api_error(403, "a kiosk sees only the result of the trial it ran")
        with store_404():
            return jsonify(history.result_card(context().store, trial_uid))

    @routes.route("GET", "/api/pages/trace/<trial_uid>",
                  summary="A trial's COP trace for the pages' charts", needs=("view_history",))
    def trace_api(trial_uid: str) -> Response:
        with store_404():
            return jsonify(history.trace_view(context().store, trial_uid))
