"""The biofeedback games' targets as data: where the target is, for every task, at every time.

One definition serves three readers, so they can never disagree: the hold engine's task
detectors (one frame at a time, plain floats: the `*_at` functions), the analysis (whole
traces, numpy: the `*_path` functions) and the simulated athlete who plays the games. A
trial's `game` table (GameSpec, in its protocol file) holds the game's numbers; the athlete's
own limits of stability (`envelope_mm`, one reach per direction in DIRECTIONS) are filled in
when the trial starts and stored with the trial's spec, so a re-analysis places the targets
where the athlete saw them.

Frame: x right, y forward (station.geometry), mm, origin the board centre; directions are
angles counter-clockwise from the right (forward = 90 degrees).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# The eight directions of a limits-of-stability test, in the order they are cued
# (NeuroCom/Biodex order: forward first, then clockwise), with their angles.
DIRECTIONS = ("forward", "forward-right", "right", "back-right", "back", "back-left", "left",
              "forward-left")
DIRECTION_DEG = (90.0, 45.0, 0.0, -45.0, -90.0, -135.0, 180.0, 135.0)
_UNIT = tuple((math.cos(math.radians(a)), math.sin(math.radians(a))) for a in DIRECTION_DEG)

# Theoretical limits of stability (NeuroCom): the centre of gravity may lean 8 degrees
# forward, 4.5 degrees back and 8 degrees to either side of the ankles; the COG is at
# 55.27 % of body height. With an assumed 1.75 m athlete those angles give the limits at the
# board in mm; the diagonals lie on the ellipse through the four axis limits.
LOS_FORWARD_DEG, LOS_BACK_DEG, LOS_SIDE_DEG = 8.0, 4.5, 8.0
COG_HEIGHT_FRACTION = 0.5527
DEFAULT_HEIGHT_MM = 1750.0

GAME_TASKS = ("weight_shift", "limits_of_stability", "maze", "toe_taps")
AXES = ("ap", "ml")  # weight shift: heel-to-toe (antero-posterior) or side to side


def theoretical_limits_mm(height_mm: float = DEFAULT_HEIGHT_MM) -> tuple[float, ...]:
    """The NeuroCom theoretical limit in each of DIRECTIONS, in mm at the board."""
    cog = COG_HEIGHT_FRACTION * height_mm
    fwd = cog * math.tan(math.radians(LOS_FORWARD_DEG))
    back = cog * math.tan(math.radians(LOS_BACK_DEG))
    side = cog * math.tan(math.radians(LOS_SIDE_DEG))
    out = []
    for ux, uy in _UNIT:
        ay = fwd if uy >= 0 else back
        out.append(1.0 / math.sqrt((ux / side) ** 2 + (uy / ay) ** 2))
    return tuple(out)


THEORETICAL_LIMITS_MM = theoretical_limits_mm()
# An athlete without a limits-of-stability result yet: 70 % of the theoretical limits
# (healthy adults reach about 70-90 % of them in the NeuroCom test).
DEFAULT_ENVELOPE_FRACTION = 0.7
DEFAULT_ENVELOPE_MM = tuple(DEFAULT_ENVELOPE_FRACTION * r for r in THEORETICAL_LIMITS_MM)

# Maze: the order the targets appear in, as (direction index, share of the envelope). Across,
# not around, so each move crosses the centre region and changes direction.
MAZE_ORDER = ((0, 0.6), (4, 0.55), (2, 0.6), (6, 0.6), (1, 0.5), (5, 0.5), (3, 0.5), (7, 0.5))


@dataclass(frozen=True)
class GameSpec:
    """A game's numbers (every field has a default, so a protocol file names only changes).

    weight_shift: the target moves along `axis` as a sine of period `period_s`, out to
        `amplitude_frac` of the athlete's envelope on each side; within the band means the COP
        within `band_mm` of it.
    limits_of_stability: after `lead_s`, each direction is cued for `lean_s` (lean and hold),
        then `return_s` to come back to the centre; `period_s` is not used.
    maze: `targets` targets (MAZE_ORDER, scaled by `reach_frac`), each collected by keeping
        the COP within `target_radius_mm` for `dwell_s`; the next one appears then.
    toe_taps: a tap every `tap_interval_s` (the rhythm the screen beats).
    envelope_mm: the athlete's limits of stability per direction; None: DEFAULT_ENVELOPE_MM.
    """

    axis: str = "ap"
    amplitude_frac: float = 0.5
    period_s: float = 10.0
    band_mm: float = 15.0
    lead_s: float = 1.0
    lean_s: float = 4.0
    return_s: float = 2.0
    targets: int = 8
    reach_frac: float = 1.0
    target_radius_mm: float = 15.0
    dwell_s: float = 0.5
    tap_interval_s: float = 1.5
    envelope_mm: tuple[float, ...] | None = None

    @property
    def envelope(self) -> tuple[float, ...]:
        """The envelope the targets are placed in (the athlete's, else the default)."""
        return self.envelope_mm if self.envelope_mm is not None else DEFAULT_ENVELOPE_MM

    def with_envelope(self, envelope_mm: tuple[float, ...] | list[float] | None) -> GameSpec:
        return dataclasses.replace(self, envelope_mm=check_envelope(envelope_mm))

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["envelope_mm"] = list(self.envelope_mm) if self.envelope_mm is not None else None
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | GameSpec | None) -> GameSpec:
        """From to_json's form (a stored spec); unknown keys are an error."""
        if data is None:
            return cls()
        if isinstance(data, GameSpec):
            return data
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(data) - known
        if extra:
            raise ValueError(f"game: unknown field(s) {', '.join(sorted(extra))} (allowed: "
                             f"{', '.join(sorted(known))})")
        fields = dict(data)
        if fields.get("envelope_mm") is not None:
            fields["envelope_mm"] = check_envelope(fields["envelope_mm"])
        return cls(**fields)

    def duration_needed_s(self, task: str) -> float:
        """The shortest trial the game fits in (0: any length)."""
        if task == "limits_of_stability":
            return self.lead_s + len(DIRECTIONS) * (self.lean_s + self.return_s)
        return 0.0


def check_envelope(envelope_mm: Any) -> tuple[float, ...] | None:
    """An envelope as a tuple of 8 positive finite mm, or None; ValueError names the problem."""
    if envelope_mm is None:
        return None
    values = tuple(float(v) for v in envelope_mm)
    if len(values) != len(DIRECTIONS) or not all(math.isfinite(v) and 5.0 <= v <= 300.0
                                                 for v in values):
        raise ValueError(f"envelope_mm needs {len(DIRECTIONS)} reaches of 5..300 mm (one per "
                         f"direction: {', '.join(DIRECTIONS)}), got {list(envelope_mm)!r}")
    return values


# ------------------------------------------------------------------- weight shift
def _shift_amplitudes(game: GameSpec) -> tuple[float, float, int]:
    """(reach on the positive side, reach on the negative side, coordinate index)."""
    env = game.envelope
    if game.axis == "ap":
        return game.amplitude_frac * env[0], game.amplitude_frac * env[4], 1
    return game.amplitude_frac * env[2], game.amplitude_frac * env[6], 0


def weight_shift_at(t_s: float, game: GameSpec) -> tuple[float, float]:
    """The target (x, y) mm at t_s seconds into the hold (one frame, plain floats)."""
    pos, neg, axis = _shift_amplitudes(game)
    s = math.sin(2.0 * math.pi * t_s / game.period_s)
    v = s * (pos if s >= 0 else neg)
    return (0.0, v) if axis == 1 else (v, 0.0)


def weight_shift_path(t_s: np.ndarray, game: GameSpec) -> np.ndarray:
    """The target (n, 2) mm at the times t_s (the same formula as weight_shift_at)."""
    pos, neg, axis = _shift_amplitudes(game)
    s = np.sin(2.0 * np.pi * np.asarray(t_s, dtype=float) / game.period_s)
    out = np.zeros((s.size, 2))
    out[:, axis] = s * np.where(s >= 0, pos, neg)
    return out


# ------------------------------------------------------------- limits of stability
def los_cue_times(game: GameSpec) -> np.ndarray:
    """When each direction is cued (s from the hold start), in DIRECTIONS order."""
    return game.lead_s + np.arange(len(DIRECTIONS)) * (game.lean_s + game.return_s)


def los_phase_at(t_s: float, game: GameSpec) -> tuple[int | None, str]:
    """(direction index or None, "wait" | "lean" | "return" | "done") at t_s into the hold."""
    if t_s < game.lead_s:
        return None, "wait"
    slot = game.lean_s + game.return_s
    k = int((t_s - game.lead_s) // slot)
    if k >= len(DIRECTIONS):
        return None, "done"
    return k, "lean" if t_s - game.lead_s - k * slot < game.lean_s else "return"


def los_targets_mm(game: GameSpec) -> np.ndarray:
    """(8, 2) the theoretical-limit point of each direction (where the screen's targets sit)."""
    return np.array([(r * ux, r * uy) for r, (ux, uy) in zip(THEORETICAL_LIMITS_MM, _UNIT,
                                                               strict=True)])


def unit_vector(direction: int) -> tuple[float, float]:
    return _UNIT[direction]


# ---------------------------------------------------------------------------- maze
def maze_targets_mm(game: GameSpec) -> np.ndarray:
    """(targets, 2) the maze's targets in order, inside the athlete's envelope."""
    env = game.envelope
    points = []
    for i in range(game.targets):
        d, share = MAZE_ORDER[i % len(MAZE_ORDER)]
        r = min(share * game.reach_frac, 0.9) * env[d]
        ux, uy = _UNIT[d]
        points.append((r * ux, r * uy))
    return np.array(points, dtype=float).reshape(-1, 2)


# ------------------------------------------------------------------- target drill
DRILL_SCALE_LIMITS = (0.6, 1.5)


def drill_radius_mm(radius_mm: float, envelope_mm: tuple[float, ...] | None) -> float:
    """The drill's circle scaled by the athlete's envelope against the default one (an athlete
    with a larger base of support sways more for the same control), clipped to 0.6-1.5x."""
    if envelope_mm is None:
        return radius_mm
    lo, hi = DRILL_SCALE_LIMITS
    scale = sum(envelope_mm) / sum(DEFAULT_ENVELOPE_MM)
    return radius_mm * min(max(scale, lo), hi)


# ------------------------------------------------------------------------ toe taps
# A tap: the force on the board dips by at least TAP_MIN_FRAC of body weight (the toes take
# a little weight on the floor) for TAP_MIN_S..TAP_MAX_S. A longer dip is the foot put down;
# the COP further than LOST_CONTROL_MM from the stance reference for LOST_CONTROL_MIN_S, away
# from a tap, is control lost between taps. The live detector and the analysis both use these.
TAP_MIN_FRAC = 0.03
TAP_MIN_S = 0.06
TAP_MAX_S = 0.8
LOST_CONTROL_MM = 35.0
LOST_CONTROL_MIN_S = 0.3
TAP_SETTLE_S = 0.4  # after a tap the COP swings back: the lost-control check waits this long
