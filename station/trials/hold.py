"""The real-time hold engine: one state machine per trial, fed one Sample per frame.

    EMPTY -> ON_BOARD (body weight measured while still) -> READY -> COUNTDOWN
          -> HOLDING -> COMPLETE | FAILED          (ABORTED from anywhere)

This is the core every task shares: the states, the weighing, the readiness, the
countdown and the hold clock. While HOLDING each frame goes to the trial's task
detector (station/trials/tasks/: hold, push, hop, drill, BESS), which reports the
task's events and says when the trial fails. Everything per frame is plain-float
arithmetic on a few running sums and short deques (no numpy): the engine runs in the
station process for every frame at 80-93 Hz next to the web server, so it must cost
microseconds. Thresholds live in HoldConfig; docs/hold-engine.md explains each state,
event and threshold.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from station.protocols.model import BESS_KIND, Protocol, TrialSpec
from station.samples import Sample
from station.trials.events import TERMINAL_STATES, Event, State, TrialOutcome
from station.trials.tasks import HoldClock, detector_for
from station.trials.thresholds import HoldConfig
from station.trials.window import RunningWindow

if TYPE_CHECKING:
    from station.wobble import WobbleSetup

_Window = RunningWindow  # its name here before it had a module (tests/test_hold_engine.py)


class HoldEngine:
    """Runs one trial of `spec` from a stream of Samples.

    operator_start=True: the countdown starts only when `start()` is called (the
    operator judges readiness); otherwise it starts by itself once the athlete is
    ready. bess=True: touch-downs, step-offs and large excursions are counted as
    BESS errors and the trial always runs its full duration (the "bess" detector).
    wobble_setup: the station's wobble board and level point for wobble trials (None: the
    default preset, level at the centre).
    `update()` returns the events of that frame (usually none).
    """

    def __init__(
        self,
        spec: TrialSpec,
        config: HoldConfig | None = None,
        *,
        operator_start: bool = False,
        bess: bool = False,
        wobble_setup: WobbleSetup | None = None,
    ) -> None:
        self.spec = spec
        self.config = config = config if config is not None else HoldConfig()
        config.check()
        self.operator_start = operator_start
        self._detector = detector_for(spec, config, bess=bess, wobble_setup=wobble_setup)
        self._state = State.EMPTY
        self._events: list[Event] = []
        self._result: TrialOutcome | None = None
        self._window = RunningWindow(config.steady_window_s)
        self._side = spec.stance_side  # -1 left foot, +1 right foot, 0 two feet
        # On a wobble board the COP is the dome's contact point, not the foot, so the
        # single-leg "COP over the stance foot" readiness check does not apply there.
        self._single = self._side != 0 and not on_wobble_board(spec)
        self._start_requested = False
        self._last_t = -math.inf
        self._last_valid_t: float | None = None
        self._invalid = 0
        self._bw: float | None = None
        self._ready_since: float | None = None
        self._countdown_end = 0.0
        self._tick = 0
        self._clock: HoldClock | None = None  # from the first frame of the hold
        self._hold_end: float | None = None

    # ----------------------------------------------------------------- public API
    @property
    def state(self) -> State:
        return self._state

    @property
    def body_weight_n(self) -> float | None:
        return self._bw

    @property
    def result(self) -> TrialOutcome | None:
        """The outcome once the trial is COMPLETE, FAILED or ABORTED; None before."""
        return self._result

    @property
    def events(self) -> list[Event]:
        """Every event so far, in order."""
        return self._events

    @property
    def _hold_start(self) -> float | None:
        clock = self._clock
        return clock.start if clock is not None else None

    def status(self) -> dict[str, object]:
        """A JSON-ready snapshot for the live view (call at display rate, not per frame)."""
        t = self._last_t if math.isfinite(self._last_t) else None
        start = self._hold_start
        state = self._state
        elapsed = None
        if start is not None and t is not None:
            end = self._hold_end if state.terminal and self._hold_end is not None else t
            elapsed = max(0.0, end - start)
        snapshot: dict[str, object] = {
            "trial_id": self.spec.id,
            "state": state.value,
            "t_s": t,
            "body_weight_n": self._bw,
            "hold_elapsed_s": elapsed,
            "hold_remaining_s": (max(0.0, self.spec.duration_s - elapsed)
                                 if elapsed is not None else None),
            "countdown_remaining_s": (max(0.0, self._countdown_end - t)
                                      if state is State.COUNTDOWN and t is not None else None),
        }
        self._detector.status(snapshot)
        return snapshot

    def start(self) -> list[Event]:
        """The operator pressed start: count down now (or as soon as the weight is measured)."""
        if self._state in TERMINAL_STATES or self._state in (State.COUNTDOWN, State.HOLDING):
            return []
        if self._bw is None or self._state is State.EMPTY:
            self._start_requested = True
            return []
        out: list[Event] = []
        self._begin_countdown(self._last_t, out)
        return self._emit(out)

    def abort(self) -> list[Event]:
        """Stop the trial now (operator abort); the outcome is neither complete nor failed."""
        if self._state in TERMINAL_STATES:
            return []
        t = self._last_t if math.isfinite(self._last_t) else 0.0
        out: list[Event] = []
        self._set_state(State.ABORTED, t, out)
        out.append(Event(t, "trial_aborted", {}))
        self._finish(t, completed=False, reason=None, onset=None, out=out)
        return self._emit(out)

    def update(self, sample: Sample) -> list[Event]:
        """Feed one frame; returns the events it caused. Invalid frames are counted and skipped."""
        state = self._state
        if state in TERMINAL_STATES:
            return []
        t = sample.t_s
        f = sample.force_n
        if f != f or t <= self._last_t:  # NaN force (uncalibrated) or time going backwards
            self._invalid += 1
            return []
        self._last_t = t
        out: list[Event] = []
        last_valid = self._last_valid_t
        if last_valid is not None and t - last_valid > self.config.max_gap_s:
            out.append(Event(t, "signal_gap", {"gap_s": t - last_valid}))
        self._last_valid_t = t
        if state is State.HOLDING:
            clock = self._clock
            if t - clock.start >= clock.duration_s:
                self._complete(t, out)
            else:
                failure = self._detector.sample(t, f, sample.cop_x_mm, sample.cop_y_mm, out)
                if failure is not None:
                    self._fail(failure.reason, failure.onset_t_s, t, out)
        else:
            self._before_hold(state, t, f, sample.cop_x_mm, sample.cop_y_mm, out)
        if out:
            self._events.extend(out)
        return out

    # ----------------------------------------------------------- before the hold
    def _before_hold(self, state: State, t: float, f: float, x: float, y: float,
                     out: list[Event]) -> None:
        cfg = self.config
        win = self._window
        if f < cfg.on_board_min_n:
            if state is not State.EMPTY:
                if state is State.COUNTDOWN:
                    out.append(Event(t, "countdown_cancelled", {"why": "board empty"}))
                self._set_state(State.EMPTY, t, out)
                self._bw = None  # the next person on the board is weighed afresh
                self._ready_since = None
                win.clear()
            return
        win.add(t, f, x, y)
        if state is State.EMPTY:
            self._set_state(State.ON_BOARD, t, out)
            return
        if state is State.COUNTDOWN:
            self._countdown(t, out)
            return
        steady = self._steady()
        if steady:
            mean_f = win.mean_f()
            bw = self._bw
            if bw is None or abs(mean_f - bw) > cfg.weight_tolerance_frac * bw:
                self._bw = mean_f
                out.append(Event(t, "body_weight_measured",
                                 {"body_weight_n": mean_f, "std_n": win.std_f()}))
        if self._bw is None:
            return
        if self._start_requested:
            self._begin_countdown(t, out)
            return
        if state is State.ON_BOARD:
            if steady and self._cop_ready(0.0):
                self._ready_since = t
                self._set_state(State.READY, t, out)
        elif not (self._steady(1.5) and self._cop_ready(cfg.ready_hysteresis_mm)):
            # READY is left with hysteresis, so a border case does not flap.
            self._ready_since = None
            self._set_state(State.ON_BOARD, t, out)
        elif not self.operator_start and t - self._ready_since >= cfg.ready_dwell_s:
            self._begin_countdown(t, out)

    def _steady(self, scale: float = 1.0) -> bool:
        """The window is full and the force std is under the stillness tolerance (x scale)."""
        win = self._window
        if not win.full:
            return False
        cfg = self.config
        mean_f = win.mean_f()
        return win.std_f() <= scale * max(cfg.steady_std_frac * mean_f, cfg.steady_std_floor_n)

    def _cop_ready(self, slack_mm: float) -> bool:
        """Single-leg: the mean COP of the window is over the stance foot (minus slack)."""
        if not self._single:
            return True
        mx, _ = self._window.mean_cop()
        return self._side * mx >= self.config.ready_shift_mm - slack_mm

    def _begin_countdown(self, t: float, out: list[Event]) -> None:
        self._start_requested = False
        cfg = self.config
        self._countdown_end = t + cfg.countdown_s
        self._tick = math.ceil(cfg.countdown_s)
        self._set_state(State.COUNTDOWN, t, out)
        if cfg.countdown_s > 0:
            out.append(Event(t, "countdown_tick", {"remaining_s": self._tick}))
        else:
            self._begin_hold(t, out)

    def _countdown(self, t: float, out: list[Event]) -> None:
        cfg = self.config
        if not self.operator_start:
            bw = self._bw
            mean_f = self._window.mean_f()
            why = None
            if abs(mean_f - bw) > cfg.weight_tolerance_frac * bw:
                why = "weight not on the board"
            elif not self._cop_ready(cfg.ready_hysteresis_mm):
                why = "COP not over the stance foot"
            if why is not None:
                out.append(Event(t, "countdown_cancelled", {"why": why}))
                self._ready_since = None
                self._set_state(State.ON_BOARD, t, out)
                return
        if t >= self._countdown_end:
            self._begin_hold(t, out)
            return
        remaining = math.ceil(self._countdown_end - t)
        if remaining < self._tick:
            self._tick = remaining
            out.append(Event(t, "countdown_tick", {"remaining_s": remaining}))

    def _begin_hold(self, t: float, out: list[Event]) -> None:
        self._clock = clock = HoldClock(t, self.spec.duration_s)
        self._set_state(State.HOLDING, t, out)
        self._detector.begin(clock, self._bw, self._window, out)

    # ------------------------------------------------------------- outcomes
    def _fail(self, reason: str, onset: float, t: float, out: list[Event]) -> None:
        self._set_state(State.FAILED, t, out)
        ttf = onset - self._hold_start
        out.append(Event(t, "trial_failed", {"reason": reason, "time_to_failure_s": ttf}))
        self._finish(onset, completed=False, reason=reason, onset=onset, out=out)

    def _complete(self, t: float, out: list[Event]) -> None:
        self._set_state(State.COMPLETE, t, out)
        detail: dict[str, object] = {"duration_s": t - self._hold_start}
        self._detector.complete(t, detail)
        out.append(Event(t, "trial_complete", detail))
        self._finish(t, completed=True, reason=None, onset=None, out=out)

    def _finish(self, end_t: float, *, completed: bool, reason: str | None,
                onset: float | None, out: list[Event]) -> None:
        start = self._hold_start
        self._hold_end = end_t if start is not None else None
        self._result = TrialOutcome(
            trial_id=self.spec.id,
            state=self._state,
            completed=completed,
            failure_reason=reason,
            time_to_failure_s=(onset - start) if onset is not None and start is not None
            else None,
            body_weight_n=self._bw,
            hold_start_t=start,
            hold_end_t=self._hold_end,
            invalid_frames=self._invalid,
            events=self._events,  # the caller's update() appends this frame's events
            **self._detector.outcome(),
        )

    def _set_state(self, new: State, t: float, out: list[Event]) -> None:
        old = self._state
        self._state = new
        out.append(Event(t, "state_changed", {"from": old.value, "to": new.value}))

    def _emit(self, out: list[Event]) -> list[Event]:
        self._events.extend(out)
        return out


def on_wobble_board(spec: TrialSpec) -> bool:
    """The trial stands on a wobble board (its surface, or a wobble task)."""
    return spec.surface == "wobble" or spec.task == "wobble"


def engine_for(
    protocol: Protocol,
    spec: TrialSpec,
    config: HoldConfig | None = None,
    *,
    operator_start: bool = False,
    wobble_setup: WobbleSetup | None = None,
) -> HoldEngine:
    """The engine for one trial of `protocol`: BESS protocols count errors."""
    return HoldEngine(spec, config, operator_start=operator_start,
                      bess=protocol.kind == BESS_KIND, wobble_setup=wobble_setup)
