"""A real station runtime (simulated board) whose acquisition process dies or hangs.

The `acquisition` live messages match docs/live-messages.md, the trial runner hears of it
(its trial aborted with the reason, new trials refused), and acquisition comes back.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest
from test_live_messages import documented, read, sim_runtime

from station.calibration import load_calibration
from station.commands._common import SIM_CALIBRATION
from station.trials.runner import TrialError, TrialRequest, TrialRunner


@pytest.fixture
def station():
    runtime = sim_runtime(calibrated=True)
    runner = TrialRunner(
        runtime.calibration_snapshot, publish=runtime.hub.publish,
        start_checks=(runtime.source_problem,),
    )
    runtime.subscribe(runner)
    runtime.when_source_lost(runner.source_lost)
    runtime.start()
    yield runtime, runner
    runtime.stop()
    runner.close()


def acquisition_messages(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["kind"] == "acquisition"]


def test_a_killed_acquisition_aborts_the_trial_refuses_new_ones_and_comes_back(station):
    runtime, runner = station
    read(runtime.hub, 0, lambda m: m["kind"] == "frames" and m["calibrated"])
    runner.start(TrialRequest("single-leg-left", "left-open-firm"))
    assert runtime.source_problem() is None
    after = runtime.hub.last_id
    os.kill(runtime.acquisition.stats["pid"], signal.SIGKILL)
    messages = read(runtime.hub, after, lambda m: m["kind"] == "acquisition")
    lost = messages[-1]
    assert lost.keys() == documented("`acquisition` messages").keys()
    assert lost["state"] == "not_answering"
    assert lost["problem"] == "the acquisition process exited (killed by SIGKILL)"
    assert lost["last_exit_code"] == -9 and lost["restarts"] == 0
    assert 0.0 < lost["next_restart_in_s"] <= 0.5  # the first back-off, as the message left

    with pytest.raises(TrialError, match=r"^the board stopped answering: the acquisition pro"):
        runner.start(TrialRequest("single-leg-left", "left-open-firm"))
    status = runner.status()
    assert status["state"] == "aborted" and status["abort_reason"] == "board_stopped_answering"
    health = runtime.health()["acquisition"]
    assert health["state"] in ("not_answering", "restarting")
    assert health["achieved_rate_hz"] == 0 and health["outage_since"] == lost["outage_since"]

    rest = read(runtime.hub, lost["id"],
                lambda m: m["kind"] == "acquisition" and m["state"] == "running")
    # the aborted trial's result comes from the runner's worker: before or after the message
    result = next(m for m in messages + rest if m["kind"] == "trial_result")["result"]
    assert result["abort_reason"] == "board_stopped_answering"
    assert [m["state"] for m in acquisition_messages(rest)] == ["restarting", "running"]
    back = acquisition_messages(rest)[-1]
    assert back.keys() == lost.keys()
    assert back["restarts"] == 1 and back["problem"] is None and back["outage_since"] is None
    events = read(runtime.hub, back["id"], lambda m: m["kind"] == "frames" and m["events"])
    aborted = [e for e in events[-1]["events"] if e["kind"] == "trial_aborted"]
    assert aborted and aborted[0]["detail"] == {"reason": "board_stopped_answering"}
    assert runtime.source_problem() is None
    runner.start(TrialRequest("single-leg-left", "left-open-firm"))  # accepted again


def test_a_hung_acquisition_is_killed_and_replaced(station):
    runtime, _ = station
    read(runtime.hub, 0, lambda m: m["kind"] == "frames")
    old_pid = runtime.acquisition.stats["pid"]
    after = runtime.hub.last_id
    stopped_at = time.monotonic()
    os.kill(old_pid, signal.SIGSTOP)  # alive, but no frame ever again
    try:
        lost = read(runtime.hub, after, lambda m: m["kind"] == "acquisition")[-1]
        noticed_s = time.monotonic() - stopped_at
    finally:
        with contextlib.suppress(ProcessLookupError):  # the supervisor killed it, rightly
            os.kill(old_pid, signal.SIGCONT)
    assert lost["state"] == "not_answering"
    assert lost["problem"].endswith("s: the acquisition process stopped answering")
    assert 0.7 < noticed_s < 3.0  # not before the stall limit; the upper bound allows load
    back = read(runtime.hub, lost["id"],
                lambda m: m["kind"] == "acquisition" and m["state"] == "running")[-1]
    assert back["last_exit_code"] == -9  # the supervisor's kill
    assert runtime.acquisition.stats["pid"] not in (0, old_pid)


def test_health_parts_join_health_once_and_a_broken_one_is_contained():
    runtime = sim_runtime(calibrated=False)  # not started: health works before start
    try:
        runtime.add_health_part("saving", lambda: {"spooled_trials": 0})
        with pytest.raises(ValueError, match="already has a 'saving' section"):
            runtime.add_health_part("saving", dict)
        with pytest.raises(ValueError, match="already has a 'acquisition' section"):
            runtime.add_health_part("acquisition", dict)

        def broken() -> dict:
            raise RuntimeError("no disk")

        runtime.add_health_part("broken", broken)
        health = runtime.health()
        assert health["saving"] == {"spooled_trials": 0}
        assert health["broken"] == {"error": "RuntimeError: no disk"}
        acq = health["acquisition"]
        assert acq["state"] == "starting" and acq["restarts"] == 0 and acq["problem"] is None
    finally:
        runtime.acquisition.stop()


def test_abort_reasons_reach_the_event_the_status_and_the_result():
    cal = load_calibration(SIM_CALIBRATION)
    runner = TrialRunner(lambda: cal.to_dict())
    runner.start(TrialRequest("single-leg-left", "left-open-firm"))
    runner.abort()
    runner.wait_idle()
    assert runner.status()["abort_reason"] == "operator"
    assert runner.last_result.summary()["abort_reason"] == "operator"
    events = runner.take_events()
    assert [e["detail"] for e in events if e["kind"] == "trial_aborted"] == [
        {"reason": "operator"}]
    runner.start(TrialRequest("single-leg-left", "left-open-firm"))
    assert "abort_reason" not in runner.status()  # a new trial has none
    runner.source_lost("the acquisition process exited (killed by SIGKILL)")
    runner.wait_idle()
    assert runner.last_result.abort_reason == "board_stopped_answering"
    runner.source_lost("again")  # nothing runs: nothing to abort, no error
    with pytest.raises(ValueError, match="unknown abort reason"):
        runner.abort(reason="bored")
    runner.close()
