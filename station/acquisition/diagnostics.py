"""Hardware self-test: does every cell answer, how noisy is it, how fast does the board run.

Used by `balance-station doctor` (the first step of troubleshooting) and the
status page. Frames are read through the real acquisition process, so the
test exercises exactly the path the station uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from station.acquisition.process import Acquisition, RealtimeOptions
from station.acquisition.stats import AcqState
from station.board.spec import BoardOptions, board_kind
from station.frames import N_CELLS
from station.geometry import CELL_NAMES

# A cell whose counts do not change at all is not converting (an HX711 always shows noise).
STUCK_STD_COUNTS = 0.5
# Datasheet noise at gain 128 / 80 SPS is ~40 counts rms; 25x that means a loose wire or
# a mains pickup problem that will show up as COP noise.
NOISY_STD_COUNTS = 1000.0
MAX_DISCARD_SHARE = 0.01
RATE_TOLERANCE = 0.15
STARTUP_TIMEOUT_S = 30.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def __post_init__(self) -> None:
        self.ok = bool(self.ok)  # numpy comparisons give numpy booleans (not JSON-safe)


@dataclass
class Collected:
    """Frames and counters gathered during a self-test run."""

    board: str
    seconds: float
    t_ns: np.ndarray
    counts: np.ndarray
    stats: dict
    board_error: str | None = None
    messages: list[tuple] = field(default_factory=list)


def collect(
    options: BoardOptions, seconds: float, realtime: RealtimeOptions | None = None
) -> Collected:
    """Run the acquisition process for `seconds` and keep every valid frame."""
    acq = Acquisition(
        options,
        capacity=max(1024, int(seconds * 200)),
        realtime=realtime or RealtimeOptions(sched_fifo_priority=0),
    )
    acq.start()
    t_parts, c_parts, messages = [], [], []
    board_error = None
    # The measurement starts once the process runs (its start-up takes seconds on a Pi 3).
    startup_deadline = time.monotonic() + STARTUP_TIMEOUT_S
    deadline = None
    try:
        while not acq.ended:
            now = time.monotonic()
            if deadline is None:
                running = acq.stats["state"] == AcqState.RUNNING
                if running or board_error or now > startup_deadline:
                    deadline = now + seconds
                    acq.read_new()  # frames before the window are not measured
            elif now >= deadline:
                break
            time.sleep(0.05)
            for message in acq.messages():
                messages.append(message)
                if message[0] == "board_error":
                    board_error = message[1]
            if deadline is None:
                continue
            batch = acq.read_new()
            valid = batch.flags == 0
            t_parts.append(batch.t_ns[valid])
            c_parts.append(batch.counts[valid])
        stats = acq.stats.snapshot(time.monotonic_ns())
    finally:
        acq.stop()
    return Collected(
        board=board_kind(options.spec),
        seconds=seconds,
        t_ns=np.concatenate(t_parts) if t_parts else np.zeros(0, np.int64),
        counts=np.concatenate(c_parts) if c_parts else np.zeros((0, N_CELLS), np.int32),
        stats=stats,
        board_error=board_error,
        messages=messages,
    )




def assess(data: Collected) -> list[Check]:
    """Turn collected frames into pass/fail checks with a human explanation each."""
    checks: list[Check] = []
    if data.board_error or data.stats["state"] == AcqState.BOARD_ERROR.name.lower():
        checks.append(
            Check("board opens", False, data.board_error or "the board could not be opened")
        )
        return checks
    checks.append(Check("board opens", True, f"{data.board} board answered"))
    n = len(data.t_ns)
    if n < 10:
        checks.append(
            Check("frames arrive", False, f"only {n} valid frames in {data.seconds:.0f} s")
        )
        return checks
    duration = (data.t_ns[-1] - data.t_ns[0]) / 1e9
    rate = (n - 1) / duration if duration > 0 else 0.0
    # Balance tests need 80 SPS; on its internal oscillator an HX711 often runs near 93 Hz.
    high = 80.0 * (1 + RATE_TOLERANCE) + (15 if data.board == "hx711" else 0)
    rate_ok = 80.0 * (1 - RATE_TOLERANCE) <= rate <= high
    hint = ""
    if not rate_ok and data.board == "hx711" and 8.0 <= rate <= 13.0:
        hint = ": the HX711 RATE pin is low (10 SPS); tie it high for 80 SPS (hardware/README.md)"
    checks.append(Check("sample rate", rate_ok, f"{rate:.1f} Hz (expected 80-95 Hz){hint}"))
    total = data.stats["frames_total"]
    discarded = data.stats["frames_discarded"]
    share = discarded / total if total else 1.0
    by_check = {k: v for k, v in data.stats["discarded_by_check"].items() if v}
    checks.append(
        Check(
            "frame integrity",
            share <= MAX_DISCARD_SHARE,
            f"{discarded} of {total} frames discarded ({share:.1%})"
            + (f": {by_check}" if by_check else ""),
        )
    )
    gaps = np.diff(data.t_ns) / 1e9
    checks.append(
        Check(
            "max gap",
            bool(gaps.max() < 0.5),
            f"longest gap between frames {gaps.max() * 1000:.0f} ms",
        )
    )
    detrended = data.counts - np.median(data.counts, axis=0)
    noise = np.std(np.diff(detrended, axis=0), axis=0) / np.sqrt(2)  # frame-to-frame noise
    for i in range(N_CELLS):
        checks.append(_cell_check(i, noise[i], data))
    return checks


def _cell_check(i: int, noise: float, data: Collected) -> Check:
    name = f"cell {i} ({CELL_NAMES[i]})"
    failures = data.stats["cell_failures"][i]
    if noise < STUCK_STD_COUNTS:
        stuck = int(data.counts[-1, i])
        return Check(name, False, f"counts never change (stuck at {stuck}): HX711 unpowered?")
    if noise > NOISY_STD_COUNTS:
        limit = f"limit {NOISY_STD_COUNTS:.0f}"
        return Check(name, False, f"noisy: {noise:.0f} counts rms ({limit}); check wiring/ground")
    if failures:
        return Check(name, False, f"{failures} failed reads (time-outs or integrity)")
    mean = float(np.mean(data.counts[:, i]))
    return Check(name, True, f"answers; noise {noise:.0f} counts rms; mean {mean:.0f}")


def healthy(checks: list[Check]) -> bool:
    return all(c.ok for c in checks)
