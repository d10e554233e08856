"""Smooth piecewise trajectories in time: the athlete's weight, COP base and sway gains.

Every action turns into "moves" (go from the current value to a target over a duration,
minimum-jerk shape, Flash & Hogan 1985). A track is a function of time, so a whole scenario
can be laid out first and then evaluated in one vectorized call, and a live board can
evaluate it one frame at a time with the same result.
"""

from __future__ import annotations

import bisect

import numpy as np


def min_jerk(s: np.ndarray) -> np.ndarray:
    """Minimum-jerk blend 0..1 for s in 0..1 (zero velocity and acceleration at both ends)."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)


class Track:
    """A scalar that moves between values with minimum-jerk transitions."""

    def __init__(self, initial: float = 0.0) -> None:
        self._initial = float(initial)
        self._start: list[float] = []
        self._dur: list[float] = []
        self._from: list[float] = []
        self._to: list[float] = []

    def value_at(self, t: float) -> float:
        i = bisect.bisect_right(self._start, t) - 1
        if i < 0:
            return self._initial
        d = self._dur[i]
        s = 1.0 if d <= 0 else min(max((t - self._start[i]) / d, 0.0), 1.0)
        blend = s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)
        return self._from[i] + (self._to[i] - self._from[i]) * blend

    def end_time(self) -> float:
        return self._start[-1] + self._dur[-1] if self._start else -np.inf

    def go(self, t: float, value: float, duration: float) -> None:
        """From time t, move from the current value to `value`; cancels planned later moves."""
        current = self.value_at(t)
        k = bisect.bisect_left(self._start, t)
        del self._start[k:], self._dur[k:], self._from[k:], self._to[k:]
        self._append(t, duration, current, value)

    def then(self, value: float, duration: float, pause: float = 0.0) -> None:
        """After the last planned move (plus `pause`), move on to `value`."""
        t = (self.end_time() if self._start else 0.0) + pause
        start_value = self._to[-1] if self._to else self._initial
        self._append(t, duration, start_value, value)

    def _append(self, t: float, duration: float, v0: float, v1: float) -> None:
        self._start.append(float(t))
        self._dur.append(max(float(duration), 0.0))
        self._from.append(float(v0))
        self._to.append(float(v1))

    def evaluate(self, t: np.ndarray) -> np.ndarray:
        """Values at the times t (vectorized)."""
        if t.size <= 4:  # a live board asks one frame at a time: scalar code is faster
            return np.array([self.value_at(x) for x in t.tolist()])
        if not self._start:
            return np.full(np.shape(t), self._initial)
        starts = np.asarray(self._start)
        i = np.searchsorted(starts, t, side="right") - 1
        j = np.maximum(i, 0)
        dur = np.asarray(self._dur)[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(dur > 0, (t - starts[j]) / np.where(dur > 0, dur, 1.0), 1.0)
        v0 = np.asarray(self._from)[j]
        v = v0 + (np.asarray(self._to)[j] - v0) * min_jerk(s)
        return np.where(i < 0, self._initial, v)

    def prune(self, before_t: float) -> None:
        """Forget moves fully replaced before `before_t` (keeps memory flat in endless demos)."""
        k = bisect.bisect_right(self._start, before_t) - 1
        if k > 0:  # moves before k no longer matter for any t >= before_t
            self._initial = self._from[k]
            del self._start[:k], self._dur[:k], self._from[:k], self._to[:k]
