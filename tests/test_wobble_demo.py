"""The demo plays wobble trials on the simulator's rolling board: the autopilot puts the
station's board on (and takes it off for other trials), the demo history's holds use it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from station.analysis.pipeline import analyze_frames
from station.protocols import get_protocol
from station.trials.autopilot import DEMO_TRIALS, SimAutopilot
from station.trials.demo_history import simulate_hold
from station.wobble import WobbleSetup, preset

CALIBRATION = json.loads((Path(__file__).resolve().parents[1] / "calibration" /
                          "sim-board.json").read_text())


class Runner:
    def __init__(self, spec, setup=None) -> None:
        self.current_spec, self.current_key, self.current_wobble_setup = spec, "k", setup

    def status(self) -> dict[str, object]:
        return {"state": "empty"}


class Runtime:
    def __init__(self) -> None:
        self.actions: list[tuple[str, dict]] = []

    def perform(self, action: str, **params: object) -> None:
        self.actions.append((action, params))


def test_the_autopilot_puts_the_stations_wobble_board_on_for_a_wobble_trial():
    spec = get_protocol("wobble-drill").trial("double-wobble-5deg")
    board = preset("round-50-trainer")
    runtime = Runtime()
    SimAutopilot(runtime, Runner(spec, WobbleSetup(board)), seed=0).tick()
    assert [a for a, _ in runtime.actions] == ["place_wobble_board", "step_on"]
    assert runtime.actions[0][1]["board"] is board
    firm = Runtime()
    SimAutopilot(firm, Runner(get_protocol("baseline").trial("left-open-firm")), seed=0).tick()
    assert [a for a, _ in firm.actions] == ["remove_wobble_board", "step_on"]
    assert ("wobble-drill", "double-wobble-5deg") in DEMO_TRIALS


def test_a_demo_wobble_hold_rolls_a_board_and_is_analysed_as_one():
    spec = get_protocol("baseline").trial("left-open-wobble")
    t_ns, counts, fail_at = simulate_hold(
        np.random.default_rng(5), stance=spec.stance, eyes=spec.eyes, surface=spec.surface,
        skill=0.9, mass_kg=70.0, duration_s=12.0, seed=11)
    metrics, score, _ = analyze_frames(
        t_ns, counts, CALIBRATION, stance=spec.stance, eyes=spec.eyes, surface=spec.surface,
        task=spec.task, completed=fail_at is None, time_to_failure_s=fail_at,
        planned_duration_s=12.0, body_weight_n=70.0 * 9.80665)
    wobble = metrics["wobble"]
    # the COP is the dome's contact: a few degrees of tilt, mostly inside 5 deg at this skill
    assert 0.5 < wobble["stability_index_deg"]["overall"] < 8.0, wobble["stability_index_deg"]
    assert wobble["dome_only_pct"] > 90.0
    assert 0.0 < score <= 100.0
