"""The hold task (time to failure): the stance checks every other task builds on.

A hold ends at the first failure: a force drop (a foot on the floor, or off the board),
and on one leg a touch of the free foot on the board or the COP leaving the foot area.
Other tasks subclass HoldDetector and change its hooks: what a fault does (`_fault`),
the COP checks (`_cop`), and what happens while the weight is off the board
(`_while_down`, `_back_on`, `_no_cop`). docs/hold-engine.md gives every threshold.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

from station.trials.events import Event
from station.trials.tasks.base import Failure, HoldClock, cop_scale

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow


class HoldDetector:
    """Force drops, board touches and the foot area; every fault fails the trial."""

    def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
        self.spec = spec
        self.config = config
        self._side = spec.stance_side  # -1 left foot, +1 right foot, 0 two feet
        self._single = self._side != 0
        scale = cop_scale(config, spec.surface)
        self._jump_mm = config.board_touch_jump_mm * scale
        self._half_w = config.foot_half_width_mm * scale
        self._half_l = config.foot_half_length_mm * scale
        self._clock = HoldClock(0.0, spec.duration_s)  # the engine's clock from begin()
        self._bw = math.nan
        self._drop_n = self._step_off_n = self._touch_tol_n = math.nan
        self._drop_t: float | None = None  # first frame of the current force drop
        self._drop_min = math.inf
        self._drop_latched = False  # this drop was already reported
        self._max_q: deque[tuple[float, float]] = deque()  # (t, u) decreasing u: window max
        # (onset_t, level, trigger_t, counted): a COP jump waiting to last board_touch_min_s
        self._board_pending: tuple[float, float, float, bool] | None = None
        self._out_t: float | None = None  # first frame outside the foot area / circle
        self._out_latched = False
        self._ref_x = self._ref_y = math.nan  # the stance reference (centre of the foot area)

    # ------------------------------------------------------------ the interface
    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        """The stance reference is the mean COP of the last steady window before the hold."""
        cfg = self.config
        bw = body_weight_n
        self._clock = clock
        self._bw = bw
        self._drop_n = bw * (1.0 - cfg.floor_drop_frac)
        self._step_off_n = bw * cfg.step_off_frac
        self._touch_tol_n = cfg.board_touch_force_tol_frac * bw
        self._ref_x, self._ref_y = window.mean_cop()

    def sample(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        if f < self._drop_n:  # a force drop: floor touch-down or step-off (every task)
            return self._force_down(t, f, out)
        if self._drop_t is not None:
            failure = self._force_back(t, out)
            if failure is not None:
                return failure
        if x != x or y != y:  # no COP (NaN)
            self._no_cop(t)
            return None
        return self._cop(t, f, x, y, out)

    def status(self, snapshot: dict[str, object]) -> None:
        return None

    def complete(self, t: float, detail: dict[str, object]) -> None:
        return None

    def outcome(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------- hooks for the tasks
    def _cop(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        """A frame with the weight on the board and a COP: the single-leg COP checks."""
        if not self._single:
            return None  # two-footed stances fail only by stepping off
        failure = self._board_touch(t, f, x, out)
        if failure is not None:
            return failure
        dx = x - self._ref_x
        dy = y - self._ref_y
        outside = abs(dx) > self._half_w or abs(dy) > self._half_l
        if self._persist_outside(outside, t):
            return self._fault("cop_left_foot_area", self._out_t, t, out,
                               {"dx_mm": dx, "dy_mm": dy})
        return None

    def _fault(self, kind: str, onset: float, t: float, out: list[Event],
               extra: dict[str, float] | None = None) -> Failure | None:
        """A fault was seen: report it; a hold fails (other tasks count or only report)."""
        onset = max(onset, self._clock.start)
        out.append(self._fault_event(kind, onset, t, extra))
        return Failure(kind, onset)

    def _while_down(self, t: float) -> None:
        """A frame with the weight off the board (COP checks are meaningless then)."""

    def _back_on(self, t: float) -> None:
        """The weight is back on the board after a reported drop."""

    def _no_cop(self, t: float) -> None:
        """A frame with the weight on the board but no COP."""

    # ------------------------------------------------------------ the checks
    def _force_down(self, t: float, f: float, out: list[Event]) -> Failure | None:
        cfg = self.config
        if self._drop_t is None:
            self._drop_t = t
            self._drop_min = f
        elif f < self._drop_min:
            self._drop_min = f
        if not self._drop_latched:
            held = t - self._drop_t
            if held >= cfg.floor_touch_min_s:
                if self._drop_min < self._step_off_n:
                    failure = self._fault("step_off", self._drop_t, t, out)
                    if failure is not None:
                        return failure
                    self._drop_latched = True
                elif held >= cfg.floor_touch_min_s + cfg.step_off_confirm_s:
                    failure = self._fault(self._touch_kind(), self._drop_t, t, out)
                    if failure is not None:
                        return failure
                    self._drop_latched = True
        self._while_down(t)
        return None

    def _force_back(self, t: float, out: list[Event]) -> Failure | None:
        drop_t = self._drop_t
        latched = self._drop_latched
        self._drop_t = None
        self._drop_latched = False
        if not latched and t - drop_t >= self.config.floor_touch_min_s:
            failure = self._fault(self._touch_kind(), drop_t, t, out)
            if failure is not None:
                return failure
            latched = True
        if latched:
            self._back_on(t)
        return None

    def _touch_kind(self) -> str:
        # Two-footed stances: a foot leaving the board is a step (the issue: failure by step-off).
        return "touch_down_floor" if self._single else "step_off"

    def _persist_outside(self, outside: bool, t: float) -> bool:
        """True once the COP has been outside for cop_out_min_s (once per exit)."""
        if not outside:
            self._out_t = None
            self._out_latched = False
            return False
        if self._out_t is None:
            self._out_t = t
        if self._out_latched or t - self._out_t < self.config.cop_out_min_s:
            return False
        self._out_latched = True
        return True

    def _board_touch(self, t: float, f: float, x: float, out: list[Event]) -> Failure | None:
        """Touch-down on the board: the COP jumps back toward the midline, weight stays on.

        Tracks the recent max of u (COP toward the stance side) in a monotone deque.
        """
        cfg = self.config
        u = self._side * x
        q = self._max_q
        while q and q[-1][1] <= u:
            q.pop()
        q.append((t, u))
        limit = t - cfg.board_touch_window_s
        while q[0][0] < limit:
            q.popleft()
        pending = self._board_pending
        if pending is None:
            onset_t, umax = q[0]
            if umax - u > self._jump_mm and abs(f - self._bw) <= self._touch_tol_n:
                pending = (onset_t, umax - 0.5 * self._jump_mm, t, False)
                self._board_pending = pending
            else:
                return None
        onset_t, level, trig_t, counted = pending
        if u > level:  # came back: a wobble (or the end of a counted touch)
            self._board_pending = None
            return None
        if not counted and t - trig_t >= cfg.board_touch_min_s:
            self._board_pending = (onset_t, level, trig_t, True)  # once per touch
            return self._fault("touch_down_board", onset_t, t, out)
        return None

    def _reset_cop_checks(self) -> None:
        """Forget the COP checks' history (the stance may be taken again elsewhere)."""
        self._out_t = None
        self._out_latched = False
        self._board_pending = None
        self._max_q.clear()

    @staticmethod
    def _fault_event(kind: str, onset: float, t: float,
                     extra: dict[str, float] | None) -> Event:
        detail: dict[str, object] = {"onset_t_s": onset}
        if extra:
            detail.update(extra)
        if kind.startswith("touch_down"):
            detail["surface"] = kind.removeprefix("touch_down_")
            return Event(t, "touch_down", detail)
        return Event(t, kind, detail)
