"""Hold engine, task by task: BESS error counting, drill time in target, hop landings, pushes."""

from __future__ import annotations

import numpy as np
import pytest

from station.protocols import TrialSpec, get_protocol
from station.samples import Sample
from station.trials import (
    BessCounter,
    HoldConfig,
    HoldEngine,
    State,
    TargetTracker,
    bess_total,
    engine_for,
)
from station.trials.synthetic_samples import FOOT_X_MM, Script

FRAME = 1.0 / 80.0
BESS_DOUBLE = TrialSpec(id="double-firm", stance="double", eyes="closed", duration_s=20.0)
BESS_SINGLE = TrialSpec(id="single-firm", stance="single-left", eyes="closed", duration_s=20.0)
BESS_TANDEM = TrialSpec(id="tandem-foam", stance="tandem", eyes="closed", surface="foam",
                        duration_s=20.0)


def run(engine: HoldEngine, samples: list[Sample]) -> list:
    events = []
    for s in samples:
        events.extend(engine.update(s))
        if engine.state.terminal:
            break
    return events


def of_kind(events: list, kind: str) -> list:
    return [e for e in events if e.kind == kind]


def standing(seed: int = 0) -> Script:
    """On the board, weighed, countdown done by ~t = 6 s (double stance)."""
    return Script(seed=seed).empty(0.5).step_on().stand(6.0, sway_mm=3.0)


def single_left(seed: int = 0) -> Script:
    return (Script(seed=seed).empty(0.5).step_on().stand(2.0)
            .shift(0.6, -FOOT_X_MM, sway_mm=4.5).stand(5.0, sway_mm=4.5))


# -------------------------------------------------------------------------------- BESS
def test_bess_counts_each_touch_and_runs_the_full_duration() -> None:
    script = standing()
    for _ in range(3):
        script.stand(3.0, sway_mm=3.0).floor_touch(0.5, share=0.45)
    script.stand(15.0, sway_mm=3.0)
    engine = HoldEngine(BESS_DOUBLE, bess=True)
    events = run(engine, script.build())
    out = engine.result
    assert out.completed and out.bess_errors == 3
    assert out.hold_end_t - out.hold_start_t == pytest.approx(20.0, abs=FRAME)
    steps = of_kind(events, "step_off")  # a foot off the board in double stance is a step
    assert [e.detail["bess_errors"] for e in steps] == [1, 2, 3]
    for e, name in zip(steps, ["floor_touch", "floor_touch#2", "floor_touch#3"], strict=True):
        assert e.detail["onset_t_s"] == pytest.approx(script.marks[name], abs=0.1)


def test_bess_merges_errors_within_the_refractory_time() -> None:
    script = standing().stand(3.0).floor_touch(0.3, 0.45).stand(0.4).floor_touch(0.3, 0.45)
    script.stand(20.0)
    engine = HoldEngine(BESS_DOUBLE, bess=True)
    events = run(engine, script.build())
    assert engine.result.bess_errors == 1
    assert [e.detail["counted"] for e in of_kind(events, "step_off")] == [True, False]


def test_bess_caps_errors_at_ten() -> None:
    script = standing()
    for _ in range(14):
        script.stand(0.9, sway_mm=3.0).floor_touch(0.3, share=0.45)
    script.stand(10.0)
    engine = HoldEngine(BESS_DOUBLE, bess=True)
    run(engine, script.build())
    assert engine.result.bess_errors == 10


def test_bess_single_leg_counts_each_kind_of_error_once() -> None:
    script = single_left(1)
    script.stand(1.5).floor_touch(0.6, share=0.3).stand(2.0)
    script.board_touch(0.6, share=0.3, free_foot_x_mm=FOOT_X_MM).shift(0.1, -FOOT_X_MM).stand(2.0)
    script.mark("excursion").wander(0.5, dx_mm=0.0, dy_mm=90.0).wander(0.5, 0.0, -90.0).stand(2.0)
    # step off, then back on with the stance foot 70 mm further out: a new reference
    script.step_off(0.3, rest_s=1.0).step_on(0.4, x_mm=-FOOT_X_MM - 70.0).stand(20.0)
    engine = HoldEngine(BESS_SINGLE, bess=True)
    events = run(engine, script.build())
    out = engine.result
    assert out.completed and out.bess_errors == 4, [(e.kind, e.detail) for e in events
                                                   if "bess_errors" in e.detail]
    touches = of_kind(events, "touch_down")
    assert [e.detail["surface"] for e in touches] == ["floor", "board"]
    assert len(of_kind(events, "excursion")) == 1
    assert len(of_kind(events, "step_off")) == 1
    assert of_kind(events, "excursion")[0].detail["onset_t_s"] == pytest.approx(
        script.marks["excursion"] + 0.25, abs=0.2)


@pytest.mark.parametrize("spec", [BESS_DOUBLE, BESS_SINGLE, BESS_TANDEM],
                         ids=["double", "single", "tandem"])
@pytest.mark.parametrize("seed", range(3))
def test_bess_counts_no_errors_on_normal_sway(spec: TrialSpec, seed: int) -> None:
    script = single_left(seed) if spec.single_leg else standing(seed)
    script.stand(25.0, sway_mm=5.0, fz_frac=0.02)
    engine = HoldEngine(spec, bess=True)
    run(engine, script.build())
    assert engine.state is State.COMPLETE and engine.result.bess_errors == 0


def test_engine_for_uses_bess_counting_for_the_bess_protocol() -> None:
    bess = get_protocol("bess")
    script = standing().stand(3.0).floor_touch(0.5, 0.45).stand(20.0)
    engine = engine_for(bess, bess.trial("double-firm"))
    run(engine, script.build())
    assert engine.result.completed and engine.result.bess_errors == 1
    romberg = get_protocol("romberg")
    engine = engine_for(romberg, romberg.trials[0])
    run(engine, script.build())
    assert engine.result.failure_reason == "step_off" and engine.result.bess_errors is None


def test_bess_counter_and_total() -> None:
    counter = BessCounter(refractory_s=1.0, max_errors=3)
    assert counter.record("step_off", 1.0)
    assert not counter.record("excursion", 1.5)
    assert counter.record("excursion", 2.1)
    assert counter.record("touch_down_floor", 5.0)
    assert not counter.record("touch_down_floor", 9.0)  # capped
    assert counter.count == 3 and counter.by_kind["excursion"] == 1
    with pytest.raises(ValueError, match="unknown BESS error 'blink'"):
        counter.record("blink", 20.0)
    assert bess_total([2, 12, 0, 5]) == 17


# ------------------------------------------------------------------------------- drill
def expected_pct(script: Script, start: float, end: float, cx: float, cy: float,
                 r: float) -> float:
    t, _, cop, _ = script.arrays()
    sel = (t >= start) & (t < end)
    d = np.hypot(cop[sel, 0] - cx, cop[sel, 1] - cy)
    return 100.0 * float(np.mean(d <= r))


def test_drill_time_in_target_matches_an_independent_count() -> None:
    spec = TrialSpec(id="d", stance="double", task="drill", duration_s=30.0,
                     target_radius_mm=15.0)
    script = standing(2).stand(8.0, sway_mm=4.0).shift(0.5, 45.0).stand(5.0, sway_mm=4.0)
    script.shift(0.5, 0.0).stand(20.0, sway_mm=4.0)
    engine = HoldEngine(spec)
    events = run(engine, script.build())
    out = engine.result
    want = expected_pct(script, out.hold_start_t, out.hold_end_t, 0.0, 0.0, 15.0)
    assert out.drill_time_in_target_pct == pytest.approx(want, abs=0.5)
    assert 70.0 < want < 90.0  # the 6 s away really left the circle
    target = of_kind(events, "target")[0]
    assert target.detail == {"x_mm": 0.0, "y_mm": 0.0, "radius_mm": 15.0}
    assert len(of_kind(events, "target_left")) >= 1
    assert len(of_kind(events, "target_entered")) >= 1
    assert of_kind(events, "trial_complete")[0].detail["drill_time_in_target_pct"] == (
        out.drill_time_in_target_pct)


def test_single_leg_drill_is_centred_on_the_stance_foot() -> None:
    spec = TrialSpec(id="d", stance="single-left", task="drill", duration_s=20.0,
                     target_radius_mm=25.0)
    script = single_left(3).stand(25.0, sway_mm=4.5)
    engine = HoldEngine(spec)
    events = run(engine, script.build())
    target = of_kind(events, "target")[0].detail
    assert target["x_mm"] == pytest.approx(-FOOT_X_MM, abs=10.0)
    assert engine.result.drill_time_in_target_pct > 90.0


def test_drill_ends_only_on_a_step_off() -> None:
    spec = TrialSpec(id="d", stance="single-left", task="drill", duration_s=20.0,
                     target_radius_mm=25.0)
    script = single_left(4).stand(3.0).floor_touch(0.5, 0.3).stand(3.0).step_off()
    engine = HoldEngine(spec)
    events = run(engine, script.build())
    assert of_kind(events, "touch_down")
    assert engine.result.failure_reason == "step_off"


def test_target_tracker_hysteresis_and_time() -> None:
    tracker = TargetTracker(0.0, 0.0, 10.0, hysteresis_mm=2.0)
    assert tracker.update(0.0, 0.0, 0.0) == "target_entered"
    assert tracker.update(1.0, 11.0, 0.0) is None  # past the rim but inside the hysteresis
    assert tracker.update(2.0, 13.0, 0.0) == "target_left"
    assert tracker.update(3.0, 9.0, 0.0) is None
    assert tracker.update(4.0, 7.0, 0.0) == "target_entered"
    # inside during [0, 1) and [3, 4): 2 s of 4 s
    assert tracker.percent_in_target == pytest.approx(50.0)
    with pytest.raises(ValueError, match="radius"):
        TargetTracker(0.0, 0.0, 0.0)


# --------------------------------------------------------------------------------- hop
HOP_LEFT = TrialSpec(id="hop-left", stance="single-left", task="hop", duration_s=20.0)
HOP_RIGHT = TrialSpec(id="hop-right", stance="single-right", task="hop", duration_s=20.0)


@pytest.mark.parametrize("spec", [HOP_LEFT, HOP_RIGHT], ids=["left", "right"])
@pytest.mark.parametrize("seed", range(3))
def test_hop_landing_is_marked_and_the_hold_is_timed_from_it(spec: TrialSpec, seed: int) -> None:
    script = (Script(seed=seed).empty(0.5).step_on().stand(2.0)
              .shift(0.6, spec.stance_side * FOOT_X_MM, sway_mm=4.5).stand(6.0))
    script.hop(flight_s=0.15 + 0.05 * seed, land_peak_frac=2.0 + 0.5 * seed).stand(25.0)
    engine = HoldEngine(spec)
    events = run(engine, script.build())
    out = engine.result
    assert out.completed, [(e.kind, e.detail) for e in events]
    assert out.landing_t_s == pytest.approx(script.marks["landing"], abs=2 * FRAME)
    assert out.hold_start_t == out.landing_t_s
    assert out.hold_end_t - out.landing_t_s == pytest.approx(20.0, abs=FRAME)
    flight = of_kind(events, "flight")[0]
    assert flight.t_s == pytest.approx(script.marks["takeoff"], abs=2 * FRAME)


def test_hop_then_floor_touch_fails_with_time_from_landing() -> None:
    script = single_left(5).stand(2.0).hop().stand(3.0).floor_touch(1.0, 0.3).stand(5.0)
    engine = HoldEngine(HOP_LEFT)
    run(engine, script.build())
    out = engine.result
    assert out.failure_reason == "touch_down_floor"
    want = script.marks["floor_touch"] - script.marks["landing"]
    assert out.time_to_failure_s == pytest.approx(want, abs=0.1)


def test_no_hop_fails_after_the_wait() -> None:
    script = single_left(6).stand(30.0)
    engine = HoldEngine(HOP_LEFT, HoldConfig(hop_wait_s=5.0))
    run(engine, script.build())
    assert engine.result.failure_reason == "no_hop"


def test_leaving_the_board_instead_of_landing_is_a_step_off() -> None:
    script = single_left(7).stand(2.0).step_off(0.3, rest_s=3.0)
    engine = HoldEngine(HOP_LEFT)
    run(engine, script.build())
    assert engine.result.failure_reason == "step_off"


# -------------------------------------------------------------------------------- push
PUSH = TrialSpec(id="push", stance="double", task="push", duration_s=20.0)


@pytest.mark.parametrize("seed", range(3))
def test_push_onset_is_marked(seed: int) -> None:
    script = standing(seed).stand(4.0, sway_mm=3.0).push(40.0).stand(4.0, sway_mm=3.0)
    script.push(30.0).stand(12.0, sway_mm=3.0)
    engine = HoldEngine(PUSH)
    events = run(engine, script.build())
    out = engine.result
    assert out.completed
    assert len(out.perturbation_onsets_s) == 2
    # the onset is dated back from the detection to where the COP left its baseline
    for onset, name in zip(out.perturbation_onsets_s, ["push", "push#2"], strict=True):
        assert -0.05 <= onset - script.marks[name] <= 0.1
    detections = of_kind(events, "perturbation")
    assert [e.detail["onset_t_s"] for e in detections] == out.perturbation_onsets_s
    assert all(e.t_s >= e.detail["onset_t_s"] for e in detections)


def test_quiet_stance_has_no_push() -> None:
    script = standing(8).stand(25.0, sway_mm=4.0)
    engine = HoldEngine(PUSH)
    run(engine, script.build())
    assert engine.result.completed and engine.result.perturbation_onsets_s == []


def test_stepping_after_a_push_fails_the_trial() -> None:
    script = standing(9).stand(4.0).push(60.0, duration_s=0.3).floor_touch(0.8, 0.5).stand(15.0)
    engine = HoldEngine(PUSH)
    run(engine, script.build())
    assert engine.result.failure_reason == "step_off"
    assert engine.result.perturbation_onsets_s


def test_drill_time_with_a_foot_down_counts_as_outside() -> None:
    spec = TrialSpec(id="d", stance="single-left", task="drill", duration_s=20.0,
                     target_radius_mm=40.0)
    # 4 s with the free foot on the floor (COP stays on the stance foot, inside the circle)
    script = single_left(5).stand(6.0, sway_mm=3.0).floor_touch(4.0, 0.3, sway_mm=3.0)
    script.stand(20.0, sway_mm=3.0)
    engine = HoldEngine(spec)
    run(engine, script.build())
    assert engine.result.completed
    assert engine.result.drill_time_in_target_pct == pytest.approx(80.0, abs=1.5)


# ------------------------------------------------------------- every shipped trial
def shipped_trials() -> list[tuple[str, str]]:
    from station.protocols import load_protocols

    return [(p.id, t.id) for p in load_protocols().values() for t in p.trials]


@pytest.mark.parametrize(("protocol_id", "trial_id"), shipped_trials())
def test_every_shipped_trial_runs_to_completion_on_a_fitting_stream(protocol_id: str,
                                                                    trial_id: str) -> None:
    protocol = get_protocol(protocol_id)
    spec = protocol.trial(trial_id)
    script = Script(seed=sum(map(ord, trial_id))).empty(0.5).step_on().stand(2.0, sway_mm=3.0)
    if spec.single_leg and spec.surface != "wobble":  # on a wobble board the COP is the
        script.shift(0.6, spec.stance_side * FOOT_X_MM, sway_mm=4.5)  # dome's contact
    script.stand(6.0, sway_mm=4.0)
    if spec.task == "hop":
        script.hop()
    elif spec.task == "push":
        script.push(40.0)
    script.stand(spec.duration_s + 3.0, sway_mm=4.0)
    engine = engine_for(protocol, spec)
    events = run(engine, script.build())
    out = engine.result
    assert out is not None and out.completed, [(e.kind, e.detail) for e in events][-4:]
    assert (out.bess_errors == 0) if protocol.kind == "bess" else (out.bess_errors is None)
    if spec.task == "hop":
        assert out.landing_t_s == pytest.approx(script.marks["landing"], abs=2 * FRAME)
    if spec.task == "push":
        assert len(out.perturbation_onsets_s) == 1
    if spec.task == "drill":
        assert out.drill_time_in_target_pct > 50.0


def test_bess_stance_held_under_5s_scores_the_maximum() -> None:
    script = standing().stand(2.0).step_off(0.3, rest_s=25.0)  # hold starts at ~5.8 s
    engine = HoldEngine(BESS_DOUBLE, bess=True)
    events = run(engine, script.build())
    assert engine.result.completed and engine.result.bess_errors == 10
    done = of_kind(events, "trial_complete")[0].detail
    assert done["stance_held_s"] < 5.0


def test_bess_stance_held_for_10s_keeps_the_counted_errors() -> None:
    script = standing().stand(10.0).step_off(0.3, rest_s=8.0).step_on(0.5).stand(15.0)
    engine = HoldEngine(BESS_DOUBLE, bess=True)
    events = run(engine, script.build())
    assert engine.result.bess_errors == 1
    assert 10.0 < of_kind(events, "trial_complete")[0].detail["stance_held_s"] < 13.0
