"""The acquisition supervisor on a hand-driven process and clock: notice, back-off, restore."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_sdnotify import Clock, FakeAcquisition

from station.acquisition.stats import AcqState
from station.acquisition.supervisor import (
    AcquisitionSupervisor,
    Change,
    Phase,
    RestartPolicy,
    describe_exit,
)


def running() -> tuple[Clock, FakeAcquisition, AcquisitionSupervisor]:
    clock, acq = Clock(), FakeAcquisition()
    acq.stats["state"] = AcqState.RUNNING
    wall = lambda: datetime(2025, 3, 1, 12, 0, tzinfo=UTC)  # noqa: E731
    return clock, acq, AcquisitionSupervisor(acq, clock=clock, wall_clock=wall)


def step(clock: Clock, acq: FakeAcquisition, sup: AcquisitionSupervisor, seconds: float,
         frames: bool = True) -> list[Change]:
    """The reader's passes, every 10 ms, for `seconds`; the changes they saw."""
    changes = []
    for _ in range(round(seconds * 100)):
        clock.t += 0.01
        if frames and acq.alive:
            if acq.state is AcqState.STARTING:
                acq.stats["state"] = AcqState.RUNNING
            acq.stats["frames_total"] += 1
        change = sup.check()
        if change is not None:
            changes.append(change)
    return changes


def test_describe_exit():
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-11) == "killed by SIGSEGV"
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(None) == "exit code unknown"


def test_backoff_doubles_and_is_capped():
    policy = RestartPolicy()
    assert [policy.delay_s(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert policy.delay_s(10_000) == 30


def test_an_exit_is_noticed_at_once_and_repaired_after_half_a_second():
    clock, acq, sup = running()
    assert step(clock, acq, sup, 2.0) == []
    acq.die(-9)
    assert sup.check() is Change.LOST
    assert sup.phase is Phase.NOT_ANSWERING and sup.in_outage
    assert acq.stats["state"] == AcqState.STOPPED  # discarded
    status = sup.status()
    assert status == {
        "problem": "the acquisition process exited (killed by SIGKILL)",
        "outage_since": "2025-03-01T12:00:00.000+00:00",
        "outage_s": 0.0,
        "restarts": 0,
        "last_exit_code": -9,
        "next_restart_in_s": 0.5,
    }
    assert step(clock, acq, sup, 0.49, frames=False) == []
    assert step(clock, acq, sup, 0.02, frames=False) == [Change.RESTARTING]
    assert sup.phase is Phase.RESTARTING and sup.restarts == 1
    assert sup.status()["next_restart_in_s"] is None
    assert step(clock, acq, sup, 0.05) == [Change.RESTORED]
    assert not sup.in_outage and sup.problem is None
    assert sup.status()["outage_since"] is None and sup.status()["last_exit_code"] == -9


def test_a_running_process_without_frames_is_hung_and_replaced():
    clock, acq, sup = running()
    step(clock, acq, sup, 1.0)
    changes = step(clock, acq, sup, 0.79, frames=False)
    assert changes == []  # 0.79 s without a frame: still fine
    assert step(clock, acq, sup, 0.02, frames=False) == [Change.LOST]
    assert sup.problem == "no frame for 0.8 s: the acquisition process stopped answering"
    assert not acq.alive  # killed, not left to hang


@pytest.mark.parametrize("state", [AcqState.STARTING, AcqState.BOARD_ERROR, AcqState.ENDED])
def test_no_frames_is_no_hang_while_the_process_says_why(state):
    clock, acq, sup = running()
    acq.stats["state"] = state
    assert step(clock, acq, sup, 30.0, frames=False) == []
    assert not sup.in_outage


def test_a_process_that_starts_running_gets_its_stall_time_from_then():
    clock, acq, sup = running()
    acq.stats["state"] = AcqState.STARTING
    step(clock, acq, sup, 5.0, frames=False)
    acq.stats["state"] = AcqState.RUNNING
    assert step(clock, acq, sup, 0.5, frames=False) == []
    assert step(clock, acq, sup, 0.4, frames=False) == [Change.LOST]


def test_failing_restarts_back_off_and_a_healthy_minute_resets_the_delay():
    clock, acq, sup = running()
    acq.restart_works = False
    acq.die(-11)
    delays = []
    assert sup.check() is Change.LOST
    for _ in range(8):
        delays.append(sup.status()["next_restart_in_s"])
        changes = step(clock, acq, sup, delays[-1] + 0.02, frames=False)
        assert changes == [Change.RESTARTING, Change.RESTART_FAILED]
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert sup.problem == "the new acquisition process exited (exit code 1)"
    assert sup.last_exit_code == 1
    assert sup.hopeless  # more than a minute: the systemd watchdog takes over
    acq.restart_works = True
    step(clock, acq, sup, 30.1)
    assert not sup.in_outage and not sup.hopeless and sup.restarts == 9
    # Trouble again within the minute: the escalation goes on...
    step(clock, acq, sup, 10.0)
    acq.die(-9)
    sup.check()
    assert sup.status()["next_restart_in_s"] == 30
    step(clock, acq, sup, 31.0)
    assert not sup.in_outage
    # ...a minute without trouble starts it again from the first delay.
    step(clock, acq, sup, 61.0)
    acq.die(-9)
    sup.check()
    assert sup.status()["next_restart_in_s"] == 0.5


def test_a_restart_that_cannot_even_start_a_process_is_retried():
    clock, acq, sup = running()

    def refuse() -> None:
        raise OSError(12, "Cannot allocate memory")

    acq.restart = refuse  # type: ignore[method-assign]
    acq.die(-9)
    sup.check()
    assert step(clock, acq, sup, 0.51, frames=False) == [Change.RESTART_FAILED]
    assert sup.problem.startswith("a new acquisition process could not be started: ")
    assert sup.restarts == 0 and sup.status()["next_restart_in_s"] == pytest.approx(1.0, abs=0.02)


def test_a_new_process_that_never_starts_is_replaced():
    clock, acq, sup = running()
    acq.die(-9)
    sup.check()
    step(clock, acq, sup, 0.51, frames=False)
    assert sup.phase is Phase.RESTARTING
    assert step(clock, acq, sup, 59.0, frames=False) == []
    assert step(clock, acq, sup, 1.1, frames=False) == [Change.RESTART_FAILED]
    assert sup.problem == "the new acquisition process did not start in 60 s"


def test_a_new_process_that_reports_a_board_error_ends_the_outage():
    """A board that cannot be opened is the board's problem, said by a live process."""
    clock, acq, sup = running()
    acq.die(-9)
    sup.check()
    step(clock, acq, sup, 0.51, frames=False)
    acq.stats["state"] = AcqState.BOARD_ERROR
    assert sup.check() is Change.RESTORED
