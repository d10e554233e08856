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
from station.calibration.guided import CaptureBusy, SessionHolder, check_placement_load
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
from station.web.api import ApiError, Field, ok
from station.web.context import context
from station.web.routes import ApiRoutes, request_body

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


def _holder() -> SessionHolder:
    return current_app.extensions.setdefault("station_calibration", SessionHolder())


def _username() -> str | None:
    principal = auth.current_principal()
    return None if principal is None else principal.username


def _save_path() -> Path | None:
    path = context().calibration_path
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
        "can_reload": True,  # every Station reloads a saved file (kept for API clients)
    }


def _capture() -> Any:
    """Counts of the next ~2 s of frames; 409 with the reason when they cannot be had."""
    try:
        return _holder().capture(context().runtime.history)
    except CaptureBusy as exc:
        raise ApiError(409, str(exc)) from None
    except MeasurementRefused as exc:
        raise ApiError(409, exc.reason) from None


def _reload(path: Path) -> str:
    """Make the running station use the file; the sentence for the page."""
    problem = context().runtime.reload_calibration(path)
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

    api = ApiRoutes(app, tag="calibration")
    calibrators = ("calibrate",)

    @app.get("/calibrate")
    @auth.require("calibrate")
    def calibrate_page() -> str:
        return render_page("calibrate.html", title="Calibration", data=state())

    @api.route(
        "GET",
        "/api/calibration/session",
        summary="The calibration in progress (tare, placements, fit, save, verification), the "
        "default plan of masses and marks, and where the file is saved",
        needs=calibrators,
    )
    def calibration_session() -> Response:
        return ok(state())

    @api.route(
        "POST",
        "/api/calibration/tare",
        summary="Tare: average the next ~2 s of frames of the empty board (409: moving, not "
        "empty, no frames)",
        needs=calibrators,
        body=EMPTY_FIELDS,
    )
    def calibration_tare() -> Response:
        request_body()
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

    @api.route(
        "POST",
        "/api/calibration/placements",
        summary="Measure a known mass at a marked spot (~2 s of frames; 409: moving, not "
        "tared, nothing put on the board)",
        needs=calibrators,
        body=PLACEMENT_FIELDS,
    )
    def calibration_add_placement() -> Response:
        body = request_body()
        holder = _holder()
        with holder.lock:
            if holder.session is None or holder.session.tare is None:
                raise ApiError(409, "tare the empty board first")
            tared = holder.session.tare
        counts = _capture()
        try:
            placement = measure_placement(body["mass_kg"], body["x_mm"], body["y_mm"], counts)
            check_placement_load(placement, tared, reference=_current_calibration())
        except MeasurementRefused as exc:
            raise ApiError(409, exc.reason) from None
        with holder.lock:
            if holder.session is None:
                raise ApiError(409, "the calibration was cancelled while measuring")
            holder.session.add_placement(placement)
        return ok(state())

    @api.route(
        "DELETE",
        "/api/calibration/placements/<index>",
        summary="Remove a placement (0-based index); drops the fit",
        needs=calibrators,
    )
    def calibration_remove_placement(index: str) -> Response:
        holder = _holder()
        with holder.lock:
            session = holder.session
            count = 0 if session is None else len(session.placements)
            # ASCII digits only: "²".isdigit() is True, but int("²") fails
            if session is None or not (index.isascii() and index.isdigit()) or int(index) >= count:
                raise ApiError(404, f"no placement {index} (there are {count})")
            session.remove_placement(int(index))
        return ok(state())

    @api.route(
        "POST",
        "/api/calibration/fit",
        summary="Fit the gains from the placements; residuals per position (409: the fit is "
        "refused, with why)",
        needs=calibrators,
        body=FIT_FIELDS,
    )
    def calibration_fit() -> Response:
        body = request_body()
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

    @api.route(
        "POST",
        "/api/calibration/save",
        summary="Write the fitted calibration to the station's file (atomic) and reload the "
        "station's estimator",
        needs=calibrators,
        body=SAVE_FIELDS,
    )
    def calibration_save() -> Response:
        body = request_body()
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

    @api.route(
        "POST",
        "/api/calibration/verify",
        summary="Measure a known mass with the saved calibration (or, with no calibration in "
        "progress, the station's file) and store the result in the file",
        needs=calibrators,
        body=VERIFY_FIELDS,
    )
    def calibration_verify() -> Response:
        body = request_body()
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

    @api.route(
        "POST",
        "/api/calibration/cancel",
        summary="Drop the calibration in progress (the saved file stays)",
        needs=calibrators,
        body=EMPTY_FIELDS,
    )
    def calibration_cancel() -> Response:
        request_body()
        holder = _holder()
        with holder.lock:
            holder.cancel()
        return ok(state())
