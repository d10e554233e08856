"""The weight-shift task (biofeedback): follow a slowly moving target with the COP.

The target is station.protocols.games.weight_shift_at, timed from the hold start; the live
status carries it with the band, whether the COP is in the band and the running figures
(time in the band, RMS error), which the analysis recomputes from the frames with the same
target. Two-footed: like a two-footed hold, only a step-off ends the trial; time with the
weight off the board or without a COP counts as outside the band.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from station.protocols.games import GameSpec, weight_shift_at
from station.trials.tasks.base import Failure, HoldClock
from station.trials.tasks.hold import HoldDetector
from station.wire import json_safe

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.events import Event
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow


class WeightShiftDetector(HoldDetector):
    """Time in the band and the tracking error against the moving target."""

    def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
        super().__init__(spec, config)
        self.game = spec.game if spec.game is not None else GameSpec()
        self._band2 = self.game.band_mm ** 2
        self._prev_t: float | None = None
        self._prev_in = False
        self._prev_d2 = math.nan
        self._in_s = self._total_s = self._err_s = self._err_w = 0.0
        self._target = (0.0, 0.0)

    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        super().begin(clock, body_weight_n, window, out)
        self._target = weight_shift_at(0.0, self.game)

    def _path_ends(self) -> list[list[float]]:
        """The two far ends of the target's swing (a quarter and three quarters of a period)."""
        period = self.game.period_s
        return [list(weight_shift_at(0.75 * period, self.game)),
                list(weight_shift_at(0.25 * period, self.game))]

    def status(self, snapshot: dict[str, object]) -> None:
        game = self.game
        snapshot["game"] = json_safe({
            "task": "weight_shift", "axis": game.axis, "target_mm": list(self._target),
            "band_mm": game.band_mm, "in_band": self._prev_in, "pct_in_band": self.pct_in_band,
            "rms_error_mm": self.rms_error_mm, "period_s": game.period_s,
            "path_mm": self._path_ends(),
        }, 3)  # JSON-ready: NaN (no stance reference yet) is null

    def complete(self, t: float, detail: dict[str, object]) -> None:
        self._step(t, False, math.nan)
        detail["time_in_band_pct"] = self.pct_in_band
        detail["rms_error_mm"] = self.rms_error_mm

    @property
    def pct_in_band(self) -> float:
        return 100.0 * self._in_s / self._total_s if self._total_s > 0 else 0.0

    @property
    def rms_error_mm(self) -> float | None:
        return math.sqrt(self._err_s / self._err_w) if self._err_w > 0 else None

    def _step(self, t: float, inside: bool, d2: float) -> None:
        """Sample-and-hold: the interval since the last frame counts as that frame was."""
        if self._prev_t is not None:
            dt = t - self._prev_t
            self._total_s += dt
            if self._prev_in:
                self._in_s += dt
            if self._prev_d2 == self._prev_d2:
                self._err_s += dt * self._prev_d2
                self._err_w += dt
        self._prev_t, self._prev_in, self._prev_d2 = t, inside, d2

    def _cop(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        tx, ty = self._target = weight_shift_at(t - self._clock.start, self.game)
        dx = x - tx
        dy = y - ty
        d2 = dx * dx + dy * dy
        self._step(t, d2 <= self._band2, d2)
        return None  # two feet, moving the COP is the task: only a step-off fails

    def _while_down(self, t: float) -> None:
        self._step(t, False, math.nan)

    def _no_cop(self, t: float) -> None:
        self._step(t, False, math.nan)

    def outcome(self) -> dict[str, Any]:
        return {}
