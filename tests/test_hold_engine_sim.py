"""Hold engine on the simulated athlete, through the real pipeline.

simulate() -> raw HX711 counts -> Estimator with calibration/sim-board.json -> Samples
-> HoldEngine. The scenarios and the athlete model were written by another engineer,
so these tests check the engine against behaviour it was not tuned on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from station.board.sim import simulate
from station.calibration.estimator import Estimator
from station.calibration.file import load_calibration
from station.protocols import TrialSpec
from station.samples import Sample
from station.trials import HoldEngine, State

CALIBRATION = Path(__file__).resolve().parents[1] / "calibration" / "sim-board.json"
SEEDS = range(4)


def samples_of(result) -> list[Sample]:
    estimator = Estimator(load_calibration(CALIBRATION))
    forces, total, cop = estimator.estimate_block(result.t_s, result.counts)
    return [
        Sample(float(t), float(f), float(c[0]), float(c[1]),
               (float(fc[0]), float(fc[1]), float(fc[2]), float(fc[3])))
        for t, f, c, fc in zip(result.t_s, total, cop, forces, strict=True)
    ]


def run(engine: HoldEngine, samples: list[Sample], start_at: float | None = None) -> list:
    """Feed samples; with start_at, the operator presses start at that time."""
    events = []
    for s in samples:
        if start_at is not None and s.t_s >= start_at:
            events.extend(engine.start())
            start_at = None
        events.extend(engine.update(s))
        if engine.state.terminal:
            break
    return events


def phase(result, label: str) -> float:
    return result.phase_times(label)[0]


# ------------------------------------------------------------------ shipped scenarios
@pytest.mark.parametrize("seed", SEEDS)
def test_success_scenario_completes(seed: int) -> None:
    result = simulate("single_leg_hold", seed=seed)
    # The athlete stands on the right foot from 5.7 s to 25.7 s; the engine needs ~1 s to
    # see readiness and 3 s of countdown, so a 15 s hold fits (durations are per run).
    spec = TrialSpec(id="r", stance="single-right", duration_s=15.0)
    engine = HoldEngine(spec)
    run(engine, samples_of(result))
    out = engine.result
    assert out.completed, out.events
    assert out.hold_start_t > phase(result, "lift_foot") + 0.7
    assert out.body_weight_n == pytest.approx(72.0 * 9.81, rel=0.02)


@pytest.mark.parametrize("seed", SEEDS)
def test_success_scenario_with_a_longer_hold_fails_when_the_foot_goes_down(seed: int) -> None:
    result = simulate("single_leg_hold", seed=seed)
    engine = HoldEngine(TrialSpec(id="r", stance="single-right", duration_s=20.0))
    run(engine, samples_of(result))
    out = engine.result
    # put_foot_down at 25.7 s: the left foot lands on the board, the COP goes to the midline
    assert out.failure_reason == "touch_down_board"
    assert out.hold_end_t == pytest.approx(phase(result, "put_foot_down"), abs=0.2)


@pytest.mark.parametrize("seed", SEEDS)
def test_touch_down_scenario_fails_at_the_touch(seed: int) -> None:
    result = simulate("failed_hold_touch_down", seed=seed)
    engine = HoldEngine(TrialSpec(id="l", stance="single-left", duration_s=20.0))
    run(engine, samples_of(result))
    out = engine.result
    touch = phase(result, "touch_down")
    assert out.failure_reason == "touch_down_board"
    assert out.hold_end_t == pytest.approx(touch, abs=0.15)
    assert out.time_to_failure_s == pytest.approx(touch - out.hold_start_t, abs=0.15)


@pytest.mark.parametrize("seed", SEEDS)
def test_step_off_scenario_fails_with_step_off(seed: int) -> None:
    result = simulate("step_off", seed=seed)
    engine = HoldEngine(TrialSpec(id="d", stance="double", duration_s=20.0))
    run(engine, samples_of(result))
    out = engine.result
    assert out.failure_reason == "step_off"
    assert out.hold_end_t == pytest.approx(phase(result, "step_off"), abs=0.15)


@pytest.mark.parametrize("seed", SEEDS)
def test_hop_scenario_marks_the_landing(seed: int) -> None:
    result = simulate("hop_landing", seed=seed)
    engine = HoldEngine(TrialSpec(id="h", stance="single-left", task="hop", duration_s=5.0),
                        operator_start=True)
    # the operator presses start once the athlete stands on the left foot (4.0 s + 0.7 s)
    events = run(engine, samples_of(result), start_at=phase(result, "single_left"))
    out = engine.result
    assert out.completed, [(e.kind, e.detail) for e in events]
    assert out.landing_t_s == pytest.approx(phase(result, "landing"), abs=2 / 80)
    flight = next(e for e in events if e.kind == "flight")
    assert flight.t_s == pytest.approx(phase(result, "flight"), abs=2 / 80)
    assert out.hold_end_t - out.landing_t_s == pytest.approx(5.0, abs=1 / 80)


@pytest.mark.parametrize("seed", SEEDS)
def test_push_scenario_marks_each_push(seed: int) -> None:
    result = simulate("push", seed=seed)
    engine = HoldEngine(TrialSpec(id="p", stance="double", task="push", duration_s=8.0))
    run(engine, samples_of(result))
    out = engine.result
    assert out.completed
    pushes = result.phase_times("push")
    assert len(out.perturbation_onsets_s) == len(pushes) == 2
    # the board sees the postural response, which follows the push by ~0.1-0.15 s
    for onset, push in zip(out.perturbation_onsets_s, pushes, strict=True):
        assert 0.0 <= onset - push <= 0.25


@pytest.mark.parametrize("seed", SEEDS)
def test_push_scenario_then_step_off_fails(seed: int) -> None:
    result = simulate("push", seed=seed)
    engine = HoldEngine(TrialSpec(id="p", stance="double", task="push", duration_s=20.0))
    run(engine, samples_of(result))
    assert engine.result.failure_reason == "step_off"
    assert len(engine.result.perturbation_onsets_s) == 2


# ------------------------------------------------------------------- custom scripts
def single_leg(side_up: str, *later: tuple, surface: str = "firm", eyes: str = "open",
               skill: float = 0.5, mass_kg: float = 70.0) -> list[tuple]:
    return [(0.5, "step_on", {"mass_kg": mass_kg, "surface": surface, "eyes": eyes,
                              "skill": skill}),
            (3.0, "lift_foot", {"side": side_up}), *later]


@pytest.mark.parametrize(("stance", "up"), [("single-left", "right"), ("single-right", "left")])
@pytest.mark.parametrize("seed", SEEDS)
def test_floor_touch_down_on_the_simulator(stance: str, up: str, seed: int) -> None:
    events = single_leg(up, (14.0, "touch_down", {"on_board": False}), (15.0, "step_off", {}))
    result = simulate(events, seed=seed, duration_s=18.0)
    engine = HoldEngine(TrialSpec(id="s", stance=stance, duration_s=20.0))
    run(engine, samples_of(result))
    out = engine.result
    assert out.failure_reason == "touch_down_floor"
    assert out.hold_end_t == pytest.approx(14.0, abs=0.15)


@pytest.mark.parametrize("surface", ["firm", "foam", "wobble"])
@pytest.mark.parametrize("seed", SEEDS)
def test_board_touch_down_on_every_surface(surface: str, seed: int) -> None:
    events = single_leg("right", (14.0, "touch_down", {"on_board": True}), surface=surface,
                        skill=0.7)
    result = simulate(events, seed=seed, duration_s=17.0)
    engine = HoldEngine(TrialSpec(id="s", stance="single-left", surface=surface,
                                  duration_s=20.0))
    run(engine, samples_of(result))
    out = engine.result
    assert out.failure_reason == "touch_down_board", out.events
    assert out.hold_end_t == pytest.approx(14.0, abs=0.2)


@pytest.mark.parametrize("seed", SEEDS)
def test_single_leg_step_off_on_the_simulator(seed: int) -> None:
    result = simulate(single_leg("left", (12.0, "step_off", {})), seed=seed, duration_s=15.0)
    engine = HoldEngine(TrialSpec(id="s", stance="single-right", duration_s=20.0))
    run(engine, samples_of(result))
    assert engine.result.failure_reason == "step_off"
    assert engine.result.hold_end_t == pytest.approx(12.0, abs=0.15)


CONDITIONS = [
    (surface, eyes, skill)
    for surface, eyes in [("firm", "open"), ("firm", "closed"), ("foam", "open"),
                          ("foam", "closed"), ("wobble", "open")]
    for skill in (0.5, 0.8)
] + [("firm", "open", 0.2), ("firm", "closed", 0.2), ("foam", "open", 0.2)]


@pytest.mark.parametrize(("surface", "eyes", "skill"), CONDITIONS)
@pytest.mark.parametrize("seed", range(2))
def test_no_false_alarm_on_simulated_single_leg_holds(surface: str, eyes: str, skill: float,
                                                       seed: int) -> None:
    result = simulate(single_leg("right", surface=surface, eyes=eyes, skill=skill), seed=seed,
                      duration_s=42.0)
    engine = HoldEngine(TrialSpec(id="s", stance="single-left", surface=surface, eyes=eyes,
                                  duration_s=30.0))
    run(engine, samples_of(result))
    assert engine.state is State.COMPLETE, engine.result.events[-3:]


# -------------------------------------------------------------------------------- BESS
@pytest.mark.parametrize("seed", SEEDS)
def test_bess_on_the_simulator_counts_touches_and_completes(seed: int) -> None:
    events = single_leg("right", (10.0, "touch_down", {"on_board": False}),
                        (10.6, "lift_foot", {"side": "right"}),
                        (14.0, "touch_down", {"on_board": True}),
                        (14.6, "lift_foot", {"side": "right"}),
                        surface="foam", eyes="closed", skill=0.7)
    result = simulate(events, seed=seed, duration_s=30.0)
    engine = HoldEngine(TrialSpec(id="b", stance="single-left", surface="foam", eyes="closed",
                                  duration_s=20.0), bess=True)
    out_events = run(engine, samples_of(result))
    out = engine.result
    assert out.completed and out.bess_errors == 2, [
        (e.t_s, e.kind, e.detail) for e in out_events if "bess_errors" in e.detail]
    surfaces = [e.detail["surface"] for e in out_events if e.kind == "touch_down"]
    assert surfaces == ["floor", "board"]


@pytest.mark.parametrize(("stance", "up"), [("double", None), ("single-left", "right")])
@pytest.mark.parametrize("surface", ["firm", "foam"])
@pytest.mark.parametrize("seed", range(2))
def test_bess_counts_nothing_on_clean_simulated_stances(stance: str, up: str | None,
                                                        surface: str, seed: int) -> None:
    events = [(0.5, "step_on", {"mass_kg": 70, "surface": surface, "eyes": "closed",
                                "skill": 0.7})]
    if up:
        events.append((3.0, "lift_foot", {"side": up}))
    result = simulate(events, seed=seed, duration_s=32.0)
    engine = HoldEngine(TrialSpec(id="b", stance=stance, surface=surface, eyes="closed",
                                  duration_s=20.0), bess=True)
    run(engine, samples_of(result))
    assert engine.state is State.COMPLETE and engine.result.bess_errors == 0
