"""The calibration in progress on the web page: one at a time, kept in the app's memory.

The board is one, so there is one session for the whole station (whoever has the
"calibrate" capability sees and continues it; it names who started it). It holds
what the CLI keeps in local variables between its prompts: the tare, the
placements, the fit, the saved file and the verification. The maths is
station.calibration.procedure's; this module only keeps the state and collects
frames from the runtime's history buffer (`capture_counts`).

A change upstream drops what was derived from it: a new tare or a changed
placement list drops the fit, the save and the verification, so the page can
never save a fit of placements that are no longer listed.

A placement must load the board (`check_placement_load`): a tap on "measure" before the
mass is down would otherwise be kept, and the fit would blame the wiring for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from station.calibration.conversion import cell_forces_from_counts
from station.calibration.file import Calibration
from station.calibration.procedure import (
    G,
    GainFit,
    MeasurementRefused,
    Placement,
    TareResult,
    Verification,
)

# Frames taken per step: the hand leaves the board in the first SETTLE_S (skipped), then
# CAPTURE_S are averaged (the CLI's default settles 1 s; a tap on a phone is quicker).
SETTLE_S = 0.5
CAPTURE_S = 2.0
# A board at 80 SPS that sends nothing for 1 s is not running: say so at once.
FIRST_FRAME_TIMEOUT_S = 1.0
CAPTURE_TIMEOUT_S = 5.0
POLL_S = 0.02
# A placement must change the counts by this many times the tare's noise (per-cell noise
# of at least NOISE_FLOOR_COUNTS, for boards that report none): ~0.04 kg on the simulated
# board, far below the 0.1 kg smallest mass; and, when a calibration is in force to judge
# by, weigh at least MIN_LOAD_SHARE of the mass entered (a 10x wrong calibration still
# passes a real placement; a wrong mass entered is the fit's to catch).
MIN_LOAD_NOISE_RATIO = 20.0
NOISE_FLOOR_COUNTS = 10.0
MIN_LOAD_SHARE = 0.1


class CaptureBusy(Exception):
    """Another request is measuring the board right now."""


def capture_counts(
    history: Any,
    *,
    settle_s: float = SETTLE_S,
    seconds: float = CAPTURE_S,
    first_frame_timeout_s: float = FIRST_FRAME_TIMEOUT_S,
    timeout_s: float = CAPTURE_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> np.ndarray:
    """Raw counts (n, 4) of the frames that arrive AFTER this call, settling skipped.

    Waits until the new frames span `settle_s + seconds` of board time (frame
    timestamps, so a 93 Hz chip simply gives more frames); refuses with a reason
    when the board sends nothing or too little within the time limits.
    """
    start = history.written
    began = clock()
    while True:
        new = history.written - start
        if new > 1:
            data = history.latest(min(new, len(history)))
            t = data["t_s"]
            if t[-1] - t[0] >= settle_s + seconds:
                keep = (t >= t[0] + settle_s) & (t <= t[0] + settle_s + seconds)
                return np.asarray(data["counts"][keep], dtype=float)
        waited = clock() - began
        if new == 0 and waited > first_frame_timeout_s:
            raise MeasurementRefused(
                f"no frames from the board for {first_frame_timeout_s:g} s: check the board "
                "on the status page"
            )
        if waited > timeout_s:
            raise MeasurementRefused(
                f"only {new} frames in {timeout_s:g} s: the board is stalling or dropping "
                "frames; check the status page"
            )
        sleep(POLL_S)


def check_placement_load(
    placement: Placement, tare: TareResult, reference: Calibration | None = None
) -> None:
    """Refuse (MeasurementRefused) a placement that barely loads the board beyond the tare:
    judged in kg with `reference` (the station's calibration) when there is one, and always
    against the tare's noise."""
    where = f"the mark at x={placement.x_mm:g}, y={placement.y_mm:g} mm"
    advice = f"put the {placement.mass_kg:g} kg mass on {where} and measure again"
    if reference is not None:
        forces = cell_forces_from_counts(
            placement.counts_mean, tare.offsets_counts, reference.newtons_per_count,
            reference.quadratic_n_per_count2,
        )
        kg = float(forces.sum()) / G
        if kg < MIN_LOAD_SHARE * placement.mass_kg:
            raise MeasurementRefused(
                f"the board carries {kg:.1f} kg more than at the tare, not the "
                f"{placement.mass_kg:g} kg entered: {advice}"
            )
    change = float(np.linalg.norm(placement.counts_mean - tare.offsets_counts))
    noise = float(np.linalg.norm(np.maximum(tare.std_counts, NOISE_FLOOR_COUNTS)))
    if change < MIN_LOAD_NOISE_RATIO * noise:
        raise MeasurementRefused(
            f"nothing was put on the board: its counts moved {change:.0f} from the tare's, "
            f"less than {MIN_LOAD_NOISE_RATIO:g} times their noise ({noise:.0f}): {advice}"
        )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _floats(values: np.ndarray, ndigits: int = 1) -> list[float]:
    return [round(float(v), ndigits) for v in values]


@dataclass
class CalibrationSession:
    """One calibration being made: tare -> placements -> fit -> save -> verify."""

    started_by: str | None
    started_at: datetime = field(default_factory=_now)
    tare: TareResult | None = None
    placements: list[Placement] = field(default_factory=list)
    fit: GainFit | None = None
    calibration: Calibration | None = None  # what was saved (with its verification)
    saved_path: str | None = None
    saved_at: datetime | None = None
    reload_message: str | None = None
    verification: Verification | None = None

    def set_tare(self, tare: TareResult) -> None:
        self.tare = tare
        self._drop_fit()

    def add_placement(self, placement: Placement) -> int:
        self.placements.append(placement)
        self._drop_fit()
        return len(self.placements) - 1

    def remove_placement(self, index: int) -> Placement:
        removed = self.placements.pop(index)
        self._drop_fit()
        return removed

    def set_fit(self, fit: GainFit) -> None:
        self._drop_fit()
        self.fit = fit

    def set_saved(self, calibration: Calibration, path: str, reload_message: str) -> None:
        self.calibration = calibration
        self.saved_path = path
        self.saved_at = _now()
        self.reload_message = reload_message

    def _drop_fit(self) -> None:
        self.fit = None
        self.calibration = None
        self.saved_path = self.saved_at = self.reload_message = None
        self.verification = None

    def next_step(self) -> str:
        if self.tare is None:
            return "tare"
        if self.fit is None:
            return "placements"
        if self.calibration is None:
            return "save"
        if self.verification is None:
            return "verify"
        return "done"

    def to_dict(self) -> dict[str, Any]:
        tare = None
        if self.tare is not None:
            tare = {
                "offsets_counts": _floats(self.tare.offsets_counts),
                "std_counts": _floats(self.tare.std_counts),
                "n_frames": self.tare.n_frames,
                "load_kg": None if self.tare.load_n is None else round(self.tare.load_n / G, 3),
            }
        fit = None
        if self.fit is not None:
            fit = {
                "newtons_per_count": [float(v) for v in self.fit.newtons_per_count],
                "quadratic_n_per_count2": [float(v) for v in self.fit.quadratic_n_per_count2],
                "positions": self.fit.per_position,
                "summary": self.fit.summary,
            }
        saved = None
        if self.calibration is not None:
            saved = {
                "path": self.saved_path,
                "at": self.saved_at,
                "board": self.calibration.board,
                "message": self.reload_message,
            }
        return {
            "started_by": self.started_by,
            "started_at": self.started_at,
            "next_step": self.next_step(),
            "tare": tare,
            "placements": [
                {
                    "index": i,
                    "mass_kg": p.mass_kg,
                    "x_mm": p.x_mm,
                    "y_mm": p.y_mm,
                    "n_frames": p.n_frames,
                    "counts_mean": _floats(p.counts_mean),
                }
                for i, p in enumerate(self.placements)
            ],
            "fit": fit,
            "saved": saved,
            "verification": None if self.verification is None else self.verification.to_dict(),
        }


class SessionHolder:
    """The one session of the app, a lock for its state and one for the board's frames."""

    def __init__(self) -> None:
        self.session: CalibrationSession | None = None
        self.lock = threading.RLock()
        self._capturing = threading.Lock()

    @property
    def capturing(self) -> bool:
        return self._capturing.locked()

    def capture(self, history: Any, **kwargs: Any) -> np.ndarray:
        """`capture_counts`, one request at a time (a second one is refused, not queued)."""
        if not self._capturing.acquire(blocking=False):
            raise CaptureBusy("the board is being measured for another step; wait a moment")
        try:
            return capture_counts(history, **kwargs)
        finally:
            self._capturing.release()

    def current_or_new(self, username: str | None) -> CalibrationSession:
        if self.session is None:
            self.session = CalibrationSession(started_by=username)
        return self.session

    def cancel(self) -> bool:
        had = self.session is not None
        self.session = None
        return had
