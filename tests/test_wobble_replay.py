"""The replay of a wobble trial carries the deck's tilt, so the athlete page shows the level."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from station.analysis.history.replay_trace import trace_view
from station.analysis.pipeline import analyze_frames
from station.protocols import get_protocol
from station.store.rawframes import RawFrames
from station.trials.demo_history import simulate_hold

CALIBRATION = json.loads((Path(__file__).resolve().parents[1] / "calibration" /
                          "sim-board.json").read_text())


@dataclass
class Trial:
    raw: RawFrames
    calibration: dict[str, Any]
    metrics: dict[str, Any] | None
    surface: str
    task: str
    stance: str = "single-left"
    outcome: str = "complete"


class Store:
    def __init__(self, trial: Trial) -> None:
        self.trial = trial

    def load_trial(self, uid: str, with_raw: bool = False) -> Trial:
        return self.trial


def wobble_trial() -> Trial:
    spec = get_protocol("baseline").trial("left-open-wobble")
    t_ns, counts, fail_at = simulate_hold(
        np.random.default_rng(2), stance=spec.stance, eyes="open", surface="wobble", skill=0.8,
        mass_kg=70.0, duration_s=10.0, seed=4)
    metrics, _, _ = analyze_frames(
        t_ns, counts, CALIBRATION, stance=spec.stance, eyes="open", surface="wobble",
        task="wobble", completed=fail_at is None, time_to_failure_s=fail_at,
        planned_duration_s=10.0, body_weight_n=686.0)
    return Trial(RawFrames.from_arrays(t_ns, counts), CALIBRATION, metrics, "wobble", "wobble")


def test_the_replay_of_a_wobble_trial_has_its_tilt_at_the_trace_times():
    trial = wobble_trial()
    trace = trace_view(Store(trial), "t1")
    wobble = trace["wobble"]
    assert len(wobble["ml"]) == len(wobble["ap"]) == len(wobble["rim"]) == len(trace["t"])
    assert wobble["max_tilt_deg"] == pytest.approx(17.46, abs=0.01)  # the preset's
    # the replay's tilt is the trial's: its RMS is the stored overall stability index
    rms = float(np.sqrt(np.mean(np.square(wobble["ml"]) + np.square(wobble["ap"]))))
    assert rms == pytest.approx(trial.metrics["wobble"]["stability_index_deg"]["overall"],
                                rel=0.1)


def test_a_firm_trial_has_no_tilt():
    trial = wobble_trial()
    trial.surface, trial.task = "firm", "hold"
    assert "wobble" not in trace_view(Store(trial), "t1")


def test_a_reanalysis_keeps_the_set_up_the_trial_was_analysed_with():
    from station.analysis.wobble import stored_setup
    from station.store.reanalysis import _wobble_setup

    trial = wobble_trial()
    trial.metrics["wobble"]["level_mm"] = [4.0, -2.0]
    trial.metrics["wobble"]["setup"] = "set-up"
    setup = _wobble_setup(trial)
    assert setup.level_mm == (4.0, -2.0) and setup.source == "set-up"
    assert setup.board.name == "round-40-hemisphere"
    assert stored_setup(None).source == "default"
    trial.surface, trial.task = "firm", "hold"
    assert _wobble_setup(trial) is None
