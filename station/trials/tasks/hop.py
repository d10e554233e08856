"""The hop task: hop in place on the stance foot, land, and hold from the landing.

After the countdown the detector waits for the flight (force under hop_flight_frac BW),
confirms the landing once the force is back over hop_landing_frac BW, and dates it to
the first contact (over hop_contact_frac BW). The hold, and TTS, are timed from that
landing; for hop_settle_s only a step-off counts while the landing peak rings down, and
the foot reference is the mean COP over that time. Then the trial is a hold.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from station.trials.events import Event
from station.trials.tasks.base import Failure, HoldClock
from station.trials.tasks.hold import HoldDetector

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow

# Phases of a hop trial inside HOLDING.
_AWAIT_HOP, _FLIGHT, _SETTLE, _HOLD = 0, 1, 2, 3


class HopDetector(HoldDetector):
    """Flight, landing and settling, then the hold's checks (`flight`, `landing` events)."""

    def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
        super().__init__(spec, config)
        self._phase = _HOLD  # _AWAIT_HOP from begin()
        self._flight_t = 0.0
        self._contact_t: float | None = None
        self._landing_t: float | None = None
        self._settle_drop_t: float | None = None
        self._settle_sx = self._settle_sy = 0.0
        self._settle_n = 0
        self._flight_n = self._contact_n = self._landing_n = math.nan
        self._hold_s = spec.duration_s

    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        super().begin(clock, body_weight_n, window, out)
        cfg = self.config
        bw = body_weight_n
        self._flight_n = bw * cfg.hop_flight_frac
        self._contact_n = bw * cfg.hop_contact_frac
        self._landing_n = bw * cfg.hop_landing_frac
        self._phase = _AWAIT_HOP
        self._hold_s = clock.duration_s
        clock.duration_s = math.inf  # the hold runs its duration once the landing settled

    def sample(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        if self._phase != _HOLD:
            return self._before_hold(t, f, x, y, out)
        return HoldDetector.sample(self, t, f, x, y, out)  # per frame: no super() object

    def status(self, snapshot: dict[str, object]) -> None:
        snapshot["landing_t_s"] = self._landing_t

    def outcome(self) -> dict[str, Any]:
        return {"landing_t_s": self._landing_t}

    def _before_hold(self, t: float, f: float, x: float, y: float,
                     out: list[Event]) -> Failure | None:
        cfg = self.config
        clock = self._clock
        phase = self._phase
        if phase == _AWAIT_HOP:
            if f < self._flight_n:
                self._flight_t = t
                self._contact_t = None
                self._phase = _FLIGHT
                out.append(Event(t, "flight", {}))
            elif t - clock.start >= cfg.hop_wait_s:
                return Failure("no_hop", t)
        elif phase == _FLIGHT:
            if f < self._contact_n:
                self._contact_t = None
            elif self._contact_t is None:
                self._contact_t = t  # first contact: TTS time zero if this becomes a landing
            if f >= self._landing_n:
                landing = self._contact_t if self._contact_t is not None else t
                flight = landing - self._flight_t
                if flight < cfg.hop_min_flight_s:
                    self._phase = _AWAIT_HOP  # a force wobble, not a hop
                    return None
                self._landing_t = landing
                clock.start = landing  # the hold (and TTS) is timed from first contact
                self._phase = _SETTLE
                self._settle_sx = self._settle_sy = 0.0
                self._settle_n = 0
                out.append(Event(t, "landing", {"flight_s": flight}))
            elif t - self._flight_t > cfg.hop_max_flight_s:
                return Failure("step_off", self._flight_t)
        else:  # _SETTLE: only a step-off counts while the landing rings down
            if f < self._step_off_n:
                if self._settle_drop_t is None:
                    self._settle_drop_t = t
                elif t - self._settle_drop_t >= cfg.floor_touch_min_s:
                    return Failure("step_off", self._settle_drop_t)
            else:
                self._settle_drop_t = None
            if x == x and y == y:
                self._settle_sx += x
                self._settle_sy += y
                self._settle_n += 1
            if t - self._landing_t >= cfg.hop_settle_s:
                self._phase = _HOLD
                clock.duration_s = self._hold_s
                if self._settle_n:
                    self._ref_x = self._settle_sx / self._settle_n
                    self._ref_y = self._settle_sy / self._settle_n
        return None
