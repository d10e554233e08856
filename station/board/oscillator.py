"""When HX711 conversions complete: each chip's oscillator, its drift, four clocks or one.

Why a module of its own: the GPIO-level emulator (pin by pin) and the simulated board (four
cells at once, no pins) must agree on when each chip converts, because that is the truth the
driver's per-cell timing and the alignment are checked against.

An HX711 on its internal oscillator converts every 1/rate (nominally 12.5 ms at 80 SPS; real
chips run a few per cent apart, often near 90 SPS) and its rate wanders slowly with
temperature. Four such chips beat against each other: the offsets between their conversions
walk through a whole period every 1/|f_i - f_j| seconds. Fed from one external clock (the
datasheet's XI input) and started together (an SCK power-down resets every chip at the same
edge), they convert at the same instants: lockstep.

- `ThermalDrift`: a slow, temperature-like rate change (fraction of the nominal rate).
- `ConversionSchedule`: the instants of one chip's conversions after a (re)start, on any ns
  clock; exact integer arithmetic without drift, stepwise integration with drift.
- `ChipClocks`: the oscillators of the four chips (rates, power-on phases, drift, or one
  shared clock), the one description both the emulator and the simulator take.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

DriftFn = Callable[[float], float]  # board time (s) -> fractional rate offset (0.001 = +0.1 %)

NOMINAL_RATE_HZ = 80.0
_KEEP = 64  # recent conversion instants kept for look-ups just behind the newest one


@dataclass(frozen=True)
class ThermalDrift:
    """rate(t) = nominal * (1 + amplitude * sin(2 pi t / period_s + phase_rad) + ramp_per_s * t).

    The defaults (+-0.2 % over five minutes) stand for a board warming up and cooling in a
    room: an assumption, the HX711 datasheet gives no temperature coefficient for its
    internal oscillator.
    """

    amplitude: float = 0.002
    period_s: float = 300.0
    phase_rad: float = 0.0
    ramp_per_s: float = 0.0

    def __call__(self, t_s: float) -> float:
        return (
            self.amplitude * math.sin(2.0 * math.pi * t_s / self.period_s + self.phase_rad)
            + self.ramp_per_s * t_s
        )


class ConversionSchedule:
    """Instants (ns) at which one chip's conversions complete after a (re)start at `first_ns`.

    Without drift: t_k = first_ns + k * period_ns (exact integers). With drift: each step is
    period_ns / (1 + drift(t_k)), integrated conversion by conversion. Look-ups are for times
    near the newest one asked (clocks only move forward); the last 64 instants are kept.
    """

    __slots__ = ("_base_k", "_times", "drift", "first_ns", "period_ns")

    def __init__(self, first_ns: int, period_ns: int, drift: DriftFn | None = None) -> None:
        if period_ns <= 0:
            raise ValueError(f"period_ns must be positive, got {period_ns}")
        self.first_ns = int(first_ns)
        self.period_ns = int(period_ns)
        self.drift = drift
        self._base_k = 0
        self._times = [self.first_ns]

    def _step(self, t_ns: int) -> int:
        assert self.drift is not None
        return max(1, round(self.period_ns / (1.0 + self.drift(t_ns / 1e9))))

    def _extend_past(self, t_ns: int) -> None:
        times = self._times
        while times[-1] <= t_ns:
            times.append(times[-1] + self._step(times[-1]))
        if len(times) > 2 * _KEEP:
            drop = len(times) - _KEEP
            del times[:drop]
            self._base_k += drop

    def _index_after(self, t_ns: int) -> int:
        """Smallest k with t_k > t_ns (drift path)."""
        self._extend_past(t_ns)
        i = bisect.bisect_right(self._times, t_ns)
        if i == 0 and self._base_k > 0:
            raise ValueError("conversion schedule asked about a time too far in the past")
        return self._base_k + i

    def prepare(self, t_ns: int) -> None:
        """Integrate the drifting schedule up to t_ns now, so later look-ups are only a
        search (the emulator calls this outside the time-critical SCK pulses)."""
        if self.drift is not None:
            self._extend_past(t_ns)

    def latest_at(self, t_ns: int) -> tuple[int, int]:
        """(k, t_k) of the latest conversion completed at or before t_ns; (-1, -1) before the
        first one."""
        if t_ns < self.first_ns:
            return -1, -1
        if self.drift is None:
            k = (t_ns - self.first_ns) // self.period_ns
            return k, self.first_ns + k * self.period_ns
        k = self._index_after(t_ns) - 1
        return k, self._times[k - self._base_k]

    def first_after(self, t_ns: int) -> tuple[int, int]:
        """(k, t_k) of the first conversion completing strictly after t_ns."""
        if t_ns < self.first_ns:
            return 0, self.first_ns
        if self.drift is None:
            k = (t_ns - self.first_ns) // self.period_ns + 1
            return k, self.first_ns + k * self.period_ns
        k = self._index_after(t_ns)
        return k, self._times[k - self._base_k]

    def upcoming(self, t_ns: int, n: int) -> list[int]:
        """Instants of the next n conversions after t_ns."""
        t = self.first_after(t_ns)[1]
        out = [t]
        while len(out) < n:
            t = self.first_after(t)[1]
            out.append(t)
        return out


def _tuple(values: Sequence, n: int, name: str) -> tuple:
    values = tuple(values)
    if len(values) != n:
        raise ValueError(f"{name} needs {n} values, got {len(values)}")
    return values


@dataclass(frozen=True)
class ChipClocks:
    """The oscillators of the board's chips (cell order): what the emulator and simulator run.

    rates_hz: each chip's nominal output rate; phases_ns: when each chip's first conversion
    falls after power-on (0 .. one period); drifts: each chip's `DriftFn` (None: none);
    shared: one external clock for all chips (equal rates, one drift), so after a
    synchronized start (an SCK power-down) every chip converts at the same instants.
    """

    rates_hz: tuple[float, ...] = (NOMINAL_RATE_HZ,) * 4
    phases_ns: tuple[int, ...] = (0,) * 4
    drifts: tuple[DriftFn | None, ...] = (None,) * 4
    shared: bool = False
    label: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        n = len(self.rates_hz)
        object.__setattr__(self, "rates_hz", tuple(float(r) for r in self.rates_hz))
        object.__setattr__(self, "phases_ns", tuple(int(p) for p in _tuple(self.phases_ns, n,
                                                                         "phases_ns")))
        object.__setattr__(self, "drifts", _tuple(self.drifts, n, "drifts"))
        if any(r <= 0 for r in self.rates_hz):
            raise ValueError(f"rates must be positive, got {self.rates_hz}")
        if self.shared and (len(set(self.rates_hz)) > 1 or len(set(self.drifts)) > 1):
            raise ValueError("a shared clock has one rate and one drift for every chip")

    @property
    def n(self) -> int:
        return len(self.rates_hz)

    @classmethod
    def internal(
        cls,
        rate_hz: float = NOMINAL_RATE_HZ,
        *,
        spread: float = 0.03,
        drift_amplitude: float = 0.0,
        drift_period_s: float = 300.0,
        seed: int = 0,
        n: int = 4,
    ) -> ChipClocks:
        """n chips on their own oscillators: rates within +-spread of rate_hz (the extremes
        always included, so the spread is what it says), random power-on phases, and each
        its own `ThermalDrift` of `drift_amplitude` with a random phase."""
        import numpy as np  # the presets' draws only: the acquisition process never makes them

        rng = np.random.default_rng(seed)
        offsets = np.linspace(-spread, spread, n)
        rng.shuffle(offsets)
        rates = tuple(float(rate_hz * (1.0 + o)) for o in offsets)
        phases = tuple(int(rng.uniform(0, 1e9 / r)) for r in rates)
        drifts = tuple(
            ThermalDrift(drift_amplitude, drift_period_s, float(rng.uniform(0, 2 * math.pi)))
            if drift_amplitude
            else None
            for _ in range(n)
        )
        label = f"internal oscillators, +-{spread * 100:g} % rate spread"
        return cls(rates, phases, drifts, shared=False, label=label)

    @classmethod
    def shared_clock(
        cls,
        rate_hz: float = NOMINAL_RATE_HZ,
        *,
        drift_amplitude: float = 0.0,
        drift_period_s: float = 300.0,
        seed: int = 0,
        n: int = 4,
    ) -> ChipClocks:
        """n chips on one external clock: one rate, one drift; random power-on phases (the
        chips leave reset at slightly different moments) until a synchronized start."""
        import numpy as np  # the presets' draws only: the acquisition process never makes them

        rng = np.random.default_rng(seed)
        phases = tuple(int(rng.uniform(0, 1e9 / rate_hz)) for _ in range(n))
        drift = ThermalDrift(drift_amplitude, drift_period_s) if drift_amplitude else None
        return cls((float(rate_hz),) * n, phases, (drift,) * n, shared=True,
                   label="one shared clock")

    def schedules(self, start_ns: int = 0, *, synchronized: bool = False) -> list[
        ConversionSchedule
    ]:
        """Each chip's conversion schedule from power-on at start_ns (first conversion one
        period plus its phase later; `synchronized`: every chip's phase is 0)."""
        out = []
        for rate, phase, drift in zip(self.rates_hz, self.phases_ns, self.drifts, strict=True):
            period = round(1e9 / rate)
            first = start_ns + period + (0 if synchronized else phase)
            out.append(ConversionSchedule(first, period, drift))
        return out


READ_NS = 300_000  # clocking a frame out takes ~0.3 ms on a Pi (25 pulses)


class ReadSchedule:
    """Frames as the driver forms them from chips on these clocks, without the pins.

    The driver waits until every chip has a conversion newer than its last read, then clocks
    all four out: each chip gives its newest conversion (an older unread one was overwritten)
    and conversions completing during the read are not published. `next()` is the next
    frame: when it was read and when each of its cells converted (ns, same clock).
    """

    def __init__(self, clocks: ChipClocks, start_ns: int = 0, read_ns: int = READ_NS) -> None:
        self.schedules = clocks.schedules(start_ns, synchronized=clocks.shared)
        self.read_ns = int(read_ns)
        self._after = int(start_ns)

    def next(self) -> tuple[int, tuple[int, ...]]:
        t_read = max(s.first_after(self._after)[1] for s in self.schedules)
        cells = tuple(s.latest_at(t_read)[1] for s in self.schedules)
        self._after = t_read + self.read_ns
        return t_read, cells
