"""Hardware self-test: does every cell answer, how noisy is it, how fast does the board run.

Used by `balance-station doctor` (the first step of troubleshooting) and the
status page. Frames are read through the real acquisition process, so the
test exercises exactly the path the station uses.

It also reports when the four cells convert (docs/cell-timing.md): each chip's measured
rate, the skew between the cells over the test (the statistics start afresh with it), how
fast the skew walks, and lockstep (one shared clock, hardware/shared-clock.md). A fast walk
is a warning, not a failure: the station aligns the cells in software either way.
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
# Offsets that walk through a whole conversion period faster than this (chip rates more than
# 0.1 Hz apart) change from frame to frame within every test: worth the shared clock.
WALK_WARN_S = 10.0
# Rates this close (a beat slower than this) while the cells stay apart: one clock, no
# synchronized start.
SAME_CLOCK_BEAT_S = 600.0
LOCKSTEP_MAX_SKEW_MS = 0.1


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warn: bool = False  # worth knowing and fixing, but the station works (ok stays True)

    def __post_init__(self) -> None:
        self.ok = bool(self.ok)  # numpy comparisons give numpy booleans (not JSON-safe)
        self.warn = bool(self.warn)


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
    shared_clock: bool = False  # the configuration says the chips share one clock


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
                    acq.send("reset_timing")  # nor is the skew before it
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
        shared_clock=options.shared_clock,
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
    timing = data.stats.get("cell_timing")
    if timing is not None:
        checks += timing_checks(timing, board=data.board, shared_clock=data.shared_clock)
    return checks


def _hz(rate: float | None) -> str:
    return "?" if rate is None else f"{rate:.2f}"


def timing_checks(timing: dict, *, board: str, shared_clock: bool) -> list[Check]:
    """What `cell_timing` (station.acquisition.stats) says about when the cells convert:
    the facts, a warning when the skew walks quickly, and whether the clock mode the
    configuration names is the one the chips show."""
    if not timing["frames_timed"]:
        detail = ("not known on this board: the cells are taken as simultaneous"
                  if board != "hx711" else
                  "the driver could not time the chips' conversions during the test")
        return [Check("conversion timing", True, detail, warn=board == "hx711")]
    rates = timing["rates_hz"]
    known = [r for r in rates if r is not None]
    beat = timing["beat_period_s"]
    facts = []
    if known:
        facts.append(f"chip rates {' / '.join(_hz(r) for r in rates)} Hz")
    else:
        facts.append("chip rates not measured (too few frames: test longer)")
    facts.append(f"skew mean {timing['skew_mean_ms']:.2f} ms, max {timing['skew_max_ms']:.2f} ms"
                 f" over {timing['frames_timed']} frames")
    if beat is not None:
        facts.append(f"offsets walk through a whole period every {beat:.2f} s")
    # In lockstep now, or for most of the test (a loaded machine's late polls break runs).
    in_lockstep = timing["lockstep_frames"]
    lockstep = timing["lockstep"] or 2 * in_lockstep >= timing["frames_timed"]
    facts.append(
        f"lockstep (one shared clock) in {in_lockstep} frames" if lockstep
        else "not in lockstep" + (f" (but for {in_lockstep} frames)" if in_lockstep else "")
    )
    checks = [Check("conversion timing", True, "; ".join(facts))]
    if lockstep:
        if not shared_clock:
            checks.append(Check("clock mode", True, "the chips run in lockstep on one clock: "
                                "set clock = \"shared\" in the [board] table of the "
                                "configuration (docs/configuration.md)", warn=True))
        return checks
    if shared_clock:
        checks.append(Check(
            "clock mode", True,
            "the configuration says the chips share one clock (board.clock = \"shared\") but "
            "they are not in lockstep: check that every XI is lifted from ground and fed "
            "through its 20 pF from the oscillator (hardware/shared-clock.md)", warn=True,
        ))
        return checks
    one_rate_apart = (
        len(known) > 1
        and (beat is None or beat > SAME_CLOCK_BEAT_S)
        and timing["skew_max_ms"] > LOCKSTEP_MAX_SKEW_MS
    )
    if beat is not None and beat < WALK_WARN_S:
        checks.append(Check(
            "skew walk", True,
            f"the chips' rates differ by up to {max(known) - min(known):.2f} Hz, so the four "
            f"cells' instants drift through a whole period every {beat:.2f} s; the station "
            "aligns them in software (docs/cell-timing.md). For cells measured at one "
            "instant, give the four HX711 one clock: hardware/shared-clock.md", warn=True,
        ))
    elif one_rate_apart:
        checks.append(Check(
            "clock mode", True,
            "the chips run at one rate but apart: one clock without the synchronized start? "
            "Set clock = \"shared\" in [board] (hardware/shared-clock.md)", warn=True,
        ))
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
