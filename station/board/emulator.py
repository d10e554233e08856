"""A GPIO-level HX711 emulator: four chips behind lgpio calls or gpiozero mock pins, true to
the datasheet.

Why: the driver must be tested bit for bit without a Pi, and the simulated athlete
(`--board emulator`) must exercise the real driver code path. The emulator answers the
driver's pin writes and reads exactly as four HX711 chips on one SCK would:

- conversions every 1/rate (10 or 80 SPS), DOUT low while a conversion is ready;
- 24-bit two's complement data, MSB first, a new bit on each rising SCK edge;
- after the 25th pulse DOUT goes high; 25/26/27 pulses set A/128, B/32, A/64 for the
  *next* conversion (a gain change restarts the conversion schedule with settling);
- SCK high for more than 60 us powers a chip down; SCK low again resets it (gain back to
  A/128) and the first data comes after settling (4 conversion periods: 50 ms at 80 SPS,
  400 ms at 10 SPS). In real time SCK counts as high from when the emulator has modelled
  the rising edge: silicon latches in no time, the emulator's Python in 20-27 us on a
  frame's first pulse here, which alone powered the chips down about once a second;
- a conversion that completes while a frame is being shifted out is not published: DOUT
  stays high after the frame until the next conversion (the datasheet does not say; this is
  the conservative choice and keeps the driver's "DOUT high after the last pulse" check exact);
- a conversion not read in time is overwritten in the output register by the next one: DOUT
  stays low and the first SCK pulse takes the newest conversion (`overwritten` counts them);
- each chip on its own oscillator (`rate_hz` and `phases_ns` per chip, `drift` for the slow
  temperature walk of its rate; `station.board.oscillator`), or all on one clock
  (`shared_clock=True`): then an SCK power-down restarts every chip on the same edge and they
  convert together (the synchronized start of the hardware fix).

The emulator knows the truth the driver's per-cell timing is checked against: each chip's
`latched_conversion_ns` (when the conversion it is shifting out completed) and `schedule`.

Time comes from an injectable clock (ns). Three ways to run it:

- real time (``clock=None``): conversions arrive at the real 80 SPS pace; a pulse the host
  stretches past 60 us really powers the chip down. For the live `--board emulator` path.
- virtual time (``clock=ManualClock()``): nothing moves unless advanced. Pass
  ``clock_ns=board.clock, sleep=board.sleep`` to `HX711Array` and the driver's waits advance
  the same clock, so every test is deterministic whatever the CI load.
- always ready (``always_ready=True``): a new conversion is published as soon as the driver
  has seen DOUT high after a frame, so a benchmark measures driver + emulator, not waiting;
  only a power-down (SCK high > 60 us) still settles before the next data.
  The default clock is then a ManualClock, so host load can never power a chip down.

Feeding values (for the simulated athlete)::

    board = EmulatedHX711Board(rate_hz=80)            # real-time clock
    board.chips[0].set_value(123456)                  # counts at gain 128, held until changed
    board.set_values([c0, c1, c2, c3])                # all four at once
    board.chips[1].value_source = lambda t_s: ...     # or: counts for the conversion that
                                                      # completes at t_s (board clock, s)

    array = HX711Array(board.sck, board.douts, pin_factory=board.factory)  # gpiozero pins
    lg = FakeLgpio(board)                             # or lgpio's calls, as on a Pi:
    array = HX711Array(..., backend=LgpioBackend(board.sck, board.douts, gpiochip=0, lgpio=lg))

The gpiozero pins (`station.board.emulator_pins`) are made when `.factory` is first asked
for: `--board emulator` drives the chips through `FakeLgpio` and the driver's lgpio backend,
the Pi's own path, so the acquisition process imports no gpiozero.

Counts are the chip's input expressed at gain 128; at A/64 the chip outputs counts // 2 and
at B/32 counts // 4 (channel B is modelled as the same input). Outputs beyond 24 bits clamp to
the saturation codes 0x7FFFFF / 0x800000 as a real over-range does. In always-ready mode a
``value_source`` gets t_s = conversion number / rate (virtual time).

Faults: per chip ``spike(value, n_conversions=1)``, ``stuck_high()`` (unplugged chip),
``stuck_low()``, ``saturate(positive=True)``, ``clear_faults()``; per board (the SCK is shared)
``slow_pulse(high_ns=100_000, at_pulse=1)`` and ``clear_faults()``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from time import perf_counter_ns
from typing import Any

from station.board.oscillator import ChipClocks, ConversionSchedule, DriftFn

POWER_DOWN_NS = 60_000  # SCK high longer than this powers the chip down (datasheet)
SETTLING_CONVERSIONS = 4  # 50 ms at 80 SPS, 400 ms at 10 SPS
PULSES_TO_GAIN = {25: 128, 26: 32, 27: 64}
_CODE_MAX = 0x7FFFFF
_CODE_MIN = -0x800000

_IDLE, _SHIFT, _GAIN = 0, 1, 2


class ManualClock:
    """A virtual ns clock: only `advance` (or `sleep`) moves it. Call it to read the time."""

    def __init__(self, start_ns: int = 0) -> None:
        self.now_ns = int(start_ns)

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, ns: int) -> None:
        if ns < 0:
            raise ValueError("a clock cannot go backwards")
        self.now_ns += int(ns)

    def sleep(self, seconds: float) -> None:
        """Drop-in for time.sleep: a driver waiting in virtual time costs no real time."""
        self.advance(max(1, round(seconds * 1e9)))


class HX711ChipModel:
    """One HX711: conversion schedule, shift register, gain state, power-down and faults.

    `on_sck(level, now_ns)` is called on every SCK change and `dout(now_ns)` on every DOUT
    read; the pin classes below (or a fake lgpio) do that.
    """

    def __init__(
        self,
        rate_hz: float = 80,
        *,
        clock: Callable[[], int] | None = None,
        value: int = 0,
        value_source: Callable[[float], int] | None = None,
        always_ready: bool = False,
        phase_ns: int = 0,
        drift: DriftFn | None = None,
        shared_clock: bool = False,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError(f"rate_hz must be positive (10 or 80 on a real HX711), got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.clock: Callable[[], int] = clock if clock is not None else time.monotonic_ns
        self.period_ns = round(1e9 / self.rate_hz)
        self.settling_ns = SETTLING_CONVERSIONS * self.period_ns
        self.phase_ns = int(phase_ns) % self.period_ns
        self.drift = drift
        self.shared_clock = shared_clock
        self.always_ready = always_ready
        # What the next rising SCK edge latches, worked out while the driver polls DOUT:
        # (k, t_k, t_next, input counts), valid while no newer conversion completed.
        self._prelatch: tuple[int, int, int, int] | None = None
        self._value_source = value_source
        self._value = int(value)
        # Faults.
        self.stuck: str | None = None  # "high" or "low"
        self._saturation_code: int | None = None
        self._spikes: deque[int] = deque()
        # Observable counters (for tests and the sim).
        self.frames_shifted = 0  # frames that reached the 25th pulse
        self.last_pulse_count = 0  # pulses in the latest frame (25, 26 or 27 normally)
        self.ignored_pulses = 0  # pulses while no conversion was ready
        self.power_downs = 0
        self.last_output: int | None = None  # signed code latched for the latest frame
        # The truth about time (the driver's per-cell timing is checked against it).
        self.latched_conversion_ns: int | None = None  # when the latched conversion completed
        self.latched_index = -1  # its number since the last (re)start of the schedule
        self.overwritten = 0  # conversions replaced in the output register before being read
        self._sck_high = False
        self._rise_ns = 0
        self._frame_end_ns = 0
        self._word = 0
        self._ar_conversions = 0  # conversions published in always-ready mode
        self._ar_settled_ns = 0  # always-ready mode: no data before this (settling after a reset)
        self._reset(self.clock(), count=False)

    # -- inputs ---------------------------------------------------------------------------

    def set_value(self, counts: int) -> None:
        """Hold this input (counts at gain 128) for every following conversion."""
        self._value = int(counts)
        self.value_source = None

    @property
    def value_source(self) -> Callable[[float], int] | None:
        """Counts for the conversion completing at t_s (board clock, s), or None: the held
        value."""
        return self._value_source

    @value_source.setter
    def value_source(self, source: Callable[[float], int] | None) -> None:
        self._value_source = source
        self._prelatch = None

    @property
    def value(self) -> int:
        return self._value

    # -- faults ---------------------------------------------------------------------------

    def spike(self, value: int, n_conversions: int = 1) -> None:
        """The next `n_conversions` conversions output `value` (a glitch), then normal data."""
        self._spikes.extend([int(value)] * n_conversions)

    def stuck_high(self) -> None:
        """DOUT reads high forever: an unplugged or unpowered chip (pull-up wins)."""
        self.stuck = "high"

    def stuck_low(self) -> None:
        """DOUT reads low forever: a shorted line or a dead chip."""
        self.stuck = "low"

    def saturate(self, positive: bool = True) -> None:
        """Every conversion returns a saturation code (0x7FFFFF or 0x800000)."""
        self._saturation_code = _CODE_MAX if positive else _CODE_MIN

    def clear_faults(self) -> None:
        self.stuck = None
        self._saturation_code = None
        self._spikes.clear()

    # -- state ----------------------------------------------------------------------------

    @property
    def gain(self) -> int:
        """Gain that the next conversion uses (128 after reset)."""
        return self._gain

    def is_powered_down(self, now_ns: int | None = None) -> bool:
        now = self.clock() if now_ns is None else now_ns
        return self._sck_high and now - self._rise_ns > POWER_DOWN_NS

    def _reset(self, now: int, *, count: bool = True) -> None:
        """Power-on reset: gain A/128, conversions restart and first data after settling.

        On its own oscillator a chip restarts with its own phase; on a shared clock every
        chip leaves an SCK power-down on the same clock edge (phase 0): the synchronized start.
        """
        self._gain = 128
        self._restart_schedule(now + self.settling_ns + (0 if self.shared_clock and count
                                                         else self.phase_ns))
        self._phase = _IDLE
        self._pulses = 0
        self._seen_high = False
        if count:
            self.power_downs += 1
            # Always ready still settles after a power-down, as silicon does: with data at
            # once, the rest of the frame that powered it down started a new one, and the
            # chip stayed that many pulses out of step with the driver, frame after frame.
            self._ar_settled_ns = now + self.settling_ns

    def _restart_schedule(self, first_ns: int) -> None:
        self._schedule = ConversionSchedule(first_ns, self.period_ns, self.drift)
        self._schedule.prepare(first_ns + 4 * self.period_ns)
        self._next_k, self._next_ready_ns = 0, first_ns  # the first conversion not yet read
        self._prelatch = None
        self._gain_ready: tuple[int, int, int] | None = None

    @property
    def schedule(self) -> ConversionSchedule:
        """When this chip's conversions complete since its last (re)start (the truth)."""
        return self._schedule

    def ready_since_ns(self) -> int | None:
        """When DOUT fell for the data now waiting to be read (None: not ready, or shifting)."""
        if self.always_ready or self._phase != _IDLE or self.stuck is not None:
            return None
        return self._next_ready_ns if self.clock() >= self._next_ready_ns else None

    def _ready(self, now: int) -> bool:
        if self.always_ready:
            return now >= self._ar_settled_ns
        return now >= self._next_ready_ns

    def _gain_phase_ready_ns(self) -> int:
        """When the next conversion is published, given the pulses of the frame so far."""
        key = (self._frame_end_ns, self._pulses)
        cached = self._gain_ready
        if cached is not None and cached[:2] == key:
            return cached[2]
        # More than 27 pulses is undefined in the datasheet; modelled as 27 (A/64).
        new_gain = PULSES_TO_GAIN.get(min(self._pulses, 27), 128)
        if new_gain != self._gain:
            ready = self._frame_end_ns + self.settling_ns
        else:
            ready = self._schedule.first_after(self._frame_end_ns)[1]
        self._gain_ready = (*key, ready)
        return ready

    def _finish_frame(self) -> None:
        """Apply the gain chosen by the pulse count; the next conversion follows the frame."""
        new_gain = PULSES_TO_GAIN.get(min(self._pulses, 27), 128)
        if new_gain != self._gain:
            self._gain = new_gain
            self._restart_schedule(self._frame_end_ns + self.settling_ns)
        else:
            self._next_k, self._next_ready_ns = self._schedule.first_after(self._frame_end_ns)
        # Integrate a drifting schedule a few periods ahead now, not in the next SCK pulse.
        self._schedule.prepare(self._next_ready_ns + 4 * self.period_ns)
        self._phase = _IDLE
        self._seen_high = False

    def _input_at(self, t_s: float) -> int:
        source = self._value_source
        return source(t_s) if source is not None else self._value

    def _conversion_output(self, t_s: float, base: int | None = None) -> int:
        """Signed 24-bit code of one conversion at the current gain, with faults applied
        (`base`: its input, when already known)."""
        if base is None:
            base = self._input_at(t_s)
        code = (int(base) * self._gain) // 128
        if self._spikes:
            code = self._spikes.popleft()
        if self._saturation_code is not None:
            code = self._saturation_code
        return min(max(code, _CODE_MIN), _CODE_MAX)

    def _latch(self, now: int) -> None:
        """The first rising SCK edge takes the newest conversion: an unread older one was
        overwritten in the output register (counted in `overwritten`)."""
        base = None
        if self.always_ready:
            t_s = self._ar_conversions / self.rate_hz
            self._ar_conversions += 1
            self.latched_conversion_ns, self.latched_index = now, self._ar_conversions - 1
        else:
            pre = self._prelatch
            if pre is not None and pre[1] <= now < pre[2]:
                k, t_k, _, base = pre
            else:
                k, t_k = self._schedule.latest_at(now)
            self.overwritten += k - self._next_k
            self.latched_conversion_ns, self.latched_index = t_k, k
            t_s = t_k / 1e9
        self._prelatch = None
        code = self._conversion_output(t_s, base)
        self.last_output = code
        self._word = code & 0xFFFFFF
        self._phase = _SHIFT
        self._pulses = 0

    # -- pins -----------------------------------------------------------------------------

    def on_sck(self, level: bool, now: int) -> None:
        if level:
            if self._sck_high:
                return
            self._sck_high = True
            self._rise_ns = now
            if self._phase == _GAIN:
                if not self.always_ready and now >= self._gain_phase_ready_ns():
                    self._finish_frame()  # silence long enough: this rise starts a new frame
                else:
                    self._pulses += 1
                    self.last_pulse_count = self._pulses
                    return
            if self._phase == _IDLE:
                if not self._ready(now):
                    self.ignored_pulses += 1
                    return
                self._latch(now)
            self._pulses += 1
            self.last_pulse_count = self._pulses
            if self._pulses == 25:
                self._phase = _GAIN
                self.frames_shifted += 1
            return
        if not self._sck_high:
            return
        self._sck_high = False
        if now - self._rise_ns > POWER_DOWN_NS:
            self._reset(now)  # it powered down while SCK was high; SCK low powers it up
            return
        if self._phase == _GAIN:
            self._frame_end_ns = now

    def dout(self, now: int) -> int:
        """DOUT level (1 = high = not ready) as the driver would read it at `now`."""
        if self.stuck is not None:
            return 1 if self.stuck == "high" else 0
        if self._sck_high and now - self._rise_ns > POWER_DOWN_NS:
            return 1  # powered down
        phase = self._phase
        if phase == _SHIFT:
            return (self._word >> (24 - self._pulses)) & 1
        if phase == _GAIN:
            if self._sck_high:
                return 1
            if self.always_ready:
                if not self._seen_high:
                    self._seen_high = True
                    return 1
            elif now < self._gain_phase_ready_ns():
                return 1
            self._finish_frame()
        if not self._ready(now):
            return 1
        if not self.always_ready:
            self._prepare_latch(now)
        return 0

    def _prepare_latch(self, now: int) -> None:
        """Work out now, while the driver polls a ready DOUT, what the next rising SCK edge
        latches; the rise then only checks that no newer conversion completed meanwhile.
        The silicon takes no time for this and Python does: done inside the first SCK
        pulse it kept that pulse at ~36 us of the 50 us the driver allows."""
        pre = self._prelatch
        if pre is not None and pre[1] <= now < pre[2]:
            return
        k, t_k = self._schedule.latest_at(now)
        if k < 0:
            return
        t_next = self._schedule.first_after(now)[1]
        self._prelatch = (k, t_k, t_next, self._input_at(t_k / 1e9))


class EmulatedHX711Board:
    """Four emulated HX711 on one SCK, wired to a gpiozero MockFactory or a `FakeLgpio`.

    Pass `.factory` to `HX711Array(pin_factory=...)` (made on first use), or the board to
    `FakeLgpio`. `.chips` are the four
    `HX711ChipModel`s (cell order), `.clock` the ns clock they share. Real chips on their
    internal oscillators run at slightly different rates and phases: give `rate_hz` one rate
    per chip and `phases_ns` to reproduce that, `drift` (one `DriftFn` or one per chip) for
    the slow temperature walk of their rates, or all of it at once as `clocks`
    (`station.board.oscillator.ChipClocks`). `shared_clock=True` is the hardware fix: one
    oscillator for all chips, so one SCK power-down restarts them on the same edge.

    The truth: each chip's `latched_conversion_ns` (when the conversion it is shifting out
    completed), `schedule` (when its conversions complete) and `overwritten` count;
    `latched_conversions_ns()` gives the four at once after a frame.
    """

    def __init__(
        self,
        sck: int = 5,
        douts: Sequence[int] = (6, 13, 19, 26),
        *,
        rate_hz: float | Sequence[float] = 80,
        clock: Callable[[], int] | None = None,
        always_ready: bool = False,
        phases_ns: Sequence[int] | None = None,
        drift: DriftFn | Sequence[DriftFn | None] | None = None,
        shared_clock: bool = False,
        clocks: ChipClocks | None = None,
        revision: str | None = None,
    ) -> None:
        if clock is None:
            clock = ManualClock() if always_ready else time.monotonic_ns
        self.clock = clock
        self.sck = sck
        self.douts = tuple(douts)
        n = len(self.douts)
        if clocks is not None:
            if clocks.n != n:
                raise ValueError(f"clocks describe {clocks.n} chips, the board has {n} DOUT")
            rate_hz, phases_ns, drift, shared_clock = (
                clocks.rates_hz, clocks.phases_ns, clocks.drifts, clocks.shared,
            )
        phases = tuple(phases_ns) if phases_ns is not None else (0,) * n
        if len(phases) != n:
            raise ValueError("phases_ns needs one phase per DOUT")
        rates = tuple(rate_hz) if isinstance(rate_hz, Sequence) else (rate_hz,) * n
        if len(rates) != n:
            raise ValueError("rate_hz needs one rate, or one rate per DOUT")
        drifts = tuple(drift) if isinstance(drift, Sequence) else (drift,) * n
        if len(drifts) != n:
            raise ValueError("drift needs one drift function, or one per DOUT")
        if shared_clock and (len(set(rates)) > 1 or len(set(drifts)) > 1):
            raise ValueError("a shared clock gives every chip the same rate and drift")
        self.shared_clock = shared_clock
        self.chips = [
            HX711ChipModel(
                rate, clock=clock, always_ready=always_ready, phase_ns=p, drift=d,
                shared_clock=shared_clock,
            )
            for rate, p, d in zip(rates, phases, drifts, strict=True)
        ]
        self._revision = revision
        self._pins: Any = None  # station.board.emulator_pins.MockPins, made on first use
        self.sck_rises = 0
        self._slow: list[list[int]] = []  # [rises still to come, high_ns]

    # -- wiring -----------------------------------------------------------------------------

    @property
    def factory(self) -> Any:
        """A gpiozero MockFactory whose SCK and DOUT pins are this board's (made once)."""
        if self._pins is None:
            from station.board.emulator_pins import MockPins

            self._pins = MockPins(self, self._revision)
        return self._pins.factory

    @property
    def sck_pin(self) -> Any:
        self.factory  # noqa: B018 - makes the pins
        return self._pins.sck

    @property
    def dout_pins(self) -> list[Any]:
        self.factory  # noqa: B018 - makes the pins
        return self._pins.douts

    def sck_edge(self, level: bool) -> None:
        now = self.clock()
        chips = self.chips
        for chip in chips:
            chip.on_sck(level, now)
        if level:
            self.sck_rises += 1
            # Silicon latches on the edge in no time; modelling it took the emulator until
            # `done` (tens of us of Python with cold caches, on the first pulse of a frame).
            # SCK counts as high from then, or a pulse the driver kept short would power the
            # chips down for the emulator's slowness, not the driver's.
            done = self.clock()
            if done != now:
                for chip in chips:
                    if chip._sck_high and chip._rise_ns == now:
                        chip._rise_ns = done
            if self._slow:
                self._maybe_stretch(done)

    def latched_conversions_ns(self) -> tuple[int | None, ...]:
        """When each chip's latest latched conversion completed (board clock, ns)."""
        return tuple(chip.latched_conversion_ns for chip in self.chips)

    def read_douts(self) -> int:
        """All DOUT levels as a bit mask (bit i = chip i), like one lgpio group_read."""
        now = self.clock()
        bits = 0
        for i, chip in enumerate(self.chips):
            bits |= chip.dout(now) << i
        return bits

    def sleep(self, seconds: float) -> None:
        """time.sleep for a driver running on this board's clock (virtual when it is manual)."""
        advance = getattr(self.clock, "advance", None)
        if advance is not None:
            advance(max(1, round(seconds * 1e9)))
        else:
            time.sleep(seconds)

    # -- values and faults ----------------------------------------------------------------

    def set_values(self, counts: Sequence[int]) -> None:
        for chip, c in zip(self.chips, counts, strict=True):
            chip.set_value(c)

    def slow_pulse(self, high_ns: int = 100_000, at_pulse: int = 1) -> None:
        """Hold SCK high for `high_ns` on the `at_pulse`-th rising edge from now.

        With a manual clock the clock jumps; with a real clock the emulator spins in real
        time while SCK is high, so the driver's own timer sees the long pulse too.
        """
        if at_pulse < 1:
            raise ValueError("at_pulse counts from 1")
        self._slow.append([at_pulse, int(high_ns)])

    def _maybe_stretch(self, rise_ns: int) -> None:
        for entry in self._slow:
            entry[0] -= 1
        due = [e for e in self._slow if e[0] == 0]
        self._slow = [e for e in self._slow if e[0] > 0]
        for _, high_ns in due:
            advance = getattr(self.clock, "advance", None)
            if advance is not None:
                advance(high_ns)
            else:
                while self.clock() - rise_ns < high_ns:
                    pass

    def clear_faults(self) -> None:
        self._slow.clear()
        for chip in self.chips:
            chip.clear_faults()

    def close(self) -> None:
        if self._pins is not None:
            self._pins.factory.close()


class FakeLgpio:
    """An `lgpio` module stand-in wired to an emulated board, so the raw lgpio backend runs
    (and is tested and benchmarked) off a Pi. Mirrors the lgpio calls the driver uses:
    errors are raised as `FakeLgpio.error` with lgpio's texts, `group_read` returns
    [group size, bits] like lgpio 0.2. `calls` records every call except the per-pulse
    `gpio_write` / `group_read` / `gpio_read`, which are only counted (`writes`,
    `group_reads`, `gpio_reads`).

    Alerts (`gpio_claim_alert` + `callback`): a DOUT level change is noticed at the next call
    and reported like lgpio's notification thread would, `alert_latency_ns` later, stamped in
    ns since the epoch (`epoch_offset_ns` + board clock): a conversion-ready fall carries the
    emulator's exact instant (what the kernel's timestamp would say), other edges the time
    they were noticed.
    """

    SET_PULL_UP = 32  # lgpio's SET_BIAS_PULL_UP
    RISING_EDGE = 1
    FALLING_EDGE = 2
    BOTH_EDGES = 3

    class error(Exception):
        def __init__(self, value: str) -> None:
            super().__init__(value)
            self.value = value

    class _Callback:
        def __init__(self, owner: FakeLgpio, gpio: int, edge: int, func: Callable) -> None:
            self.owner, self.gpio, self.edge, self.func = owner, gpio, edge, func

        def cancel(self) -> None:
            if self in self.owner._callbacks:
                self.owner._callbacks.remove(self)

    def __init__(
        self,
        board: EmulatedHX711Board,
        *,
        chip_labels: dict[int, str] | None = None,
        busy: Sequence[int] = (),
        epoch_offset_ns: int = 1_700_000_000 * 10**9,
        alert_latency_ns: int = 0,
    ) -> None:
        self.board = board
        self.chip_labels = {0: "pinctrl-bcm2711"} if chip_labels is None else dict(chip_labels)
        self.busy = set(busy)
        self.calls: list[tuple[Any, ...]] = []
        self.writes = 0
        # Time spent emulating the chips (SCK edges, DOUT levels): what silicon does at no
        # cost to a Pi, so a benchmark can tell it from the driver's own work.
        self.emulating_ns = 0
        self.group_reads = 0
        self.gpio_reads = 0
        self.open_handles: dict[int, int] = {}
        self.claimed: set[int] = set()
        self._groups: dict[int, list[int]] = {}
        self._in_board_order: dict[int, bool] = {}  # group leader -> members are board.douts
        self._next_handle = 0
        self._sck_level = 0
        self.epoch_offset_ns = epoch_offset_ns
        self.alert_latency_ns = alert_latency_ns
        self.alerts_sent = 0
        self._alert_flags: dict[int, int] = {}  # gpio -> edge flags
        self._alert_level: dict[int, int] = {}
        self._callbacks: list[FakeLgpio._Callback] = []
        self._pending: deque[tuple[int, int, int, int]] = deque()  # (due, gpio, level, tick)
        self._scanned: tuple[int, int] | None = None  # (clock, sck edges) of the last scan

    def gpiochip_open(self, gpiochip: int) -> int:
        self.calls.append(("gpiochip_open", gpiochip))
        if gpiochip not in self.chip_labels:
            raise self.error("can not open gpiochip")
        handle = self._next_handle
        self._next_handle += 1
        self.open_handles[handle] = gpiochip
        return handle

    def gpiochip_close(self, handle: int) -> int:
        self.calls.append(("gpiochip_close", handle))
        self._handle(handle)
        del self.open_handles[handle]
        return 0

    def gpio_get_chip_info(self, handle: int) -> list[Any]:
        chip = self._handle(handle)
        return [0, 54, f"gpiochip{chip}", self.chip_labels[chip]]

    def gpio_claim_output(self, handle: int, gpio: int, level: int = 0, lFlags: int = 0) -> int:
        self.calls.append(("gpio_claim_output", handle, gpio, level, lFlags))
        self._claim(handle, [gpio])
        if gpio == self.board.sck:
            self._drive_sck(level)
        return 0

    def group_claim_input(self, handle: int, gpio: Sequence[int], lFlags: int = 0) -> int:
        self.calls.append(("group_claim_input", handle, list(gpio), lFlags))
        self._claim(handle, list(gpio))
        self._groups[gpio[0]] = list(gpio)
        self._in_board_order[gpio[0]] = tuple(gpio) == self.board.douts
        return 0

    def gpio_claim_alert(
        self, handle: int, gpio: int, eFlags: int, lFlags: int = 0, notify_handle: Any = None
    ) -> int:
        self.calls.append(("gpio_claim_alert", handle, gpio, eFlags, lFlags))
        self._claim(handle, [gpio])
        self._alert_flags[gpio] = eFlags
        self._alert_level[gpio] = self._level(gpio)
        return 0

    def callback(
        self, handle: int, gpio: int, edge: int = RISING_EDGE, func: Callable | None = None
    ) -> FakeLgpio._Callback:
        self.calls.append(("callback", handle, gpio, edge))
        cb = FakeLgpio._Callback(self, gpio, edge, func or (lambda *args: None))
        self._callbacks.append(cb)
        return cb

    def gpio_read(self, handle: int, gpio: int) -> int:
        self.gpio_reads += 1
        if gpio not in self.claimed:
            raise self.error("GPIO not allocated")
        if self._alert_flags:
            self._scan_alerts()
        return self._level(gpio)

    def _level(self, gpio: int) -> int:
        board = self.board
        chip = board.chips[board.douts.index(gpio)]
        return chip.dout(board.clock())

    def _scan_alerts(self) -> None:
        """Notice level changes on alert lines; deliver the reports that are due."""
        board = self.board
        now = board.clock()
        key = (now, board.sck_rises, self._sck_level)
        if key != self._scanned:
            self._scanned = key
            for gpio, flags in self._alert_flags.items():
                chip = board.chips[board.douts.index(gpio)]
                level = chip.dout(now)
                if level == self._alert_level[gpio]:
                    continue
                self._alert_level[gpio] = level
                wanted = self.RISING_EDGE if level else self.FALLING_EDGE
                if not flags & wanted:
                    continue
                t = now
                if not level:
                    since = chip.ready_since_ns()
                    t = since if since is not None else now
                self._pending.append((now + self.alert_latency_ns, gpio, level, t))
        pending = self._pending
        while pending and pending[0][0] <= now:
            _, gpio, level, t = pending.popleft()
            for cb in list(self._callbacks):
                if cb.gpio == gpio:
                    self.alerts_sent += 1
                    cb.func(0, gpio, level, t + self.epoch_offset_ns)

    def gpio_free(self, handle: int, gpio: int) -> int:
        self.calls.append(("gpio_free", handle, gpio))
        self.claimed.discard(gpio)
        self._alert_flags.pop(gpio, None)
        self._alert_level.pop(gpio, None)
        return 0

    def group_free(self, handle: int, gpio: int) -> int:
        self.calls.append(("group_free", handle, gpio))
        self._in_board_order.pop(gpio, None)
        for g in self._groups.pop(gpio, []):
            self.claimed.discard(g)
        return 0

    def gpio_write(self, handle: int, gpio: int, level: int) -> int:
        self.writes += 1
        if gpio not in self.claimed:
            raise self.error("GPIO not allocated")
        if gpio == self.board.sck:
            t0 = perf_counter_ns()
            self._drive_sck(level)
            self.emulating_ns += perf_counter_ns() - t0
        return 0

    def group_read(self, handle: int, gpio: int) -> list[int]:
        self.group_reads += 1
        members = self._groups.get(gpio)
        if members is None:
            raise self.error("not a group leader")
        t0 = perf_counter_ns()
        levels = self.board.read_douts()
        self.emulating_ns += perf_counter_ns() - t0
        if self._in_board_order[gpio]:  # the driver's group: bit i is chip i already
            return [len(members), levels]
        douts = self.board.douts
        bits = 0
        for i, g in enumerate(members):
            bits |= (levels >> douts.index(g) & 1) << i
        return [len(members), bits]

    def _drive_sck(self, level: int) -> None:
        level = 1 if level else 0
        if level != self._sck_level:
            self._sck_level = level
            self.board.sck_edge(bool(level))

    def _handle(self, handle: int) -> int:
        if handle not in self.open_handles:
            raise self.error("bad handle")
        return self.open_handles[handle]

    def _claim(self, handle: int, gpios: list[int]) -> None:
        self._handle(handle)
        for g in gpios:
            if g in self.busy or g in self.claimed:
                raise self.error("GPIO busy")
        self.claimed.update(gpios)
