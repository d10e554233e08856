"""The BESS task: the errors the board can see, counted once per refractory time.

The Balance Error Scoring System counts errors (touch-downs, steps, large sway)
during a 20 s trial rather than ending it; several errors at once count as
one, and a trial scores at most 10. A trial in which the stance was held for less
than bess_min_stance_s in all scores the maximum. After a drop the stance reference is
measured again once the athlete is back on, since the foot may land elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from station.trials.events import Event
from station.trials.tasks.base import Failure, HoldClock, cop_scale
from station.trials.tasks.hold import HoldDetector

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow

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


class BessDetector(HoldDetector):
    """Counts the hold's faults and large excursions as errors; the trial runs its duration."""

    def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
        super().__init__(spec, config)
        self._excursion_mm = config.bess_excursion_mm * cop_scale(config, spec.surface)
        self._counter: BessCounter | None = None
        self._prev_t = 0.0
        self._off_s = 0.0  # time with the weight off the board (out of the stance)
        self._recapture_until: float | None = None  # re-measuring the stance reference
        self._rc_sx = self._rc_sy = 0.0
        self._rc_n = 0

    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        super().begin(clock, body_weight_n, window, out)
        cfg = self.config
        self._counter = BessCounter(cfg.bess_refractory_s, cfg.bess_max_errors)
        self._prev_t = clock.start

    def sample(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        if f < self._drop_n:
            self._off_s += t - self._prev_t  # out of the test stance
        self._prev_t = t
        return HoldDetector.sample(self, t, f, x, y, out)  # per frame: no super() object

    def status(self, snapshot: dict[str, object]) -> None:
        if self._counter is not None:
            snapshot["bess_errors"] = self._counter.count

    def complete(self, t: float, detail: dict[str, object]) -> None:
        counter = self._counter
        held = t - self._clock.start - self._off_s
        if held < self.config.bess_min_stance_s:
            counter.count = counter.max_errors
        detail["bess_errors"] = counter.count
        detail["stance_held_s"] = held

    def outcome(self) -> dict[str, Any]:
        return {"bess_errors": self._counter.count if self._counter is not None else None}

    def _cop(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        if self._recapture_until is not None:
            self._recapture(t, x, y)
            return None
        if self._single:
            self._board_touch(t, f, x, out)  # counted, never the end of the trial
        dx = x - self._ref_x
        dy = y - self._ref_y
        r = self._excursion_mm
        if self._persist_outside(dx * dx + dy * dy > r * r, t):
            self._fault("excursion", self._out_t, t, out, {"distance_mm": math.hypot(dx, dy)})
        return None

    def _fault(self, kind: str, onset: float, t: float, out: list[Event],
               extra: dict[str, float] | None = None) -> Failure | None:
        """An error: counted (errors within the refractory time are reported, counted=False)."""
        onset = max(onset, self._clock.start)
        event = self._fault_event(kind, onset, t, extra)
        event.detail["counted"] = self._counter.record(kind, onset)
        event.detail["bess_errors"] = self._counter.count
        out.append(event)
        return None

    def _while_down(self, t: float) -> None:
        if self._drop_latched:
            self._recapture_until = None  # re-measure the stance once back on
            self._reset_cop_checks()

    def _back_on(self, t: float) -> None:
        # the athlete may stand back on elsewhere: measure the stance reference again
        self._recapture_until = t + self.config.bess_recapture_s
        self._rc_sx = self._rc_sy = 0.0
        self._rc_n = 0
        self._reset_cop_checks()

    def _recapture(self, t: float, x: float, y: float) -> None:
        self._rc_sx += x
        self._rc_sy += y
        self._rc_n += 1
        if t >= self._recapture_until:
            self._ref_x = self._rc_sx / self._rc_n
            self._ref_y = self._rc_sy / self._rc_n
            self._recapture_until = None
