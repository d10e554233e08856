"""The trial runner on simulated scenarios: engine per frame, analysis, saving, live events."""

from __future__ import annotations

import numpy as np
import pytest

from station.analysis.pipeline import ANALYSIS_VERSION
from station.board.sim import simulate
from station.calibration import load_calibration
from station.calibration.estimator import Estimator
from station.commands._common import SIM_CALIBRATION
from station.frames import Frame
from station.trials.runner import TrialError, TrialRequest, TrialRunner


def run_scenario(runner: TrialRunner, scenario: str, seed: int = 3) -> None:
    cal = load_calibration(SIM_CALIBRATION)
    estimator = Estimator(cal)
    sim = simulate(scenario, seed=seed)
    for t, counts in zip(sim.t_s, sim.counts, strict=True):
        frame = Frame(round(t * 1e9), tuple(int(c) for c in counts))
        runner.on_frame(frame, estimator.update(frame))
    runner.wait_idle()


@pytest.fixture
def runner_and_log():
    cal = load_calibration(SIM_CALIBRATION)
    saved, published = [], []

    def save(finished):
        saved.append(finished)
        return f"trial-{len(saved)}"

    runner = TrialRunner(lambda: cal.to_dict(), save=save, publish=published.append)
    yield runner, saved, published
    runner.close()


def test_completed_single_leg_hold_is_analysed_scored_and_saved(runner_and_log):
    runner, saved, published = runner_and_log
    runner.start(TrialRequest("single-leg-right", "right-open-firm", duration_s=15))
    run_scenario(runner, "single_leg_hold")
    assert len(saved) == 1
    trial = saved[0]
    assert trial.outcome.completed and trial.outcome.failure_reason is None
    # Stored frames are the held window: 15 s at 80 Hz.
    duration = (trial.t_ns[-1] - trial.t_ns[0]) / 1e9
    assert 14.8 < duration <= 15.05
    assert trial.counts.shape == (len(trial.t_ns), 4)
    m = trial.metrics
    assert m is not None and 5 < m["mean_velocity_mm_s"]["total"] < 80
    assert 0 < trial.score <= 100
    assert trial.analysis_version == ANALYSIS_VERSION
    assert published[-1]["kind"] == "trial_result"
    assert published[-1]["result"]["trial_uid"] == "trial-1"
    part = runner.live_part()  # what the station's next live message carries
    assert part.keys() == {"hold", "events"}
    assert part["hold"]["state"] == "complete" and part["hold"]["protocol"] == "single-leg-right"
    assert "trial_complete" in [e["kind"] for e in part["events"]]
    assert runner.live_part()["events"] == []  # each event is handed over once


def test_runner_before_any_trial_adds_no_hold_and_no_events(runner_and_log):
    runner, _, _ = runner_and_log
    assert runner.live_part() == {"hold": None, "events": []}


def test_failed_hold_keeps_time_to_failure_and_scores_lower(runner_and_log):
    runner, saved, _ = runner_and_log
    runner.start(TrialRequest("single-leg-left", "left-open-firm", duration_s=15))
    run_scenario(runner, "failed_hold_touch_down")
    trial = saved[0]
    assert not trial.outcome.completed
    assert trial.outcome.failure_reason == "touch_down_board"
    ttf = trial.outcome.time_to_failure_s
    assert 1.0 < ttf < 8.0
    # Only the frames before the failure are kept and analysed.
    assert (trial.t_ns[-1] - trial.t_ns[0]) / 1e9 == pytest.approx(ttf, abs=0.05)
    assert trial.score < 60


def test_runner_refuses_a_second_trial_and_an_uncalibrated_station(runner_and_log):
    runner, _, _ = runner_and_log
    runner.start(TrialRequest("single-leg-left", "left-open-firm"))
    with pytest.raises(TrialError, match="already running"):
        runner.start(TrialRequest("single-leg-left", "left-open-firm"))
    runner.abort()
    with pytest.raises(TrialError, match="unknown protocol"):
        runner.start(TrialRequest("no-such", "x"))
    with pytest.raises(TrialError, match="has no trial"):
        runner.start(TrialRequest("single-leg-left", "nope"))
    uncalibrated = TrialRunner(lambda: None)
    with pytest.raises(TrialError, match="not calibrated"):
        uncalibrated.start(TrialRequest("single-leg-left", "left-open-firm"))
    uncalibrated.close()


def test_save_failure_is_reported_not_raised():
    cal = load_calibration(SIM_CALIBRATION)
    published = []

    def broken_save(finished):
        raise OSError("disk full")

    runner = TrialRunner(lambda: cal.to_dict(), save=broken_save, publish=published.append)
    runner.start(TrialRequest("single-leg-right", "right-open-firm", duration_s=10))
    run_scenario(runner, "single_leg_hold")
    runner.close()
    assert "disk full" in published[-1]["result"]["error"]
    assert runner.last_result is not None and runner.last_result.metrics is not None
    assert np.isfinite(runner.last_result.score)


def test_runner_saves_into_the_store_with_raw_frames_and_reanalysis_agrees(tmp_path):
    from station.analysis.pipeline import analyze_frames
    from station.store import open_store
    from station.store.records import Athlete
    from station.trials.saver import store_saver

    store = open_store(tmp_path)
    athlete = store.add_athlete(Athlete(name="Ada Test", team="U18"))
    cal = load_calibration(SIM_CALIBRATION)
    runner = TrialRunner(lambda: cal.to_dict(), save=store_saver(store, "sim"))
    runner.start(TrialRequest("single-leg-right", "right-open-firm", athlete_uid=athlete,
                              duration_s=15))
    run_scenario(runner, "single_leg_hold")
    runner.close()
    uid = runner.last_result.saved_uid
    assert uid is not None and runner.last_result.error is None
    trial = store.load_trial(uid, with_raw=True)
    assert trial.outcome == "complete" and trial.athlete_uid == athlete
    assert trial.raw.n == len(runner.last_result.t_ns)
    np.testing.assert_array_equal(trial.raw.counts, runner.last_result.counts)
    metrics, score, _ = analyze_frames(
        trial.raw.t_ns, trial.raw.counts, trial.calibration, stance=trial.stance,
        eyes=trial.eyes, surface=trial.surface, task=trial.task, completed=True,
        time_to_failure_s=None, planned_duration_s=trial.planned_duration_s,
        body_weight_n=trial.body_weight_n,
    )
    assert score == pytest.approx(trial.score)
    assert metrics["mean_velocity_mm_s"]["total"] == pytest.approx(
        trial.metrics["mean_velocity_mm_s"]["total"])
    history = store.athlete_history(athlete)
    assert len(history) == 1
    store.close()


def test_an_operator_trial_takes_over_from_the_demo(runner_and_log):
    runner, _, _ = runner_and_log
    runner.start(TrialRequest("single-leg-left", "left-open-firm", demo=True))
    demo_key = runner.current_key
    assert runner.last_operator_activity == -float("inf")  # the demo is not a person
    runner.start(TrialRequest("single-leg-right", "right-open-firm"))  # a person: allowed
    assert runner.current_key is not demo_key and runner.current_spec.id == "right-open-firm"
    runner.wait_idle()
    assert runner.last_result.outcome.state.value == "aborted"  # the demo trial
    with pytest.raises(TrialError, match="already running"):  # the demo waits its turn
        runner.start(TrialRequest("single-leg-left", "left-open-firm", demo=True))


def test_a_result_carries_its_trials_run_number(runner_and_log):
    """Two repeats of one trial share protocol and trial id: a screen back from a reload tells
    the result of the trial it started from the one before by the run number."""
    runner, _, published = runner_and_log
    runs = []
    for _ in range(2):
        runs.append(runner.start(TrialRequest("single-leg-right", "right-open-firm",
                                              duration_s=10))["run"])
        run_scenario(runner, "single_leg_hold")
    results = [m["result"] for m in published if m["kind"] == "trial_result"]
    assert runs == [1, 2]
    assert [r["run"] for r in results] == runs
    assert runner.last_result is not None and runner.last_result.summary()["run"] == 2
