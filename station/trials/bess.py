"""BESS error counting: the errors the board can see, counted once per refractory time.

The Balance Error Scoring System counts errors (touch-downs, steps, large sway)
during a 20 s trial rather than ending it; several errors at once count as
one, and a trial scores at most 10.
"""

from __future__ import annotations

from collections.abc import Iterable

BESS_ERROR_KINDS = ("touch_down_floor", "touch_down_board", "step_off", "excursion")


class BessCounter:
    """Counts errors of one trial, merging errors closer than `refractory_s`."""

    __slots__ = ("by_kind", "count", "last_t", "max_errors", "refractory_s")

    def __init__(self, refractory_s: float = 1.0, max_errors: int = 10) -> None:
        self.refractory_s = refractory_s
        self.max_errors = max_errors
        self.count = 0
        self.last_t = -1e300
        self.by_kind: dict[str, int] = dict.fromkeys(BESS_ERROR_KINDS, 0)

    def record(self, kind: str, t_s: float) -> bool:
        """Count an error at t_s; False when it merges with the previous one or the cap is hit."""
        if kind not in self.by_kind:
            raise ValueError(f"unknown BESS error {kind!r}; known: {', '.join(BESS_ERROR_KINDS)}")
        if t_s - self.last_t < self.refractory_s or self.count >= self.max_errors:
            return False
        self.last_t = t_s
        self.count += 1
        self.by_kind[kind] += 1
        return True


def bess_total(trial_errors: Iterable[int], max_per_trial: int = 10) -> int:
    """Total BESS score of a stance set: the sum of per-trial errors, each capped."""
    return sum(min(int(e), max_per_trial) for e in trial_errors)
