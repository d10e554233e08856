"""Acquisition counters, kept in the shared ring's header so the station reads them lock-free.

The acquisition process is the only writer. Every counter is an int64 word;
times are monotonic nanoseconds. `AcquisitionStats.snapshot()` turns them
into a plain dict for logs, the status page and `balance-station doctor`.
"""

from __future__ import annotations

import enum
from collections.abc import MutableSequence, Sequence

from station.frames import N_CELLS, FrameFlag

FLAG_NAMES: tuple[str, ...] = tuple(
    f.name.lower() for f in FrameFlag if f.value and f.name is not None
)
FLAG_BITS: tuple[int, ...] = tuple(f.value for f in FrameFlag if f.value)


class AcqState(enum.IntEnum):
    STARTING = 0
    RUNNING = 1
    BOARD_ERROR = 2  # the board could not be opened; retrying
    ENDED = 3  # a finite source (replay) reached its end
    STOPPED = 4


# Word index of each counter inside the stats block.
_FIELDS = [
    "state",
    "pid",
    "started_ns",
    "frames_total",
    "frames_valid",
    *[f"discarded_{name}" for name in FLAG_NAMES],
    "max_gap_ns",
    "last_valid_ns",
    "rate_mhz",  # achieved valid-frame rate over the last window, in millihertz
    "ring_lost",
    *[f"cell{i}_failing_since_ns" for i in range(N_CELLS)],
    *[f"cell{i}_failures" for i in range(N_CELLS)],
    "granted",  # bit mask of GRANT_* below
    "board_open_failures",
    # The cells' conversion instants (docs/cell-timing.md), since the last timing reset:
    "timed_frames",  # valid frames that carried per-cell offsets
    "skew_sum_ns",  # sum over them of (latest - earliest conversion) ...
    "skew_max_ns",  # ... and its max
    "lockstep",  # 1 while the chips convert together (one shared clock)
    "lockstep_frames",  # frames found in lockstep
    *[f"chip{i}_rate_uhz" for i in range(N_CELLS)],  # measured output rate, 0 = not known
    # Written by the station's reader: the ring's frame count it sleeps until (the process
    # posts the reader's wake-up once the ring holds that many, `child.ReaderWake`).
    "wake_at_frame",
    # ... and, while nobody is on the board, a load that wakes it at once instead: the sum over
    # the cells of weight x (counts - offset) at or over `wake_load_nn` (0: off). Weights in
    # nanonewtons per count, offsets in counts: the calibration's, as auto-zero moves them.
    "wake_load_nn",
    *[f"wake_cell{i}_nn_per_count" for i in range(N_CELLS)],
    *[f"wake_cell{i}_offset_counts" for i in range(N_CELLS)],
    # `--board emulator`: time spent so far emulating the chips in this process (us), the
    # silicon's work a Pi does not do (`FakeLgpio.emulating_ns`); 0 on other boards.
    "emulated_chips_us",
]
INDEX = {name: i for i, name in enumerate(_FIELDS)}
_WAKE_LOAD = INDEX["wake_load_nn"]
_WAKE_WEIGHTS = [INDEX[f"wake_cell{i}_nn_per_count"] for i in range(N_CELLS)]
_WAKE_OFFSETS = [INDEX[f"wake_cell{i}_offset_counts"] for i in range(N_CELLS)]

GRANT_GC_FROZEN = 1
GRANT_AFFINITY = 2
GRANT_SCHED_FIFO = 4
GRANT_MLOCK = 8


class AcquisitionStats:
    """Named access to the stats words of a `FrameRing`: a numpy view on the station's side,
    a memoryview of int64 in the acquisition process (which carries no numpy)."""

    def __init__(self, words: MutableSequence[int]) -> None:
        if len(words) < len(_FIELDS):
            raise ValueError("stats block too small")
        self.words = words

    def __getitem__(self, name: str) -> int:
        return int(self.words[INDEX[name]])

    def __setitem__(self, name: str, value: int) -> None:
        self.words[INDEX[name]] = value

    def add(self, name: str, amount: int = 1) -> None:
        self.words[INDEX[name]] += amount

    def arm_load_wake(
        self, newtons_per_count: Sequence[float], offsets_counts: Sequence[float], load_n: float
    ) -> None:
        """Ask the acquisition process to wake the reader at the first frame whose load
        (linear in each cell's counts, the calibration's) reaches `load_n` (the station's
        side; the threshold is written last)."""
        words = self.words
        for w, o, k, offset in zip(_WAKE_WEIGHTS, _WAKE_OFFSETS, newtons_per_count,
                                   offsets_counts, strict=True):
            words[w] = round(k * 1e9)
            words[o] = round(offset)
        words[_WAKE_LOAD] = max(round(load_n * 1e9), 1)

    def disarm_load_wake(self) -> None:
        self.words[_WAKE_LOAD] = 0

    def load_wakes(self, counts: Sequence[int]) -> bool:
        """Whether a valid frame's counts reach the armed load (the acquisition process's
        side, on every frame: a few integer operations; False while disarmed)."""
        words = self.words
        threshold = words[_WAKE_LOAD]
        if threshold <= 0:
            return False
        load = 0
        for w, o, c in zip(_WAKE_WEIGHTS, _WAKE_OFFSETS, counts, strict=True):
            load += words[w] * (c - words[o])
        return load >= threshold

    def record_discard(self, flags: int) -> None:
        for bit, name in zip(FLAG_BITS, FLAG_NAMES, strict=True):
            if flags & bit:
                self.words[INDEX[f"discarded_{name}"]] += 1

    def failing_cells(self) -> dict[int, int]:
        """Cell index -> monotonic ns since when it has been failing."""
        out = {}
        for i in range(N_CELLS):
            since = self[f"cell{i}_failing_since_ns"]
            if since:
                out[i] = since
        return out

    def cell_timing(self) -> dict:
        """Each chip's measured rate, the skew between the cells, the fastest beat, lockstep:
        what `doctor` and the status page show (the shape of board.cell_clock.CellTiming)."""
        rates = [self[f"chip{i}_rate_uhz"] / 1e6 or None for i in range(N_CELLS)]
        known = [r for r in rates if r is not None]
        spread = max(known) - min(known) if len(known) >= 2 else 0.0
        n = self["timed_frames"]
        return {
            "rates_hz": [None if r is None else round(r, 3) for r in rates],
            "frames_timed": n,
            "skew_mean_ms": round(self["skew_sum_ns"] / n / 1e6, 3) if n else None,
            "skew_max_ms": round(self["skew_max_ns"] / 1e6, 3) if n else None,
            "beat_period_s": round(1.0 / spread, 2) if spread > 0 else None,
            "lockstep": bool(self["lockstep"]),
            "lockstep_frames": self["lockstep_frames"],
        }

    def snapshot(self, now_ns: int | None = None) -> dict:
        """A JSON-safe summary of the counters."""
        discarded = {name: self[f"discarded_{name}"] for name in FLAG_NAMES}
        granted = self["granted"]
        out = {
            "state": AcqState(self["state"]).name.lower(),
            "pid": self["pid"],
            "frames_total": self["frames_total"],
            "frames_valid": self["frames_valid"],
            "frames_discarded": sum(discarded.values()),
            "discarded_by_check": discarded,
            "achieved_rate_hz": round(self["rate_mhz"] / 1000.0, 2),
            "max_gap_ms": round(self["max_gap_ns"] / 1e6, 2),
            "ring_lost": self["ring_lost"],
            "emulated_chips_s": round(self["emulated_chips_us"] / 1e6, 3),
            "board_open_failures": self["board_open_failures"],
            "cell_failures": [self[f"cell{i}_failures"] for i in range(N_CELLS)],
            "cell_timing": self.cell_timing(),
            "granted": {
                "gc_frozen": bool(granted & GRANT_GC_FROZEN),
                "cpu_affinity": bool(granted & GRANT_AFFINITY),
                "sched_fifo": bool(granted & GRANT_SCHED_FIFO),
                "mlock": bool(granted & GRANT_MLOCK),
            },
        }
        if now_ns is not None:
            failing = self.failing_cells().items()
            out["failing_cells"] = {str(i): round((now_ns - t) / 1e9, 1) for i, t in failing}
            started = self["started_ns"]
            out["uptime_s"] = round((now_ns - started) / 1e9, 1) if started else 0.0
        return out
