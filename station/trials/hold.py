"""The real-time hold engine: one state machine per trial, fed one Sample per frame.

    EMPTY -> ON_BOARD (body weight measured while still) -> READY -> COUNTDOWN
          -> HOLDING -> COMPLETE | FAILED          (ABORTED from anywhere)

Everything per frame is plain-float arithmetic on a few running sums and short
deques (no numpy): the engine runs in the station process for every frame at
80-93 Hz next to the web server, so it must cost microseconds. Thresholds live in
HoldConfig; docs/hold-engine.md explains each state, event and threshold.
"""

from __future__ import annotations

import math
from collections import deque

from station.protocols.model import Protocol, TrialSpec
from station.samples import Sample
from station.trials.bess import BessCounter
from station.trials.drill import TargetTracker
from station.trials.events import TERMINAL_STATES, Event, State, TrialOutcome
from station.trials.thresholds import HoldConfig

# Hop sub-phases inside HOLDING.
_AWAIT_HOP, _FLIGHT, _SETTLE, _HOLD = 0, 1, 2, 3


class _Window:
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

    def resized(self, span_s: float) -> _Window:
        """A window of another span holding the same recent samples (no warm-up gap)."""
        other = _Window(span_s)
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


class HoldEngine:
    """Runs one trial of `spec` from a stream of Samples.

    operator_start=True: the countdown starts only when `start()` is called (the
    operator judges readiness); otherwise it starts by itself once the athlete is
    ready. bess=True: touch-downs, step-offs and large excursions are counted as
    BESS errors and the trial always runs its full duration.
    `update()` returns the events of that frame (usually none).
    """

    def __init__(
        self,
        spec: TrialSpec,
        config: HoldConfig | None = None,
        *,
        operator_start: bool = False,
        bess: bool = False,
    ) -> None:
        self.spec = spec
        self.config = config = config if config is not None else HoldConfig()
        config.check()
        self.operator_start = operator_start
        self._state = State.EMPTY
        self._events: list[Event] = []
        self._result: TrialOutcome | None = None
        self._window = _Window(config.steady_window_s)
        self._side = spec.stance_side  # -1 left foot, +1 right foot, 0 two feet
        self._single = self._side != 0
        self._task = spec.task
        # Soft or rocking surfaces move the COP further with the same control: COP distance
        # thresholds are scaled for them (HoldConfig.foam_scale / wobble_scale).
        scale = {"foam": config.foam_scale, "wobble": config.wobble_scale}.get(spec.surface, 1.0)
        self._jump_mm = config.board_touch_jump_mm * scale
        self._half_w = config.foot_half_width_mm * scale
        self._half_l = config.foot_half_length_mm * scale
        self._excursion_mm = config.bess_excursion_mm * scale
        self._push_mm = config.push_onset_mm * scale
        self._bess_mode = bess
        self._start_requested = False
        self._last_t = -math.inf
        self._last_valid_t: float | None = None
        self._invalid = 0
        self._bw: float | None = None
        self._ready_since: float | None = None
        self._countdown_end = 0.0
        self._tick = 0
        self._hold_start: float | None = None
        self._hold_end: float | None = None
        self._landing_t: float | None = None
        self._perturbations: list[float] = []
        self._bess: BessCounter | None = None
        self._target: TargetTracker | None = None
        self._reset_detectors()

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
        if self._task == "hop":
            snapshot["landing_t_s"] = self._landing_t
        if self._bess is not None:
            snapshot["bess_errors"] = self._bess.count
        if self._target is not None:
            tgt = self._target
            snapshot["target"] = {"x_mm": tgt.cx, "y_mm": tgt.cy, "radius_mm": tgt.radius,
                                  "inside": tgt.inside, "pct": tgt.percent_in_target}
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
            self._holding(t, f, sample.cop_x_mm, sample.cop_y_mm, out)
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
        self._hold_start = t
        self._set_state(State.HOLDING, t, out)
        self._reset_detectors()
        rx, ry = self._window.mean_cop()
        self._ref_x, self._ref_y = rx, ry
        spec = self.spec
        cfg = self.config
        if self._bess_mode:
            self._bess = BessCounter(cfg.bess_refractory_s, cfg.bess_max_errors)
        if self._task == "drill":
            cx, cy = (rx, ry) if self._single and rx == rx else (0.0, 0.0)
            self._target = TargetTracker(cx, cy, float(spec.target_radius_mm or 20.0),
                                         cfg.drill_hysteresis_mm)
            out.append(Event(t, "target", {"x_mm": cx, "y_mm": cy,
                                           "radius_mm": self._target.radius}))
        if self._task == "hop":
            self._hop_phase = _AWAIT_HOP
        if self._task == "push":  # the push baseline continues from the countdown's samples
            self._window = self._window.resized(cfg.push_baseline_s)

    # ---------------------------------------------------------------- holding
    def _reset_detectors(self) -> None:
        self._drop_t: float | None = None  # first frame of the current force drop
        self._drop_min = math.inf
        self._drop_latched = False  # BESS: this drop was already counted
        self._max_q: deque[tuple[float, float]] = deque()  # (t, u) decreasing u: window max
        # (onset_t, level, trigger_t, counted): a COP jump waiting to last board_touch_min_s
        self._board_pending: tuple[float, float, float, bool] | None = None
        self._out_t: float | None = None  # first frame outside the foot area / circle
        self._out_latched = False
        self._ref_x = self._ref_y = math.nan
        self._recapture_until: float | None = None  # BESS: re-measuring the stance reference
        self._rc_sx = self._rc_sy = 0.0
        self._rc_n = 0
        self._hop_phase = _HOLD
        self._flight_t = 0.0
        self._contact_t: float | None = None
        self._last_push = -math.inf
        self._prev_hold_t = self._hold_start if self._hold_start is not None else 0.0
        self._bess_off_s = 0.0  # BESS: time with weight off the board (out of the stance)

    def _holding(self, t: float, f: float, x: float, y: float, out: list[Event]) -> None:
        cfg = self.config
        bw = self._bw
        task = self._task
        if task == "hop" and self._hop_phase != _HOLD:
            self._hop(t, f, x, y, out)
            return
        start = self._hold_start
        if t - start >= self.spec.duration_s:
            self._complete(t, out)
            return
        bess = self._bess
        cop_ok = x == x and y == y

        # 1. force drop: floor touch-down or step-off (every task)
        if f < bw * (1.0 - cfg.floor_drop_frac):
            if bess is not None:
                self._bess_off_s += t - self._prev_hold_t  # out of the test stance
            self._prev_hold_t = t
            if self._drop_t is None:
                self._drop_t = t
                self._drop_min = f
            elif f < self._drop_min:
                self._drop_min = f
            if not self._drop_latched:
                held = t - self._drop_t
                if held >= cfg.floor_touch_min_s:
                    if self._drop_min < bw * cfg.step_off_frac:
                        if self._fault("step_off", self._drop_t, t, out):
                            return
                        self._drop_latched = True
                    elif held >= cfg.floor_touch_min_s + cfg.step_off_confirm_s:
                        if self._fault(self._touch_kind(), self._drop_t, t, out):
                            return
                        self._drop_latched = True
            if self._target is not None:
                self._target.skip(t)  # weight off the board: not in the target
            if bess is not None and self._drop_latched:
                self._recapture_until = None  # re-measure the stance once back on
                self._out_t = None
                self._board_pending = None
                self._max_q.clear()
            return  # COP checks are meaningless while weight is off the board
        self._prev_hold_t = t
        if self._drop_t is not None:
            drop_t = self._drop_t
            latched = self._drop_latched
            self._drop_t = None
            self._drop_latched = False
            if not latched and t - drop_t >= cfg.floor_touch_min_s:
                if self._fault(self._touch_kind(), drop_t, t, out):
                    return
                latched = True
            if bess is not None and latched:
                self._start_recapture(t)  # the athlete may stand back on elsewhere

        if not cop_ok:
            if self._target is not None:
                self._target.skip(t)
            return

        if self._recapture_until is not None:
            self._recapture(t, x, y)
            return

        if task == "drill":
            tgt = self._target
            crossing = tgt.update(t, x, y)
            if crossing is not None:
                out.append(Event(t, crossing, {"distance_mm": tgt.distance_mm(x, y)}))
            return
        if task == "push":
            self._push(t, f, x, y, out)
            if not self._single:
                return

        # 2. touch-down on the board: COP jumps back toward the midline, weight stays on
        if self._single:
            if self._board_touch(t, f, x, out):
                return
            # 3. COP leaves the stance-foot area (hold) / large excursion (BESS)
            if bess is None:
                dx = x - self._ref_x
                dy = y - self._ref_y
                outside = abs(dx) > self._half_w or abs(dy) > self._half_l
                if self._persist_outside(outside, t) and self._fault(
                    "cop_left_foot_area", self._out_t, t, out, {"dx_mm": dx, "dy_mm": dy}
                ):
                    return
        if bess is not None:
            dx = x - self._ref_x
            dy = y - self._ref_y
            r = self._excursion_mm
            outside = dx * dx + dy * dy > r * r
            if self._persist_outside(outside, t):
                self._fault("excursion", self._out_t, t, out,
                            {"distance_mm": math.hypot(dx, dy)})

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

    def _board_touch(self, t: float, f: float, x: float, out: list[Event]) -> bool:
        """Track the recent max of u (COP toward the stance side); True when the trial ended."""
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
            bw = self._bw
            if (umax - u > self._jump_mm
                    and abs(f - bw) <= cfg.board_touch_force_tol_frac * bw):
                pending = (onset_t, umax - 0.5 * self._jump_mm, t, False)
                self._board_pending = pending
            else:
                return False
        onset_t, level, trig_t, counted = pending
        if u > level:  # came back: a wobble (or the end of a counted touch)
            self._board_pending = None
            return False
        if not counted and t - trig_t >= cfg.board_touch_min_s:
            self._board_pending = (onset_t, level, trig_t, True)  # once per touch
            return self._fault("touch_down_board", onset_t, t, out)
        return False

    def _push(self, t: float, f: float, x: float, y: float, out: list[Event]) -> None:
        cfg = self.config
        win = self._window
        win.add(t, f, x, y)
        if t - self._last_push < cfg.push_refractory_s or not win.full:
            return
        mx, my = win.mean_cop()
        dx = x - mx
        dy = y - my
        r = self._push_mm
        if dx * dx + dy * dy > r * r:
            # Onset: back from the detection to the last frame still near the baseline
            # (rare, so an O(window) scan is fine here).
            near = cfg.push_onset_back_frac * r
            near2 = near * near
            onset = t
            for ti, _, xi, yi, has in reversed(win.q):
                if has and (xi - mx) ** 2 + (yi - my) ** 2 <= near2:
                    break
                onset = ti
            self._last_push = t
            self._perturbations.append(onset)
            out.append(Event(t, "perturbation", {"onset_t_s": onset,
                                                 "displacement_mm": math.hypot(dx, dy)}))

    def _hop(self, t: float, f: float, x: float, y: float, out: list[Event]) -> None:
        cfg = self.config
        bw = self._bw
        phase = self._hop_phase
        if phase == _AWAIT_HOP:
            if f < bw * cfg.hop_flight_frac:
                self._flight_t = t
                self._contact_t = None
                self._hop_phase = _FLIGHT
                out.append(Event(t, "flight", {}))
            elif t - self._hold_start >= cfg.hop_wait_s:
                self._fail("no_hop", t, t, out)
        elif phase == _FLIGHT:
            if f < bw * cfg.hop_contact_frac:
                self._contact_t = None
            elif self._contact_t is None:
                self._contact_t = t  # first contact: TTS time zero if this becomes a landing
            if f >= bw * cfg.hop_landing_frac:
                landing = self._contact_t if self._contact_t is not None else t
                flight = landing - self._flight_t
                if flight < cfg.hop_min_flight_s:
                    self._hop_phase = _AWAIT_HOP  # a force wobble, not a hop
                    return
                self._landing_t = landing
                self._hold_start = landing  # the hold (and TTS) is timed from first contact
                self._hop_phase = _SETTLE
                self._rc_sx = self._rc_sy = 0.0
                self._rc_n = 0
                out.append(Event(t, "landing", {"flight_s": flight}))
            elif t - self._flight_t > cfg.hop_max_flight_s:
                self._fail("step_off", self._flight_t, t, out)
        else:  # _SETTLE: only a step-off counts while the landing rings down
            if f < bw * cfg.step_off_frac:
                if self._drop_t is None:
                    self._drop_t = t
                elif t - self._drop_t >= cfg.floor_touch_min_s:
                    self._fail("step_off", self._drop_t, t, out)
                    return
            else:
                self._drop_t = None
            if x == x and y == y:
                self._rc_sx += x
                self._rc_sy += y
                self._rc_n += 1
            if t - self._landing_t >= cfg.hop_settle_s:
                self._hop_phase = _HOLD
                self._drop_t = None
                if self._rc_n:
                    self._ref_x = self._rc_sx / self._rc_n
                    self._ref_y = self._rc_sy / self._rc_n

    def _start_recapture(self, t: float) -> None:
        self._recapture_until = t + self.config.bess_recapture_s
        self._rc_sx = self._rc_sy = 0.0
        self._rc_n = 0
        self._out_t = None
        self._out_latched = False
        self._board_pending = None
        self._max_q.clear()

    def _recapture(self, t: float, x: float, y: float) -> None:
        self._rc_sx += x
        self._rc_sy += y
        self._rc_n += 1
        if t >= self._recapture_until:
            self._ref_x = self._rc_sx / self._rc_n
            self._ref_y = self._rc_sy / self._rc_n
            self._recapture_until = None

    # ------------------------------------------------------------- outcomes
    def _fault(self, kind: str, onset: float, t: float, out: list[Event],
               extra: dict[str, float] | None = None) -> bool:
        """A failure (hold) or an error (BESS, drill). True when the trial has ended."""
        onset = max(onset, self._hold_start)
        detail: dict[str, object] = {"onset_t_s": onset}
        if extra:
            detail.update(extra)
        if kind.startswith("touch_down"):
            event_kind = "touch_down"
            detail["surface"] = kind.removeprefix("touch_down_")
        else:
            event_kind = kind
        bess = self._bess
        if bess is not None:
            # Errors within the refractory time are reported but merged (counted=False).
            detail["counted"] = bess.record(kind, onset)
            detail["bess_errors"] = bess.count
            out.append(Event(t, event_kind, detail))
            return False
        if self._task == "drill" and kind != "step_off":
            out.append(Event(t, event_kind, detail))  # a drill only ends on a step-off
            return False
        out.append(Event(t, event_kind, detail))
        self._fail(kind, onset, t, out)
        return True

    def _fail(self, reason: str, onset: float, t: float, out: list[Event]) -> None:
        self._set_state(State.FAILED, t, out)
        ttf = onset - self._hold_start
        out.append(Event(t, "trial_failed", {"reason": reason, "time_to_failure_s": ttf}))
        self._finish(onset, completed=False, reason=reason, onset=onset, out=out)

    def _complete(self, t: float, out: list[Event]) -> None:
        self._set_state(State.COMPLETE, t, out)
        detail: dict[str, object] = {"duration_s": t - self._hold_start}
        bess = self._bess
        if bess is not None:
            # BESS: a trial in which the stance was held for less than bess_min_stance_s
            # scores the maximum.
            held = t - self._hold_start - self._bess_off_s
            if held < self.config.bess_min_stance_s:
                bess.count = bess.max_errors
            detail["bess_errors"] = bess.count
            detail["stance_held_s"] = held
        if self._target is not None:
            detail["drill_time_in_target_pct"] = self._target.percent_in_target
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
            bess_errors=self._bess.count if self._bess is not None else None,
            drill_time_in_target_pct=(self._target.percent_in_target
                                      if self._target is not None else None),
            landing_t_s=self._landing_t,
            perturbation_onsets_s=list(self._perturbations),
            invalid_frames=self._invalid,
            events=self._events,  # the caller's update() appends this frame's events
        )

    def _set_state(self, new: State, t: float, out: list[Event]) -> None:
        old = self._state
        self._state = new
        out.append(Event(t, "state_changed", {"from": old.value, "to": new.value}))

    def _emit(self, out: list[Event]) -> list[Event]:
        self._events.extend(out)
        return out


def engine_for(
    protocol: Protocol,
    spec: TrialSpec,
    config: HoldConfig | None = None,
    *,
    operator_start: bool = False,
) -> HoldEngine:
    """The engine for one trial of `protocol`: BESS protocols count errors."""
    return HoldEngine(spec, config, operator_start=operator_start, bess=protocol.kind == "bess")
