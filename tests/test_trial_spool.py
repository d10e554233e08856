"""A trial that could not be saved is kept on disk, said so, and saved later (issue 18 item 11)."""

from __future__ import annotations

import io
import json
import math
import stat
import time

import numpy as np
import pytest
from test_trial_runner import run_scenario

from station.calibration import load_calibration
from station.commands._common import SIM_CALIBRATION
from station.store import open_store
from station.store.records import Athlete
from station.trials.runner import FinishedTrial, TrialError, TrialRequest, TrialRunner
from station.trials.saver import store_saver
from station.trials.spool import DiskSpace, TrialSpool, decode, encode


class FlakyStore:
    """A saver that fails while `down`, then passes to `save`."""

    def __init__(self, save=None) -> None:
        self.down = True
        self.save = save or (lambda finished: "uid-1")
        self.calls = 0

    def __call__(self, finished: FinishedTrial) -> str | None:
        self.calls += 1
        if self.down:
            raise OSError(28, "No space left on device")
        return self.save(finished)


def finished_trial(tmp_path, save, athlete_uid="athlete-1", spool=None, publish=None):
    """Run a 10 s single-leg hold through a runner; (runner, its last result)."""
    cal = load_calibration(SIM_CALIBRATION)
    runner = TrialRunner(lambda: cal.to_dict(), save=save, spool=spool, publish=publish)
    runner.start(TrialRequest("single-leg-right", "right-open-firm", athlete_uid=athlete_uid,
                              duration_s=10))
    run_scenario(runner, "single_leg_hold")
    runner.close()
    return runner, runner.last_result


def test_a_failed_save_is_spooled_and_the_result_says_so(tmp_path):
    spool_dir = tmp_path / "data" / "spool"
    flaky = FlakyStore()
    spool = TrialSpool(spool_dir, flaky)
    published = []
    finished_trial(tmp_path, flaky, spool=spool.put, publish=published.append)
    summary = published[-1]["result"]
    assert summary["saved"] is False and summary["trial_uid"] is None
    assert summary["spooled"] is True
    assert "No space left on device" in summary["error"]
    assert "kept on the station and will be saved" in summary["not_saved_reason"]
    assert summary["score"] is not None  # analysed all the same
    files = spool.pending()
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(spool_dir.stat().st_mode) == 0o700
    assert [p.name for p in spool_dir.iterdir()] == [files[0].name]  # no temporary left
    health = spool.health()
    assert health["spooled_trials"] == 1 and health["oldest_spooled_at"].endswith("+00:00")
    assert "No space left" in health["last_error"]

    flaky.down = False
    assert spool.retry() == 0
    assert spool.pending() == [] and flaky.calls == 2
    assert spool.health() == {"spooled_trials": 0, "oldest_spooled_at": None,
                              "last_error": None, "next_retry_in_s": None}


def test_the_spool_file_rebuilds_the_finished_trial(tmp_path):
    kept: list[FinishedTrial] = []
    _, result = finished_trial(tmp_path, lambda f: kept.append(f) or "uid")
    result.metrics["a_nan"] = math.nan  # NaN survives (the store keeps JSON NaN too)
    back, meta = decode(encode(result, "OSError: boom", result.started_at))
    assert meta["error"] == "OSError: boom"
    np.testing.assert_array_equal(back.t_ns, result.t_ns)
    np.testing.assert_array_equal(back.counts, result.counts)
    assert back.t_ns.dtype == np.int64 and back.counts.dtype == np.int32
    assert back.outcome == result.outcome  # state, every event
    assert back.spec == result.spec and back.protocol.id == result.protocol.id
    assert back.request == result.request and back.started_at == result.started_at
    assert back.calibration == result.calibration and back.score == result.score
    assert math.isnan(back.metrics.pop("a_nan"))
    result.metrics.pop("a_nan")
    assert back.metrics == result.metrics
    for name in ("clock_synced", "analysis_version", "abort_reason", "extra"):
        assert getattr(back, name) == getattr(result, name), name
    later = io.BytesIO()
    np.savez(later, t_ns=back.t_ns, counts=back.counts,
             meta=np.frombuffer(json.dumps({"format": 9}).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="spool file format 9, expected 1"):
        decode(later.getvalue())


def test_a_spooled_trial_reaches_the_store_with_its_frames_at_the_next_start(tmp_path):
    data_dir = tmp_path / "data"
    store = open_store(data_dir)
    athlete = store.add_athlete(Athlete(name="Ada Test", team="U18"))
    real_save = store_saver(store, "sim")
    flaky = FlakyStore(real_save)
    first_run = TrialSpool(data_dir / "spool", flaky)
    _, result = finished_trial(tmp_path, flaky, athlete_uid=athlete, spool=first_run.put)
    assert result.spooled and store.athlete_history(athlete) == []
    (data_dir / "spool" / ".cut-short.trial.npz.1234.tmp").write_bytes(b"half")

    # The station restarts: the spool saves what it finds at once.
    next_run = TrialSpool(data_dir / "spool", real_save)
    next_run.start()
    try:
        deadline = time.monotonic() + 10
        while next_run.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        next_run.stop()
    assert next_run.pending() == [] and list((data_dir / "spool").iterdir()) == []
    history = store.athlete_history(athlete)
    assert len(history) == 1
    trial = store.load_trial(history[0]["uid"], with_raw=True)
    np.testing.assert_array_equal(trial.raw.counts, result.counts)
    assert trial.score == pytest.approx(result.score)
    assert trial.outcome == "complete"
    store.close()


def test_retries_back_off_while_the_store_stays_down(tmp_path):
    flaky = FlakyStore()
    spool = TrialSpool(tmp_path / "spool", flaky, first_retry_s=5.0, max_retry_s=12.0)
    finished_trial(tmp_path, flaky, spool=spool.put)
    assert spool.health()["next_retry_in_s"] == pytest.approx(5.0, abs=0.5)
    delays = []
    for _ in range(3):
        spool._next_retry = None
        assert spool.retry() == 1
        delays.append(spool.health()["next_retry_in_s"])
    assert delays == pytest.approx([5.0, 10.0, 12.0], abs=0.5)


def test_an_unreadable_spool_file_is_kept_and_skipped(tmp_path):
    flaky = FlakyStore()
    spool = TrialSpool(tmp_path / "spool", flaky)
    finished_trial(tmp_path, flaky, spool=spool.put)
    broken = tmp_path / "spool" / f"{0:020d}-deadbeef.trial.npz"
    broken.write_bytes(b"not an npz")
    flaky.down = False
    assert spool.retry() == 1
    assert spool.pending() == [broken]
    assert "cannot be read" in spool.health()["last_error"]


def test_when_even_the_spool_fails_the_result_says_the_frames_are_lost(tmp_path):
    (tmp_path / "spool").write_text("a file where the directory should be")
    flaky = FlakyStore()
    _, result = finished_trial(tmp_path, flaky, spool=TrialSpool(tmp_path / "spool", flaky).put)
    summary = result.summary()
    assert summary["saved"] is False and summary["spooled"] is False
    assert "keeping it on disk failed too" in summary["not_saved_reason"]
    assert summary["not_saved_reason"].endswith("the frames are lost")


def test_a_quick_try_is_not_saved_and_says_why(tmp_path):
    saves = []
    _, result = finished_trial(tmp_path, store_saver_like(saves), athlete_uid=None)
    summary = result.summary()
    assert summary["saved"] is False and summary["spooled"] is False
    assert summary["not_saved_reason"] == "no athlete was chosen (a quick try is not kept)"
    assert summary["abort_reason"] is None and summary["error"] is None


def store_saver_like(log):
    """What store_saver does without a store: nothing to file a quick try under."""

    def save(finished):
        log.append(finished)
        return None if finished.request.athlete_uid is None else "uid"

    return save


def test_disk_space_warns_then_refuses_trials_with_the_figure(tmp_path):
    free = [600e6]
    disk = DiskSpace(tmp_path, warn_mb=500, floor_mb=100, free_bytes=lambda _: free[0])
    assert disk.refusal() is None and disk.health()["disk_warning"] is None
    assert disk.health()["disk_free_mb"] == 600.0
    free[0] = 320e6
    assert disk.refusal() is None
    assert disk.health()["disk_warning"].startswith("only 320 MB free in ")
    free[0] = 42e6
    assert "only 42 MB free" in disk.health()["disk_warning"]
    cal = load_calibration(SIM_CALIBRATION)
    runner = TrialRunner(lambda: cal.to_dict(), start_checks=(disk.refusal,))
    with pytest.raises(TrialError, match=r"only 42 MB free in .* at least 100 MB"):
        runner.start(TrialRequest("single-leg-left", "left-open-firm"))
    free[0] = 150e6
    runner.start(TrialRequest("single-leg-left", "left-open-firm"))
    runner.close()
    spool = TrialSpool(tmp_path / "spool", lambda f: None, disk=disk)
    assert {"disk_free_mb", "disk_warn_mb", "disk_floor_mb", "disk_warning",
            "spooled_trials"} <= spool.health().keys()
