"""The toe-taps task: on one leg, tap the free foot's toes on the floor in front to a beat.

A tap is a short dip of the board force (station.protocols.games: TAP_MIN_FRAC of body
weight for TAP_MIN_S..TAP_MAX_S): the toes take a little weight on the floor. A longer dip is
the foot put down, and the COP more than LOST_CONTROL_MM from the stance reference for
LOST_CONTROL_MIN_S, away from a tap, is balance lost between taps: both are `lost_control`
events (counted and shown, the trial goes on: losing control is what the count measures).
Stepping off the board ends it, as in every task. Each tap is a `tap` event with the
interval since the previous one; the analysis (station.analysis.metrics.toe_taps) counts
again from the frames with the same rules.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from station.protocols.games import (
    LOST_CONTROL_MIN_S,
    LOST_CONTROL_MM,
    TAP_MAX_S,
    TAP_MIN_FRAC,
    TAP_MIN_S,
    TAP_SETTLE_S,
    GameSpec,
)
from station.trials.events import Event
from station.trials.tasks.base import Failure, HoldClock
from station.trials.tasks.hold import HoldDetector
from station.wire import json_safe

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow


class ToeTapsDetector(HoldDetector):
    """Taps, their rhythm and lost control between them (`tap`, `lost_control` events)."""

    def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
        super().__init__(spec, config)
        self.game = spec.game if spec.game is not None else GameSpec()
        self._tap_n = math.nan
        self._off_t: float | None = None
        self._dip_t: float | None = None
        self._dip_latched = False
        self._near_until = -math.inf
        self._far_t: float | None = None
        self._far_latched = False
        self._last_tap: float | None = None
        self.taps = 0
        self.lost_control = 0
        self._last_t = 0.0

    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        super().begin(clock, body_weight_n, window, out)
        self._tap_n = body_weight_n * (1.0 - TAP_MIN_FRAC)

    def status(self, snapshot: dict[str, object]) -> None:
        interval = self.game.tap_interval_s
        since = self._last_t - self._clock.start
        snapshot["game"] = json_safe({
            "task": "toe_taps", "taps": self.taps, "lost_control": self.lost_control,
            "tap_interval_s": interval, "beat_phase": (since % interval) / interval,
            "in_tap": self._dip_t is not None, "centre_mm": [self._ref_x, self._ref_y],
            "radius_mm": LOST_CONTROL_MM,
        }, 3)  # JSON-ready: NaN (no stance reference yet) is null

    def complete(self, t: float, detail: dict[str, object]) -> None:
        detail["taps"] = self.taps
        detail["lost_control"] = self.lost_control

    def outcome(self) -> dict[str, Any]:
        return {}

    def sample(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        self._last_t = t
        if f < self._step_off_n:  # off the board: the end, as in every task
            if self._off_t is None:
                self._off_t = t
            elif t - self._off_t >= self.config.floor_touch_min_s:
                return self._fault("step_off", self._off_t, t, out)
        else:
            self._off_t = None
        if f < self._tap_n:  # the toes (or the foot) on the floor
            if self._dip_t is None:
                self._dip_t = t
            elif not self._dip_latched and t - self._dip_t > TAP_MAX_S:
                self._dip_latched = True
                self._lost(t, "foot_down", self._dip_t, out)
            self._far_t = None
            self._far_latched = False
            return None
        if self._dip_t is not None:
            length = t - self._dip_t
            if not self._dip_latched and length > TAP_MAX_S:
                self._lost(t, "foot_down", self._dip_t, out)
            elif not self._dip_latched and length >= TAP_MIN_S:
                self.taps += 1
                interval = None if self._last_tap is None else self._dip_t - self._last_tap
                self._last_tap = self._dip_t
                out.append(Event(t, "tap", {"taps": self.taps, "onset_t_s": self._dip_t,
                                            "interval_s": interval}))
            self._dip_t = None
            self._dip_latched = False
            self._near_until = t + TAP_SETTLE_S
        if x != x or y != y or t < self._near_until:
            self._far_t = None
            self._far_latched = False
            return None
        if math.hypot(x - self._ref_x, y - self._ref_y) <= LOST_CONTROL_MM:
            self._far_t = None
            self._far_latched = False
            return None
        if self._far_t is None:
            self._far_t = t
        if not self._far_latched and t - self._far_t >= LOST_CONTROL_MIN_S:
            self._far_latched = True
            self._lost(t, "cop_excursion", self._far_t, out)
        return None

    def _lost(self, t: float, why: str, onset: float, out: list[Event]) -> None:
        self.lost_control += 1
        out.append(Event(t, "lost_control", {"why": why, "onset_t_s": onset,
                                             "lost_control": self.lost_control}))
