"""systemd's sd_notify protocol (readiness, status line, watchdog) with the standard library.

The unit is Type=notify with WatchdogSec: systemd starts the web app's clients only once the
station says READY=1, shows STATUS= in `systemctl status`, and restarts the station when the
WATCHDOG=1 pings stop. The pings come from `HealthWatchdog`, which sends them only while the
station is healthy, so a hang (a reader thread that stopped moving, an acquisition process
the station's own supervisor could not bring back) gets a restart, while a missing board
or load cell — which a restart cannot fix — is reported and keeps the station (and its web
pages saying what is wrong) up.

Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op, so the same code runs from a
terminal, in tests and in containers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("station")


class Notifier:
    """Sends sd_notify messages to $NOTIFY_SOCKET; does nothing when it is not set."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        self._watchdog_usec = env.get("WATCHDOG_USEC", "")
        self._watchdog_pid = env.get("WATCHDOG_PID", "")
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *assignments: str) -> bool:
        """Send `KEY=value` lines in one datagram; False (logged once) when it cannot."""
        if self.address is None:
            return False
        payload = "\n".join(assignments).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(payload, self.address)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot notify systemd at %r: %s", self.address, exc)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """Startup is complete (systemd then reports the service as started)."""
        return self.notify("READY=1", *([f"STATUS={_one_line(status)}"] if status else []))

    def status(self, text: str) -> bool:
        """The line `systemctl status` shows; send it rarely (state changes, not frames)."""
        return self.notify(f"STATUS={_one_line(text)}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def watchdog_interval_s(self) -> float | None:
        """systemd's WatchdogSec in seconds, or None when no watchdog applies to this process."""
        if not self._watchdog_usec:
            return None
        if self._watchdog_pid and self._watchdog_pid != str(os.getpid()):
            return None
        try:
            usec = int(self._watchdog_usec)
        except ValueError:
            return None
        return usec / 1e6 if usec > 0 else None


def _socket_address(value: str) -> str | bytes | None:
    if not value:
        return None
    if value.startswith("@"):  # Linux abstract namespace
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock and other transports are not used on a Pi


def _one_line(text: str) -> str:
    return " ".join(text.split())


class StallDetector:
    """True while a counter keeps changing; False once it stayed the same for `stall_s`."""

    def __init__(
        self,
        read: Callable[[], Any],
        stall_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.stall_s = stall_s
        self.clock = clock
        self._last = read()
        self._since = clock()

    def restart(self) -> None:
        """Count stillness from now (e.g. after a state change that explains a pause)."""
        self._last, self._since = self.read(), self.clock()

    def still_for_s(self) -> float:
        """Seconds since the counter last changed (updates the record)."""
        value, now = self.read(), self.clock()
        if value != self._last:
            self._last, self._since = value, now
        return now - self._since

    def __call__(self) -> bool:
        return self.still_for_s() < self.stall_s


class StationHealth:
    """Is the station making progress? `problem` says why not.

    Healthy = the reader loop keeps turning AND acquisition is either delivering frames, or
    reported missing/ended by the board, or being restarted by the station's supervisor
    (station.acquisition.supervisor). A dead or hung acquisition process is the
    supervisor's to replace, with back-off; only when it could not bring acquisition back
    within its `give_up_s` (`hopeless`) do the pings stop, so systemd restarts the whole
    station. Frames with a dead cell are still frames (flagged TIMEOUT), so a missing load
    cell is healthy here: doctor and the status page report it; a restart would not fix it.

    Reads `runtime.reader_loops` (a counter the reader thread increments every pass),
    `runtime.supervisor.in_outage`, `.hopeless`, `.problem`, `.outage_s`, `.restarts`, and
    `runtime.acquisition.stats["state"]`, `["frames_total"]`.
    """

    REPORTED_STATES = ("board_error", "ended")

    def __init__(
        self,
        runtime: Any,
        stall_s: float = 10.0,
        startup_s: float = 90.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from station.acquisition.stats import AcqState

        self.runtime = runtime
        # The acquisition process starts Python and opens the board before its first frame:
        # seconds on a Pi 3. Only a start longer than this counts as a hang.
        self.startup_s = startup_s
        self._state_name = lambda: AcqState(runtime.acquisition.stats["state"]).name.lower()
        self.reader = StallDetector(lambda: runtime.reader_loops, stall_s, clock)
        self.frames = StallDetector(
            lambda: runtime.acquisition.stats["frames_total"], stall_s, clock
        )
        self.problem: str | None = None
        self._last_state = self._state_name()
        self._was_out = False

    def __call__(self) -> bool:
        self.problem = self._find_problem()
        return self.problem is None

    def _find_problem(self) -> str | None:
        reader_still = self.reader.still_for_s()
        if reader_still >= self.reader.stall_s:
            return f"station reader thread made no progress for {reader_still:.0f} s"
        supervisor = self.runtime.supervisor
        if supervisor.in_outage:
            self._was_out = True
            if supervisor.hopeless:
                return (
                    f"acquisition not back after {supervisor.outage_s:.0f} s and "
                    f"{supervisor.restarts} restarts: {supervisor.problem}"
                )
            return None  # the supervisor is restarting it
        state = self._state_name()
        if state != self._last_state or self._was_out:
            self._last_state, self._was_out = state, False
            self.frames.restart()
        frames_still = self.frames.still_for_s()
        if state in self.REPORTED_STATES:
            return None
        limit = self.startup_s if state == "starting" else self.frames.stall_s
        if frames_still >= limit:
            return f"no frames from the board for {frames_still:.0f} s (acquisition {state})"
        return None


class HealthWatchdog:
    """Pings systemd's watchdog only while `is_healthy()` is true.

    Checks every third of WatchdogSec (systemd's advice is at least every half), so one
    slow check never costs a restart. A change of health is logged once and shown as the
    STATUS line; `is_healthy` may carry a `problem` attribute that says why.
    """

    def __init__(
        self,
        notifier: Notifier,
        is_healthy: Callable[[], bool],
        interval_s: float | None = None,
    ) -> None:
        self.notifier = notifier
        self.is_healthy = is_healthy
        watchdog_s = notifier.watchdog_interval_s()
        self.interval_s = interval_s or (watchdog_s / 3 if watchdog_s else None)
        self.healthy: bool | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self.notifier.enabled and self.interval_s is not None

    def check(self) -> bool:
        """One health check; pings when healthy. Returns the health."""
        try:
            healthy = bool(self.is_healthy())
            problem = getattr(self.is_healthy, "problem", None)
        except Exception as exc:  # a broken check must read as unhealthy, not kill the thread
            healthy, problem = False, f"health check failed: {exc!r}"
        if healthy:
            self.notifier.watchdog()
        if healthy != self.healthy:
            if healthy and self.healthy is not None:
                log.warning("station healthy again; watchdog pings resumed")
                self.notifier.status("running")
            elif not healthy:
                log.error("station unhealthy, watchdog pings stopped: %s", problem or "unknown")
                self.notifier.status(f"unhealthy: {problem or 'unknown'}")
        self.healthy = healthy
        return healthy

    def start(self) -> None:
        """Start the pinging thread (nothing to do without a watchdog)."""
        if not self.active or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="sd-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)

    def _run(self) -> None:
        assert self.interval_s is not None
        while not self._stop.is_set():
            self.check()
            self._stop.wait(self.interval_s)
