"""Zero drift: slow auto-zero of an empty, still board, and the warnings to recalibrate.

HX711 offsets wander with temperature (tens to hundreds of counts over a day).
Auto-zero follows that wander, but only when the board is clearly empty and
still, so it can never eat a person's weight:

- frames are taken in blocks of `block_s` (0.5 s); a block counts only when
  every frame's total force is within +-`empty_max_n` (5 N, ~0.5 kg; a person
  or even a small child is > 100 N) and the total's range in the block is below
  `still_max_n` (1 N; HX711 noise on the total is ~0.02 N);
- after `hold_s` (3 s) of such blocks, each further block moves the offsets a
  fraction block_s / `time_constant_s` (30 s time constant) toward its mean;
- any loaded frame (|total| >= empty_max_n) resets the block and the hold.

A small object left on the board (< 0.5 kg) is zeroed away over a minute or
two, like a scale's zero tracking; the drift warning then reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from station.calibration.file import Calibration

DEFAULT_MAX_AGE_DAYS = 180.0


@dataclass(frozen=True)
class AutoZeroSettings:
    empty_max_n: float = 5.0
    still_max_n: float = 1.0
    block_s: float = 0.5
    hold_s: float = 3.0
    time_constant_s: float = 30.0
    # Warn when a cell's zero has moved by more than this since calibration (N).
    drift_warn_n: float = 10.0


@dataclass(frozen=True)
class DriftStatus:
    drift_counts: np.ndarray  # (4,) current offsets - calibrated offsets
    drift_cell_n: np.ndarray  # (4,) the same in newtons (k_i * drift_i)
    drift_total_n: float
    warnings: list[str]


class AutoZero:
    """Tracks the zero offsets of an empty, still board (see module doc)."""

    def __init__(
        self,
        calibration: Calibration,
        settings: AutoZeroSettings | None = None,
        *,
        rate_hz: float = 80.0,
    ) -> None:
        self.settings = s = settings or AutoZeroSettings()
        self.calibration = calibration
        self.offsets: tuple[float, float, float, float] = tuple(  # type: ignore[assignment]
            float(v) for v in calibration.offsets_counts
        )
        self._block_n = max(1, round(s.block_s * rate_hz))
        self._alpha = min(1.0, s.block_s / s.time_constant_s)
        self._empty = s.empty_max_n
        self.updates = 0
        self._reset_block()
        self._still_s = 0.0

    def _reset_block(self) -> None:
        self._n = 0
        self._s0 = self._s1 = self._s2 = self._s3 = 0.0
        self._tmin = float("inf")
        self._tmax = float("-inf")

    def observe(
        self, c0: float, c1: float, c2: float, c3: float, total_n: float
    ) -> tuple[float, float, float, float] | None:
        """Feed one valid frame; returns new offsets when it moved them, else None."""
        if not -self._empty < total_n < self._empty:
            if self._n or self._still_s:
                self._reset_block()
                self._still_s = 0.0
            return None
        self._n += 1
        self._s0 += c0
        self._s1 += c1
        self._s2 += c2
        self._s3 += c3
        if total_n < self._tmin:
            self._tmin = total_n
        if total_n > self._tmax:
            self._tmax = total_n
        if self._n < self._block_n:
            return None
        return self._end_block()

    def _end_block(self) -> tuple[float, float, float, float] | None:
        n = self._n
        means = (self._s0 / n, self._s1 / n, self._s2 / n, self._s3 / n)
        still = self._tmax - self._tmin <= self.settings.still_max_n
        self._reset_block()
        if not still:
            self._still_s = 0.0
            return None
        self._still_s += self.settings.block_s
        if self._still_s < self.settings.hold_s:
            return None
        a = self._alpha
        self.offsets = tuple(  # type: ignore[assignment]
            o + a * (m - o) for o, m in zip(self.offsets, means, strict=True)
        )
        self.updates += 1
        return self.offsets

    def status(self) -> DriftStatus:
        """Drift since calibration, and a warning when it is large."""
        drift = np.asarray(self.offsets) - self.calibration.offsets_counts
        cell_n = drift * self.calibration.newtons_per_count
        warnings = []
        worst = int(np.argmax(np.abs(cell_n)))
        if abs(cell_n[worst]) > self.settings.drift_warn_n:
            warnings.append(
                f"zero has moved {cell_n[worst]:+.1f} N on cell {worst} "
                f"({self.calibration.names[worst]}) since calibration "
                f"(limit {self.settings.drift_warn_n:g} N): check the board and recalibrate"
            )
        return DriftStatus(drift, cell_n, float(cell_n.sum()), warnings)


def calibration_warnings(
    calibration: Calibration,
    *,
    now: datetime | None = None,
    max_age_days: float = DEFAULT_MAX_AGE_DAYS,
    auto_zero: AutoZero | None = None,
) -> list[str]:
    """Everything the operator should know about the calibration's health."""
    out = []
    age = calibration.age_days(now)
    if age > max_age_days:
        out.append(
            f"calibration is {age:.0f} days old (limit {max_age_days:g} days): recalibrate"
        )
    if auto_zero is not None:
        out.extend(auto_zero.status().warnings)
    return out
