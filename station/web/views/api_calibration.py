"""The guided calibration page (/calibrate) and its JSON API (/api/calibration/...).

The same steps as `balance-station calibrate`, driven from a phone: tare, a known mass
at each marked spot, the gain fit with its residuals, save (atomic write of the
station's calibration file, then the running estimator reloads it) and verification.
Frames come from the runtime's history buffer (only frames that arrive after the
request); the maths is station.calibration.procedure's, so the page and the CLI refuse
the same things with the same reasons (409 {"error": reason}).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app
from werkzeug.wrappers import Response

from station.calibration.file import (
    DEFAULT_MIN_LOAD_N,
    Calibration,
    CalibrationError,
    calibration_from_dict,
    load_calibration,
    save_calibration,
)
from station.calibration.guided import CaptureBusy, SessionHolder
from station.calibration.procedure import (
    CalibrationFitRefused,
    MeasurementRefused,
    fit_gains,
    measure_placement,
    record_verification,
    tare,
    verify,
)
from station.calibration.simulate import (
    DEFAULT_MARKS,
    DEFAULT_MASSES_KG,
    VERIFY_AT_MM,
    VERIFY_MASS_KG,
    CalibrationPlan,
)
from station.web import auth
from station.web.app import context
from station.web.views.api_common import ApiError, Field, ok, validated_body

EMPTY_FIELDS: dict[str, Field] = {}
PLACEMENT_FIELDS = {
    "mass_kg": Field("float", required=True, minimum=0.1, maximum=500,
                     description="the known mass, kg"),
    "x_mm": Field("float", required=True, minimum=-1000, maximum=1000,
                  description="marked spot, mm (right positive)"),
    "y_mm": Field("float", required=True, minimum=-1000, maximum=1000,
                  description="marked spot, mm (forward positive)"),
}
FIT_FIELDS = {
    "linear": Field("bool", description="no quadratic term (default: fitted with two masses)"),
    "refine_geometry": Field("bool", description="also fit the cell positions"),
}
SAVE_FIELDS = {
    "board": Field("str", max_length=100,
                   description="board name in the file (default: the current calibration's)"),
}
VERIFY_FIELDS = PLACEMENT_FIELDS
CONFIG_PATH_KEY = "CALIBRATION_PATH"


def _holder() -> SessionHolder:
    return current_app.extensions.setdefault("station_calibration", SessionHolder())


def _username() -> str | None:
    principal = auth.current_principal()
    return None if principal is None else principal.username


def _save_path() -> Path | None:
    path = current_app.config.get(CONFIG_PATH_KEY)
    return None if path is None else Path(path)


def _current_calibration() -> Calibration | None:
    """The calibration the station uses now (auto-zero's offsets), or None."""
    snapshot = context().runtime.calibration_snapshot()
    if snapshot is None:
        return None
    try:
        return calibration_from_dict(snapshot)
    except CalibrationError:
        return None


def _label(x: float, y: float) -> str:
    if (x, y) == (0.0, 0.0):
        return "the centre"
    side = "right" if x > 0 else "left" if x < 0 else "middle"
    end = "front" if y > 0 else "back" if y < 0 else "middle"
    return f"the {end} {side} mark (x={x:g}, y={y:g} mm)"


def plan() -> list[dict[str, Any]]:
    """The default steps, in the CLI's order (each mass over every mark)."""
    steps = CalibrationPlan(masses_kg=DEFAULT_MASSES_KG, marks_mm=DEFAULT_MARKS).steps()
    return [{"mass_kg": m, "x_mm": x, "y_mm": y, "where": _label(x, y)} for m, x, y in steps]


def state() -> dict[str, Any]:
    holder = _holder()
    with holder.lock:
        session = None if holder.session is None else holder.session.to_dict()
    path = _save_path()
    return {
        "session": session,
        "capturing": holder.capturing,
        "plan": plan(),
        "verify_default": {"mass_kg": VERIFY_MASS_KG, "x_mm": VERIFY_AT_MM[0],
                           "y_mm": VERIFY_AT_MM[1]},
        "calibration": context().runtime.calibration_status(),
        "save_path": None if path is None else str(path),
        "can_reload": callable(getattr(context().runtime, "reload_calibration", None)),
    }


def _capture() -> Any:
    """Counts of the next ~2 s of frames; 409 with the reason when they cannot be had."""
    history = getattr(context().runtime, "history", None)
    if history is None:
        raise ApiError(409, "this station keeps no frame history: calibrate with the CLI")
    try:
        return _holder().capture(history)
    except CaptureBusy as exc:
        raise ApiError(409, str(exc)) from None
    except MeasurementRefused as exc:
        raise ApiError(409, exc.reason) from None


def _reload(path: Path) -> str:
    """Make the running station use the file; the sentence for the page."""
    reload = getattr(context().runtime, "reload_calibration", None)
    if not callable(reload):
        return f"saved {path}; restart the station to use it"
    problem = reload(path)
    if problem:
        return f"saved {path}, but the station could not load it ({problem}); it keeps the old one"
    return f"saved {path}; the station uses it now"


def _write(cal: Calibration, path: Path) -> None:
    try:
        save_calibration(cal, path)
    except (OSError, CalibrationError) as exc:
        raise ApiError(500, f"cannot write {path}: {exc}; the old file is unchanged") from None


def register(app: Flask) -> None:
    from station.web.views.pages import render_page

    @app.get("/calibrate")
    @auth.require("calibrate")
    def calibrate_page() -> str:
        return render_page("calibrate.html", title="Calibration", data=state())

    @app.get("/api/calibration/session")
    @auth.require("calibrate")
    def calibration_session() -> Response:
        return ok(state())

    @app.post("/api/calibration/tare")
    @auth.require("calibrate")
    def calibration_tare() -> Response:
        validated_body(EMPTY_FIELDS)
        reference = _current_calibration()
        counts = _capture()
        try:
            result = tare(counts, reference=reference)
        except MeasurementRefused as exc:
            raise ApiError(409, exc.reason) from None
        holder = _holder()
        with holder.lock:
            holder.current_or_new(_username()).set_tare(result)
        return ok(state())

    @app.post("/api/calibration/placements")
    @auth.require("calibrate")
    def calibration_add_placement() -> Response:
        body = validated_body(PLACEMENT_FIELDS)
        holder = _holder()
        with holder.lock:
            if holder.session is None or holder.session.tare is None:
                raise ApiError(409, "tare the empty board first")
        counts = _capture()
        try:
            placement = measure_placement(body["mass_kg"], body["x_mm"], body["y_mm"], counts)
        except MeasurementRefused as exc:
            raise ApiError(409, exc.reason) from None
        with holder.lock:
            if holder.session is None:
                raise ApiError(409, "the calibration was cancelled while measuring")
            holder.session.add_placement(placement)
        return ok(state())

    @app.delete("/api/calibration/placements/<index>")
    @auth.require("calibrate")
    def calibration_remove_placement(index: str) -> Response:
        holder = _holder()
        with holder.lock:
            session = holder.session
            count = 0 if session is None else len(session.placements)
            if session is None or not index.isdigit() or int(index) >= count:
                raise ApiError(404, f"no placement {index} (there are {count})")
            session.remove_placement(int(index))
        return ok(state())

    @app.post("/api/calibration/fit")
    @auth.require("calibrate")
    def calibration_fit() -> Response:
        body = validated_body(FIT_FIELDS)
        holder = _holder()
        with holder.lock:
            session = holder.session
            if session is None or session.tare is None:
                raise ApiError(409, "tare the empty board first")
            try:
                fit = fit_gains(
                    session.placements,
                    session.tare.offsets_counts,
                    quadratic=False if body.get("linear") else None,
                    refine_geometry=bool(body.get("refine_geometry")),
                )
            except CalibrationFitRefused as exc:
                raise ApiError(409, str(exc)) from None
            session.set_fit(fit)
        return ok(state())

    @app.post("/api/calibration/save")
    @auth.require("calibrate")
    def calibration_save() -> Response:
        body = validated_body(SAVE_FIELDS)
        path = _save_path()
        if path is None:
            raise ApiError(409, "this station has no calibration file configured: use the CLI")
        current = _current_calibration()
        board = body.get("board") or (current.board if current else None) or path.stem
        holder = _holder()
        with holder.lock:
            session = holder.session
            if session is None or session.fit is None:
                raise ApiError(409, "fit the gains first")
            min_load = current.min_load_n if current else DEFAULT_MIN_LOAD_N
            cal = session.fit.to_calibration(board, min_load_n=min_load)
            _write(cal, path)
            session.set_saved(cal, str(path), _reload(path))
        return ok(state())

    @app.post("/api/calibration/verify")
    @auth.require("calibrate")
    def calibration_verify() -> Response:
        body = validated_body(VERIFY_FIELDS)
        holder = _holder()
        path = _save_path()
        with holder.lock:
            session = holder.session
            if session is not None and session.calibration is None:
                raise ApiError(409, "save the calibration first (or cancel to verify the "
                                    "station's current file)")
            if session is None:  # verify the station's file alone, like `calibrate --verify`
                if path is None:
                    raise ApiError(409, "this station has no calibration file configured")
                try:
                    cal = load_calibration(path)
                except CalibrationError as exc:
                    raise ApiError(409, f"nothing to verify: {exc}") from None
            else:
                cal = session.calibration
                path = Path(session.saved_path or "")
        counts = _capture()
        try:
            result = verify(cal, counts, body["mass_kg"], body["x_mm"], body["y_mm"])
        except MeasurementRefused as exc:
            raise ApiError(409, exc.reason) from None
        with holder.lock:
            record_verification(cal, result)
            _write(cal, path)
            message = _reload(path)
            if holder.session is not None and holder.session.calibration is cal:
                holder.session.verification = result
                holder.session.reload_message = message
        return ok({**state(), "verification": result.to_dict(), "message": message})

    @app.post("/api/calibration/cancel")
    @auth.require("calibrate")
    def calibration_cancel() -> Response:
        validated_body(EMPTY_FIELDS)
        holder = _holder()
        with holder.lock:
            holder.cancel()
        return ok(state())
