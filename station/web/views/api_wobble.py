"""The wobble-board page (/wobble) and its JSON API (/api/wobble/...): the station's boards and
the guided set-up.

The station keeps its boards (the presets and its own) and each one's set-up in one station
setting (station.wobble.stored); wobble trials use the active board and its level point. The
set-up's steps capture the COP of the frames that arrive after the request (the runtime's
history buffer, as the calibration page does) and hand them to station.wobble.setup, which
decides everything: the level point, each rim check's residual in degrees, the report.
Physio and admin change (capability "calibrate": setting up the board is part of setting up
the station); every role that runs tests may read, so the kiosk knows the board.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flask import Flask, current_app
from werkzeug.wrappers import Response

from station.calibration.conversion import force_and_cop
from station.calibration.file import calibration_from_dict
from station.web import auth
from station.web.api import ApiError, Field, ok
from station.web.context import context
from station.web.routes import ApiRoutes, request_body
from station.wobble import BoardProfileError, SetupRefused
from station.wobble import stored as stored_boards
from station.wobble.profiles import CYLINDER_AXES, KINDS
from station.wobble.setup import (
    SETUP_SIDES,
    CopCapture,
    check_sides,
    level_capture,
    rim_check,
    setup_report,
)

LEVEL_CAPTURE_S = 3.0  # the deck held level
RIM_CAPTURE_S = 4.0  # a slow roll to the rim and a rest on it
CAPTURE_TIMEOUT_S = 8.0
FIRST_FRAME_TIMEOUT_S = 1.5  # no frame at all this long: the board is not sending

BOARD_FIELDS: dict[str, Field] = {
    "name": Field("str", required=True, max_length=60, description="a short name, e.g. "
                  "'clinic-board'"),
    "description": Field("str", max_length=200),
    "kind": Field("str", choices=KINDS, description="dome (a sphere) or rocker (a cylinder)"),
    "dome_radius_mm": Field("float", required=True, minimum=0, maximum=5000,
                            description="the dome's (or the rocker's cylinder's) radius, mm"),
    "cylinder_axis": Field("str", choices=CYLINDER_AXES,
                           description="a rocker: the cylinder runs 'ap' (rocks left-right) "
                           "or 'ml'"),
    "deck_diameter_mm": Field("float", minimum=0, maximum=5000, description="a dome board's "
                              "round deck, mm"),
    "deck_length_mm": Field("float", minimum=0, maximum=5000,
                            description="a rocker's deck across the cylinder, mm"),
    "deck_width_mm": Field("float", minimum=0, maximum=5000,
                           description="a rocker's deck along the cylinder, mm"),
    "rim_height_mm": Field("float", minimum=0, maximum=5000, description="the deck's "
                           "underside above the platform, level (give it or max_tilt_deg)"),
    "max_tilt_deg": Field("float", minimum=0, maximum=90, description="the tilt at which the "
                          "rim touches"),
    "mass_kg": Field("float", required=True, minimum=0, maximum=100,
                     description="the board's mass"),
}
SELECT_FIELDS = {"name": Field("str", required=True, max_length=60,
                               description="the board trials use from now on")}
SETUP_START_FIELDS = {"board": Field("str", max_length=60,
                                     description="the board to set up (default: the active)")}
LEVEL_FIELDS = {"again": Field("bool", description="the re-level after the rim checks")}
RIM_FIELDS = {"side": Field("str", required=True, choices=tuple(SETUP_SIDES),
                            description="the rim side the deck is rolled to")}
EMPTY_FIELDS: dict[str, Field] = {}


@dataclass
class SetupSession:
    """One set-up in progress (in memory: it is minutes long and one at a time)."""

    board: str
    by: str | None
    level: CopCapture | None = None
    rims: dict[str, dict[str, Any]] = field(default_factory=dict)
    relevel: CopCapture | None = None
    report: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"board": self.board, "by": self.by,
                "level": None if self.level is None else self.level.to_json(),
                "rims": self.rims,
                "relevel": None if self.relevel is None else self.relevel.to_json(),
                "report": self.report}


@dataclass
class _Holder:
    lock: threading.Lock = field(default_factory=threading.Lock)
    session: SetupSession | None = None
    capturing: bool = False


def _holder() -> _Holder:
    return current_app.extensions.setdefault("station_wobble_setup", _Holder())


def _store() -> Any:
    store = context().store
    if store is None:
        raise ApiError(503, "the station has no database: boards cannot be kept")
    return store


def _boards() -> stored_boards.StationBoards:
    try:
        return stored_boards.load(_store())
    except BoardProfileError as exc:
        raise ApiError(500, str(exc)) from None


def state() -> dict[str, Any]:
    """Everything the page shows: the boards, the active one and its set-up, the session."""
    boards = _boards()
    holder = _holder()
    with holder.lock:
        session = None if holder.session is None else holder.session.to_json()
    view = boards.to_json()
    active = boards.board(boards.active)
    view["check_sides"] = list(check_sides(active))
    view["session"] = session
    view["capturing"] = holder.capturing
    view["sim"] = _is_sim()
    return view


def _is_sim() -> bool:
    from station.board.spec import is_simulated

    return is_simulated(context().runtime.board_kind)


def capture_cop(history: Any, calibration: dict[str, Any] | None, seconds: float, *,
                timeout_s: float = CAPTURE_TIMEOUT_S
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, force, COP) of the frames that arrive after this call, spanning `seconds`.

    From the raw counts with the calibration in force (its current zero) and no minimum
    load: the live COP is blank under the calibration's minimum (50 N), but an empty deck
    held level (its own weight, 20-35 N on the presets) still rests on its dome's contact.
    """
    if calibration is None:
        raise ApiError(409, "the station is not calibrated: calibrate the board first")
    cal = calibration_from_dict(calibration)
    start = history.written
    began = time.monotonic()
    while True:
        new = history.written - start
        if new > 1:
            frames = history.latest(min(new, len(history)))
            if frames["t_s"][-1] - frames["t_s"][0] >= seconds:
                got = force_and_cop(cal, frames["counts"], min_load_n=0.0)
                return frames["t_s"], got.force_n, got.cop_mm
        waited = time.monotonic() - began
        if waited > timeout_s or (new <= 0 and waited > FIRST_FRAME_TIMEOUT_S):
            raise ApiError(409, f"the board sent {max(new, 0)} frames in {timeout_s:g} s: is "
                           "it running? (see /status)")
        time.sleep(0.05)


def _capture(seconds: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    holder = _holder()
    with holder.lock:
        if holder.capturing:
            raise ApiError(409, "a measurement is already running: wait for it")
        holder.capturing = True
    try:
        runtime = context().runtime
        return capture_cop(runtime.history, runtime.calibration_snapshot(), seconds)
    finally:
        with holder.lock:
            holder.capturing = False


def _session() -> SetupSession:
    session = _holder().session
    if session is None:
        raise ApiError(409, "start the set-up first (POST /api/wobble/setup)")
    return session


def _username() -> str | None:
    principal = auth.current_principal()
    return None if principal is None else principal.label


def register(app: Flask) -> None:
    from station.web.views.pages import render_page

    api = ApiRoutes(app, tag="wobble")
    changers = ("calibrate",)  # physio and admin
    readers = ("run_tests", "view_history")

    @app.get("/wobble")
    @auth.require(*changers)
    def wobble_page() -> str:
        return render_page("wobble_setup.html", title="Wobble board", data=state())

    @api.route("GET", "/api/wobble", summary="The station's wobble boards (presets and its "
               "own), the active one, its set-up and the set-up in progress", needs=readers)
    def wobble_state() -> Response:
        return ok(state())

    @api.route("POST", "/api/wobble/boards", summary="Add (or replace) one of the station's "
               "own boards; checked field by field (400 names the field)", needs=changers,
               body=BOARD_FIELDS)
    def add_board() -> Response:
        table = {k: v for k, v in request_body().items() if v is not None}
        try:
            stored_boards.add_board(_store(), table)
        except BoardProfileError as exc:
            raise ApiError(400, str(exc)) from None
        return ok(state())

    @api.route("DELETE", "/api/wobble/boards/<name>", summary="Remove one of the station's "
               "own boards (presets stay)", needs=changers)
    def remove_board(name: str) -> Response:
        try:
            stored_boards.remove_board(_store(), name)
        except BoardProfileError as exc:
            raise ApiError(404, str(exc)) from None
        return ok(state())

    @api.route("POST", "/api/wobble/active", summary="Choose the board wobble trials use",
               needs=changers, body=SELECT_FIELDS)
    def select_board() -> Response:
        try:
            stored_boards.select_board(_store(), request_body()["name"])
        except BoardProfileError as exc:
            raise ApiError(400, str(exc), "name") from None
        return ok(state())

    @api.route("POST", "/api/wobble/setup", summary="Start the guided set-up of a board "
               "(default: the active one); drops a set-up in progress", needs=changers,
               body=SETUP_START_FIELDS)
    def setup_start() -> Response:
        name = request_body().get("board") or _boards().active
        try:
            _boards().board(name)
        except BoardProfileError as exc:
            raise ApiError(400, str(exc), "board") from None
        holder = _holder()
        with holder.lock:
            holder.session = SetupSession(name, _username())
        return ok(state())

    @api.route("POST", "/api/wobble/setup/level", summary="Record the level contact point: "
               "~3 s of frames with someone on the deck holding it level (409: nobody on it, "
               "the deck moving)", needs=changers, body=LEVEL_FIELDS)
    def setup_level() -> Response:
        again = bool(request_body().get("again"))
        session = _session()
        if again and session.level is None:
            raise ApiError(409, "record the level point first")
        board = _boards().board(session.board)
        t, f, cop = _capture(LEVEL_CAPTURE_S)
        try:
            got = level_capture(board, t, f, cop)
        except SetupRefused as exc:
            raise ApiError(409, str(exc)) from None
        if again:
            session.relevel = got
        else:
            session.level, session.rims, session.relevel = got, {}, None
        session.report = None
        return ok(state())

    @api.route("POST", "/api/wobble/setup/rim", summary="A rim check: ~4 s while the deck is "
               "rolled slowly to that side until the rim touches (409: no level point yet, "
               "hardly tilted)", needs=changers, body=RIM_FIELDS)
    def setup_rim() -> Response:
        side = request_body()["side"]
        session = _session()
        if session.level is None:
            raise ApiError(409, "record the level point first")
        board = _boards().board(session.board)
        t, f, cop = _capture(RIM_CAPTURE_S)
        try:
            session.rims[side] = rim_check(board, session.level.mean_mm, side, t, f, cop)
        except SetupRefused as exc:
            raise ApiError(409, str(exc)) from None
        session.report = None
        return ok(state())

    @api.route("POST", "/api/wobble/setup/save", summary="Finish the set-up: the residual "
               "report, and the level point kept for the board's trials", needs=changers,
               body=EMPTY_FIELDS)
    def setup_save() -> Response:
        request_body()
        session = _session()
        if session.level is None:
            raise ApiError(409, "record the level point first")
        board = _boards().board(session.board)
        report = setup_report(board, session.level, dict(session.rims), session.relevel)
        report["by"] = session.by
        try:
            stored_boards.record_setup(_store(), session.board, report)
        except BoardProfileError as exc:
            raise ApiError(409, str(exc)) from None
        session.report = report
        return ok(state())
