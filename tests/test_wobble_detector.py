"""The hold engine's wobble task: a rim contact fails the hold, or counts in the BESS-like mode."""

from __future__ import annotations

import pytest
from wobble_fixtures import session

from station.protocols import TrialSpec
from station.trials import HoldEngine, State
from station.trials.events import FAILURE_REASONS
from station.trials.tasks import DETECTORS, WobbleDetector, detector_for, task_name
from station.trials.thresholds import HoldConfig

WOBBLE = TrialSpec(id="w", stance="single-right", surface="wobble", task="wobble",
                   duration_s=25.0)


def run(engine: HoldEngine, s) -> HoldEngine:
    engine.start()  # the operator starts: on a wobble board the COP does not go over the foot
    for sample in s.samples():
        engine.update(sample)
        if engine.state.terminal:
            break
    return engine


def test_the_table_and_the_reason():
    assert "rim_contact" in FAILURE_REASONS
    assert task_name(WOBBLE) == "wobble" and task_name(WOBBLE, bess=True) == "wobble_bess"
    assert type(detector_for(WOBBLE, HoldConfig())) is WobbleDetector
    assert detector_for(WOBBLE, HoldConfig(), bess=True).count_errors
    assert DETECTORS["wobble"] is WobbleDetector


def test_a_rim_contact_fails_the_hold_dated_to_its_onset():
    # the default set-up (the default preset, level at the centre) is the simulated board's
    s = session(stance="right", skill=0.2, eyes="closed", seed=3, duration_s=40.0,
                level_mm=(0.0, 0.0))
    engine = run(HoldEngine(WOBBLE, operator_start=True), s)
    assert engine.state is State.FAILED
    outcome = engine.result
    assert outcome.failure_reason == "rim_contact"
    first = min(a for a, _ in s.true_contacts() if a >= outcome.hold_start_t)
    assert outcome.hold_start_t + outcome.time_to_failure_s == pytest.approx(first, abs=0.0126)
    event = next(e for e in engine.events if e.kind == "rim_contact")
    assert event.t_s - first <= 0.05  # confirmed within 50 ms
    assert event.detail["side"] in ("right", "front-right", "front", "front-left", "left",
                                    "back-left", "back", "back-right")


def test_the_count_mode_counts_rim_contacts_and_runs_the_duration():
    s = session(stance="right", skill=0.2, eyes="closed", seed=3, duration_s=40.0,
                level_mm=(0.0, 0.0))
    engine = run(HoldEngine(WOBBLE, operator_start=True, bess=True), s)
    assert engine.state is State.COMPLETE
    rims = [e for e in engine.events if e.kind == "rim_contact"]
    assert len(rims) >= 3
    counted = sum(1 for e in rims if e.detail["counted"])
    assert engine.result.bess_errors >= counted
    done = next(e for e in engine.events if e.kind == "trial_complete").detail
    assert done["rim_contacts"] == len(rims) and done["rim_contact_s"] > 0.0
    assert engine.status()["wobble"]["rim_contacts"] == len(rims)


def test_a_controlled_hold_completes_and_shows_its_tilt():
    s = session(stance="double", skill=0.8, seed=4, duration_s=35.0, level_mm=(0.0, 0.0))
    spec = TrialSpec(id="w2", stance="double", surface="wobble", task="wobble", duration_s=25.0)
    engine = run(HoldEngine(spec, operator_start=True), s)
    assert engine.state is State.COMPLETE
    done = next(e for e in engine.events if e.kind == "trial_complete").detail
    assert done["rim_contacts"] == 0
    wobble = engine.status()["wobble"]
    ml, ap = wobble["tilt_deg"]
    assert abs(ml) < 15.0 and abs(ap) < 15.0 and wobble["rim"] is False
