"""The full path (`--board emulator`): simulated counts go into the GPIO-level HX711
emulator (station.board.emulator) and come back through the real driver
(station.board.hx711), so the bit-banging and integrity checks run on every frame.

Each emulated conversion asks `value_source(t_s)` for its input; the first chip to ask for
a conversion time advances the simulation to that time (conversions nobody read are
simulated and dropped, as a real HX711 overwrites them) and the other three chips get the
same sample. In real time the emulator's own 80 SPS schedule paces the driver and frames
carry the driver's monotonic stamp; otherwise the emulator is "always ready" on a virtual
clock and frames are stamped with simulated time.
"""

from __future__ import annotations

from station.board.emulator import EmulatedHX711Board
from station.board.hx711 import HX711Source
from station.board.sim.engine import SimEngine
from station.board.spec import DEFAULT_DOUTS, DEFAULT_SCK
from station.frames import Frame


class GpioPath:
    """Drive an emulated HX711 board from a SimEngine and read it with HX711Source."""

    def __init__(self, engine: SimEngine, *, realtime: bool) -> None:
        self.engine = engine
        self.realtime = realtime
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
        self.late_samples = 0  # realtime: a conversion came before its sample was ready
        self.dropped_frames = 0
        self._fill(0)

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
            self.dropped_frames += k - self._last_k - 1
            self._last_k = k
        self._values = values

    def read(self) -> Frame:
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
