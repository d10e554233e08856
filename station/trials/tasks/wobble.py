"""The wobble task: a hold on a wobble board, where the rim touching the platform is the failure.

On a wobble board the COP is the dome's contact point, not the foot: the single-leg foot-area
and board-touch checks mean nothing there, so this detector replaces them with the rim check
(station.wobble.profiles: the COP beyond the dome's reach plus a margin for RIM_MIN_FRAMES
frames, the rule the offline analysis uses too). Force drops keep their meaning (a foot to
the floor, a step off) and stay as in the hold task.

count_errors=True is the BESS-like count mode ("wobble_bess" in the task table): rim
contacts, floor touches and step-offs are errors counted once per refractory time (the BESS
counter's rules and caps) and the trial runs its duration. The status and the outcome carry
the count (bess_errors); the live status also carries the tilt by the straight-line rule
(the stored trial's tilt is rolled along the path, station.analysis.wobble).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from station.trials.events import Event
from station.trials.tasks.base import Failure, HoldClock
from station.trials.tasks.bess import BessCounter
from station.trials.tasks.hold import HoldDetector
from station.wobble import RIM_MIN_FRAMES, WobbleSetup, default_setup

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow

WOBBLE_ERROR_KINDS = ("rim_contact", "touch_down_floor", "touch_down_board", "step_off")
SIDES = ("right", "front-right", "front", "front-left", "left", "back-left", "back",
         "back-right")


class WobbleErrorCounter(BessCounter):
    """The BESS counter (refractory time, cap) over the wobble task's error kinds."""

    def __init__(self, refractory_s: float = 1.0, max_errors: int = 10) -> None:
        super().__init__(refractory_s, max_errors)
        self.by_kind = dict.fromkeys(WOBBLE_ERROR_KINDS, 0)


class WobbleDetector(HoldDetector):
    """Rim contacts (and force drops) on a wobble board; the rim fails the hold or counts."""

    def __init__(self, spec: TrialSpec, config: HoldConfig, *,
                 setup: WobbleSetup | None = None, count_errors: bool = False) -> None:
        super().__init__(spec, config)
        self.setup = setup = setup if setup is not None else default_setup()
        board = setup.board
        self.count_errors = count_errors
        self._lx, self._ly = (float(v) for v in setup.level_mm)
        self._radius = board.dome_radius_mm
        reach, margin = board.reach_mm, board.rim_margin_mm
        self._enter = reach + margin
        self._stay = reach + 0.5 * margin
        axis = board.rocking_axis
        self._axis = axis  # None: a dome (distance in the plane)
        self._deck_w = setup.deck_weight_n if setup.deck_tared else 0.0
        self._rim_t: float | None = None  # first frame of the current run beyond the reach
        self._rim_frames = 0
        self._rim_deep = False  # the run got beyond the full margin
        self._rim_latched = False  # this run was reported
        self._rim_dir = 0.0
        self._rim_peak = 0.0
        self._contacts = 0
        self._rim_s = 0.0
        self._tilt_ml = self._tilt_ap = math.nan
        self._counter: WobbleErrorCounter | None = None
        # the trial's target zone (a wobble drill: keep the tilt inside it), time in it
        self._target = spec.target_tilt_deg
        self._inside = False
        self._inside_s = 0.0
        self._last_t: float | None = None

    # ------------------------------------------------------------ the interface
    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        super().begin(clock, body_weight_n, window, out)
        if self.count_errors:
            cfg = self.config
            self._counter = WobbleErrorCounter(cfg.bess_refractory_s, cfg.bess_max_errors)

    def status(self, snapshot: dict[str, object]) -> None:
        snapshot["wobble"] = {
            # null before the hold (the live message is strict JSON: no NaN)
            "tilt_deg": ([self._tilt_ml, self._tilt_ap] if self._tilt_ml == self._tilt_ml
                         else [None, None]),
            "rim": self._rim_latched,
            "rim_contacts": self._contacts,
            "max_tilt_deg": self.setup.board.max_tilt_deg,
            "level_mm": [self._lx, self._ly],
            "mm_per_deg": self.setup.board.mm_per_deg,
            "board": self.setup.board.name,
        }
        if self._target is not None:
            elapsed = (self._last_t - self._clock.start) if self._last_t is not None else 0.0
            snapshot["wobble"].update(
                target_deg=self._target, inside=self._inside,
                in_target_pct=100.0 * self._inside_s / elapsed if elapsed > 0 else None)
        if self._counter is not None:
            snapshot["bess_errors"] = self._counter.count

    def complete(self, t: float, detail: dict[str, object]) -> None:
        self._end_run(t)
        detail["rim_contacts"] = self._contacts
        detail["rim_contact_s"] = self._rim_s
        if self._target is not None:
            elapsed = t - self._clock.start
            detail["wobble_time_in_target_pct"] = (100.0 * self._inside_s / elapsed
                                                   if elapsed > 0 else None)
        if self._counter is not None:
            detail["bess_errors"] = self._counter.count

    def outcome(self) -> dict[str, Any]:
        if not self.count_errors:
            return {}
        return {"bess_errors": self._counter.count if self._counter is not None else None}

    # ------------------------------------------------------- hooks of the hold task
    def _cop(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        w = self._deck_w
        if w:  # the zero was taken with the deck on: its weight acts at the level point
            x = (f * x + w * self._lx) / (f + w)
            y = (f * y + w * self._ly) / (f + w)
        dx = x - self._lx
        dy = y - self._ly
        axis = self._axis
        dist = math.hypot(dx, dy) if axis is None else abs(dx * axis[0] + dy * axis[1])
        k = 57.29577951308232 / self._radius  # degrees per mm of contact travel
        self._tilt_ml, self._tilt_ap = dx * k, dy * k
        if self._target is not None:  # sample-and-hold time inside the target zone
            if self._inside and self._last_t is not None:
                self._inside_s += t - self._last_t
            self._inside = math.hypot(dx, dy) * k <= self._target
            self._last_t = t
        if dist <= self._stay:
            self._end_run(t)
            return None
        if self._rim_t is None:
            self._rim_t = t
            self._rim_frames = 0
            self._rim_deep = False
            self._rim_peak = 0.0
            self._rim_dir = math.degrees(math.atan2(dy, dx))
        self._rim_frames += 1
        if dist > self._rim_peak:
            self._rim_peak = dist
        if dist > self._enter:
            self._rim_deep = True
        if self._rim_latched or not self._rim_deep or self._rim_frames < RIM_MIN_FRAMES:
            return None
        self._rim_latched = True
        self._contacts += 1
        side = SIDES[round(self._rim_dir / 45.0) % 8]
        return self._fault("rim_contact", self._rim_t, t, out, {
            "side": side, "direction_deg": self._rim_dir,
            "beyond_mm": self._rim_peak - self.setup.board.reach_mm,
        })

    def _fault(self, kind: str, onset: float, t: float, out: list[Event],
               extra: dict[str, Any] | None = None) -> Failure | None:
        if self._counter is None:
            return super()._fault(kind, onset, t, out, extra)
        onset = max(onset, self._clock.start)
        event = self._fault_event(kind, onset, t, extra)
        event.detail["counted"] = self._counter.record(kind, onset)
        event.detail["bess_errors"] = self._counter.count
        out.append(event)
        return None

    def _while_down(self, t: float) -> None:
        self._end_run(t)  # with the weight off the board the COP says nothing of the rim

    def _end_run(self, t: float) -> None:
        if self._rim_t is not None and self._rim_latched:
            self._rim_s += t - self._rim_t
        self._rim_t = None
        self._rim_latched = False
