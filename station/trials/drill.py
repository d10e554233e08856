"""Biofeedback drill: time the COP spends inside the target circle."""

from __future__ import annotations

import math


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
