"""Task detectors on their own (no engine) on synthetic samples, and the task table."""

from __future__ import annotations

import dataclasses
import math

import pytest

from station.protocols import TASKS, TrialSpec, load_protocols
from station.trials import HoldEngine, State, TrialOutcome, engine_for
from station.trials.events import TERMINAL_STATES, Event
from station.trials.runner import TERMINAL
from station.trials.synthetic_samples import FOOT_X_MM, Script
from station.trials.tasks import (
    BESS_TASK,
    DETECTORS,
    WOBBLE_BESS_TASK,
    WOBBLE_TASK,
    BessDetector,
    DrillDetector,
    Failure,
    HoldClock,
    HoldDetector,
    HopDetector,
    PushDetector,
    detector_for,
    task_name,
)
from station.trials.thresholds import HoldConfig
from station.trials.window import RunningWindow

BW = 700.0
CONFIG = HoldConfig()


@dataclasses.dataclass
class Run:
    events: list[Event]
    failure: Failure | None
    clock: HoldClock
    end_t: float  # the last frame fed (the completing frame when the clock ran out)


def drive(detector, script: Script, duration_s: float = 20.0) -> Run:
    """What the engine does while HOLDING: begin on the frame at the 'hold' mark, then the
    clock check and one sample() per frame until a Failure or the clock runs out."""
    hold_t = script.marks["hold"]
    window = RunningWindow(CONFIG.steady_window_s)
    out: list[Event] = []
    clock: HoldClock | None = None
    t = math.nan
    for s in script.build():
        t = s.t_s
        if clock is None:
            window.add(t, s.force_n, s.cop_x_mm, s.cop_y_mm)
            if t >= hold_t:
                clock = HoldClock(t, duration_s)
                detector.begin(clock, BW, window, out)
            continue
        if t - clock.start >= clock.duration_s:
            break
        failure = detector.sample(t, s.force_n, s.cop_x_mm, s.cop_y_mm, out)
        if failure is not None:
            return Run(out, failure, clock, t)
    assert clock is not None, "the script ends before its 'hold' mark"
    return Run(out, None, clock, t)


def on_foot(spec: TrialSpec, seed: int = 0, settle_s: float = 2.0) -> Script:
    """Already on the stance foot (or both feet), still; the hold starts at the 'hold' mark."""
    return Script(seed=seed).stand(settle_s, x_mm=spec.stance_side * FOOT_X_MM,
                                   sway_mm=4.5).mark("hold")


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


LEFT = TrialSpec(id="l", stance="single-left", duration_s=20.0)
DOUBLE = TrialSpec(id="d", stance="double", duration_s=20.0)


# --------------------------------------------------------------------------- the table
def test_the_table_has_a_detector_for_every_task_the_protocols_allow() -> None:
    # the wobble task has its rows before the protocol files may name it (issue 14, phase 2)
    assert set(DETECTORS) == {*TASKS, BESS_TASK, WOBBLE_TASK, WOBBLE_BESS_TASK}


def shipped_trials() -> list[tuple[str, TrialSpec, bool]]:
    return [(p.id, t, p.kind == "bess") for p in load_protocols().values() for t in p.trials]


@pytest.mark.parametrize(("protocol_id", "spec", "bess"), shipped_trials(),
                         ids=[f"{p}/{t.id}" for p, t, _ in shipped_trials()])
def test_every_trial_of_the_protocol_files_gets_its_task_detector(protocol_id: str,
                                                                  spec: TrialSpec,
                                                                  bess: bool) -> None:
    name = task_name(spec, bess=bess)
    assert name == (BESS_TASK if bess else spec.task)
    assert type(detector_for(spec, CONFIG, bess=bess)) is DETECTORS[name]


def test_the_table_refuses_what_no_detector_runs() -> None:
    drill = TrialSpec(id="t", stance="double", task="drill", target_radius_mm=10.0)
    with pytest.raises(ValueError, match="BESS counts errors on hold trials, not on task 'drill'"):
        detector_for(drill, CONFIG, bess=True)
    with pytest.raises(ValueError, match=r"no detector for task 'yoga' \(known: hold, push"):
        HoldEngine(TrialSpec(id="y", stance="double", task="yoga"))


def test_a_new_task_is_a_detector_and_a_table_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """The way toe taps or a game would come in: the core runs whatever the table names."""

    class CountFrames(HoldDetector):
        def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
            super().__init__(spec, config)
            self.frames = 0

        def _cop(self, t, f, x, y, out):
            self.frames += 1
            return None  # no touch or area checks for this task

        def status(self, snapshot):
            snapshot["frames"] = self.frames

        def complete(self, t, detail):
            detail["frames"] = self.frames

    monkeypatch.setitem(DETECTORS, "count", CountFrames)
    spec = TrialSpec(id="c", stance="single-left", task="count", duration_s=5.0)
    script = (Script(seed=1).empty(0.5).step_on().stand(2.0).shift(0.6, -FOOT_X_MM)
              .stand(6.0).wander(0.5, 0.0, 150.0).stand(5.0))  # a walk off the foot area
    engine = HoldEngine(spec)
    for s in script.build():
        engine.update(s)
    assert engine.state is State.COMPLETE
    done = next(e for e in engine.events if e.kind == "trial_complete").detail
    assert done["frames"] == engine.status()["frames"]
    assert done["frames"] == pytest.approx(5.0 * 80, abs=2)


# ------------------------------------------------------------------------------ hold
def test_hold_fails_on_a_floor_touch_dated_to_its_onset() -> None:
    script = on_foot(LEFT).stand(3.0).floor_touch(0.6, share=0.3).stand(3.0)
    run = drive(HoldDetector(LEFT, CONFIG), script)
    assert run.failure.reason == "touch_down_floor"
    assert run.failure.onset_t_s == pytest.approx(script.marks["floor_touch"], abs=0.05)
    assert kinds(run.events) == ["touch_down"]
    assert run.events[0].detail["surface"] == "floor"


def test_hold_fails_on_a_board_touch_and_on_leaving_the_foot_area() -> None:
    script = on_foot(LEFT, 2).stand(2.0).board_touch(0.5, share=0.3, free_foot_x_mm=FOOT_X_MM)
    run = drive(HoldDetector(LEFT, CONFIG), script.stand(2.0))
    assert run.failure.reason == "touch_down_board"
    script = on_foot(LEFT, 3).stand(2.0).mark("lean").wander(1.0, 0.0, 200.0).stand(2.0)
    run = drive(HoldDetector(LEFT, CONFIG), script)
    assert run.failure.reason == "cop_left_foot_area"
    assert run.failure.onset_t_s > script.marks["lean"]


def test_a_two_footed_hold_fails_only_by_stepping() -> None:
    script = on_foot(DOUBLE).stand(2.0).wander(1.0, 80.0, 80.0).stand(2.0)
    assert drive(HoldDetector(DOUBLE, CONFIG), script, duration_s=5.0).failure is None
    script = on_foot(DOUBLE).stand(2.0).floor_touch(0.5, share=0.45).stand(2.0)
    run = drive(HoldDetector(DOUBLE, CONFIG), script)
    assert run.failure.reason == "step_off"


@pytest.mark.parametrize("seed", range(3))
def test_hold_runs_its_clock_out_on_quiet_sway(seed: int) -> None:
    script = on_foot(LEFT, seed).stand(22.0, sway_mm=4.5, fz_frac=0.02)
    run = drive(HoldDetector(LEFT, CONFIG), script)
    assert run.failure is None and run.events == []
    assert run.end_t - run.clock.start == pytest.approx(20.0, abs=1 / 80)


# ------------------------------------------------------------------------------ push
def test_push_reports_each_perturbation_and_its_onset() -> None:
    spec = TrialSpec(id="p", stance="double", task="push", duration_s=12.0)
    script = on_foot(spec, 4).stand(3.0, sway_mm=3.0).push(40.0).stand(4.0, sway_mm=3.0)
    script.push(30.0).stand(6.0, sway_mm=3.0)
    detector = PushDetector(spec, CONFIG)
    run = drive(detector, script, duration_s=12.0)
    assert run.failure is None
    onsets = detector.outcome()["perturbation_onsets_s"]
    assert [e.detail["onset_t_s"] for e in run.events] == onsets
    for onset, name in zip(onsets, ["push", "push#2"], strict=True):
        assert -0.05 <= onset - script.marks[name] <= 0.1


# ------------------------------------------------------------------------------- hop
HOP = TrialSpec(id="h", stance="single-left", task="hop", duration_s=10.0)


def test_hop_retimes_the_hold_from_the_landing() -> None:
    detector = HopDetector(HOP, CONFIG)
    script = on_foot(HOP, 5).stand(1.0).hop(flight_s=0.2).stand(12.0)
    run = drive(detector, script, duration_s=10.0)
    assert run.failure is None
    assert kinds(run.events) == ["flight", "landing"]
    landing = detector.outcome()["landing_t_s"]
    assert landing == pytest.approx(script.marks["landing"], abs=2 / 80)
    assert run.clock.start == landing  # the hold (and TTS) is timed from first contact
    assert run.clock.duration_s == 10.0  # restored once the landing settled
    assert run.end_t - landing == pytest.approx(10.0, abs=1 / 80)
    snapshot: dict[str, object] = {}
    detector.status(snapshot)
    assert snapshot == {"landing_t_s": landing}


def test_hop_waits_with_the_clock_stopped_then_fails_without_a_hop() -> None:
    detector = HopDetector(HOP, HoldConfig(hop_wait_s=3.0))
    run = drive(detector, on_foot(HOP, 6).stand(5.0), duration_s=1.0)
    assert run.clock.duration_s == math.inf  # a 1 s hold would have ended before the wait
    assert run.failure == Failure("no_hop", run.end_t)
    assert run.end_t - run.clock.start == pytest.approx(3.0, abs=1 / 80)


# ----------------------------------------------------------------------------- drill
DRILL = TrialSpec(id="t", stance="single-left", task="drill", duration_s=20.0,
                  target_radius_mm=40.0)


def test_drill_centres_the_target_on_the_foot_and_only_ends_on_a_step_off() -> None:
    detector = DrillDetector(DRILL, CONFIG)
    script = on_foot(DRILL, 7).stand(4.0, sway_mm=3.0).floor_touch(4.0, 0.3, sway_mm=3.0)
    script.stand(4.0, sway_mm=3.0).step_off(0.3, rest_s=1.0)
    run = drive(detector, script)
    target = run.events[0]
    assert target.kind == "target" and target.t_s == run.clock.start
    t, _, cop, _ = script.arrays()  # the same stream: centred on the last second's mean COP
    last_second = (t >= run.clock.start - CONFIG.steady_window_s) & (t <= run.clock.start)
    assert target.detail["x_mm"] == pytest.approx(cop[last_second, 0].mean(), abs=1e-9)
    assert target.detail["x_mm"] == pytest.approx(-FOOT_X_MM, abs=10.0)
    assert target.detail["radius_mm"] == 40.0
    assert "touch_down" in kinds(run.events)  # reported, not the end
    assert run.failure.reason == "step_off"
    assert run.failure.onset_t_s == pytest.approx(script.marks["step_off"], abs=0.3)
    # the 4 s with a foot down count as outside: ~8 s of ~12 s inside
    pct = detector.outcome()["drill_time_in_target_pct"]
    assert pct == pytest.approx(100.0 * 8.0 / (run.end_t - run.clock.start), abs=3.0)


# ------------------------------------------------------------------------------ BESS
BESS = TrialSpec(id="b", stance="double", eyes="closed", duration_s=20.0)


def test_bess_counts_faults_and_never_fails() -> None:
    detector = BessDetector(BESS, CONFIG)
    script = on_foot(BESS, 8)
    for _ in range(3):
        script.stand(2.0, sway_mm=3.0).floor_touch(0.5, share=0.45)
    script.stand(0.3).floor_touch(0.3, share=0.45)  # within the refractory time: merged
    script.stand(15.0, sway_mm=3.0)
    run = drive(detector, script)
    assert run.failure is None
    assert [e.detail["counted"] for e in run.events] == [True, True, True, False]
    assert detector.outcome() == {"bess_errors": 3}
    detail: dict[str, object] = {}
    detector.complete(run.end_t, detail)
    assert detail["bess_errors"] == 3
    assert detail["stance_held_s"] == pytest.approx(20.0 - 4 * 0.3, abs=1.0)


def test_bess_stance_held_under_the_minimum_scores_the_maximum() -> None:
    detector = BessDetector(BESS, CONFIG)
    script = on_foot(BESS, 9).stand(2.0).step_off(0.3, rest_s=20.0)
    run = drive(detector, script)
    detail: dict[str, object] = {}
    detector.complete(run.end_t, detail)
    assert detail["stance_held_s"] < CONFIG.bess_min_stance_s
    assert detail["bess_errors"] == CONFIG.bess_max_errors


def test_detectors_before_the_hold_add_nothing_but_their_empty_fields() -> None:
    """An abort before the hold: the outcome fields are None (or empty), as before."""
    for name, make in DETECTORS.items():
        spec = DRILL if name == "drill" else HOP if name == "hop" else LEFT
        detector = make(spec, CONFIG)
        fields = detector.outcome()
        TrialOutcome(trial_id="x", state=State.ABORTED, completed=False, **fields)
        assert all(v in (None, []) for v in fields.values()), name


# ------------------------------------------------------------------- terminal states
def test_one_set_of_terminal_states() -> None:
    assert TERMINAL is TERMINAL_STATES
    for state in State:
        assert state.terminal == (state in TERMINAL_STATES)
    romberg = load_protocols()["romberg"]
    engine = engine_for(romberg, romberg.trials[0])
    engine.abort()
    assert engine.state in TERMINAL_STATES and engine.abort() == []


def test_the_demo_athlete_puts_the_foot_down_once_the_trial_ended() -> None:
    from station.trials.autopilot import SimAutopilot

    class Runner:
        current_spec = LEFT
        current_key = "k"
        state = "holding"

        def status(self) -> dict[str, object]:
            return {"state": self.state, "hold_elapsed_s": 1.0}

    class Runtime:
        def __init__(self) -> None:
            self.actions: list[str] = []

        def perform(self, action: str, **_: object) -> None:
            self.actions.append(action)

    runner, runtime = Runner(), Runtime()
    pilot = SimAutopilot(runtime, runner, seed=0, failure_rate=0.0)
    for state in State:
        runner.state = state.value
        assert pilot.tick()  # still on the board right after the end
        assert ("put_foot_down" in runtime.actions) == (state in TERMINAL_STATES)
        runtime.actions.clear()
        runner.current_key = state  # a new trial each time
