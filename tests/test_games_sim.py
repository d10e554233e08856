"""The games end to end on the simulated athlete: sim -> counts -> estimator -> hold engine
(the task's detector) -> the stored frames' analysis and score (station.trials.sim_play).
The simulated athlete plays each game (station.board.sim.games) as the autopilot asks it
to, once the hold has started."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from station.protocols import get_protocol
from station.protocols.games import DEFAULT_ENVELOPE_MM, DIRECTIONS, maze_targets_mm
from station.protocols.model import TrialSpec
from station.trials.sim_play import play_trial


def play(spec: TrialSpec, skill: float, seed: int = 0) -> dict[str, Any]:
    return play_trial(spec, skill, seed)


def trial(protocol: str, trial_id: str) -> TrialSpec:
    return get_protocol(protocol).trial(trial_id)


@pytest.mark.parametrize("trial_id", ["heel-toe", "side-to-side"])
def test_the_simulated_athlete_follows_the_weight_shift_target(trial_id: str) -> None:
    spec = trial("weight-shift", trial_id).with_duration(20.0)
    good, poor = play(spec, 0.9), play(spec, 0.2)
    assert good["outcome"].completed and poor["outcome"].completed
    g, p = good["metrics"]["weight_shift"], poor["metrics"]["weight_shift"]
    assert g["rms_error_mm"] < p["rms_error_mm"]
    assert g["time_in_band_pct"] > p["time_in_band_pct"]
    assert g["time_in_band_pct"] > 60.0
    assert g["lag_s"] < p["lag_s"]
    assert good["score"] > poor["score"]
    # the live figures and the analysis agree (same target, live COP vs the stored frames)
    live = good["status"]["game"]
    assert live["task"] == "weight_shift"
    assert live["pct_in_band"] == pytest.approx(g["time_in_band_pct"], abs=8.0)
    assert live["rms_error_mm"] == pytest.approx(g["rms_error_mm"], rel=0.25)


def test_the_simulated_athlete_leans_to_its_limits_and_sets_an_envelope() -> None:
    spec = trial("limits-of-stability", "los-8")
    good, poor = play(spec, 0.9), play(spec, 0.3)
    g, p = good["metrics"]["limits_of_stability"], poor["metrics"]["limits_of_stability"]
    assert good["outcome"].completed
    assert g["directions_reached"] == 8 and p["directions_reached"] == 8
    cues = [e.detail["direction"] for e in good["events"] if e.kind == "game_cue"]
    assert cues == list(DIRECTIONS)
    assert g["max_excursion_pct"] > p["max_excursion_pct"]
    assert g["reaction_time_s"] < p["reaction_time_s"]
    assert g["movement_velocity_mm_s"] > p["movement_velocity_mm_s"]
    assert 60.0 < g["directional_control_pct"] <= 100.0
    assert len(g["envelope_mm"]) == 8 and all(v > 30.0 for v in g["envelope_mm"])
    # the live reach per direction is the envelope the analysis finds (within the noise)
    assert good["status"]["game"]["reach_mm"] == pytest.approx(g["envelope_mm"], abs=10.0)
    assert good["score"] > poor["score"]


def test_the_maze_is_played_inside_the_athletes_envelope() -> None:
    small = tuple(0.6 * v for v in DEFAULT_ENVELOPE_MM)
    spec = trial("maze", "maze-8").with_envelope(small)
    assert np.abs(maze_targets_mm(spec.game)).max() < np.abs(
        maze_targets_mm(trial("maze", "maze-8").game)).max()
    good = play(spec, 0.9)
    m = good["metrics"]["maze"]
    live = [e for e in good["events"] if e.kind == "target_reached"]
    assert m["targets_reached"] >= 6
    assert abs(len(live) - m["targets_reached"]) <= 1
    assert np.allclose(good["status"]["game"]["targets_mm"], maze_targets_mm(spec.game), atol=0.01)
    assert good["score"] > 50.0


@pytest.mark.parametrize("trial_id", ["left-taps", "right-taps"])
def test_the_simulated_athlete_taps_to_the_beat(trial_id: str) -> None:
    spec = trial("toe-taps", trial_id).with_duration(20.0)
    good = play(spec, 0.9)
    m = good["metrics"]["toe_taps"]
    live_taps = [e for e in good["events"] if e.kind == "tap"]
    assert good["outcome"].completed
    assert m["taps"] >= 11 and abs(len(live_taps) - m["taps"]) <= 1
    assert m["mean_interval_s"] == pytest.approx(1.5, abs=0.1)
    assert m["interval_cv"] < 0.2
    assert good["status"]["game"]["taps"] == len(live_taps)
    assert good["score"] > 60.0


def test_the_autopilot_plays_the_game_being_held_once() -> None:
    from station.board.sim.athlete import normalize_action
    from station.trials.autopilot import SimAutopilot

    spec = trial("maze", "maze-8")

    class Runner:
        current_spec = spec
        current_key = "k"

        def status(self) -> dict[str, object]:
            return {"state": "holding", "hold_elapsed_s": 0.4}

    class Runtime:
        def __init__(self) -> None:
            self.actions: list[tuple[str, dict[str, Any]]] = []

        def perform(self, action: str, **params: Any) -> None:
            self.actions.append((action, normalize_action(action, params)))

    runtime = Runtime()
    pilot = SimAutopilot(runtime, Runner(), seed=0, failure_rate=0.0)
    for _ in range(3):
        assert pilot.tick()
    games = [p for a, p in runtime.actions if a == "play_game"]
    assert len(games) == 1
    assert games[0]["task"] == "maze" and games[0]["game"] == spec.game
    assert games[0]["elapsed_s"] == 0.4 and games[0]["duration_s"] == spec.duration_s
