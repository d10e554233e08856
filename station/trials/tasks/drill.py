"""The drill task (biofeedback): the time the COP spends inside a target circle.

The target (the trial's target_radius_mm, scaled by the athlete's limits of stability when
the trial carries them: station.protocols.games.drill_radius_mm) is centred on the stance
reference for a single-leg drill and on the board centre for a two-footed one. A drill ends
early only on a step-off; touch-downs are reported, and time with the weight off the board
or without a COP counts as outside.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from station.protocols.games import drill_radius_mm
from station.trials.events import Event
from station.trials.tasks.base import Failure, HoldClock
from station.trials.tasks.hold import HoldDetector

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow

DEFAULT_RADIUS_MM = 20.0  # a drill spec always has a radius (the loader insists); a fallback


class TargetTracker:
    """Accumulates time inside a circle and reports crossings (with hysteresis).

    Time in target is sample-and-hold: the interval to the next frame counts as
    inside when this frame is inside the exact radius. Crossing events need a
    crossing `hysteresis_mm` deep so noise at the rim does not flood the live view.
    """

    __slots__ = ("_h", "_prev_in", "_prev_t", "_r2", "cx", "cy", "inside", "radius",
                 "time_in_s", "time_total_s")

    def __init__(self, cx_mm: float, cy_mm: float, radius_mm: float,
                 hysteresis_mm: float = 2.0) -> None:
        if not radius_mm > 0:
            raise ValueError(f"target radius must be positive, got {radius_mm!r}")
        self.cx = cx_mm
        self.cy = cy_mm
        self.radius = radius_mm
        self._r2 = radius_mm * radius_mm
        self._h = hysteresis_mm
        self.inside: bool | None = None  # the hysteretic state shown to the athlete
        self._prev_in = False
        self._prev_t: float | None = None
        self.time_in_s = 0.0
        self.time_total_s = 0.0

    def update(self, t_s: float, x_mm: float, y_mm: float) -> str | None:
        """Feed one valid COP; returns 'target_entered' / 'target_left' on a crossing."""
        if self._prev_t is not None:
            dt = t_s - self._prev_t
            self.time_total_s += dt
            if self._prev_in:
                self.time_in_s += dt
        self._prev_t = t_s
        dx = x_mm - self.cx
        dy = y_mm - self.cy
        d2 = dx * dx + dy * dy
        self._prev_in = d2 <= self._r2
        if self.inside is None:
            self.inside = self._prev_in
            return "target_entered" if self.inside else "target_left"
        if self.inside:
            r = self.radius + self._h
            if d2 > r * r:
                self.inside = False
                return "target_left"
        else:
            r = self.radius - self._h
            if r > 0 and d2 < r * r:
                self.inside = True
                return "target_entered"
        return None

    def distance_mm(self, x_mm: float, y_mm: float) -> float:
        return math.hypot(x_mm - self.cx, y_mm - self.cy)

    def skip(self, t_s: float) -> None:
        """A frame without a COP (board nearly empty): counts as outside the target."""
        if self._prev_t is not None:
            dt = t_s - self._prev_t
            self.time_total_s += dt
            if self._prev_in:
                self.time_in_s += dt
        self._prev_t = t_s
        self._prev_in = False

    @property
    def percent_in_target(self) -> float:
        if self.time_total_s <= 0:
            return 0.0
        return 100.0 * self.time_in_s / self.time_total_s


class DrillDetector(HoldDetector):
    """Time in target and crossings (`target`, `target_entered`, `target_left` events)."""

    def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
        super().__init__(spec, config)
        self._target: TargetTracker | None = None

    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        super().begin(clock, body_weight_n, window, out)
        rx, ry = self._ref_x, self._ref_y
        cx, cy = (rx, ry) if self._single and rx == rx else (0.0, 0.0)
        game = self.spec.game
        radius = drill_radius_mm(float(self.spec.target_radius_mm or DEFAULT_RADIUS_MM),
                                 game.envelope_mm if game is not None else None)
        self._target = TargetTracker(cx, cy, radius, self.config.drill_hysteresis_mm)
        out.append(Event(clock.start, "target", {"x_mm": cx, "y_mm": cy, "radius_mm": radius}))

    def status(self, snapshot: dict[str, object]) -> None:
        tgt = self._target
        if tgt is not None:
            snapshot["target"] = {"x_mm": tgt.cx, "y_mm": tgt.cy, "radius_mm": tgt.radius,
                                  "inside": tgt.inside, "pct": tgt.percent_in_target}

    def complete(self, t: float, detail: dict[str, object]) -> None:
        detail["drill_time_in_target_pct"] = self._target.percent_in_target

    def outcome(self) -> dict[str, Any]:
        tgt = self._target
        return {"drill_time_in_target_pct": tgt.percent_in_target if tgt is not None else None}

    def _cop(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        tgt = self._target
        crossing = tgt.update(t, x, y)
        if crossing is not None:
            out.append(Event(t, crossing, {"distance_mm": tgt.distance_mm(x, y)}))
        return None  # no touch or foot-area checks: moving the COP is the task

    def _fault(self, kind: str, onset: float, t: float, out: list[Event],
               extra: dict[str, float] | None = None) -> Failure | None:
        if kind == "step_off":
            return super()._fault(kind, onset, t, out, extra)
        out.append(self._fault_event(kind, max(onset, self._clock.start), t, extra))
        return None  # a drill only ends on a step-off; touch-downs are reported

    def _while_down(self, t: float) -> None:
        self._target.skip(t)  # weight off the board: not in the target

    def _no_cop(self, t: float) -> None:
        self._target.skip(t)
