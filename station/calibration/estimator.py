"""Live estimator: raw counts -> cell forces, total force, centre of pressure.

Per frame (`Estimator.update`) the maths is done on plain Python floats: for
four numbers numpy's per-call overhead costs more than the arithmetic
(`estimator_cost` in bench/calibration_accuracy.py measures both; the float path is several
times faster). `estimate_block` is the vectorized twin for files and analysis
(station.calibration.conversion.force_and_cop, with the estimator's current offsets).

Live view filter: a causal 2nd-order Butterworth low-pass, 5 Hz cut-off at the
board's 80 Hz, run per frame on force and COP (DF-II transposed, two state
values per signal). 5 Hz keeps the quiet-stance sway band (< ~2 Hz) intact
while removing most of the HX711 noise; it lags ~30 ms at low frequency. The
`Sample` returned is always the raw (unfiltered) estimate; the filtered values
are in `Estimator.filtered`. Stored trials are filtered offline, zero-lag
(station.analysis.trace_files; Q21 in docs/references.md).

Four cells, one instant: the four HX711 convert at different instants (up to one period
apart, docs/cell-timing.md). A frame that says when (`Frame.cell_dt_ns`) has its counts
brought to one instant by `LiveAligner` before counts -> forces: each cell interpolated
between its previous and current conversion to the frame's oldest conversion, so the
values describe an instant up to one conversion period (12.5 ms) before the frame's t_ns,
which the Sample keeps as its time. Frames without offsets pass unchanged; an invalid frame
restarts the alignment (no interpolation across it).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from station.calibration.alignment import LiveAligner
from station.calibration.conversion import force_and_cop
from station.calibration.drift import AutoZero, AutoZeroSettings
from station.calibration.file import Calibration
from station.frames import Frame
from station.samples import Sample

LIVE_FILTER_ORDER = 2
LIVE_FILTER_CUTOFF_HZ = 5.0
DEFAULT_RATE_HZ = 80.0
NOT_CALIBRATED = "not calibrated"

_NAN = math.nan
_NAN4 = (_NAN, _NAN, _NAN, _NAN)


class Filtered(NamedTuple):
    """Low-passed live values (NaN while nobody is on the board or uncalibrated)."""

    force_n: float
    cop_x_mm: float
    cop_y_mm: float


class _Biquad:
    """One causal 2nd-order section on floats; restarts at steady state after a gap."""

    __slots__ = ("a1", "a2", "b0", "b1", "b2", "primed", "z1", "z2")

    def __init__(self, b: np.ndarray, a: np.ndarray) -> None:
        self.b0, self.b1, self.b2 = (float(v / a[0]) for v in b)
        self.a1, self.a2 = float(a[1] / a[0]), float(a[2] / a[0])
        self.z1 = self.z2 = 0.0
        self.primed = False

    def reset(self) -> None:
        self.primed = False

    def step(self, x: float) -> float:
        if not self.primed:
            # Steady state for a constant input x: no start-up transient from 0.
            self.z1 = x * (1.0 - self.b0)
            self.z2 = x * (self.b2 - self.a2)
            self.primed = True
        y = self.b0 * x + self.z1
        self.z1 = self.b1 * x - self.a1 * y + self.z2
        self.z2 = self.b2 * x - self.a2 * y
        return y


def live_filter_coefficients(rate_hz: float = DEFAULT_RATE_HZ) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of the live low-pass at `rate_hz`: scipy.signal.butter(2, 5, fs=rate_hz), in
    closed form (the bilinear transform with pre-warping), so the station's start does not
    import scipy.signal (~1 s and ~15 MB on a Pi; tests/test_estimator.py compares them)."""
    k = math.tan(math.pi * LIVE_FILTER_CUTOFF_HZ / rate_hz)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    b = np.array([b0, 2.0 * b0, b0])
    a = np.array([1.0, 2.0 * (k * k - 1.0) * norm, (1.0 - math.sqrt(2.0) * k + k * k) * norm])
    return b, a


class Estimator:
    """Calibrated per-frame estimates, a causal low-pass for display, optional auto-zero."""

    calibrated = True
    status = "calibrated"

    def __init__(
        self,
        calibration: Calibration,
        *,
        rate_hz: float = DEFAULT_RATE_HZ,
        auto_zero: AutoZeroSettings | bool | None = None,
    ) -> None:
        self.calibration = calibration
        self._k = tuple(float(v) for v in calibration.newtons_per_count)
        self._q = tuple(float(v) for v in calibration.quadratic_n_per_count2)
        self._x = tuple(float(v) for v in calibration.positions_mm[:, 0])
        self._y = tuple(float(v) for v in calibration.positions_mm[:, 1])
        self._min_load = float(calibration.min_load_n)
        self._o = tuple(float(v) for v in calibration.offsets_counts)
        self.aligner = LiveAligner()
        b, a = live_filter_coefficients(rate_hz)
        self._filters = (_Biquad(b, a), _Biquad(b, a), _Biquad(b, a))
        self.filtered = Filtered(_NAN, _NAN, _NAN)
        if auto_zero is True:
            auto_zero = AutoZeroSettings()
        self.auto_zero: AutoZero | None = (
            AutoZero(calibration, auto_zero, rate_hz=rate_hz) if auto_zero else None
        )

    @property
    def offsets_counts(self) -> tuple[float, ...]:
        return self._o

    def set_offsets(self, offsets: tuple[float, float, float, float]) -> None:
        """Use new zero offsets (tare or auto-zero) from the next frame on."""
        self._o = tuple(float(v) for v in offsets)

    def update(self, frame: Frame) -> Sample:
        """Estimate one frame, its cells aligned on their conversion instants. An invalid
        frame gives NaNs and touches no state but the alignment's (it starts afresh)."""
        t_s = frame.t_ns * 1e-9
        if frame.flags:
            self.aligner.reset()
            return Sample(t_s, _NAN, _NAN, _NAN, _NAN4)
        # Without offsets the counts come back as they are (and the aligner remembers them).
        c0, c1, c2, c3 = self.aligner.update(frame.t_ns, frame.counts, frame.cell_dt_ns)[1]
        o0, o1, o2, o3 = self._o
        k0, k1, k2, k3 = self._k
        q0, q1, q2, q3 = self._q
        d0, d1, d2, d3 = c0 - o0, c1 - o1, c2 - o2, c3 - o3
        f0 = (k0 + q0 * d0) * d0
        f1 = (k1 + q1 * d1) * d1
        f2 = (k2 + q2 * d2) * d2
        f3 = (k3 + q3 * d3) * d3
        total = f0 + f1 + f2 + f3
        fz, fx, fy = self._filters
        if total >= self._min_load:
            x0, x1, x2, x3 = self._x
            y0, y1, y2, y3 = self._y
            x = (f0 * x0 + f1 * x1 + f2 * x2 + f3 * x3) / total
            y = (f0 * y0 + f1 * y1 + f2 * y2 + f3 * y3) / total
            self.filtered = Filtered(fz.step(total), fx.step(x), fy.step(y))
        else:
            x = y = _NAN
            fz.reset()
            fx.reset()
            fy.reset()
            self.filtered = Filtered(_NAN, _NAN, _NAN)
        if self.auto_zero is not None:
            new = self.auto_zero.observe(c0, c1, c2, c3, total)
            if new is not None:
                self._o = new
        return Sample(t_s, total, x, y, (f0, f1, f2, f3))

    def estimate_block(
        self, t_s: np.ndarray, counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorized: (cell_forces (n, 4) N, total (n,) N, cop (n, 2) mm, NaN below min load).

        Uses the current offsets; no filtering, no auto-zero, no alignment (offline data:
        align the counts first with station.calibration.alignment.align_frames).
        """
        del t_s  # the estimate is per frame; the times ride along for the caller
        forces, total, cop = force_and_cop(self.calibration, counts, offsets_counts=self._o)
        return forces, total, cop


class UncalibratedEstimator:
    """Stand-in when no usable calibration exists: every value is NaN, status says why."""

    calibrated = False
    status = NOT_CALIBRATED
    calibration = None
    auto_zero = None
    offsets_counts = _NAN4  # no zero is known

    def __init__(self, reason: str = "no calibration file") -> None:
        self.reason = reason
        self.filtered = Filtered(_NAN, _NAN, _NAN)

    def update(self, frame: Frame) -> Sample:
        return Sample(frame.t_ns * 1e-9, _NAN, _NAN, _NAN, _NAN4)

    def estimate_block(
        self, t_s: np.ndarray, counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(np.asarray(counts))
        return np.full((n, 4), np.nan), np.full(n, np.nan), np.full((n, 2), np.nan)


def make_estimator(
    calibration: Calibration | None,
    reason: str | None = None,
    **kwargs: object,
) -> Estimator | UncalibratedEstimator:
    """An Estimator, or the uncalibrated stand-in (pair with try_load_calibration)."""
    if calibration is None:
        return UncalibratedEstimator(reason or "no calibration file")
    return Estimator(calibration, **kwargs)  # type: ignore[arg-type]
