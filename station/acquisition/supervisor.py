"""Notices a dead or hung acquisition process and starts a new one, with back-off.

The acquisition process can die (a crash, the OOM killer, `kill -9`) or hang (a stuck
GPIO call) while the station's web app carries on. Nothing else would notice: the ring
simply stops filling. The station's reader calls `check()` every pass (a few ms); it sees
the process exit at once, and a running process that wrote no frame, not even a flagged
one, for `stall_s` (a disconnected HX711 still yields a timeout frame every 0.2-0.6 s).

An outage goes NOT_ANSWERING (the old process is gone; a restart is due after the back-off
delay) -> RESTARTING (a new process is starting) -> back to normal once the new process
delivers frames (or reports its own state: board error, end of a replay). Delays double
from `first_delay_s` up to `max_delay_s` per attempt, and start again from the first
after `healthy_reset_s` without trouble. The supervisor keeps trying for ever; an outage
longer than `give_up_s` is `hopeless`, which tells the systemd watchdog to stop being fed
(a restart of the whole station is the next thing to try).
"""

from __future__ import annotations

import enum
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from station.acquisition.stats import AcqState

log = logging.getLogger("station.acquisition")


@dataclass(frozen=True)
class RestartPolicy:
    """When an acquisition process counts as lost, and when to try again."""

    stall_s: float = 0.8  # no frame at all for this long while running: hung
    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    healthy_reset_s: float = 60.0  # this long without trouble: delays start again
    start_timeout_s: float = 60.0  # a new process that has not started by then is hung
    give_up_s: float = 60.0  # an outage this long: the watchdog stops being fed

    def delay_s(self, attempt: int) -> float:
        """Seconds before restart number `attempt` (0-based) of an escalation."""
        return min(self.first_delay_s * 2.0 ** min(attempt, 30), self.max_delay_s)


class Phase(enum.Enum):
    """The supervisor's view; the value is what health shows as the acquisition state."""

    OK = "ok"
    NOT_ANSWERING = "not_answering"
    RESTARTING = "restarting"


class Change(enum.Enum):
    """What one `check()` saw happen."""

    LOST = "lost"  # a working process died or hung (a new outage)
    RESTART_FAILED = "restart_failed"  # the new process died, hung, or could not be started
    RESTARTING = "restarting"  # a new process was started
    RESTORED = "restored"  # frames flow again


class Supervised(Protocol):
    """What the supervisor needs of station.acquisition.process.Acquisition."""

    @property
    def alive(self) -> bool: ...

    @property
    def exitcode(self) -> int | None: ...

    @property
    def written(self) -> int:
        """Frames the process put into the ring so far (any frame, flagged or not)."""
        ...

    @property
    def state(self) -> AcqState: ...

    def discard_process(self) -> int | None:
        """Kill the process if it still runs, reap it; its exit code."""
        ...

    def restart(self) -> None: ...


def describe_exit(code: int | None) -> str:
    """`killed by SIGKILL`, `exit code 1`: how a process ended, for people."""
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class AcquisitionSupervisor:
    """Watches one `Supervised` acquisition; `check()` from the reader thread, the rest from any."""

    def __init__(
        self,
        acquisition: Supervised,
        policy: RestartPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.acquisition = acquisition
        self.policy = policy or RestartPolicy()
        self.clock = clock
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self.phase = Phase.OK
        self.problem: str | None = None
        self.restarts = 0
        self.last_exit_code: int | None = None
        self._attempt = 0  # restarts in the current escalation (sets the delay)
        self._outage_start: float | None = None
        self._outage_since: datetime | None = None
        self._restart_at = 0.0
        self._restart_started = 0.0
        self._written_at_restart = 0
        self._trouble_at = -float("inf")  # when the last outage ended
        now = clock()
        self._last_written = acquisition.written
        self._last_frame_at = now
        self._last_state = acquisition.state

    # -- the reader thread -----------------------------------------------------------
    def check(self) -> Change | None:
        """Look once; act when due. Returns what changed, or None."""
        now = self.clock()
        if self.phase is Phase.OK:
            return self._watch(now)
        if self.phase is Phase.NOT_ANSWERING:
            return self._restart_when_due(now) if now >= self._restart_at else None
        return self._watch_restart(now)

    def _watch(self, now: float) -> Change | None:
        acq = self.acquisition
        if not acq.alive:
            how = describe_exit(acq.exitcode)
            return self._lose(now, f"the acquisition process exited ({how})")
        state, written = acq.state, acq.written
        if written != self._last_written or state != self._last_state:
            self._last_written, self._last_state, self._last_frame_at = written, state, now
        elif state is AcqState.RUNNING and now - self._last_frame_at >= self.policy.stall_s:
            quiet = now - self._last_frame_at
            return self._lose(
                now, f"no frame for {quiet:.1f} s: the acquisition process stopped answering"
            )
        if self._attempt and now - self._trouble_at >= self.policy.healthy_reset_s:
            self._attempt = 0
        return None

    def _restart_when_due(self, now: float) -> Change:
        try:
            self.acquisition.restart()
        except Exception as exc:  # e.g. no memory for a new process: try again later
            log.exception("acquisition could not be restarted")
            return self._lose(now, f"a new acquisition process could not be started: {exc}")
        with self._lock:
            self.phase = Phase.RESTARTING
            self.restarts += 1
            self._attempt += 1
            self._restart_started = now
            self._written_at_restart = self.acquisition.written
        return Change.RESTARTING

    def _watch_restart(self, now: float) -> Change | None:
        acq = self.acquisition
        if not acq.alive:
            return self._lose(
                now, f"the new acquisition process exited ({describe_exit(acq.exitcode)})"
            )
        state = acq.state
        delivering = state is AcqState.RUNNING and acq.written > self._written_at_restart
        if delivering or state in (AcqState.BOARD_ERROR, AcqState.ENDED):
            with self._lock:
                self.phase, self.problem = Phase.OK, None
                self._outage_start = self._outage_since = None
                self._trouble_at = now
                self._last_written, self._last_state, self._last_frame_at = (
                    acq.written, state, now,
                )
            return Change.RESTORED
        if now - self._restart_started >= self.policy.start_timeout_s:
            return self._lose(
                now, f"the new acquisition process did not start in "
                f"{self.policy.start_timeout_s:.0f} s"
            )
        return None

    def _lose(self, now: float, problem: str) -> Change:
        """The process is gone (or made gone): schedule the next restart."""
        exit_code = self.acquisition.discard_process()
        with self._lock:
            new_outage = self.phase is Phase.OK
            if new_outage:
                self._outage_start, self._outage_since = now, self.wall_clock()
            elif self.phase is Phase.NOT_ANSWERING:
                self._attempt += 1  # the restart itself failed to happen
            self.phase = Phase.NOT_ANSWERING
            self.problem = problem
            if exit_code is not None:
                self.last_exit_code = exit_code
            self._restart_at = now + self.policy.delay_s(self._attempt)
            self._trouble_at = now
        return Change.LOST if new_outage else Change.RESTART_FAILED

    # -- any thread ------------------------------------------------------------------
    @property
    def in_outage(self) -> bool:
        return self.phase is not Phase.OK

    @property
    def outage_s(self) -> float | None:
        start = self._outage_start
        return None if start is None else max(0.0, self.clock() - start)

    @property
    def hopeless(self) -> bool:
        """The outage has lasted longer than restarts should ever take."""
        outage = self.outage_s
        return outage is not None and outage >= self.policy.give_up_s

    def status(self) -> dict[str, Any]:
        """JSON-ready facts for health and the live `acquisition` message."""
        with self._lock:
            outage = self.outage_s
            next_in = (
                round(max(0.0, self._restart_at - self.clock()), 2)
                if self.phase is Phase.NOT_ANSWERING
                else None
            )
            return {
                "problem": self.problem,
                "outage_since": (
                    None if self._outage_since is None
                    else self._outage_since.isoformat(timespec="milliseconds")
                ),
                "outage_s": None if outage is None else round(outage, 2),
                "restarts": self.restarts,
                "last_exit_code": self.last_exit_code,
                "next_restart_in_s": next_in,
            }
