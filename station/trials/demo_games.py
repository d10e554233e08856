"""The biofeedback games in the demo's history: which game a training session adds, played
by the simulator's vectorized path.

A demo athlete's first training session has a limits-of-stability test, so they have their
own envelope (station.analysis.history.envelope) before any other game; after that each
training session adds one game in turn: a weight shift (heel to toe, then side to side), toe
taps on each leg, and a new limits-of-stability test every LOS_EVERY sessions. The game is
played as the autopilot plays it live (the `play_game` action from the hold's start, at the
story's skill that day) but over the whole trial at once (`station.board.sim.simulate`), so
a game costs about what a hold of the same length costs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.protocols import TrialSpec
from station.protocols.games import GAME_TASKS, GameSpec

SETTLE_S = 3.0  # step on (and lift the free foot), then the game starts
LIFTED = {"single-left": "right", "single-right": "left"}
LOS = ("limits-of-stability", "los-8")
ROTATION = (
    ("weight-shift", "heel-toe"),
    ("toe-taps", "left-taps"),
    ("weight-shift", "side-to-side"),
    ("toe-taps", "right-taps"),
)
LOS_EVERY = 6  # a new LOS test every sixth training session (its envelope grows with skill)


def is_game(spec: TrialSpec) -> bool:
    return spec.task in GAME_TASKS


def game_for_session(n_before: int) -> tuple[str, str]:
    """(protocol, trial) of the game added to an athlete's training session, given how many
    training sessions they had before it: LOS first and every LOS_EVERY, else the rotation."""
    if n_before % LOS_EVERY == 0:
        return LOS
    return ROTATION[(n_before - 1 - n_before // LOS_EVERY) % len(ROTATION)]


def simulate_game(spec: TrialSpec, *, skill: float, mass_kg: float, rate_hz: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(t_ns, counts, None) of the played part of one simulated game of `spec` (a game runs
    its time: no failure is simulated)."""
    events: list[tuple[float, str, dict[str, Any]]] = [
        (0.0, "step_on", {"mass_kg": mass_kg, "stance": "double", "surface": spec.surface,
                          "skill": skill, "eyes": spec.eyes}),
    ]
    if spec.stance in LIFTED:
        events.append((1.5, "lift_foot", {"side": LIFTED[spec.stance]}))
    game = spec.game if spec.game is not None else GameSpec()
    events.append((SETTLE_S, "play_game", {"task": spec.task, "game": game.to_json(),
                                           "skill": skill, "elapsed_s": 0.0,
                                           "duration_s": spec.duration_s}))
    from station.board.sim import simulate  # the simulator (numpy, scipy) only for a demo

    result = simulate(events, rate_hz=rate_hz, seed=seed, duration_s=SETTLE_S + spec.duration_s)
    played = result.t_s >= SETTLE_S
    t_ns = 10**12 + np.rint(result.t_s[played] * 1e9).astype(np.int64)
    return t_ns, np.asarray(result.counts[played]), None
