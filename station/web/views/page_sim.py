"""`POST /api/sim/perform`: the kiosk's "simulated athlete" buttons (simulated boards only).

On the simulator nobody stands on the board, so a test can only be shown (and
browser-tested) if someone tells the simulated athlete what to do. Real boards
answer 409: there the athlete is real. Actions are checked here with the
simulator's own validator so a bad click gets a 400 that says why (the
acquisition process would only log it); `follow_trace` (reads a file) is not
offered over the web. The body goes through the API's JSON limits (size, nesting).

While a trial runs, the simulated athlete does it in the trial's condition: stepping on
takes the trial's surface and eyes, and before any other action the athlete is put on
that surface with those eyes (a foam, eyes-closed trial is then harder, as it is for a
person), unless the click names them itself. "Play the game" (`play_game`) plays the
game being held, on its own targets (station.board.sim.games); 409 when none is.
person), unless the click names them itself. A wobble trial's step-on first puts the
station's active wobble board on the platform (the one its set-up describes, level at the
centre; skipped when one is on), any other trial's takes it off (skipped when none is).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from station.board.sim.athlete import SimActionError, normalize_action
from station.board.spec import is_simulated
from station.protocols.games import GAME_TASKS
from station.web import auth
from station.web.api import json_body
from station.web.context import context
from station.web.routes import ApiRoutes


def trial_condition() -> dict[str, str]:
    """The running trial's surface and eyes ({} when no trial runs)."""
    trials = context().trials
    spec = trials.current_spec if trials is not None and trials.is_running else None
    return {} if spec is None else {"surface": spec.surface, "eyes": spec.eyes}

WEB_ACTIONS = ("step_on", "lift_foot", "touch_down", "put_foot_down", "step_off", "hop", "push",
               "set_condition", "play_game", "place_wobble_board", "remove_wobble_board")


def game_play() -> dict[str, Any] | None:
    """play_game's parameters for the running game (its task, targets and how far the hold
    is), or None when no game is being held: the button plays whatever game the screen runs."""
    trials = context().trials
    spec = trials.current_spec if trials is not None and trials.is_running else None
    status = trials.status() if spec is not None else None
    if spec is None or spec.game is None or spec.task not in GAME_TASKS or status is None:
        return None
    if status.get("state") != "holding":
        return None
    return {"task": spec.task, "game": spec.game.to_json(), "skill": 0.7,
            "elapsed_s": float(status.get("hold_elapsed_s") or 0.0),
            "duration_s": spec.duration_s}


def _wobble_board_params() -> dict[str, Any]:
    """The station's active wobble board for the simulator: a preset by name, else its table."""
    from station.wobble import presets
    from station.wobble import stored as stored_boards

    store = context().store
    boards = stored_boards.load(store) if store is not None else stored_boards.StationBoards()
    if boards.active in presets():
        return {"board": boards.active}
    table = next(t for t in boards.user if str(t.get("name", "")).strip() == boards.active)
    return {"board": dict(table)}


def _board_for_trial(runtime: Any) -> None:
    """Before a trial's step-on: the wobble board on for a wobble trial, off for any other."""
    trials = context().trials
    spec = trials.current_spec if trials is not None and trials.is_running else None
    if spec is None:
        return
    if spec.surface == "wobble" or spec.task == "wobble":
        params = _wobble_board_params()
        normalize_action("place_wobble_board", params)
        runtime.perform("place_wobble_board", **params)
    else:
        runtime.perform("remove_wobble_board")


def register(app: Flask) -> None:
    api = ApiRoutes(app, tag="pages")

    @api.route(
        "POST",
        "/api/sim/perform",
        summary="Tell the simulated athlete what to do (simulated boards only): "
        '{"action": "step_on", "params": {...}}',
        needs=("run_tests",),
    )
    def sim_perform():
        runtime = context().runtime
        if not is_simulated(runtime.board_kind):
            return auth.api_error(
                409, f"the board is a real one ({runtime.board_kind}): nothing to simulate"
            )
        body: Any = json_body()  # 413 too large, 400 not an object or nested too deeply
        if not isinstance(body.get("action"), str):
            return auth.api_error(400, 'send JSON {"action": "...", "params": {...}}')
        action, params = body["action"], body.get("params") or {}
        if action not in WEB_ACTIONS:
            return auth.api_error(400, f"action must be one of {', '.join(WEB_ACTIONS)}")
        if not isinstance(params, dict):
            return auth.api_error(400, "params must be an object")
        if action == "play_game":
            play = game_play()
            if play is None:
                return auth.api_error(409, "no game is being held: start a game (weight shift, "
                                      "limits of stability, maze, toe taps) and wait for the "
                                      "countdown")
            params = {**play, **{k: v for k, v in params.items() if k == "skill"}}
        try:
            normalize_action(action, params)
        except SimActionError as exc:
            return auth.api_error(400, str(exc))
        condition = trial_condition()
        if action == "step_on":
            _board_for_trial(runtime)
        if action == "place_wobble_board" and "board" not in params:
            params = {**params, **_wobble_board_params()}  # the station's active board
        if action in ("step_on", "set_condition"):
            params = {**condition, **params}
        elif condition:
            runtime.perform("set_condition", **condition)
        runtime.perform(action, **params)
        return jsonify(ok=True, action=action, params=params, condition=condition or None)
