"""The full path (`--board emulator`): simulated counts go into the GPIO-level HX711
emulator (station.board.emulator) and come back through the real driver
(station.board.hx711), so the bit-banging and integrity checks run on every frame.

Each emulated conversion asks `value_source(t_s)` for its input; the first chip to ask for
a conversion time advances the simulation to that time (conversions nobody read are
simulated and dropped, as a real HX711 overwrites them) and the other three chips get the
same sample. In real time the emulator's own 80 SPS schedule paces the driver and frames
carry the driver's monotonic stamp; otherwise the emulator is "always ready" on a virtual
clock and frames are stamped with simulated time.

With `chips` (`station.board.oscillator.ChipClocks`: rate spread, drift, or one shared
clock) each emulated chip converts on its own schedule and gets the simulated force of its
cell at its own conversion instant (`SimEngine.counts_at`), so the driver's per-cell timing
and the alignment meet the skew they exist for. Off real time the emulator then runs on a
virtual clock that starts at simulated time 0 (the driver's waits advance it); in real time
the values for each chip's next conversions are computed before the driver clocks, because
the emulator latches them on an SCK rising edge, which must stay a few microseconds.
"""

from __future__ import annotations

import numpy as np

from station.board.emulator import EmulatedHX711Board, ManualClock
from station.board.hx711 import HX711Source
from station.board.oscillator import ChipClocks
from station.board.sim.engine import SimEngine
from station.board.spec import DEFAULT_DOUTS, DEFAULT_SCK
from station.frames import Frame


class GpioPath:
    """Drive an emulated HX711 board from a SimEngine and read it with HX711Source."""

    def __init__(
        self, engine: SimEngine, *, realtime: bool, chips: ChipClocks | None = None
    ) -> None:
        self.engine = engine
        self.realtime = realtime
        self.chips = chips
        self.late_samples = 0  # realtime: a conversion came before its sample was ready
        if chips is not None:
            self._init_chips(chips)
            return
        self.emulator = EmulatedHX711Board(
            DEFAULT_SCK, DEFAULT_DOUTS, rate_hz=engine.rate_hz, always_ready=not realtime
        )
        for i, chip in enumerate(self.emulator.chips):
            chip.value_source = self._source(i)
        options = (
            {} if realtime else {"clock_ns": self.emulator.clock, "sleep": self.emulator.sleep}
        )
        self.source = HX711Source(
            DEFAULT_SCK, DEFAULT_DOUTS, pin_factory=self.emulator.factory, **options
        )
        self._t0_s: float | None = None  # time of conversion 0 (emulator clock, s)
        self._cache: dict[int, tuple[int, ...]] = {}  # conversion index -> counts
        self._conv_t_s = -1.0
        self._values: tuple[int, ...] = (0, 0, 0, 0)
        self._last_k = -1
        self._dropped = 0
        self._fill(0)

    # -- each chip on its own clock ----------------------------------------------------

    def _init_chips(self, chips: ChipClocks) -> None:
        clock = None if self.realtime else ManualClock()
        self.emulator = EmulatedHX711Board(DEFAULT_SCK, DEFAULT_DOUTS, clock=clock, clocks=chips)
        self._t0_ns = self.emulator.clock()  # simulated time 0 on the emulator's clock
        self._chip_values: dict[tuple[int, int], int] = {}
        self._last_values = [0] * len(self.emulator.chips)
        for i, chip in enumerate(self.emulator.chips):
            chip.value_source = self._chip_source(i)
        options = (
            {} if self.realtime
            else {"clock_ns": self.emulator.clock, "sleep": self.emulator.sleep}
        )
        self.source = HX711Source(
            DEFAULT_SCK, DEFAULT_DOUTS, pin_factory=self.emulator.factory,
            synchronized_start=chips.shared, **options,
        )

    def _chip_source(self, i: int):
        def value(t_s: float) -> int:
            key = (i, round(t_s * 1e9))
            counts = self._chip_values.pop(key, None)
            if counts is None:
                if self.realtime:  # not computed in time: hold the previous value (rare)
                    self.late_samples += 1
                    return self._last_values[i]
                counts = self._counts_for([key])[key]
            self._last_values[i] = counts
            return counts

        return value

    def _counts_for(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """Counts of cell i converting at emulator time t_ns, for every (i, t_ns) given."""
        n = len(self.emulator.chips)
        times = np.array([(t - self._t0_ns) / 1e9 for _, t in keys])
        cell_t = np.repeat(times[:, None], n, axis=1)  # row r: every cell at instant r
        counts = self.engine.counts_at(cell_t)
        return {key: int(counts[r, key[0]]) for r, key in enumerate(keys)}

    def _prefill_chips(self) -> None:
        """Real time: the counts of every chip's next conversions, before the driver clocks."""
        now = self.emulator.clock()
        keys = []
        for i, chip in enumerate(self.emulator.chips):
            k, t = chip.schedule.latest_at(now)
            upcoming = chip.schedule.upcoming(now, 3)
            for t_ns in ([t] if k >= 0 else []) + upcoming:
                if (i, t_ns) not in self._chip_values:
                    keys.append((i, t_ns))
        if keys:
            self._chip_values.update(self._counts_for(keys))
        if len(self._chip_values) > 64:  # drop conversions nobody will read any more
            for key in [key for key in self._chip_values if key[1] < now - 100_000_000]:
                del self._chip_values[key]

    def _fill(self, k_max: int) -> None:
        """Simulate samples up to conversion index k_max (outside any SCK-high window)."""
        n = k_max + 1 - self.engine.n
        if n > 0:
            first = self.engine.n
            for j, row in enumerate(self.engine.advance(n).counts.tolist(), start=first):
                self._cache[j] = tuple(row)
        for old in [k for k in self._cache if k < self._last_k - 4]:
            del self._cache[old]

    def _source(self, i: int):
        def value(t_s: float) -> int:
            if t_s != self._conv_t_s:
                self._latch(t_s)
            return self._values[i]

        return value

    def _latch(self, t_s: float) -> None:
        # Called on an SCK rising edge: in real time this must stay a few microseconds.
        self._conv_t_s = t_s
        if self._t0_s is None:
            self._t0_s = t_s
        k = int((t_s - self._t0_s) * self.engine.rate_hz + 0.5)
        values = self._cache.get(k)
        if values is None:
            if self.realtime:  # not simulated yet: hold the newest sample (rare)
                self.late_samples += 1
                k = self.engine.n - 1
                values = self._cache[k]
            else:
                self._fill(k)
                values = self._cache[k]
        if k > self._last_k:
            self._dropped += k - self._last_k - 1
            self._last_k = k
        self._values = values

    @property
    def dropped_frames(self) -> int:
        """Conversions simulated but never read (with `chips`: of the slowest chip, the one
        that paces the frames)."""
        if self.chips is not None:
            return min(chip.overwritten for chip in self.emulator.chips)
        return self._dropped

    def read(self) -> Frame:
        if self.chips is not None:
            if self.realtime:
                self._prefill_chips()
            return self.source.read()
        if self.realtime:
            if self._t0_s is None:
                ahead = 0
            else:
                ahead = int((self.emulator.clock() / 1e9 - self._t0_s) * self.engine.rate_hz)
            self._fill(max(ahead, self._last_k) + 2)  # the next conversions, before clocking
        frame = self.source.read()
        if self.realtime or not frame.valid:
            return frame
        return frame._replace(t_ns=round(self._last_k / self.engine.rate_hz * 1e9))

    def close(self) -> None:
        self.source.close()
