"""Hold engine on scripted synthetic streams: each failure kind, completion, no false alarms."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from station.protocols import TrialSpec
from station.samples import Sample
from station.trials import HoldConfig, HoldEngine, State
from station.trials.hold import _Window
from station.trials.synthetic_samples import FOOT_X_MM, Script

RATE = 80.0
FRAME = 1.0 / RATE
LEFT = TrialSpec(id="sl-left", stance="single-left", duration_s=20.0)
RIGHT = TrialSpec(id="sl-right", stance="single-right", duration_s=20.0)
DOUBLE = TrialSpec(id="double", stance="double", eyes="closed", duration_s=20.0)
TANDEM = TrialSpec(id="tandem", stance="tandem", duration_s=20.0)


def side_x(spec: TrialSpec) -> float:
    return spec.stance_side * FOOT_X_MM


def on_one_leg(spec: TrialSpec, seed: int = 0, sway_mm: float = 4.5, **kw: float) -> Script:
    """Empty board, step on, weigh, shift onto the stance foot: ready by ~t = 5 s."""
    return (Script(seed=seed, **kw).empty(0.5).step_on().stand(2.0)
            .shift(0.6, side_x(spec), sway_mm=sway_mm))


def run(engine: HoldEngine, samples: list[Sample]) -> list:
    events = []
    for s in samples:
        events.extend(engine.update(s))
        if engine.state.terminal:
            break
    return events


def hold_start(engine: HoldEngine) -> float:
    start = engine.result.hold_start_t
    assert start is not None
    return start


def kinds(events: list) -> list[str]:
    return [e.kind for e in events]


# --------------------------------------------------------------------------- completion
@pytest.mark.parametrize("spec", [LEFT, RIGHT], ids=["left", "right"])
def test_single_leg_hold_completes_through_every_state(spec: TrialSpec) -> None:
    script = on_one_leg(spec).stand(30.0, sway_mm=4.5, fz_frac=0.02)
    engine = HoldEngine(spec)
    events = run(engine, script.build())
    states = [e.detail["to"] for e in events if e.kind == "state_changed"]
    assert states[0] == "on_board"
    assert states[-3:] == ["countdown", "holding", "complete"]
    assert "ready" in states
    out = engine.result
    assert out.completed and out.failure_reason is None and out.time_to_failure_s is None
    assert out.hold_end_t - out.hold_start_t == pytest.approx(20.0, abs=FRAME)
    assert out.body_weight_n == pytest.approx(700.0, rel=0.01)
    ticks = [e.detail["remaining_s"] for e in events if e.kind == "countdown_tick"]
    assert ticks == [3, 2, 1]
    # ready only once the COP is over the stance foot (the shift ends at ~t = 3.9 s)
    ready_t = next(e.t_s for e in events if e.kind == "state_changed" and e.detail["to"] == "ready")
    assert ready_t > 3.5


def test_double_leg_ready_on_steady_weight_without_shift() -> None:
    script = Script(seed=1).empty(0.5).step_on().stand(26.0, sway_mm=3.0)
    engine = HoldEngine(DOUBLE)
    run(engine, script.build())
    assert engine.state is State.COMPLETE
    assert hold_start(engine) < 6.0  # on at 1.3 s + 1 s weighing + 0.5 s ready + 3 s countdown


def test_single_leg_not_ready_while_on_both_feet() -> None:
    script = Script(seed=2).empty(0.5).step_on().stand(20.0)
    engine = HoldEngine(LEFT)
    run(engine, script.build())
    assert engine.state is State.ON_BOARD
    assert engine.body_weight_n == pytest.approx(700.0, rel=0.01)


# ----------------------------------------------------------------------------- failures
@pytest.mark.parametrize("spec", [LEFT, RIGHT], ids=["left", "right"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_floor_touch_down_fails_with_time_to_failure(spec: TrialSpec, seed: int) -> None:
    script = on_one_leg(spec, seed).stand(12.0).floor_touch(1.5, share=0.3).stand(10.0)
    engine = HoldEngine(spec)
    events = run(engine, script.build())
    out = engine.result
    assert out.failure_reason == "touch_down_floor"
    expected = script.marks["floor_touch"] - hold_start(engine)
    assert out.time_to_failure_s == pytest.approx(expected, abs=0.1)
    assert out.hold_end_t == pytest.approx(script.marks["floor_touch"], abs=0.1)
    touch = [e for e in events if e.kind == "touch_down"]
    assert touch and touch[0].detail["surface"] == "floor"
    assert events[-1].kind == "trial_failed"


def test_short_floor_touch_is_reported_when_the_foot_lifts_again() -> None:
    script = on_one_leg(LEFT).stand(10.0).floor_touch(0.3, share=0.2).stand(12.0)
    engine = HoldEngine(LEFT)
    run(engine, script.build())
    assert engine.result.failure_reason == "touch_down_floor"
    assert engine.result.hold_end_t == pytest.approx(script.marks["floor_touch"], abs=0.1)


def test_force_dip_shorter_than_100ms_is_not_a_touch() -> None:
    script = on_one_leg(LEFT).stand(10.0).floor_touch(0.06, share=0.3).stand(15.0)
    engine = HoldEngine(LEFT)
    run(engine, script.build())
    assert engine.state is State.COMPLETE


@pytest.mark.parametrize("spec", [LEFT, RIGHT], ids=["left", "right"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_board_touch_down_fails(spec: TrialSpec, seed: int) -> None:
    free_foot = -side_x(spec)
    script = (on_one_leg(spec, seed).stand(9.0)
              .board_touch(1.0, share=0.25, free_foot_x_mm=free_foot).stand(12.0))
    engine = HoldEngine(spec)
    run(engine, script.build())
    out = engine.result
    assert out.failure_reason == "touch_down_board"
    onset = script.marks["board_touch"]
    assert out.hold_end_t == pytest.approx(onset, abs=0.15)
    assert out.time_to_failure_s == pytest.approx(onset - out.hold_start_t, abs=0.15)


def test_light_board_touch_below_threshold_is_not_reported() -> None:
    # 8 % of the weight on the free foot moves the COP ~14 mm: within normal sway, by design.
    script = on_one_leg(LEFT).stand(9.0).board_touch(1.0, 0.08, FOOT_X_MM).stand(16.0)
    engine = HoldEngine(LEFT)
    run(engine, script.build())
    assert engine.state is State.COMPLETE


@pytest.mark.parametrize("spec", [LEFT, RIGHT, DOUBLE, TANDEM],
                         ids=["left", "right", "double", "tandem"])
def test_step_off_fails(spec: TrialSpec) -> None:
    script = Script(seed=4).empty(0.5).step_on().stand(2.0)
    if spec.single_leg:
        script.shift(0.6, side_x(spec))
    script.stand(8.0).step_off(0.4, rest_s=3.0)
    engine = HoldEngine(spec)
    events = run(engine, script.build())
    out = engine.result
    assert out.failure_reason == "step_off"
    assert out.hold_end_t == pytest.approx(script.marks["step_off"], abs=0.15)
    assert "step_off" in kinds(events)


def test_one_foot_off_in_double_stance_is_a_step_off() -> None:
    script = Script(seed=5).empty(0.5).step_on().stand(8.0).floor_touch(1.0, 0.45).stand(15.0)
    engine = HoldEngine(DOUBLE)
    run(engine, script.build())
    assert engine.result.failure_reason == "step_off"


def test_board_jump_in_double_stance_is_not_a_failure() -> None:
    # Two feet on the board: shifting weight between them moves the COP, and that is allowed.
    script = (Script(seed=6).empty(0.5).step_on().stand(6.0)
              .shift(0.3, 40.0).stand(2.0).shift(0.3, -40.0).stand(20.0))
    engine = HoldEngine(DOUBLE)
    run(engine, script.build())
    assert engine.state is State.COMPLETE


@pytest.mark.parametrize("spec", [LEFT, RIGHT], ids=["left", "right"])
def test_cop_leaving_the_foot_area_fails(spec: TrialSpec) -> None:
    # A slow drift (too slow to be a jump) of 100 mm toward the midline over 1.2 s.
    script = (on_one_leg(spec).stand(9.0).mark("wander")
              .wander(1.2, dx_mm=-spec.stance_side * 100.0).stand(5.0))
    engine = HoldEngine(spec)
    events = run(engine, script.build())
    out = engine.result
    assert out.failure_reason == "cop_left_foot_area"
    # the COP crosses the 60 mm edge around half-way through the drift
    assert script.marks["wander"] + 0.3 < out.hold_end_t < script.marks["wander"] + 1.2
    assert "cop_left_foot_area" in kinds(events)


def test_cop_leaving_forward_fails() -> None:
    script = on_one_leg(LEFT).stand(9.0).wander(1.5, dx_mm=0.0, dy_mm=160.0).stand(5.0)
    engine = HoldEngine(LEFT)
    run(engine, script.build())
    assert engine.result.failure_reason == "cop_left_foot_area"


# ------------------------------------------------------------------------- false alarms
def sway_stats(script: Script, t0: float, t1: float) -> tuple[float, float]:
    t, _, cop, _ = script.arrays()
    seg = cop[(t >= t0) & (t < t1)]
    seg = seg - seg.mean(axis=0)
    rms = float(np.sqrt((seg**2).sum(axis=1).mean()))
    velocity = float(np.hypot(*np.diff(seg, axis=0).T).sum() / (t1 - t0))
    return rms, velocity


@pytest.mark.parametrize("seed", range(8))
def test_no_false_alarm_on_30s_single_leg_sway(seed: int) -> None:
    spec = LEFT.with_duration(30.0) if seed % 2 == 0 else RIGHT.with_duration(30.0)
    script = on_one_leg(spec, seed, sway_mm=4.5).stand(36.0, sway_mm=4.5, fz_frac=0.02)
    rms, velocity = sway_stats(script, 6.0, 36.0)
    assert 5.0 <= rms <= 8.0 and 30.0 <= velocity <= 40.0  # the sway is realistic
    engine = HoldEngine(spec)
    events = run(engine, script.build())
    assert engine.state is State.COMPLETE, [e for e in events if e.kind != "countdown_tick"]
    assert not {"touch_down", "step_off", "cop_left_foot_area"} & set(kinds(events))


@pytest.mark.parametrize("seed", range(4))
def test_no_false_alarm_with_noisy_cells_and_heavy_vertical_force(seed: int) -> None:
    # 3 N per cell (a bad board) and 4 % BW vertical fluctuation: still no failure.
    spec = LEFT.with_duration(30.0)
    script = (on_one_leg(spec, seed, sway_mm=5.5, cell_noise_n=3.0)
              .stand(4.0, sway_mm=5.5, fz_frac=0.01).stand(34.0, sway_mm=5.5, fz_frac=0.04))
    engine = HoldEngine(spec)
    run(engine, script.build())
    assert engine.state is State.COMPLETE


def reference_stream(path, body_weight_n: float = 650.0) -> list[Sample]:
    """A real quiet-stance COP trace (100 Hz) on a rigid board, preceded by a step-on."""
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    cop = (data[:, 1:3] - data[:, 1:3].mean(axis=0)) * 1000.0  # m -> mm, (ML, AP)
    rate = 100.0
    n_on = 150
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n_on))
    force = np.concatenate([body_weight_n * ramp, np.full(len(cop), body_weight_n)])
    cops = np.vstack([np.repeat(cop[:1], n_on, axis=0), cop])
    t = np.arange(len(force)) / rate
    return [Sample(float(ti), float(fi), float(c[0]), float(c[1]), (fi / 4,) * 4)
            for ti, fi, c in zip(t, force, cops, strict=True)]


@pytest.mark.parametrize("name", ["quiet-stance-eyes-open-100hz.csv",
                                  "quiet-stance-eyes-closed-100hz.csv"])
def test_real_quiet_stance_completes_romberg_trial(reference_data, name: str) -> None:
    engine = HoldEngine(DOUBLE.with_duration(25.0))
    events = run(engine, reference_stream(reference_data / name))
    assert engine.state is State.COMPLETE, kinds(events)


@pytest.mark.parametrize("name", ["quiet-stance-eyes-open-100hz.csv",
                                  "quiet-stance-eyes-closed-100hz.csv"])
def test_real_quiet_stance_counts_no_bess_errors(reference_data, name: str) -> None:
    engine = HoldEngine(DOUBLE.with_duration(20.0), bess=True)
    run(engine, reference_stream(reference_data / name))
    assert engine.state is State.COMPLETE
    assert engine.result.bess_errors == 0


# ------------------------------------------------------------------ operator and flow
def test_operator_start_waits_for_start() -> None:
    samples = on_one_leg(LEFT).stand(40.0).build()
    engine = HoldEngine(LEFT, operator_start=True)
    run(engine, samples[:800])  # 10 s: ready long ago, but no start pressed
    assert engine.state is State.READY
    events = engine.start()
    assert engine.state is State.COUNTDOWN
    assert kinds(events) == ["state_changed", "countdown_tick"]
    run(engine, samples[800:])
    assert engine.state is State.COMPLETE
    assert hold_start(engine) == pytest.approx(samples[799].t_s + 3.0, abs=FRAME)


def test_operator_start_before_weighing_starts_once_weighed() -> None:
    samples = Script(seed=3).empty(0.5).step_on().stand(30.0).build()
    engine = HoldEngine(DOUBLE, operator_start=True)
    run(engine, samples[:90])  # on the board, not yet weighed
    assert engine.state is State.ON_BOARD and engine.body_weight_n is None
    assert engine.start() == []
    run(engine, samples[90:])
    assert engine.state is State.COMPLETE


def test_countdown_cancelled_when_athlete_puts_the_foot_down() -> None:
    script = on_one_leg(LEFT).stand(1.6).shift(0.4, 0.0).stand(3.0)
    engine = HoldEngine(LEFT)
    events = run(engine, script.build())
    assert "countdown_cancelled" in kinds(events)
    assert engine.state in (State.ON_BOARD, State.READY)  # back to waiting; nothing failed
    assert engine.result is None


def test_stepping_off_before_the_hold_resets_to_empty() -> None:
    script = Script(seed=7).empty(0.5).step_on().stand(2.0).step_off(0.4, rest_s=1.0)
    engine = HoldEngine(DOUBLE)
    run(engine, script.build())
    assert engine.state is State.EMPTY and engine.body_weight_n is None


def test_abort_ends_the_trial_without_a_verdict() -> None:
    samples = on_one_leg(LEFT).stand(12.0).build()
    engine = HoldEngine(LEFT)
    run(engine, samples[:900])
    events = engine.abort()
    assert engine.state is State.ABORTED
    assert kinds(events) == ["state_changed", "trial_aborted"]
    out = engine.result
    assert not out.completed and out.failure_reason is None
    assert engine.update(samples[900]) == []
    assert engine.abort() == []


def test_invalid_frames_are_counted_and_skipped() -> None:
    samples = on_one_leg(LEFT).stand(25.0).build()
    engine = HoldEngine(LEFT)
    bad = 0
    for i, s in enumerate(samples):
        if i % 50 == 25:
            engine.update(s._replace(force_n=math.nan, cop_x_mm=math.nan))
            bad += 1
        if i % 97 == 0 and i:
            engine.update(s._replace(t_s=s.t_s - 0.5))  # a frame from the past
            bad += 1
        engine.update(s)
        if engine.state.terminal:
            break
    assert engine.state is State.COMPLETE
    assert engine.result.invalid_frames == bad


def test_signal_gap_is_reported_and_the_trial_goes_on() -> None:
    samples = on_one_leg(LEFT).stand(25.0).build()
    engine = HoldEngine(LEFT)
    kept = samples[:1000] + samples[1080:]  # a 1 s hole in the middle of the hold
    events = run(engine, kept)
    assert "signal_gap" in kinds(events)
    assert engine.state is State.COMPLETE


def test_events_are_json_ready() -> None:
    script = on_one_leg(LEFT).stand(9.0).floor_touch(1.0, 0.3)
    engine = HoldEngine(LEFT)
    run(engine, script.build())
    payload = json.dumps(engine.result.to_json(), allow_nan=False)
    back = json.loads(payload)
    assert back["failure_reason"] == "touch_down_floor"
    assert back["events"][-1]["kind"] == "trial_failed"
    assert all(set(e) == {"t_s", "kind", "detail"} for e in back["events"])


def test_result_is_none_until_the_trial_ends() -> None:
    engine = HoldEngine(LEFT)
    run(engine, on_one_leg(LEFT).stand(3.0).build())
    assert engine.result is None


def test_config_changes_the_thresholds() -> None:
    # A 20 % floor touch is a failure by default and ignored with a 30 % threshold.
    build = on_one_leg(LEFT).stand(9.0).floor_touch(1.0, 0.2).stand(15.0).build
    engine = HoldEngine(LEFT)
    run(engine, build())
    assert engine.result.failure_reason == "touch_down_floor"
    lenient = HoldEngine(LEFT, HoldConfig.from_dict({"floor_drop_frac": 0.3}))
    run(lenient, build())
    assert lenient.state is State.COMPLETE


def test_status_snapshot_for_the_live_view() -> None:
    samples = on_one_leg(LEFT).stand(30.0).build()
    engine = HoldEngine(LEFT)
    assert engine.status()["state"] == "empty" and engine.status()["t_s"] is None
    for s in samples:
        engine.update(s)
        if engine.state is State.COUNTDOWN:
            break
    snap = engine.status()
    assert snap["state"] == "countdown" and 2.9 <= snap["countdown_remaining_s"] <= 3.0
    for s in samples:
        if s.t_s > engine.status()["t_s"]:
            engine.update(s)
        if engine.state is State.HOLDING and engine.status()["hold_elapsed_s"] >= 5.0:
            break
    snap = engine.status()
    assert snap["hold_elapsed_s"] == pytest.approx(5.0, abs=2 * FRAME)
    assert snap["hold_elapsed_s"] + snap["hold_remaining_s"] == pytest.approx(20.0)
    json.dumps(snap, allow_nan=False)


# ------------------------------------------------------------------- internals vs numpy
@settings(max_examples=60, deadline=None)
@given(
    forces=st.lists(st.floats(0.0, 2000.0), min_size=1, max_size=300),
    span=st.floats(0.05, 2.0),
    nan_every=st.integers(2, 9),
)
def test_running_window_matches_numpy(forces: list[float], span: float, nan_every: int) -> None:
    win = _Window(span)
    t = np.arange(len(forces)) / RATE
    xs = np.sin(t) * 50.0
    xs[::nan_every] = np.nan
    for ti, f, x in zip(t, forces, xs, strict=True):
        win.add(float(ti), f, float(x), float(-x))
    keep = t >= t[-1] - span
    f_in = np.asarray(forces)[keep]
    assert win.n == keep.sum()
    assert win.mean_f() == pytest.approx(f_in.mean(), abs=1e-6)
    assert win.std_f() == pytest.approx(f_in.std(), abs=1e-4)
    x_in = xs[keep]
    mx, my = win.mean_cop()
    if np.isnan(x_in).all():
        assert math.isnan(mx)
    else:
        assert mx == pytest.approx(np.nanmean(x_in), abs=1e-6)
        assert my == pytest.approx(-np.nanmean(x_in), abs=1e-6)
