"""`--board emulator` in the acquisition process: the GPIO-level HX711 emulator and the real
driver, fed by the station's simulated athlete through a `CountsFeed`.

The driver talks to the emulated chips through its lgpio backend and `FakeLgpio`, the calls
it makes on a Pi (one `gpio_write` per SCK edge, one `group_read` per pulse), not through
gpiozero's mock pins: the path the Pi runs, and no gpiozero in this process.

The same path as `station.board.sim.gpio_path` (the bit-banging and integrity checks run on
every frame, in real time), without the athlete's model in this process: each emulated
conversion takes its counts from the feed (the station's simulator keeps them a few
conversions ahead), so the acquisition process loads no numpy. Emulated faults (`fault`
commands) apply here, where the chips are; athlete actions go to the station's simulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from station.board.cell_clock import CellTimer
from station.board.counts_feed import CountsFeed
from station.board.emulator import EmulatedHX711Board, FakeLgpio
from station.board.hx711 import HX711Source
from station.board.hx711_lgpio import LgpioBackend
from station.board.oscillator import ChipClocks
from station.board.spec import DEFAULT_DOUTS, DEFAULT_SCK
from station.frames import BoardSource, Frame

FAULTS = ("unplugged", "stuck_low", "saturated", "none")
# The station's simulated athlete starts in its own thread (scipy: a second or more); the
# chips convert nothing before it has given its first counts, as a real board settles.
FIRST_COUNTS_TIMEOUT_S = 60.0
FIRST_COUNTS_POLL_S = 0.02


class FedEmulatorBoard(BoardSource):
    """Emulated chips converting the feed's counts, read by `HX711Source` (kind "emulator").

    Conversion k of a chip is its k-th since this board opened, offset so that a restarted
    acquisition process goes on from the conversions the feed has not given out yet."""

    kind = "emulator"

    def __init__(self, feed_fd: int, *, chips: ChipClocks | None = None,
                 shared_clock: bool = False, rate_hz: float = 80.0) -> None:
        self.feed = CountsFeed(fd=feed_fd)
        self._wait_for_counts(FIRST_COUNTS_TIMEOUT_S)
        if chips is None:
            self.emulator = EmulatedHX711Board(DEFAULT_SCK, DEFAULT_DOUTS, rate_hz=rate_hz)
        else:
            self.emulator = EmulatedHX711Board(DEFAULT_SCK, DEFAULT_DOUTS, clocks=chips)
        n = len(self.emulator.chips)
        self._t0_s: list[float | None] = [None] * n
        self._values: tuple[int, ...] = (0,) * n
        self._k = -1
        self._base = self.feed.wanted + 1
        self.late_samples = 0  # a conversion came before the feed had its counts
        for i, chip in enumerate(self.emulator.chips):
            chip.value_source = self._source(i, chip.rate_hz)
        self.lgpio = FakeLgpio(self.emulator)
        backend = LgpioBackend(DEFAULT_SCK, DEFAULT_DOUTS, gpiochip=0, lgpio=self.lgpio)
        self.source = HX711Source(
            DEFAULT_SCK, DEFAULT_DOUTS, backend=backend,
            synchronized_start=shared_clock or (chips is not None and chips.shared),
        )

    def _wait_for_counts(self, timeout_s: float) -> None:
        """Until the simulator has written its first conversions (at once after a restart
        of this process); a simulator that never does is a board that cannot open."""
        deadline = time.monotonic() + timeout_s
        while self.feed.written == 0:
            if time.monotonic() >= deadline:
                self.feed.close()
                raise RuntimeError(f"the simulated athlete gave no counts in {timeout_s:.0f} s")
            time.sleep(FIRST_COUNTS_POLL_S)

    def _source(self, i: int, rate_hz: float) -> Callable[[float], int]:
        def value(t_s: float) -> int:
            # Called while the driver polls a ready DOUT (the chip prepares its latch then,
            # outside the SCK pulses, `HX711ChipModel._prepare_latch`): the first chip to
            # reach conversion k reads all four counts, the others take theirs from it.
            t0 = self._t0_s[i]
            if t0 is None:
                t0 = self._t0_s[i] = t_s
            k = self._base + int((t_s - t0) * rate_hz + 0.5)
            if k != self._k:
                self._k = k
                counts = self.feed.read_all(k)
                if counts is None:
                    self.late_samples += 1
                else:
                    self._values = counts
            return self._values[i]

        return value

    def inject_fault(self, cell: int, fault: str) -> None:
        """Break one emulated HX711: 'unplugged' (DOUT stuck high), 'stuck_low', 'saturated',
        or 'none' to repair it."""
        if fault not in FAULTS or not 0 <= cell < len(self.emulator.chips):
            raise ValueError(f"fault must be one of {', '.join(FAULTS)} on cell 0-3")
        chip = self.emulator.chips[cell]
        {"unplugged": chip.stuck_high, "stuck_low": chip.stuck_low,
         "saturated": chip.saturate, "none": chip.clear_faults}[fault]()

    @property
    def cell_timer(self) -> CellTimer | None:
        """The driver's clock models of the emulated chips."""
        return self.source.cell_timer

    @property
    def emulating_ns(self) -> int:
        """Time spent so far inside the emulated chips (FakeLgpio.emulating_ns)."""
        return self.lgpio.emulating_ns

    @property
    def dropped_frames(self) -> int:
        """Conversions of the slowest chip nobody read."""
        return min(chip.overwritten for chip in self.emulator.chips)

    def read(self) -> Frame:
        frame = self.source.read()
        if self._k > self.feed.wanted:  # tell the simulator how far the chips got
            self.feed.wanted = self._k
        return frame

    def close(self) -> None:
        self.source.close()
        self.feed.close()
