"""The station's handle on the acquisition process: start it, read its frames, send commands.

The process itself (`station.acquisition.child`) imports only what reads the board; this
side owns the shared ring (read with numpy, in batches) and, for `--board emulator`, the
simulated athlete whose counts the emulated chips convert (`station.board.sim.feeder`
fills a `station.board.counts_feed.CountsFeed`): the athlete's physics needs numpy, the
real-time process does not.

The station's reader sleeps in `wait_for_frames` on an eventfd (`frame_posted`) instead of
polling the ring: it says how many frames it waits for (`wake_at_frame` in the shared
statistics) and the process posts once the ring holds them (`child.ReaderWake`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import subprocess
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from station.acquisition.child import (
    BOARD_RETRY_S,
    MLOCK_MIN_RAM_MB,
    RATE_WINDOW_NS,
    SINGLE_THREAD_ENV,
    RealtimeOptions,
    _handle_command,
    _Loop,
    _request_realtime,
    board_cell_timer,
    readable_check,
)
from station.acquisition.ring import FrameRing, RingBatch
from station.acquisition.stats import AcqState, AcquisitionStats
from station.acquisition.wakeup import FramePosted
from station.board.spec import BoardOptions, board_kind

log = logging.getLogger("station.acquisition")

# The acquisition process's whole program; its arguments: the pipe's, the ring's and the
# wake-up's descriptors. PACKAGE_ROOT makes `station` importable whatever the working
# directory (a source tree run with `python -m station`, an installed package alike).
CHILD_COMMAND = "import sys; from station.acquisition.child import main; main(sys.argv[1:])"
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

__all__ = [
    "BOARD_RETRY_S",
    "MLOCK_MIN_RAM_MB",
    "RATE_WINDOW_NS",
    "SINGLE_THREAD_ENV",
    "Acquisition",
    "RealtimeOptions",
    "_Loop",
    "_handle_command",
    "_request_realtime",
    "board_cell_timer",
]


class Acquisition:
    """The station's handle on the acquisition process: start, read frames, stats, commands.

    The ring outlives the process: `restart()` replaces a dead or hung process with a new
    one that goes on writing where the old one stopped (station.acquisition.supervisor
    decides when).
    """

    def __init__(
        self,
        options: BoardOptions,
        *,
        capacity: int = 1 << 16,
        realtime: RealtimeOptions | None = None,
    ) -> None:
        self.options = options
        self.capacity = capacity
        self.ring = FrameRing(capacity)
        self.stats = AcquisitionStats(self.ring.stats_words)
        self._realtime = realtime or RealtimeOptions()
        # Posted when the ring reaches `wake_at_frame`; outlives restarts like the ring.
        self.frame_posted = FramePosted()
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._messages_waiting: Callable[[], bool] = lambda: False
        self.ended = False
        self.feeder: Any = None  # station.board.sim.feeder.SimFeeder on --board emulator
        self._chips: Any = None  # the emulated chips' clocks (ChipClocks), made here
        if board_kind(options.spec) == "emulator" and options.realtime:
            self._start_feeder()

    def _start_feeder(self) -> None:
        """The emulator's simulated athlete runs here (numpy), feeding the emulated chips
        in the acquisition process (no numpy there); its thread makes it, so the station
        starts answering before scipy has loaded (`SimFeeder`, deferred)."""
        from station.board.counts_feed import CountsFeed
        from station.board.oscillator import ChipClocks
        from station.board.sim.feeder import SimFeeder

        self.feeder = SimFeeder(CountsFeed(), seed=self.options.seed, demo=self.options.demo,
                                deferred=True)  # started with the first process
        if self.options.shared_clock:
            self._chips = ChipClocks.shared_clock()

    def start(self) -> None:
        """Start the acquisition process: `python -c` importing only `child` (not this
        module, not the station's command line), the ring, the counts feed and the reader's
        wake-up inherited as descriptors, the rest of its arguments pickled through its pipe.
        Not `multiprocessing`'s spawn: that starts the resource tracker process too."""
        if self.feeder is not None:
            self.feeder.start()  # (once) the station is about to answer: the athlete may load
        conn, child_conn = mp.Pipe(duplex=True)
        fds = [child_conn.fileno(), self.ring.fd, self.frame_posted.fd]
        feed_fd = None if self.feeder is None else self.feeder.feed.fd
        if feed_fd is not None:
            fds.append(feed_fd)
        env = dict(os.environ, **SINGLE_THREAD_ENV)  # no BLAS threads, should numpy load
        env["PYTHONPATH"] = os.pathsep.join(
            [PACKAGE_ROOT, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        )
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", CHILD_COMMAND, *map(str, fds[:3])],
                pass_fds=fds, env=env, stdin=subprocess.DEVNULL, close_fds=True,
            )
        finally:
            child_conn.close()
        with contextlib.suppress(OSError):  # it died at once: the supervisor sees how
            conn.send((self.capacity, self.options, self._realtime, feed_fd, self._chips))
        self._process, self._conn = process, conn
        self._messages_waiting = readable_check(conn)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def exitcode(self) -> int | None:
        """How the process ended (negative: the signal that killed it); None while it runs."""
        return None if self._process is None else self._process.poll()

    @property
    def written(self) -> int:
        """Frames written into the ring so far, by every process (valid and flagged)."""
        return self.ring.written

    @property
    def state(self) -> AcqState:
        return AcqState(self.stats["state"])

    def discard_process(self) -> int | None:
        """Kill the process if it still runs and reap it; its exit code (None: there was none).

        The counters it can no longer update say so: no rate, state STOPPED."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        self.stats["rate_mhz"] = 0
        self.stats["state"] = AcqState.STOPPED
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(2.0)
        return process.poll()

    def restart(self) -> None:
        """A new process on the same ring, after the old one died or was discarded."""
        if self._process is not None:
            self.discard_process()
        self.stats["state"] = AcqState.STARTING
        self.stats["pid"] = 0
        self.stats["started_ns"] = 0
        self.stats["rate_mhz"] = 0
        self.ended = False
        self.start()

    def wait_for_frames(self, timeout_s: float, frames: int = 1) -> int:
        """Sleep until the ring holds `frames` more frames than now, or `timeout_s` passes
        (or `wake_reader`); how many frames came meanwhile (0: none).

        One wake-up per call: the acquisition process posts once the ring reaches the
        count asked for. A post left from an earlier call whose time ran out is taken
        too; it only makes this call return early."""
        start = self.ring.written
        self.stats["wake_at_frame"] = start + frames
        if self.ring.written < start + frames:  # else they came while asking
            self.frame_posted.acquire(timeout=max(timeout_s, 0.0))
        while self.frame_posted.acquire(False):
            pass
        return self.ring.written - start

    def wake_reader(self) -> None:
        """Wake whoever waits in `wait_for_frames` now (the station stopping)."""
        self.frame_posted.release()

    def read_new(self, max_frames: int | None = None) -> RingBatch:
        batch = self.ring.read_new(max_frames)
        if batch.lost:
            self.stats.add("ring_lost", batch.lost)
        return batch

    def send(self, *message: Any) -> None:
        """A command for the acquisition process (e.g. 'perform', action, params); athlete
        actions and scenarios go to the emulator's simulator when it runs here."""
        if self.feeder is not None and message and message[0] in ("perform", "scenario"):
            self._to_feeder(message)
            return
        conn = self._conn
        if conn is None:
            return
        with contextlib.suppress(OSError, ValueError):
            conn.send(message)

    def _to_feeder(self, message: tuple) -> None:
        kind, *args = message
        try:
            if kind == "perform":
                action, params = args
                self.feeder.perform(action, **params)
            else:
                self.feeder.run_scenario(args[0])
        except (TypeError, ValueError) as exc:  # as the acquisition process would log it
            log.warning("simulator refused %s: %s", args[0] if kind == "perform" else kind, exc)

    @property
    def simulated_athlete_s(self) -> float | None:
        """CPU time of the emulator's simulated athlete so far (s; None without one): the
        emulated board's cost in this process, as `emulated_chips_s` is in the other."""
        feeder = self.feeder
        return None if feeder is None else round(feeder.thread_cpu_ns / 1e9, 3)

    def messages(self) -> list[tuple]:
        """Messages the acquisition process sent since the last call."""
        out = []
        conn = self._conn
        try:
            while conn is not None and self._messages_waiting():
                out.append(conn.recv())
        except (EOFError, OSError, ValueError):
            pass
        for message in out:
            if message[0] == "ended":
                self.ended = True
        return out

    def stop(self, timeout: float = 3.0) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            self.send("stop")
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout)
        self.discard_process()
        self.ring.close()
        self.frame_posted.close()
        if self.feeder is not None:
            self.feeder.stop()
            self.feeder.feed.close()
            self.feeder = None
