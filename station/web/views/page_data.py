"""The pages' JSON routes (result card, replay trace), who may see a result, the protocol list.

What the pages show is read by station.analysis.history (a function of the store per
view); this module only adds what is the web's: the routes and the kiosk's access check.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify

from station.analysis import history
from station.analysis.history.history_rows import condition_label
from station.web import auth, result_access
from station.web.api import store_404
from station.web.context import context
from station.web.routes import ApiRoutes
from station.web.views.hold_length import protocols_as_run

KIOSK_ATHLETE_FIELDS = ("uid", "name", "team")


def protocols_view() -> list[dict[str, Any]]:
    """The protocols the kiosk and physio pages offer, with each trial's settings (a hold's
    length as the trial start will run it: hold_length) and its condition's name (`label`,
    "Left leg, eyes open": the history's words, not the ids)."""
    protocols = protocols_as_run()
    for protocol in protocols:
        for trial in protocol["trials"]:
            trial["label"] = condition_label(trial)
    return protocols


def kiosk_may_see(trial_uid: str) -> bool:
    """A kiosk sees the result of a trial it ran and no other: one its session remembers,
    or the station's last trial when this kiosk started it (station.web.result_access)."""
    if auth.kiosk_may_see(trial_uid):
        return True
    return result_access.current_viewer().may_see_last_saved(trial_uid)


def register(app: Flask) -> None:
    routes = ApiRoutes(app, tag="pages")

    @routes.route("GET", "/api/pages/result/<trial_uid>",
                  summary="The result card of a trial (pages' data)",
                  needs=("view_history", "view_own_trial_result"))
    def result_card_api(trial_uid: str) -> Response:
        principal = auth.current_principal()
        full = principal is not None and principal.can("view_history")
        if not full and not kiosk_may_see(trial_uid):
            return auth.api_error(403, "a kiosk sees only the result of the trial it ran")
        with store_404():
            card = history.result_card(context().store, trial_uid)
        if not full:  # a kiosk knows athletes by name and team only (as its picker does)
            card["athlete"] = {k: card["athlete"][k] for k in KIOSK_ATHLETE_FIELDS}
        return jsonify(card)

    @routes.route("GET", "/api/pages/trace/<trial_uid>",
                  summary="A trial's COP trace for the pages' charts", needs=("view_history",))
    def trace_api(trial_uid: str) -> Response:
        with store_404():
            return jsonify(history.trace_view(context().store, trial_uid))
