"""The acquisition process: reads the board and fills the shared frame ring.

Why a process of its own: the HX711 powers down when its clock stays high for
more than 60 us, and a thread in the web server's process can be paused for
milliseconds by the GIL switch interval or the garbage collector. This process
runs no other threads, freezes and disables the GC once set up, pins itself to
one core and asks for SCHED_FIFO; each step is best effort and one log line
says what was granted. Every frame is still checked by the board source and a
bad one is flagged and counted, never passed on as data.

Why this module is small: it is all the process imports for the HX711 and emulator
boards (the standard library, the driver, its GPIO backend; no numpy, the station's
handle in `station.acquisition.process` stays out), so `mlockall` pins a few MB, not the
~200 MB numpy and scipy map, and can be on for every Pi. The emulator's simulated athlete
runs in the station (`station.board.counts_feed`); only `--board sim` and replays load numpy
here, inside their sources.

The station's reader sleeps on an eventfd (`frame_posted`, `wakeup.FramePosted`) instead of
polling the ring: it writes the frame count it waits for into the shared statistics
(`wake_at_frame`, a message's worth of frames ahead) and this process posts once the ring
holds that many (`ReaderWake`), so the reader wakes once per live message, not once per
frame, and costs nothing between. Posting never blocks (the eventfd's count only grows),
so a busy station cannot hold this process up.

Messages to the station (rare: state changes, a cell failing or recovering)
go through a pipe; commands from the station (stop, emulated faults, a fresh start of
the cell-timing statistics) come back through it and are polled between frames.

Each frame's per-cell conversion offsets (`Frame.cell_dt_ns`) go into the ring with it,
and the loop keeps the skew between the cells (mean, max), each chip's measured rate and
lockstep in the shared statistics (docs/cell-timing.md): plain integers and floats per
frame, the driver's clock models asked once a second.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import os
import select
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from station.acquisition.ring_layout import RingWriter
from station.acquisition.stats import (
    GRANT_AFFINITY,
    GRANT_GC_FROZEN,
    GRANT_MLOCK,
    GRANT_SCHED_FIFO,
    AcqState,
    AcquisitionStats,
)
from station.acquisition.wakeup import FramePosted
from station.board.cell_clock import LOCKSTEP_FRAMES, LOCKSTEP_SKEW_NS, CellTimer
from station.board.factory import open_board
from station.board.oscillator import ChipClocks
from station.board.spec import BoardOptions
from station.frames import N_CELLS, BoardSource, Frame, FrameFlag, bad_cell_indices

log = logging.getLogger("station.acquisition")

RATE_WINDOW_NS = 1_000_000_000
SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
BOARD_RETRY_S = 2.0


@dataclass(frozen=True)
class RealtimeOptions:
    """What the acquisition process asks the kernel for (all best effort)."""

    cpu: int | None = None  # None: the last CPU when there are several
    sched_fifo_priority: int = 50  # 0 disables the request
    mlock: bool = True


def _request_realtime(opts: RealtimeOptions) -> tuple[int, list[str]]:
    """Freeze the GC, pin to a core, SCHED_FIFO, mlockall; report what was granted."""
    granted = 0
    notes: list[str] = []
    gc.collect()
    gc.freeze()
    gc.disable()
    granted |= GRANT_GC_FROZEN
    cpus = sorted(os.sched_getaffinity(0))
    cpu = opts.cpu if opts.cpu is not None else (cpus[-1] if len(cpus) > 1 else None)
    if cpu is not None:
        try:
            os.sched_setaffinity(0, {cpu})
            granted |= GRANT_AFFINITY
            notes.append(f"pinned to CPU {cpu}")
        except OSError as exc:
            notes.append(f"CPU pinning refused ({exc.strerror})")
    if opts.sched_fifo_priority > 0:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(opts.sched_fifo_priority))
            granted |= GRANT_SCHED_FIFO
            notes.append(f"SCHED_FIFO priority {opts.sched_fifo_priority}")
        except (OSError, AttributeError) as exc:
            notes.append(f"SCHED_FIFO refused ({getattr(exc, 'strerror', exc)})")
    ram_mb = _ram_mb()
    if opts.mlock and "numpy" in sys.modules and ram_mb < MLOCK_MIN_RAM_MB:
        notes.append(f"memory not locked (numpy loaded by this board, only {ram_mb} MB RAM)")
    elif opts.mlock:
        libc_name = ctypes.util.find_library("c")
        if libc_name:
            libc = ctypes.CDLL(libc_name, use_errno=True)
            mcl_current, mcl_future = 1, 2
            if libc.mlockall(mcl_current | mcl_future) == 0:
                granted |= GRANT_MLOCK
                notes.append("memory locked")
            else:
                notes.append(f"mlockall refused ({os.strerror(ctypes.get_errno())})")
    return granted, notes


# With numpy loaded (--board sim, replays) mlockall pins ~200 MB: not on a 1 GB Pi. The HX711
# and emulator boards load no numpy here and lock a few MB on any Pi.
MLOCK_MIN_RAM_MB = 1800


def _ram_mb() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            return int(meminfo.readline().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return 0


def board_cell_timer(board: BoardSource) -> CellTimer | None:
    """The driver's clock models behind a board (HX711, emulator), or None (the simulated
    board's exact offsets, a replay): then rates and lockstep come from the frames alone."""
    timer = getattr(board, "cell_timer", None)
    return timer if isinstance(timer, CellTimer) else None


def readable_check(conn: Connection) -> Callable[[], bool]:
    """A check whether `conn` has something to read now, for a loop that asks on every pass.

    `Connection.poll()` builds a selector on every call: ~2 us hot, far more after a sleep
    has emptied the caches, and the acquisition process asks 80 times a second. One
    `select.poll` object, registered once, answers the same question for ~0.3 us."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)

    def readable() -> bool:
        return bool(poller.poll(0))

    return readable


class ReaderWake:
    """Posts the station reader's wake-up once the ring holds the frame count the reader
    asked for (the `wake_at_frame` statistic), once per request: one wake-up per reader
    pass instead of one per frame (a kernel wake-up costs the reader more than a frame).

    While nobody is on the board the reader asks for a quarter second of frames and arms a
    load (`AcquisitionStats.arm_load_wake`): the first frame that reaches it posts at once,
    so someone stepping on is shown a frame later, not up to a message later."""

    def __init__(self, semaphore: Any, stats: AcquisitionStats) -> None:
        self._semaphore = semaphore
        self._stats = stats
        self._posted_for = -1

    def after_frame(self, written: int, frame: Frame | None = None) -> None:
        """Called after each frame written; `written` is the ring's frame count."""
        stats = self._stats
        wanted = stats["wake_at_frame"]
        if wanted == self._posted_for:
            return
        if written >= wanted or (
            frame is not None and not frame.flags and stats.load_wakes(frame.counts)
        ):
            self._posted_for = wanted
            # At the count's maximum (nobody reads: a tool, not the station) keep going.
            with contextlib.suppress(OSError, ValueError):
                self._semaphore.release()


class _Loop:
    """The per-frame bookkeeping, separate from process start-up so tests can drive it."""

    def __init__(
        self, ring: RingWriter | Any, conn: Connection | None, cell_timer: CellTimer | None = None
    ) -> None:
        self.ring = ring
        self.stats = AcquisitionStats(ring.stats_words)
        self.conn = conn
        self.cell_timer = cell_timer
        self.last_valid_ns = 0
        self.window_start_ns = 0
        self.window_valid = 0
        self._skew_run = 0  # consecutive frames within the lockstep skew (no clock models)
        self.emulating_ns: Callable[[], int] | None = None  # the emulator board's own time

    def reset_timing(self) -> None:
        """Start the skew and lockstep statistics afresh (doctor does at the start of its
        test); the chips' rates are kept, they are a state, not a statistic."""
        for name in ("timed_frames", "skew_sum_ns", "skew_max_ns", "lockstep_frames"):
            self.stats[name] = 0
        if self.cell_timer is not None:
            self.cell_timer.reset_stats()

    def _time_cells(self, dt: tuple[int, ...]) -> None:
        stats = self.stats
        skew = max(dt) - min(dt)
        stats.add("timed_frames")
        stats.add("skew_sum_ns", skew)
        if skew > stats["skew_max_ns"]:
            stats["skew_max_ns"] = skew
        if self.cell_timer is None:  # lockstep from the frames: the skew stays tiny
            self._skew_run = self._skew_run + 1 if skew <= LOCKSTEP_SKEW_NS else 0
            lockstep = self._skew_run >= LOCKSTEP_FRAMES
            stats["lockstep"] = lockstep
            if lockstep:
                stats.add("lockstep_frames")

    def _publish_clock_models(self) -> None:
        """Each chip's rate and lockstep as the driver's clock models see them (once a
        second: `timing()` builds a small record)."""
        timer = self.cell_timer
        if timer is None:
            return
        timing = timer.timing()
        for i, rate in enumerate(timing.rates_hz[:N_CELLS]):
            self.stats[f"chip{i}_rate_uhz"] = 0 if rate is None else round(rate * 1e6)
        self.stats["lockstep"] = timing.lockstep
        self.stats["lockstep_frames"] = timing.lockstep_frames

    def send(self, kind: str, *payload: Any) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send((kind, *payload))

    def record(self, frame: Frame) -> None:
        ring, stats = self.ring, self.stats
        ring.write(frame)
        stats.add("frames_total")
        t = frame.t_ns
        if frame.flags == 0:
            stats.add("frames_valid")
            if self.last_valid_ns:
                gap = t - self.last_valid_ns
                if gap > stats["max_gap_ns"]:
                    stats["max_gap_ns"] = gap
            self.last_valid_ns = t
            stats["last_valid_ns"] = t
            self.window_valid += 1
            if frame.cell_dt_ns is not None:
                self._time_cells(frame.cell_dt_ns)
            elif self._skew_run:  # offsets lost (the chips were reset): lockstep unproven
                self._skew_run = 0
                stats["lockstep"] = 0
            if stats.failing_cells():
                self._cells_recovered(t)
        else:
            stats.record_discard(frame.flags)
            self._cells_failing(frame, t)
        if not self.window_start_ns:  # frames counted after the start = intervals
            self.window_start_ns, self.window_valid = t, 0
        elif t - self.window_start_ns >= RATE_WINDOW_NS:
            stats["rate_mhz"] = int(self.window_valid * 1e12 / (t - self.window_start_ns))
            self.window_start_ns, self.window_valid = t, 0
            self._publish_clock_models()
            if self.emulating_ns is not None:
                stats["emulated_chips_us"] = self.emulating_ns() // 1000

    def _cells_failing(self, frame: Frame, t: int) -> None:
        for i in bad_cell_indices(frame.bad_cells):
            key = f"cell{i}_failing_since_ns"
            self.stats.add(f"cell{i}_failures")
            if not self.stats[key]:
                self.stats[key] = t
                reason = FrameFlag(frame.flags).name or "failure"
                self.send("cell_failing", i, reason.lower())

    def _cells_recovered(self, t: int) -> None:
        for i in range(N_CELLS):
            key = f"cell{i}_failing_since_ns"
            since = self.stats[key]
            if since:
                self.stats[key] = 0
                self.send("cell_recovered", i, (t - since) / 1e9)


def _handle_command(board: BoardSource, loop: _Loop, message: tuple) -> bool:
    """Apply one command from the station; False means stop."""
    kind, *args = message
    if kind == "stop":
        return False
    if kind == "reset_timing":
        loop.reset_timing()
    elif kind == "modules":  # what this process carries (tests, doctor)
        loop.send("modules", sorted(sys.modules))
    elif kind == "perform" and hasattr(board, "perform"):
        action, params = args
        try:
            board.perform(action, **params)
        except (TypeError, ValueError) as exc:
            loop.send("log", logging.WARNING, f"simulator refused {action}: {exc}")
    elif kind == "fault" and hasattr(board, "inject_fault"):
        try:
            board.inject_fault(*args)
        except (TypeError, ValueError) as exc:
            loop.send("log", logging.WARNING, f"fault not injected: {exc}")
    elif kind == "scenario" and hasattr(board, "run_scenario"):
        try:
            board.run_scenario(args[0])
        except (TypeError, ValueError) as exc:
            loop.send("log", logging.WARNING, f"simulator refused the scenario: {exc}")
    return True


def open_child_board(
    options: BoardOptions, feed_fd: int | None = None, chips: ChipClocks | None = None
) -> BoardSource:
    """The board this process reads: the emulator fed by the station's simulated athlete
    when `feed_fd` is its counts feed (no numpy here), else the factory's source."""
    if feed_fd is not None:
        from station.board.fed_emulator import FedEmulatorBoard

        return FedEmulatorBoard(feed_fd, chips=chips, shared_clock=options.shared_clock)
    return open_board(options)


def _open_board_until_ready(
    options: BoardOptions, loop: _Loop, feed_fd: int | None = None, chips: ChipClocks | None = None
) -> BoardSource | None:
    """Open the board, retrying while it fails; None when told to stop meanwhile."""
    while True:
        try:
            return open_child_board(options, feed_fd, chips)
        except Exception as exc:  # any failure is reported and retried
            loop.stats["state"] = AcqState.BOARD_ERROR
            loop.stats.add("board_open_failures")
            if loop.stats["board_open_failures"] == 1:
                loop.send("board_error", f"{type(exc).__name__}: {exc}")
        deadline = time.monotonic() + BOARD_RETRY_S
        while time.monotonic() < deadline:
            if loop.conn is not None and loop.conn.poll(0.1):
                kind = loop.conn.recv()[0]
                if kind == "stop":
                    return None
                if kind == "modules":
                    loop.send("modules", sorted(sys.modules))
            else:
                time.sleep(0.1)


def main(argv: Sequence[str]) -> None:
    """The acquisition process's program (`Acquisition.start`): the pipe's, the ring's and
    the reader's wake-up's descriptors on the command line, the rest through the pipe."""
    conn_fd, ring_fd, wake_fd = (int(arg) for arg in argv)
    conn = Connection(conn_fd)
    try:
        capacity, options, realtime, feed_fd, chips = conn.recv()
        acquisition_main(ring_fd, capacity, options, conn, realtime, feed_fd, chips,
                         FramePosted(wake_fd))
    except (EOFError, KeyboardInterrupt):
        pass  # the station went away before it gave the arguments, or Ctrl-C


def acquisition_main(
    ring_fd: int,
    capacity: int,
    options: BoardOptions,
    conn: Connection,
    realtime: RealtimeOptions,
    feed_fd: int | None = None,
    chips: ChipClocks | None = None,
    frame_posted: Any = None,
) -> None:
    """The acquisition loop (`feed_fd`, `chips`: the emulator's counts feed and its chips'
    clocks, made by the station; `frame_posted`: the reader's wake-up, a `FramePosted`
    posted by `ReaderWake`, or None)."""
    ring = RingWriter(capacity, ring_fd)
    loop = _Loop(ring, conn)
    loop.stats["pid"] = os.getpid()
    loop.stats["started_ns"] = time.monotonic_ns()
    board = _open_board_until_ready(options, loop, feed_fd, chips)
    if board is None:
        loop.stats["state"] = AcqState.STOPPED
        return
    if loop.stats["board_open_failures"]:
        loop.send("log", logging.INFO, f"board {options.spec} opened after retrying")
    loop.cell_timer = board_cell_timer(board)
    if isinstance(getattr(board, "emulating_ns", None), int):  # the fed emulator board
        loop.emulating_ns = lambda: board.emulating_ns  # type: ignore[attr-defined]
    granted, notes = _request_realtime(realtime)
    loop.stats["granted"] = granted
    loop.send("log", logging.INFO, "acquisition: " + "; ".join(notes or ["no real-time requests"]))
    loop.stats["state"] = AcqState.RUNNING
    wake = None if frame_posted is None else ReaderWake(frame_posted, loop.stats)
    commands_waiting = readable_check(conn)
    try:
        running = True
        while running:
            while commands_waiting():
                if not _handle_command(board, loop, conn.recv()):
                    running = False
                    break
            if not running:
                break
            try:
                frame = board.read()
            except EOFError:
                loop.stats["state"] = AcqState.ENDED
                loop.send("ended")
                conn.recv()  # wait for stop
                break
            except Exception as exc:  # a source bug must not kill acquisition
                frame = Frame(time.monotonic_ns(), (0, 0, 0, 0), FrameFlag.SOURCE_ERROR, 0)
                if loop.stats["discarded_source_error"] == 0:
                    loop.send("log", logging.ERROR, f"board read failed: {exc!r}")
                time.sleep(0.01)
            loop.record(frame)
            if wake is not None:
                wake.after_frame(ring.written, frame)
    except (EOFError, OSError, KeyboardInterrupt):
        pass  # the station went away: stop quietly
    finally:
        if loop.stats["state"] != AcqState.ENDED:
            loop.stats["state"] = AcqState.STOPPED
        board.close()
        ring.close()
