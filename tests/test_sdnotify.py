from __future__ import annotations

import os
import signal
import socket
import time
import uuid

import pytest

from station.acquisition.stats import AcqState
from station.acquisition.supervisor import AcquisitionSupervisor, RestartPolicy
from station.service.sdnotify import HealthWatchdog, Notifier, StallDetector, StationHealth


@pytest.fixture
def notify_socket(tmp_path):
    """A real AF_UNIX datagram socket standing in for systemd's notify socket."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    yield path, sock
    sock.close()


def received(sock) -> list[str]:
    """Every datagram already waiting on the socket (never waits for more)."""
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        return out


def test_messages_reach_the_socket(notify_socket):
    path, sock = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": str(path)})
    assert notifier.enabled
    assert notifier.ready("listening on\n http://pi.local:8080/")
    assert notifier.status("board hx711, 80.1 Hz")
    assert notifier.watchdog()
    assert notifier.stopping()
    assert received(sock) == [
        "READY=1\nSTATUS=listening on http://pi.local:8080/",
        "STATUS=board hx711, 80.1 Hz",
        "WATCHDOG=1",
        "STOPPING=1",
    ]


def test_abstract_socket_address():
    name = f"bs-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    try:
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert received(sock) == ["READY=1"]
    finally:
        sock.close()


def test_without_systemd_everything_is_a_no_op():
    notifier = Notifier({})
    assert not notifier.enabled
    assert notifier.ready("x") is False
    assert notifier.watchdog() is False
    assert notifier.watchdog_interval_s() is None


def test_a_vanished_socket_is_reported_not_raised(tmp_path, caplog):
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert notifier.watchdog() is False
    assert notifier.watchdog() is False
    assert len([r for r in caplog.records if "cannot notify systemd" in r.message]) == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # meant for another pid
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(env, expected):
    assert Notifier({"NOTIFY_SOCKET": "/run/x", **env}).watchdog_interval_s() == expected


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_stall_detector():
    clock, value = Clock(), [0]
    stalled = StallDetector(lambda: value[0], stall_s=10.0, clock=clock)
    clock.t += 9.9
    assert stalled()
    clock.t += 0.2
    assert not stalled()
    value[0] += 1
    assert stalled()
    clock.t += 9.9
    assert stalled()


def test_watchdog_pings_only_while_healthy(notify_socket, caplog):
    path, sock = notify_socket
    healthy = [True]

    def is_healthy() -> bool:
        return healthy[0]

    is_healthy.problem = "reader stalled"  # type: ignore[attr-defined]
    env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "300000"}
    dog = HealthWatchdog(Notifier(env), is_healthy)
    assert dog.interval_s == pytest.approx(0.1)
    dog.start()
    try:
        time.sleep(0.6)
        pings_healthy = received(sock)
        healthy[0] = False
        time.sleep(0.25)  # let the thread see it
        received(sock)
        time.sleep(0.45)
        pings_sick = received(sock)
        healthy[0] = True
        time.sleep(0.4)
        pings_again = received(sock)
    finally:
        dog.stop()
    assert pings_healthy.count("WATCHDOG=1") >= 3
    assert "WATCHDOG=1" not in pings_sick
    assert "WATCHDOG=1" in pings_again
    assert "STATUS=running" in pings_again
    errors = [r.message for r in caplog.records if "unhealthy" in r.message]
    assert errors == ["station unhealthy, watchdog pings stopped: reader stalled"]


def test_a_failing_health_check_counts_as_unhealthy(notify_socket):
    path, sock = notify_socket

    def broken() -> bool:
        raise RuntimeError("boom")

    dog = HealthWatchdog(Notifier({"NOTIFY_SOCKET": str(path)}), broken, interval_s=1.0)
    assert dog.check() is False
    assert received(sock) == ["STATUS=unhealthy: health check failed: RuntimeError('boom')"]


def test_no_thread_without_a_watchdog():
    dog = HealthWatchdog(Notifier({}), lambda: True)
    dog.start()
    assert dog._thread is None
    dog.stop()


class FakeAcquisition:
    """Station.acquisition.supervisor.Supervised, by hand: a process that lives or dies."""

    def __init__(self) -> None:
        self.stats = {"state": AcqState.STARTING, "frames_total": 0}
        self.process_alive = True
        self.exitcode: int | None = None
        self.restart_works = True

    @property
    def alive(self) -> bool:
        return self.process_alive

    @property
    def written(self) -> int:
        return self.stats["frames_total"]

    @property
    def state(self) -> AcqState:
        return AcqState(self.stats["state"])

    def die(self, code: int) -> None:
        self.process_alive, self.exitcode = False, code

    def discard_process(self) -> int | None:
        self.process_alive = False
        self.stats["state"] = AcqState.STOPPED
        return self.exitcode

    def restart(self) -> None:
        self.stats["state"] = AcqState.STARTING
        self.process_alive, self.exitcode = True, None
        if not self.restart_works:
            self.die(1)


class FakeRuntime:
    def __init__(self, clock: Clock, policy: RestartPolicy | None = None) -> None:
        self.reader_loops = 0
        self.acquisition = FakeAcquisition()
        self.supervisor = AcquisitionSupervisor(self.acquisition, policy, clock=clock)


def advance(runtime: FakeRuntime, clock: Clock, seconds: float, frames: bool) -> None:
    """Time passes; the reader turns (and runs the supervisor); frames arrive when `frames`
    and a process is there to deliver them."""
    for _ in range(int(seconds * 4)):
        clock.t += 0.25
        runtime.reader_loops += 50
        runtime.supervisor.check()
        acq = runtime.acquisition
        if frames and acq.alive:
            acq.stats["state"] = AcqState.RUNNING
            acq.stats["frames_total"] += 20


def test_station_health_running_board():
    clock = Clock()
    rt = FakeRuntime(clock)
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    advance(rt, clock, 30, frames=True)
    assert health() and health.problem is None


def test_a_hung_reader_is_unhealthy():
    clock = Clock()
    rt = FakeRuntime(clock)
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    clock.t += 11
    assert not health()
    assert "reader thread made no progress for 11 s" in health.problem


def test_a_dead_acquisition_process_is_restarted_by_the_station_not_by_systemd():
    clock = Clock()
    rt = FakeRuntime(clock)
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    advance(rt, clock, 5, frames=True)
    rt.acquisition.die(-9)
    advance(rt, clock, 0.25, frames=False)
    assert rt.supervisor.in_outage
    assert health(), health.problem  # the supervisor is on it: keep the watchdog fed
    advance(rt, clock, 20, frames=True)  # restarted after 0.5 s, frames again
    assert not rt.supervisor.in_outage and rt.supervisor.restarts == 1
    assert health(), health.problem
    advance(rt, clock, 20, frames=True)
    assert health(), health.problem  # the pause of the outage never counts as a stall


def test_acquisition_the_station_cannot_bring_back_stops_the_watchdog():
    clock = Clock()
    rt = FakeRuntime(clock)
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    advance(rt, clock, 5, frames=True)
    rt.acquisition.restart_works = False  # every new process dies at once
    rt.acquisition.die(-11)
    advance(rt, clock, 55, frames=True)
    assert health(), health.problem  # still trying (0.5, 1, 2, 4, 8, 16, 30 s apart)
    advance(rt, clock, 10, frames=True)
    assert not health()
    assert health.problem.startswith("acquisition not back after 6")
    assert "restarts: the new acquisition process exited (exit code 1)" in health.problem
    rt.acquisition.restart_works = True  # the next attempt works: healthy again
    advance(rt, clock, 40, frames=True)
    assert health(), health.problem


def test_the_frame_rule_backs_up_a_supervisor_that_misses_a_stall():
    clock = Clock()
    rt = FakeRuntime(clock, RestartPolicy(stall_s=1e9))
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    advance(rt, clock, 5, frames=True)
    assert health()
    advance(rt, clock, 12, frames=False)
    assert not health()
    assert "no frames from the board for 12 s (acquisition running)" in health.problem


def test_a_slow_start_is_not_a_hang_but_a_start_that_never_ends_is():
    clock = Clock()
    rt = FakeRuntime(clock, RestartPolicy(start_timeout_s=1e9))
    health = StationHealth(rt, stall_s=10.0, startup_s=90.0, clock=clock)
    advance(rt, clock, 60, frames=False)  # still STARTING: importing, opening the board
    assert health()
    advance(rt, clock, 31, frames=False)
    assert not health()
    assert "no frames from the board for 91 s (acquisition starting)" in health.problem


def test_a_missing_board_is_reported_not_restarted():
    """BOARD_ERROR (retrying to open) keeps the watchdog fed: a restart would not help."""
    clock = Clock()
    rt = FakeRuntime(clock)
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    rt.acquisition.stats["state"] = AcqState.BOARD_ERROR
    advance(rt, clock, 120, frames=False)
    assert health()
    assert not rt.supervisor.in_outage  # not a hang either: the process says what is wrong
    # the board comes back: the long pause before it must not count against it
    rt.acquisition.stats["state"] = AcqState.RUNNING
    assert health()
    advance(rt, clock, 5, frames=True)
    assert health()


def test_station_health_reads_a_real_acquisition_process():
    """The attribute paths StationHealth and the supervisor use exist on the real
    Acquisition (sim board), and a killed process is replaced while health stays good."""
    from station.acquisition.process import Acquisition, RealtimeOptions
    from station.board.spec import BoardOptions

    acq = Acquisition(BoardOptions(spec="sim"), realtime=RealtimeOptions(sched_fifo_priority=0))

    class Runtime:
        reader_loops = 0
        acquisition = acq
        supervisor = AcquisitionSupervisor(acq)

    def run_until(predicate, what: str) -> None:
        deadline = time.monotonic() + 20
        while not predicate():
            assert time.monotonic() < deadline, what
            Runtime.reader_loops += 1
            Runtime.supervisor.check()
            time.sleep(0.02)

    acq.start()
    try:
        health = StationHealth(Runtime, stall_s=3.0)
        run_until(lambda: acq.stats["frames_total"] >= 20, "first frames")
        assert health(), health.problem
        os.kill(acq.stats["pid"], signal.SIGKILL)
        run_until(lambda: Runtime.supervisor.in_outage, "the kill noticed")
        assert health(), health.problem
        assert Runtime.supervisor.last_exit_code == -signal.SIGKILL
        frames = acq.stats["frames_total"]
        run_until(lambda: not Runtime.supervisor.in_outage, "a new process")
        run_until(lambda: acq.stats["frames_total"] >= frames + 20, "frames again")
        assert health(), health.problem
        assert Runtime.supervisor.restarts == 1
    finally:
        acq.stop()
