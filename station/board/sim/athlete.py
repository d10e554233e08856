"""The simulated athlete: actions (step on, lift a foot, hop, ...) laid out as smooth trajectories.

Every action, applied at a time t, plans what follows on a few `Track`s:
- `fraction`: the share of body weight on the board (0 off, 1 standing, 0.65 with the free
  foot on the floor beside the board);
- `base_x`, `base_y`: where the COP sways around (board centre for double stance, over the
  stance foot at x = -+90 mm for single-leg stance);
- four sway noise gains (see `sway`), which set how much the athlete sways now.
Landings add a force transient, pushes a kick to the centre of mass, and a real COP trace
can replace the sway model for a while.

Timings (assumptions, from the balance and landing literature):
- stepping on: first foot takes half the weight in 0.35 s, the second the rest in 0.45 s;
- weight shift when lifting a foot: 0.7 s (reported 0.5-1 s anticipatory postural adjustment);
- touch-down: 0.25 s; the free foot takes 35 % of the weight (the COP moves toward the
  midline), or, touching the floor beside the board, takes that 35 % off the board;
- stepping off: force to 0 in 0.3 s;
- hop: counter-movement (0.65 BW) and push-off (1.8 BW) in 0.4 s, flight 0.25 s, landing
  peak 2-3.5 BW (single-leg hop landings: 2-4 BW, e.g. Fransz 2015) 50 ms after contact,
  then a damped 2.2 Hz oscillation with a 0.2 s decay (settled in ~1 s);
- push: an impulse (N s) divided by body mass kicks the COM velocity; the delayed PD control
  moves the COP tens of mm and back within ~1.5 s (5 N s on 70 kg: ~40 mm).
- play_game(task, game, skill, elapsed_s, duration_s): the biofeedback games, played on the
  game's own targets (station.board.sim.games);
- lapses (step_on/set_condition `lapses=True`): in single-leg stance the athlete loses
  balance at the condition's rate (`sway.lapse_rate_per_s`: foam and closed eyes more
  often), touches the floor with the free foot and lifts it again after LAPSE_RECOVER_S.

A wobble board (`place_wobble_board`, while nobody is on the platform) changes what the
platform sees: the COP is the dome's contact (station.board.sim.wobble), the deck's weight
is on the platform, and the athlete's stance, eyes and skill set the tilt's noise gains
(`tilt_gains`) as they set the sway's; `remove_wobble_board` takes it off again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from station.board.sim.games import plan_game
from station.board.sim.reference_traces import CopTrace, load_cop_trace
from station.board.sim.sway import SURFACES, condition_gains, lapse_rate_per_s, skill_factor
from station.board.sim.tracks import Track, min_jerk
from station.board.sim.wobble import PlacedBoard, tilt_gains
from station.protocols.games import GAME_TASKS, GameSpec
from station.wobble import BoardProfileError, WobbleBoard, board_from_dict, preset

GRAVITY = 9.81
FOOT_X_MM = 90.0  # feet centres at x = -+90 mm (about hip width)
FREE_FOOT_SHARE = 0.35  # weight on the free foot when it touches down
WEIGHT_SHIFT_S = 0.7
TOUCH_S = 0.25
STEP_OFF_S = 0.3
LANDING_RISE_S = 0.05
LANDING_DECAY_S = 0.2
LANDING_FREQ_HZ = 2.2
LANDING_LENGTH_S = 1.5
LAPSE_RECOVER_S = 1.0  # a lapse: the free foot on the floor this long, then up again
SIDES = ("left", "right")
PUSH_DIRECTIONS = {"right": 0.0, "forward": 90.0, "left": 180.0, "back": 270.0}
# set_condition's sway="more" / "less": a step of skill (sway x 1.5**(-+2 step), ~1.2x)
SWAY_STEPS = {"more": -0.25, "less": 0.25}

ACTIONS = (
    "step_on",
    "lift_foot",
    "touch_down",
    "put_foot_down",
    "step_off",
    "hop",
    "push",
    "follow_trace",
    "set_condition",
    "hold",
    "place_wobble_board",
    "remove_wobble_board",
    "play_game",
)


class SimActionError(ValueError):
    """An action or one of its parameters is not valid; the message says which."""


@dataclass(frozen=True)
class PhaseMark:
    """Something the athlete started doing at t_s (ground truth for tests and demos)."""

    t_s: float
    label: str
    detail: dict[str, Any] = field(default_factory=dict)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SimActionError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def _number(name: str, value: Any, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SimActionError(f"{name} must be a number, not {value!r}") from None
    if not lo <= x <= hi:
        raise SimActionError(f"{name} must be within {lo:g}..{hi:g}, not {x:g}")
    return x


def normalize_action(action: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check an action and fill its defaults; raises SimActionError on any bad value."""
    p = dict(params)
    known: dict[str, tuple[str, ...]] = {
        "step_on": ("mass_kg", "stance", "surface", "skill", "eyes", "lapses"),
        "lift_foot": ("side",),
        "touch_down": ("on_board",),
        "put_foot_down": (),
        "step_off": (),
        "hop": ("peak_bw", "flight_s"),
        "push": ("direction", "magnitude"),
        "follow_trace": ("path", "trace", "loop"),
        "set_condition": ("surface", "skill", "eyes", "sway", "lapses"),
        "hold": ("duration_s", "note"),
        "place_wobble_board": ("board", "level_x_mm", "level_y_mm", "surface_height_mm"),
        "remove_wobble_board": (),
        "play_game": ("task", "game", "skill", "elapsed_s", "duration_s"),
    }
    if action not in known:
        raise SimActionError(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
    extra = set(p) - set(known[action])
    if extra:
        raise SimActionError(f"{action}: unknown parameter(s) {', '.join(sorted(extra))}")
    if action == "step_on":
        p["mass_kg"] = _number("mass_kg", p.get("mass_kg", 70.0), 10.0, 250.0)
        p["stance"] = _choice("stance", p.get("stance", "double"), ("double", *SIDES))
    if action in ("step_on", "set_condition"):
        for key, allowed in (("surface", SURFACES), ("eyes", ("open", "closed"))):
            if key in p or action == "step_on":
                default = "firm" if key == "surface" else "open"
                p[key] = _choice(key, p.get(key, default), allowed)
        if "skill" in p or action == "step_on":
            p["skill"] = _number("skill", p.get("skill", 0.5), 0.0, 1.0)
        if "lapses" in p or action == "step_on":
            p["lapses"] = bool(p.get("lapses", False))
        if "sway" in p:
            if "skill" in p:
                raise SimActionError("set_condition: give skill or sway, not both")
            p["sway"] = _choice("sway", p["sway"], tuple(SWAY_STEPS))
    elif action == "lift_foot":
        p["side"] = _choice("side", p.get("side", "left"), SIDES)
    elif action == "touch_down":
        p["on_board"] = bool(p.get("on_board", True))
    elif action == "hop":
        p["peak_bw"] = _number("peak_bw", p.get("peak_bw", 2.5), 1.2, 5.0)
        p["flight_s"] = _number("flight_s", p.get("flight_s", 0.25), 0.05, 1.0)
    elif action == "push":
        d = p.get("direction", "forward")
        if isinstance(d, str):
            p["direction"] = PUSH_DIRECTIONS[_choice("direction", d, tuple(PUSH_DIRECTIONS))]
        else:
            p["direction"] = _number("direction (degrees)", d, -360.0, 360.0)
        p["magnitude"] = _number("magnitude (N s)", p.get("magnitude", 5.0), 0.0, 60.0)
    elif action == "follow_trace":
        if ("path" in p) == ("trace" in p):
            raise SimActionError("follow_trace needs exactly one of path= or trace=")
        if "path" in p:
            p["trace"] = load_cop_trace(p.pop("path"))
        elif not isinstance(p["trace"], CopTrace):
            raise SimActionError("follow_trace trace= must be a CopTrace")
        p["loop"] = bool(p.get("loop", False))
    elif action == "hold":
        p["duration_s"] = _number("duration_s", p.get("duration_s", 0.0), 0.0, 1e6)
    elif action == "play_game":
        p["task"] = _choice("task", p.get("task"), GAME_TASKS)
        try:
            p["game"] = GameSpec.from_json(p.get("game"))
        except (TypeError, ValueError) as exc:
            raise SimActionError(f"game: {exc}") from None
        p["skill"] = _number("skill", p.get("skill", 0.5), 0.0, 1.0)
        p["elapsed_s"] = _number("elapsed_s", p.get("elapsed_s", 0.0), 0.0, 600.0)
        p["duration_s"] = _number("duration_s", p.get("duration_s", 30.0), 1.0, 600.0)
    elif action == "place_wobble_board":
        board = p.get("board", "round-40-hemisphere")
        if not isinstance(board, WobbleBoard):
            try:  # a preset's name, or a board's table (a station's own board)
                board = (board_from_dict(board, "board") if isinstance(board, dict)
                         else preset(str(board)))
            except BoardProfileError as exc:
                raise SimActionError(f"board: {exc}") from None
        p["board"] = board
        p["level_x_mm"] = _number("level_x_mm", p.get("level_x_mm", 0.0), -100.0, 100.0)
        p["level_y_mm"] = _number("level_y_mm", p.get("level_y_mm", 0.0), -100.0, 100.0)
        p["surface_height_mm"] = _number("surface_height_mm", p.get("surface_height_mm", 30.0),
                                         0.0, 100.0)
    return p


@dataclass
class _Landing:
    t_s: float  # first contact
    extra_bw: float  # peak minus one body weight


@dataclass
class _TraceWindow:
    t_s: float
    cop_mm: np.ndarray  # (n, 2) at the engine rate
    loop: bool
    t_end: float = math.inf  # cut short when the athlete steps off


class Athlete:
    """State and planned trajectories of whoever is on the simulated board."""

    def __init__(self, rate_hz: float, rng: np.random.Generator) -> None:
        self.rate_hz = rate_hz
        self.rng = rng
        self.fraction = Track(0.0)
        self.base_x = Track(0.0)
        self.base_y = Track(0.0)
        self.gains = [Track(0.0) for _ in range(4)]
        self.landings: list[_Landing] = []
        self.pushes: list[tuple[float, float, float]] = []  # (t, dv_x, dv_y) mm/s
        self.traces: list[_TraceWindow] = []
        self.phases: list[PhaseMark] = []
        self.on_board = False
        self.mass_kg = 70.0
        self.surface = "firm"
        self.skill = 0.5
        self.eyes = "open"
        self.support = "double"  # "double", or the stance foot "left"/"right"
        self.touching: str | None = None  # None, "board" or "floor" (free foot down)
        self.wobble: PlacedBoard | None = None  # the wobble board on the platform
        self.deck_mass_kg = Track(0.0)
        self.first_board_s = math.inf  # when a wobble board was first placed
        self.tilt_gains = [Track(0.0) for _ in range(4)]  # drift ML, AP, jitter ML, AP
        self.lapses = False  # loses balance now and then (lapse_rate_per_s)
        self.lapse_at: float | None = None  # when the next lapse happens, if one is due
        self.steady_from = 0.0  # when the last action's movement settles (lapses after it)
        self.skipped: list[tuple[float, str, str]] = []  # actions ignored, with the reason

    # -- planning helpers -------------------------------------------------------------
    @property
    def weight_n(self) -> float:
        return self.mass_kg * GRAVITY

    @property
    def board_on(self) -> bool:
        """A wobble board is on the platform (placed and not removed)."""
        return self.wobble is not None and self.wobble.t_off_s == math.inf

    def _stance_kind(self) -> str:
        if self.support == "double":
            return "double"
        return "touch" if self.touching else "single"

    def _set_gains(self, t: float, duration: float, off: bool = False) -> None:
        g = (
            (0.0,) * 4
            if off
            else condition_gains(
                self._stance_kind(), self.surface, self.eyes, self.skill, self.rate_hz
            )
        )
        for track, value in zip(self.gains, g, strict=True):
            track.go(t, value, duration)
        if self.board_on:
            tg = (0.0,) * 4 if off else tilt_gains(
                self.wobble.board, self._stance_kind(), self.eyes, self.skill, self.rate_hz)
            for track, value in zip(self.tilt_gains, tg, strict=True):
                track.go(t, value, duration)

    def _plan_lapse(self, t: float) -> None:
        """Draw the next lapse from t (exponential wait at the condition's rate), or none."""
        self.lapse_at = None
        if not self.lapses or not self.on_board or self._stance_kind() != "single":
            return
        rate = lapse_rate_per_s("single", self.surface, self.eyes, self.skill)
        if rate > 0:
            self.lapse_at = t + float(self.rng.exponential(1.0 / rate))

    def lapse(self) -> tuple[float, str, dict[str, Any]]:
        """Lose balance now (at lapse_at): the free foot touches the floor; returns the
        recovery action (lift it again) for the engine to schedule."""
        t = self.lapse_at
        assert t is not None
        side = "left" if self.support == "right" else "right"
        self.lapse_at = None
        self._mark(t, "lapse", side=side)
        self._do_touch_down(t, on_board=False)
        return t + LAPSE_RECOVER_S, "lift_foot", {"side": side}

    def _mark(self, t: float, label: str, **detail: Any) -> None:
        self.phases.append(PhaseMark(round(t, 6), label, detail))

    def _skip(self, t: float, action: str, reason: str) -> None:
        self.skipped.append((t, action, reason))

    # -- actions ----------------------------------------------------------------------
    def apply(self, t: float, action: str, params: dict[str, Any]) -> None:
        """Apply a normalized action at time t (see `normalize_action`)."""
        if action in ("place_wobble_board", "remove_wobble_board"):
            if self.on_board:
                self._skip(t, action, "someone is on the board: step off first")
                return
        elif action not in ("step_on", "set_condition", "hold") and not self.on_board:
            self._skip(t, action, "nobody is on the board")
            return
        self.steady_from = t
        getattr(self, f"_do_{action}")(t, **params)
        if action not in ("hold", "push", "follow_trace", "play_game"):
            self._plan_lapse(self.steady_from)

    def _do_step_on(
        self, t: float, mass_kg: float, stance: str, surface: str, skill: float, eyes: str,
        lapses: bool = False,
    ) -> None:
        if self.on_board:
            self._skip(t, "step_on", "someone is already on the board")
            return
        self.on_board, self.mass_kg, self.lapses = True, mass_kg, lapses
        self.surface, self.skill, self.eyes = surface, skill, eyes
        self.support, self.touching = "double", None
        first = -FOOT_X_MM if self.rng.random() < 0.5 else FOOT_X_MM
        self.fraction.go(t, 0.5, 0.35)
        self.fraction.then(1.0, 0.45)
        self.base_x.go(t, first, 0.0)
        self.base_x.go(t + 0.35, 0.0, 0.45)
        self.base_y.go(t, 0.0, 0.3)
        self._set_gains(t + 0.35, 0.8)
        self._mark(t, "step_on", mass_kg=mass_kg, surface=surface, skill=skill, eyes=eyes)
        self._mark(t + 0.8, "double_stance")
        if stance != "double":
            self._do_lift_foot(t + 1.3, "right" if stance == "left" else "left")
            self.steady_from = t + 1.3

    def _do_lift_foot(self, t: float, side: str) -> None:
        stance = "right" if side == "left" else "left"
        if self.support == stance and not self.touching:
            self._skip(t, "lift_foot", f"the {side} foot is already up")
            return
        self.support, self.touching = stance, None
        x = FOOT_X_MM if stance == "right" else -FOOT_X_MM
        self.base_x.go(t, x, WEIGHT_SHIFT_S)
        self.fraction.go(t, 1.0, TOUCH_S)
        self._set_gains(t, WEIGHT_SHIFT_S)
        self._mark(t, "lift_foot", side=side)
        self._mark(t + WEIGHT_SHIFT_S, f"single_{stance}")

    def _do_touch_down(self, t: float, on_board: bool) -> None:
        if self.support == "double":
            self._skip(t, "touch_down", "both feet are already down")
            return
        self.touching = "board" if on_board else "floor"
        sx = FOOT_X_MM if self.support == "right" else -FOOT_X_MM
        if on_board:  # free foot takes a share of the weight: COP moves toward the midline
            self.base_x.go(t, sx * (1.0 - 2.0 * FREE_FOOT_SHARE), TOUCH_S)
        else:  # that share goes to the floor beside the board
            self.fraction.go(t, 1.0 - FREE_FOOT_SHARE, TOUCH_S)
        self._set_gains(t, TOUCH_S)
        self._mark(t, "touch_down", on_board=on_board)

    def _do_put_foot_down(self, t: float) -> None:
        if self.support == "double":
            self._skip(t, "put_foot_down", "both feet are already down")
            return
        self.support, self.touching = "double", None
        self.base_x.go(t, 0.0, 0.6)
        self.fraction.go(t, 1.0, 0.3)
        self._set_gains(t, 0.6)
        self._mark(t, "put_foot_down")
        self._mark(t + 0.6, "double_stance")

    def _do_step_off(self, t: float) -> None:
        last = self.support if self.support != "double" else "right"
        self.fraction.go(t, 0.0, STEP_OFF_S)
        self.base_x.go(t, FOOT_X_MM if last == "right" else -FOOT_X_MM, STEP_OFF_S)
        self._set_gains(t, STEP_OFF_S, off=True)
        self.on_board, self.touching = False, None
        for w in self.traces:
            w.t_end = min(w.t_end, t + STEP_OFF_S)
        self._mark(t, "step_off")
        self._mark(t + STEP_OFF_S, "off")

    def _do_hop(self, t: float, peak_bw: float, flight_s: float) -> None:
        self.touching = None
        self.fraction.go(t, 0.65, 0.12)  # counter-movement (unloading)
        self.fraction.then(1.0, 0.13)
        self.fraction.then(1.8, 0.08)  # push-off
        self.fraction.then(0.0, 0.07)  # take-off
        t_land = t + 0.40 + flight_s
        self.fraction.go(t_land, 1.0, LANDING_RISE_S)
        self.base_y.go(t + 0.2, 35.0, 0.2)  # push-off from the forefoot
        self.base_y.go(t_land, 0.0, 0.4)
        self.landings.append(_Landing(t_land, peak_bw - 1.0))
        self._set_gains(t_land, 0.05)
        kick = 40.0 * skill_factor(self.skill)  # landing disturbance of the COM (mm/s)
        angle = self.rng.uniform(0.0, 2.0 * math.pi)
        self.pushes.append((t_land, kick * math.cos(angle), kick * math.sin(angle)))
        self._mark(t, "hop", peak_bw=peak_bw)
        self._mark(t + 0.40, "flight")
        self._mark(t_land, "landing")
        self.steady_from = t_land + LANDING_LENGTH_S

    def _do_push(self, t: float, direction: float, magnitude: float) -> None:
        dv = magnitude / self.mass_kg * 1000.0  # mm/s
        rad = math.radians(direction)
        self.pushes.append((t, dv * math.cos(rad), dv * math.sin(rad)))
        self._mark(t, "push", direction=direction, magnitude=magnitude)

    def _do_follow_trace(self, t: float, trace: CopTrace, loop: bool) -> None:
        cop = trace.resampled(self.rate_hz)
        self.traces.append(_TraceWindow(t, cop, loop))
        self._mark(t, "follow_trace", source=trace.source, duration_s=trace.duration_s)

    def _do_play_game(self, t: float, task: str, game: GameSpec, skill: float,
                      elapsed_s: float, duration_s: float) -> None:
        plan_game(self, t, task, game, skill, elapsed_s, duration_s)

    def _do_set_condition(
        self,
        t: float,
        surface: str | None = None,
        skill: float | None = None,
        eyes: str | None = None,
        sway: str | None = None,
        lapses: bool | None = None,
    ) -> None:
        self.lapses = self.lapses if lapses is None else lapses
        self.surface = surface or self.surface
        self.skill = self.skill if skill is None else skill
        if sway is not None:
            self.skill = min(1.0, max(0.0, self.skill + SWAY_STEPS[sway]))
        self.eyes = eyes or self.eyes
        if self.on_board:
            self._set_gains(t, 1.0)
        self._mark(t, "set_condition", surface=self.surface, skill=self.skill, eyes=self.eyes)

    def _do_hold(self, t: float, duration_s: float = 0.0, note: str = "") -> None:
        self._mark(t, "hold", duration_s=duration_s, note=note)

    def _do_place_wobble_board(self, t: float, board: WobbleBoard, level_x_mm: float,
                               level_y_mm: float, surface_height_mm: float) -> None:
        if self.board_on:
            self._skip(t, "place_wobble_board", "a wobble board is already on the platform")
            return
        self.wobble = PlacedBoard(board, np.array([level_x_mm, level_y_mm]), surface_height_mm,
                                  t)
        self.deck_mass_kg.go(t, board.mass_kg, 0.0)
        self.first_board_s = min(self.first_board_s, t)
        self._mark(t, "place_wobble_board", board=board.name, level_mm=[level_x_mm, level_y_mm])

    def _do_remove_wobble_board(self, t: float) -> None:
        if not self.board_on:
            self._skip(t, "remove_wobble_board", "no wobble board is on the platform")
            return
        self.wobble.t_off_s = t
        self.deck_mass_kg.go(t, 0.0, 0.0)
        for track in self.tilt_gains:
            track.go(t, 0.0, 0.0)
        self._mark(t, "remove_wobble_board")

    # -- evaluation -------------------------------------------------------------------
    def force_fraction(self, t: np.ndarray) -> np.ndarray:
        """Share of body weight on the board at times t, landing transients included."""
        frac = self.fraction.evaluate(t)
        for land in self.landings:
            tau = t - land.t_s
            inside = (tau >= 0) & (tau < LANDING_LENGTH_S)
            if not inside.any():
                continue
            tau = tau[inside]
            after = np.maximum(tau - LANDING_RISE_S, 0.0)
            shape = np.where(
                tau < LANDING_RISE_S,
                min_jerk(tau / LANDING_RISE_S),
                np.exp(-after / LANDING_DECAY_S) * np.cos(2 * math.pi * LANDING_FREQ_HZ * after),
            )
            frac[inside] += land.extra_bw * shape
        return np.maximum(frac, 0.0)

    def trace_override(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(mask, cop (n, 2)) for samples where a real COP trace replaces the sway model."""
        if not self.traces:
            return None
        mask = np.zeros(t.shape, bool)
        cop = np.zeros((t.size, 2))
        for w in self.traces:
            k = np.rint((t - w.t_s) * self.rate_hz).astype(np.int64)
            n = len(w.cop_mm)
            inside = (k >= 0) & (t < w.t_end)
            if not w.loop:
                inside &= k < n
            if inside.any():
                mask |= inside
                cop[inside] = w.cop_mm[k[inside] % n]
        return (mask, cop) if mask.any() else None

    def prune(self, before_t: float) -> None:
        """Drop what can no longer affect times >= before_t (keeps endless demos flat)."""
        for track in (self.fraction, self.base_x, self.base_y, *self.gains,
                      self.deck_mass_kg, *self.tilt_gains):
            track.prune(before_t)
        self.landings = [x for x in self.landings if x.t_s + LANDING_LENGTH_S > before_t]
        self.pushes = [p for p in self.pushes if p[0] >= before_t - 1.0]
        self.traces = [
            w
            for w in self.traces
            if w.t_end > before_t and (w.loop or w.t_s + len(w.cop_mm) / self.rate_hz > before_t)
        ]
        if len(self.phases) > 1000:
            del self.phases[:-500]
        if len(self.skipped) > 100:
            del self.skipped[:-50]
