"""The simulated athlete plays the biofeedback games: follows, leans, steers and taps.

`plan_game` lays out one game on the athlete's tracks (station.board.sim.tracks) from the
moment it is asked, `elapsed_s` into the hold, with the game's own targets
(station.protocols.games), so the simulated COP goes where the screen's target is:
- weight_shift: waypoints every WAYPOINT_S on the moving target, `lag_s` behind it, plus a
  slowly wandering error (a better athlete lags less and wanders less);
- limits_of_stability: after each cue a reaction time, a straight lean at a steady speed to
  a share of the theoretical limit (further for more skill), a few degrees off the line,
  held until the return cue, then back to the centre;
- maze: from target to target: a reaction, a move, and a stay a little longer than the dwell;
- toe_taps: a dip of TAP_DIP_FRAC of the weight for TAP_S on each beat, early or late by a
  skill-dependent jitter; now and then (25 % x (1 - skill)^2 of the beats) the foot stays down.
The athlete's sway noise goes on on top of these moves. Timings are assumptions (LOS reaction
times ~0.4-0.9 s and lean speeds ~40-100 mm/s are the range of healthy adults' NeuroCom
results, Clark et al. 1997), chosen to make the games' scores spread with skill.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from station.protocols.games import (
    DIRECTIONS,
    THEORETICAL_LIMITS_MM,
    GameSpec,
    los_cue_times,
    maze_targets_mm,
    unit_vector,
    weight_shift_path,
)

if TYPE_CHECKING:
    from station.board.sim.athlete import Athlete

WAYPOINT_S = 0.5
TAP_DIP_FRAC = 0.08  # the toes take 8 % of the weight on the floor
TAP_S = 0.2
FOOT_DOWN_S = 1.2


def _moves(athlete: Athlete, t0: float, points: list[tuple[float, float, float]]) -> None:
    """Move the COP base through (time, x, y) points (min-jerk between them)."""
    prev = t0
    first = True
    for t, x, y in points:
        if t <= prev and not first:
            continue
        if first:
            athlete.base_x.go(t0, x, max(t - t0, 0.05))
            athlete.base_y.go(t0, y, max(t - t0, 0.05))
            first = False
        else:
            athlete.base_x.then(x, t - prev)
            athlete.base_y.then(y, t - prev)
        prev = t


def plan_game(athlete: Athlete, t: float, task: str, game: GameSpec, skill: float,
              elapsed_s: float, duration_s: float) -> None:
    """Lay out the rest of a game from sim time t (elapsed_s into a hold of duration_s)."""
    rng = athlete.rng
    clumsy = 1.0 - skill
    home_x = athlete.base_x.value_at(t)
    home_y = athlete.base_y.value_at(t)
    left = max(duration_s - elapsed_s, 0.0)
    points: list[tuple[float, float, float]] = []
    if task == "weight_shift":
        lag = 0.2 + 0.6 * clumsy
        n = int(left // WAYPOINT_S) + 1
        tau = elapsed_s + WAYPOINT_S * np.arange(1, n + 1)
        target = weight_shift_path(tau - lag, game)
        wander = np.cumsum(rng.normal(0.0, 4.0 * clumsy + 0.5, (n, 2)), axis=0) * 0.5
        wander -= np.linspace(0, 1, n)[:, None] * wander[-1]  # ends back on the path
        pos = target + wander
        points = [(t + tt - elapsed_s, home_x + x, home_y + y)
                  for tt, (x, y) in zip(tau, pos, strict=True)]
    elif task == "limits_of_stability":
        reaction = 0.35 + 0.5 * clumsy
        speed = 40.0 + 60.0 * skill
        share = 0.55 + 0.4 * skill
        for k, cue in enumerate(los_cue_times(game)):
            if cue + game.lean_s < elapsed_s:
                continue
            reach = share * THEORETICAL_LIMITS_MM[k] * float(rng.uniform(0.92, 1.05))
            off = math.radians(float(rng.normal(0.0, 2.0 + 8.0 * clumsy)))
            ux, uy = unit_vector(k)
            c, s = math.cos(off), math.sin(off)
            dx, dy = ux * c - uy * s, ux * s + uy * c
            go = t + cue - elapsed_s + reaction * float(rng.uniform(0.85, 1.2))
            arrive = go + reach / speed
            back = t + cue + game.lean_s - elapsed_s + 0.3
            points += [(go, home_x, home_y), (arrive, home_x + reach * dx, home_y + reach * dy),
                       (back, home_x + reach * dx, home_y + reach * dy),
                       (back + 1.2, home_x, home_y)]
    elif task == "maze":
        speed = 35.0 + 50.0 * skill
        at = np.array([home_x, home_y])
        when = t + 0.3
        for p in maze_targets_mm(game):
            goal = np.array([home_x, home_y]) + p * float(rng.uniform(0.97, 1.0))
            start = when + 0.3 + 0.4 * clumsy
            arrive = start + float(np.hypot(*(goal - at))) / speed
            stay = arrive + game.dwell_s + 0.4
            points += [(start, *at), (arrive, *goal), (stay, *goal)]
            at, when = goal, stay
            if when - t > left:
                break
        points.append((when + 1.0, home_x, home_y))
    elif task == "toe_taps":
        interval = game.tap_interval_s
        k0 = math.floor(elapsed_s / interval) + 1
        for k in range(k0, int((elapsed_s + left) // interval) + 1):
            beat = t + k * interval - elapsed_s + float(rng.normal(0.0, 0.02 + 0.15 * clumsy))
            down = rng.random() < 0.25 * clumsy * clumsy
            athlete.fraction.go(beat, 1.0 - (0.3 if down else TAP_DIP_FRAC), 0.05)
            athlete.fraction.then(1.0, 0.05, pause=FOOT_DOWN_S if down else TAP_S - 0.05)
        athlete._mark(t, "play_game", task=task)
        return
    else:
        raise ValueError(f"no simulated play for task {task!r} (games: weight_shift, "
                         f"limits_of_stability, maze, toe_taps)")
    _moves(athlete, t, [p for p in points if p[0] >= t])
    athlete._mark(t, "play_game", task=task, directions=len(DIRECTIONS))
