"""Harder conditions are harder for the simulated athlete, through the real analysis.

Many single-leg holds per condition: the vectorized simulator (`simulate`, the athlete
with lapses) -> raw counts -> Estimator -> HoldEngine -> the runner's analysis (the same
code as a live trial). Mean COP velocity and the failure rate must rise firm -> foam and
eyes open -> closed, so a demo or a browser test no longer scores foam above firm.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from station.board.sim import simulate
from station.board.sim.sway import lapse_rate_per_s
from station.calibration.estimator import Estimator
from station.calibration.file import load_calibration
from station.protocols import get_protocol
from station.samples import Sample
from station.trials import HoldEngine
from station.trials.runner import FinishedTrial, TrialRequest, analyze_finished

CALIBRATION = Path(__file__).resolve().parents[1] / "calibration" / "sim-board.json"
TRIALS = {  # the baseline battery's right-leg holds
    ("firm", "open"): "right-open-firm",
    ("foam", "open"): "right-open-foam",
    ("firm", "closed"): "right-closed-firm",
}
SEEDS = range(30)
HOLD_S = 20.0


def one_trial(surface: str, eyes: str, seed: int) -> FinishedTrial:
    protocol = get_protocol("baseline")
    spec = protocol.trial(TRIALS[(surface, eyes)])
    assert (spec.surface, spec.eyes, spec.stance) == (surface, eyes, "single-right")
    events = [(0.5, "step_on", {"mass_kg": 70.0, "stance": "right", "surface": surface,
                                "eyes": eyes, "skill": 0.5, "lapses": True})]
    sim = simulate(events, seed=seed, duration_s=HOLD_S + 12.0)
    estimator = Estimator(load_calibration(CALIBRATION))
    forces, total, cop = estimator.estimate_block(sim.t_s, sim.counts)
    engine = HoldEngine(spec)
    for t, f, c, fc in zip(sim.t_s, total, cop, forces, strict=True):
        engine.update(Sample(float(t), float(f), float(c[0]), float(c[1]), tuple(map(float, fc))))
        if engine.state.terminal:
            break
    assert engine.result is not None, f"{surface}/{eyes} seed {seed}: the trial never ended"
    finished = FinishedTrial(
        request=TrialRequest("baseline", spec.id), protocol=protocol, spec=spec,
        outcome=engine.result, t_ns=np.rint(sim.t_s * 1e9).astype(np.int64),
        counts=sim.counts, calibration=json.loads(CALIBRATION.read_text()),
        started_at=datetime.now(UTC), clock_synced=True,
    )
    analyze_finished(finished)
    return finished


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, str], dict[str, float]]:
    out = {}
    for surface, eyes in TRIALS:
        trials = [one_trial(surface, eyes, seed) for seed in SEEDS]
        velocities = [t.metrics["mean_velocity_mm_s"]["total"] for t in trials if t.metrics]
        out[(surface, eyes)] = {
            "velocity": float(np.median(velocities)),
            "failures": sum(not t.outcome.completed for t in trials) / len(trials),
            "score": float(np.median([t.score for t in trials])),
        }
    return out


def test_velocity_rises_firm_to_foam_and_open_to_closed(outcomes) -> None:
    firm, foam, closed = (outcomes[k]["velocity"] for k in TRIALS)
    assert foam > 1.3 * firm, outcomes
    assert closed > 1.3 * firm, outcomes


def test_failure_rate_rises_firm_to_foam_and_open_to_closed(outcomes) -> None:
    firm, foam, closed = (outcomes[k]["failures"] for k in TRIALS)
    assert foam > firm + 0.1, outcomes
    assert closed > firm + 0.1, outcomes


def test_lapse_rate_follows_the_condition() -> None:
    firm = lapse_rate_per_s("single", "firm", "open", 0.5)
    assert 0 < firm < lapse_rate_per_s("single", "foam", "open", 0.5)
    assert firm < lapse_rate_per_s("single", "firm", "closed", 0.5)
    assert lapse_rate_per_s("single", "firm", "open", 0.9) < firm  # skill helps
    assert lapse_rate_per_s("double", "foam", "closed", 0.5) == 0.0
