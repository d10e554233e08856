"""Trials keep their cells' conversion instants: the runner buffers them, the analysis aligns
on them, the store and the spool keep them, re-analysis agrees; a trial without them (every
trial stored before) re-analyses to byte-identical metrics."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from station.analysis.pipeline import analyze_frames
from station.board.oscillator import ChipClocks
from station.board.sim import SimulatedBoard, simulate
from station.calibration import load_calibration
from station.calibration.estimator import Estimator
from station.commands._common import SIM_CALIBRATION
from station.frames import Frame
from station.store import open_store
from station.store.reanalysis import reanalyze
from station.store.records import Athlete
from station.trials import spool
from station.trials.runner import TrialRequest, TrialRunner
from station.trials.saver import store_saver

REQUEST = dict(protocol_id="single-leg-right", trial_id="right-open-firm", duration_s=10)


def frames_without_offsets() -> list[Frame]:
    sim = simulate("single_leg_hold", seed=3)
    return [Frame(round(t * 1e9), tuple(int(c) for c in counts))
            for t, counts in zip(sim.t_s, sim.counts, strict=True)]


def frames_of_chips_apart() -> list[Frame]:
    """The same athlete on chips 3 % apart: each cell at its own instant, offsets exact."""
    board = SimulatedBoard(realtime=False, seed=3, scenario="single_leg_hold",
                           chips=ChipClocks.internal(spread=0.03, seed=3))
    return [board.read() for _ in range(int(26.0 * 77.6))]


def run_trial(store, athlete: str, frames: list[Frame]):
    cal = load_calibration(SIM_CALIBRATION)
    estimator = Estimator(cal)
    runner = TrialRunner(lambda: cal.to_dict(), save=store_saver(store, "sim"))
    runner.start(TrialRequest(**REQUEST, athlete_uid=athlete))
    for frame in frames:
        runner.on_frame(frame, estimator.update(frame))
    runner.close()
    finished = runner.last_result
    assert finished is not None and finished.saved_uid is not None, finished
    return finished


@pytest.fixture
def store(tmp_path):
    store = open_store(tmp_path)
    yield store
    store.close()


def test_a_trial_without_offsets_reanalyses_to_byte_identical_metrics(store):
    athlete = store.add_athlete(Athlete(name="Ada Old", team="U18"))
    finished = run_trial(store, athlete, frames_without_offsets())
    assert finished.cell_dt_ns is None
    before = store.load_trial(finished.saved_uid)
    assert before.raw.cell_dt_ns is None
    assert reanalyze(store)["reanalyzed"] == 1
    after = store.load_trial(finished.saved_uid)
    assert json.dumps(after.metrics, sort_keys=True) == json.dumps(before.metrics, sort_keys=True)
    assert after.score == before.score and after.analysis_version == before.analysis_version


def test_a_trial_keeps_its_cells_offsets_and_is_analysed_on_them(store):
    athlete = store.add_athlete(Athlete(name="Ada New", team="U18"))
    frames = frames_of_chips_apart()
    finished = run_trial(store, athlete, frames)
    held = finished.cell_dt_ns
    assert held is not None and held.shape == (len(finished.t_ns), 4) and held.any()
    trial = store.load_trial(finished.saved_uid)
    assert trial.raw.has_cell_timing
    instants = trial.raw.t_ns[:, None] + trial.raw.cell_dt_ns
    assert np.abs(instants - (finished.t_ns[:, None] + held)).max() <= 5_000  # 10 us quanta
    # the analysis aligned the cells: without the offsets the numbers differ
    args = dict(stance=trial.stance, eyes=trial.eyes, surface=trial.surface, completed=True,
                time_to_failure_s=None, planned_duration_s=trial.planned_duration_s,
                body_weight_n=trial.body_weight_n)
    unaligned, _, _ = analyze_frames(finished.t_ns, finished.counts, finished.calibration, **args)
    aligned, _, _ = analyze_frames(finished.t_ns, finished.counts, finished.calibration, **args,
                                   cell_dt_ns=held)
    assert aligned == finished.metrics
    velocity = aligned["mean_velocity_mm_s"]["total"]
    assert velocity != unaligned["mean_velocity_mm_s"]["total"]
    # and re-analysis from the store agrees with what the station recorded
    assert reanalyze(store)["reanalyzed"] == 1
    again = store.load_trial(finished.saved_uid)
    assert again.metrics["mean_velocity_mm_s"]["total"] == pytest.approx(velocity, rel=1e-4)
    assert again.score == pytest.approx(finished.score, abs=0.05)


def test_the_spool_keeps_a_trials_offsets_and_old_spool_files_read_without(store):
    athlete = store.add_athlete(Athlete(name="Ada Spool", team="U18"))
    finished = run_trial(store, athlete, frames_of_chips_apart())
    back, _ = spool.decode(spool.encode(finished, "db down", datetime.now(UTC)))
    np.testing.assert_array_equal(back.cell_dt_ns, finished.cell_dt_ns)
    finished.cell_dt_ns = None
    back, _ = spool.decode(spool.encode(finished, "db down", datetime.now(UTC)))
    assert back.cell_dt_ns is None
