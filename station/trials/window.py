"""A running window of recent samples: mean/std of force and mean COP in O(1) a frame.

The engine weighs the athlete and judges stillness on it before the hold; the push task
measures its COP baseline on it during the hold. Plain floats and a deque (no numpy):
it is updated on every frame in the station process.
"""

from __future__ import annotations

import math
from collections import deque


class RunningWindow:
    """Running mean/std of force and mean COP over the last `span_s` seconds (O(1) a frame)."""

    __slots__ = ("k", "n", "nc", "q", "sf", "sff", "span", "sx", "sy")

    def __init__(self, span_s: float) -> None:
        self.span = span_s
        self.q: deque[tuple[float, float, float, float, bool]] = deque()
        self.clear()

    def clear(self) -> None:
        self.q.clear()
        self.k = 0.0  # shift: sums are of (f - k) so the variance keeps its precision
        self.n = 0
        self.sf = self.sff = self.sx = self.sy = 0.0
        self.nc = 0

    def add(self, t: float, f: float, x: float, y: float) -> None:
        q = self.q
        if not q:
            self.k = f
        d = f - self.k
        has_cop = x == x and y == y  # not NaN
        q.append((t, d, x, y, has_cop))
        self.n += 1
        self.sf += d
        self.sff += d * d
        if has_cop:
            self.sx += x
            self.sy += y
            self.nc += 1
        limit = t - self.span
        while q[0][0] < limit:
            _, d0, x0, y0, h0 = q.popleft()
            self.n -= 1
            self.sf -= d0
            self.sff -= d0 * d0
            if h0:
                self.sx -= x0
                self.sy -= y0
                self.nc -= 1

    def resized(self, span_s: float) -> RunningWindow:
        """A window of another span holding the same recent samples (no warm-up gap)."""
        other = RunningWindow(span_s)
        for t, d, x, y, _ in self.q:
            other.add(t, d + self.k, x, y)
        return other

    @property
    def full(self) -> bool:
        q = self.q
        return bool(q) and q[-1][0] - q[0][0] >= 0.9 * self.span

    def mean_f(self) -> float:
        return self.k + self.sf / self.n

    def std_f(self) -> float:
        m = self.sf / self.n
        return math.sqrt(max(self.sff / self.n - m * m, 0.0))

    def mean_cop(self) -> tuple[float, float]:
        if self.nc == 0:
            return math.nan, math.nan
        return self.sx / self.nc, self.sy / self.nc
