from __future__ import annotations

import os
import socket
import time
import uuid

import pytest

from station.acquisition.stats import AcqState
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
    def __init__(self) -> None:
        self.stats = {"state": AcqState.STARTING, "frames_total": 0}
        self.process_alive = True

    @property
    def alive(self) -> bool:
        return self.process_alive


class FakeRuntime:
    def __init__(self) -> None:
        self.reader_loops = 0
        self.acquisition = FakeAcquisition()


def advance(runtime: FakeRuntime, clock: Clock, seconds: float, frames: bool) -> None:
    """Time passes; the reader turns; the board delivers frames when `frames`."""
    for _ in range(int(seconds)):
        clock.t += 1.0
        runtime.reader_loops += 200
        if frames:
            runtime.acquisition.stats["frames_total"] += 80


def test_station_health_running_board():
    clock, rt = Clock(), FakeRuntime()
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    rt.acquisition.stats["state"] = AcqState.RUNNING
    advance(rt, clock, 30, frames=True)
    assert health() and health.problem is None


def test_a_hung_reader_is_unhealthy():
    clock, rt = Clock(), FakeRuntime()
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    clock.t += 11
    assert not health()
    assert "reader thread made no progress for 11 s" in health.problem


def test_a_dead_acquisition_process_is_unhealthy():
    clock, rt = Clock(), FakeRuntime()
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    rt.acquisition.process_alive = False
    advance(rt, clock, 1, frames=False)
    assert not health()
    assert health.problem == "acquisition process is not running"


def test_a_stuck_acquisition_loop_is_unhealthy():
    clock, rt = Clock(), FakeRuntime()
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    rt.acquisition.stats["state"] = AcqState.RUNNING
    advance(rt, clock, 5, frames=True)
    assert health()
    advance(rt, clock, 12, frames=False)
    assert not health()
    assert "no frames from the board for 12 s (acquisition running)" in health.problem


def test_a_slow_start_is_not_a_hang_but_a_start_that_never_ends_is():
    clock, rt = Clock(), FakeRuntime()
    health = StationHealth(rt, stall_s=10.0, startup_s=90.0, clock=clock)
    advance(rt, clock, 60, frames=False)  # still STARTING: importing, opening the board
    assert health()
    advance(rt, clock, 31, frames=False)
    assert not health()
    assert "no frames from the board for 91 s (acquisition starting)" in health.problem


def test_a_missing_board_is_reported_not_restarted():
    """BOARD_ERROR (retrying to open) keeps the watchdog fed: a restart would not help."""
    clock, rt = Clock(), FakeRuntime()
    health = StationHealth(rt, stall_s=10.0, clock=clock)
    rt.acquisition.stats["state"] = AcqState.BOARD_ERROR
    advance(rt, clock, 120, frames=False)
    assert health()
    # the board comes back: the long pause before it must not count against it
    rt.acquisition.stats["state"] = AcqState.RUNNING
    assert health()
    advance(rt, clock, 5, frames=True)
    assert health()


def test_station_health_reads_a_real_acquisition_process():
    """The attribute paths StationHealth uses exist on the real Acquisition (sim board)."""
    from station.acquisition.process import Acquisition, RealtimeOptions
    from station.board.spec import BoardOptions

    acq = Acquisition(BoardOptions(spec="sim"), realtime=RealtimeOptions(sched_fifo_priority=0))

    class Runtime:
        reader_loops = 0
        acquisition = acq

    acq.start()
    try:
        health = StationHealth(Runtime, stall_s=3.0)
        deadline = time.monotonic() + 20
        while acq.stats["frames_total"] < 20 and time.monotonic() < deadline:
            Runtime.reader_loops += 1
            time.sleep(0.05)
        Runtime.reader_loops += 1
        assert health(), health.problem
        assert acq.stats["frames_total"] >= 20
    finally:
        acq.stop()
    Runtime.reader_loops += 1
    assert not health()
    assert health.problem == "acquisition process is not running"
