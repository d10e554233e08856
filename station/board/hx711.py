"""HX711 driver: four chips on one shared SCK, read in the same conversion window.

Protocol (AVIA HX711 datasheet). Wait until every DOUT is low (all four conversions ready),
then clock 24 pulses reading all four DOUT lines after each falling edge (data is MSB-first
24-bit two's complement, shifted out on the rising edge), then 1-3 more pulses choose the
gain of the *next* conversion: 25 pulses = channel A gain 128 (default), 26 = channel B gain
32, 27 = channel A gain 64. Sampling all cells in one window is what centre-of-pressure needs.

Why you can trust a frame this driver returns:

- every frame is checked: each DOUT must be high after the last pulse (a stuck-low line or a
  lost pulse fails this), no cell may return a saturation code (0x7FFFFF / 0x800000), no SCK
  high time may exceed 50 us (measured around every pulse with `time.perf_counter_ns`; above
  60 us the chips power down and reset), and an isolated jump larger than `max_step_counts`
  (default 2**22, half the ADC range) is rejected as a spike. A failed frame raises an
  `HX711IntegrityError` naming the check and the cells; it is counted, never returned;
- a chip that never gets ready raises `HX711TimeoutError` naming the cell and its GPIO;
- a GPIO error while clocking raises `HX711BackendError` after holding SCK high past 60 us,
  so the chips reset and none is left mid-frame (its next data bit on DOUT, a 1 read as
  "not ready" for ever);
- nothing sleeps while SCK is high; the garbage collector is paused for the ~25 pulses;
  waiting for DOUT uses short sleeps (conversions are 12.5 ms apart at 80 SPS);
- the first frame after opening, and after any reset that may have put the chips back to
  A/128 when another gain is wanted, is a discarded "priming" read that sets the gain
  (a chip keeps the gain of its previous user until it is powered down).

Why you can trust when each cell converted (`Frame.cell_dt_ns`; docs/cell-timing.md): the
four chips run on their own oscillators, so their conversions are up to a period apart and a
fast chip may convert twice (its unread output overwritten) while the driver waits for a
slow one. While waiting, the driver notes for every chip the two polls its DOUT fell
between, and a clock model per chip (`station.board.cell_clock`: phase and period, a small
Kalman filter in plain floats) turns those brackets into the instant of the conversion
actually clocked out, observed or overwritten. The model also says when each chip's next edge
is due: the driver sleeps until then and polls finely (50 us) only around it, so the
brackets are narrow and the polling costs less CPU than 1 ms polls did; a settled model is
timed so only on one frame in 8, the other frames sleep until every chip is due. It does not start
clocking while an already-ready chip is about to convert again (the conversion read would be
in doubt). The chosen source of edge times is polling, on both backends; lgpio's
kernel-stamped alerts are an option (`dout_edges="alerts"`), see `hx711_lgpio` for why they
are not the default. Offsets are None until every model has seen a few edges (a tenth of a
second), and again for a moment after a reset. One shared clock and a synchronized start
(`synchronized_start`) put the chips in lockstep, which `lockstep` and `cell_timing()` report.

Backends: on a Raspberry Pi (any model, Pi 5 included) the raw `lgpio` backend
(`station.board.hx711_lgpio`) is chosen automatically: one `group_read` per pulse. With an
explicit gpiozero `pin_factory` (e.g. `MockFactory`, or the emulator's factory) the driver uses
gpiozero pins and works anywhere. Pins are BCM GPIO numbers of the 40-pin header (0-27).

`HX711Source` wraps `HX711Array` as a `BoardSource`: a failed frame becomes a flagged
`Frame` (zero counts, `FrameFlag` bits, bad-cell mask) so the acquisition loop keeps running
and counts it. Setup problems (bad pin, pin busy, lgpio missing, no GPIO chip) raise
`HX711SetupError` with one line saying what to fix.

The keyword-only `clock_ns` and `sleep` let tests run the driver in the emulator's virtual
time (see `station.board.emulator`); leave them alone on a real board.
"""

from __future__ import annotations

import contextlib
import gc
import operator
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from station.board.cell_clock import (
    FINE_POLL_NS,
    MAX_BRACKET_NS,
    NOMINAL_RATE_HZ,
    CellTimer,
    CellTiming,
)
from station.board.hx711_protocol import (
    DATA_BITS,
    GAIN_PULSES,
    HEADER_GPIOS,
    MAX_SCK_HIGH_NS,
    SATURATION_CODES,
    HX711BackendError,
    HX711ClosedError,
    HX711Error,
    HX711IntegrityError,
    HX711SetupError,
    HX711TimeoutError,
)
from station.frames import N_CELLS, BoardSource, Frame, FrameFlag

DEFAULT_MAX_STEP_COUNTS = 1 << 22
SETTLING_TIMEOUT_S = 0.6  # first data after power-up: 400 ms at 10 SPS, 50 ms at 80 SPS
POLL_INTERVAL_S = 0.001
FINE_POLL_S = FINE_POLL_NS / 1e9  # 50 us, near a chip's predicted DOUT edge
POLL_INTERVAL_NS = POLL_INTERVAL_S * 1e9
MAX_SLEEP_NS = 20e6  # between predicted edges the driver sleeps, but never longer than this
MAX_SPIN_NS = 100_000  # a hold this short spins on the clock instead of sleeping
# A long sleep wakes late (a loaded Pi, a VM: 0.2-0.4 ms), after the fine window it was meant
# to open, so the edge is found only by the next poll, a period after the clocking, and says
# nothing. The driver learns how late its long sleeps wake and wakes that much earlier.
LONG_SLEEP_NS = 1_000_000  # sleeps at least this long learn and use the margin
MAX_WAKE_MARGIN_NS = 1_000_000  # never wake more than this early
WAKE_MARGIN_QUANTILE = 0.9  # the margin tracks this quantile of how late long sleeps wake ...
WAKE_MARGIN_STEP_NS = 20_000.0  # ... moving by at most this much per sleep (a host hiccup of
# a millisecond moves it 18 us, not to 1 ms)
POWER_DOWN_HOLD_S = 0.0002  # > 60 us with margin
# A chip that reset has no data until it settled: 4 conversions (50 ms at 80 SPS). Polling
# every 1 ms meanwhile cost ~40 wake-ups per reset; the driver sleeps through 3 periods of
# its nominal rate first (a fifth to spare for a fast oscillator).
RESET_QUIET_PERIODS = 3


# -- counters and pulse statistics --------------------------------------------------------


@dataclass
class HX711Counters:
    """What happened to every frame. A discarded frame counts once per failed check."""

    frames_ok: int = 0
    frames_discarded: int = 0
    priming_frames: int = 0
    timeout: int = 0
    dout_not_high: int = 0
    saturated: int = 0
    slow_pulse: int = 0
    spike: int = 0
    source_error: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


_FLAG_COUNTER = {
    FrameFlag.TIMEOUT: "timeout",
    FrameFlag.DOUT_NOT_HIGH: "dout_not_high",
    FrameFlag.SATURATED: "saturated",
    FrameFlag.SLOW_PULSE: "slow_pulse",
    FrameFlag.SPIKE: "spike",
    FrameFlag.SOURCE_ERROR: "source_error",
}

_HIST_BINS = 101  # 1 us bins, the last one collects >= 100 us


@dataclass
class PulseStats:
    """SCK high-time statistics over every pulse clocked (an upper bound per pulse)."""

    count: int = 0
    total_ns: int = 0
    max_ns: int = 0
    over_limit: int = 0
    histogram_us: list[int] = field(default_factory=lambda: [0] * _HIST_BINS)

    def add(self, pulses_ns: Sequence[int]) -> None:
        hist = self.histogram_us
        last = _HIST_BINS - 1
        for dt in pulses_ns:
            hist[min(dt // 1000, last)] += 1
            if dt > MAX_SCK_HIGH_NS:
                self.over_limit += 1
        self.count += len(pulses_ns)
        self.total_ns += sum(pulses_ns)
        self.max_ns = max(self.max_ns, *pulses_ns)

    def percentile_us(self, q: float) -> float:
        """Upper edge of the 1 us bin holding the q-th percentile (q in 0..100); 101 means
        the percentile is in the open-ended >= 100 us bin."""
        if not self.count:
            return 0.0
        target = q / 100 * self.count
        seen = 0
        for us, n in enumerate(self.histogram_us):
            seen += n
            if seen >= target and n:
                return float(us + 1)
        return float(_HIST_BINS)

    def summary(self) -> dict[str, float]:
        return {
            "pulses": self.count,
            "mean_us": self.total_ns / self.count / 1000 if self.count else 0.0,
            "p50_us_le": self.percentile_us(50),
            "p99_us_le": self.percentile_us(99),
            "max_us": self.max_ns / 1000,
            "over_50us": self.over_limit,
        }


# -- backends -----------------------------------------------------------------------------


class GPIOBackend(Protocol):
    """The few pin operations the driver needs; the hot loop lives in the backend."""

    name: str

    def set_sck(self, level: int) -> None: ...

    def read_douts(self) -> int:
        """Bit i set when DOUT i is high."""
        ...

    def clock_frame(
        self, n_pulses: int, timer: Callable[[], int], pulse_ns: list[int], words: list[int]
    ) -> int:
        """Clock n_pulses; words[k] = DOUT mask after data pulse k (k < 24), pulse_ns[k] = high
        time bound of pulse k. Return the DOUT mask after the last pulse."""
        ...

    def close(self) -> None: ...


def check_pins(sck: int, douts: Sequence[int]) -> tuple[int, tuple[int, ...]]:
    """Validate BCM pin numbers before touching any hardware."""
    douts = list(douts)
    if not douts:
        raise HX711SetupError("no DOUT pins given: one DOUT GPIO per HX711 is needed")
    roles = [("SCK", sck)] + [(f"DOUT of cell {i}", d) for i, d in enumerate(douts)]
    seen: dict[int, str] = {}
    checked = []
    for role, given in roles:
        try:
            if isinstance(given, bool):
                raise TypeError
            pin = operator.index(given)  # ints, numpy ints; not "GPIO5", 5.0 or True
        except TypeError:
            raise HX711SetupError(f"{role} pin {given!r} is not a BCM GPIO number (0-27)") from None
        checked.append(pin)
        if pin not in HEADER_GPIOS:
            raise HX711SetupError(
                f"GPIO {pin} is not a valid BCM pin: the 40-pin header has GPIO 0-27 ({role})"
            )
        if pin in seen:
            raise HX711SetupError(f"GPIO {pin} is used twice: {seen[pin]} and {role}")
        seen[pin] = role
    return checked[0], tuple(checked[1:])


class GpiozeroBackend:
    """gpiozero pins from any pin factory: portable, and the emulator's way in."""

    name = "gpiozero"

    def __init__(self, factory: Any, sck: int, douts: Sequence[int]) -> None:
        from gpiozero.exc import GPIOPinInUse, PinError

        self._factory = factory
        self._pins: list[Any] = []
        self._reserved = False
        try:
            self._sck = factory.pin(sck)
            self._douts = [factory.pin(d) for d in douts]
        except PinError as exc:
            raise HX711SetupError(
                f"pin factory rejected the pins ({exc}): use BCM GPIO 0-27"
            ) from None
        try:
            factory.reserve_pins(self, sck, *douts)
            self._reserved = True
        except GPIOPinInUse as exc:
            raise HX711SetupError(f"{exc}: close the other user or pick other pins") from None
        self._pins = [self._sck, *self._douts]
        try:
            self._sck.function = "output"
            self._sck.state = 0
            for pin in self._douts:
                pin.function = "input"
                # An unplugged DOUT then reads high (not ready), not random bits.
                with contextlib.suppress(PinError):
                    pin.pull = "up"
        except PinError as exc:
            self.close()
            raise HX711SetupError(f"cannot set up the HX711 pins: {exc}") from None

    def __repr__(self) -> str:
        douts = ", ".join(str(p.info.name) for p in self._douts) if self._pins else "closed"
        return f"<HX711 driver: SCK {self._sck.info.name}, DOUT {douts}>"

    def _conflicts_with(self, other: object) -> bool:
        return True  # gpiozero's reservation protocol: nobody else may share these pins

    def set_sck(self, level: int) -> None:
        self._sck.state = level

    def read_douts(self) -> int:
        bits = 0
        for i, pin in enumerate(self._douts):
            if pin.state:
                bits |= 1 << i
        return bits

    def clock_frame(
        self, n_pulses: int, timer: Callable[[], int], pulse_ns: list[int], words: list[int]
    ) -> int:
        sck = self._sck
        douts = self._douts
        for k in range(DATA_BITS):
            t0 = timer()
            sck.state = 1
            sck.state = 0
            t1 = timer()
            pulse_ns[k] = t1 - t0
            bits = 0
            for i, pin in enumerate(douts):
                if pin.state:
                    bits |= 1 << i
            words[k] = bits
        for k in range(DATA_BITS, n_pulses):
            t0 = timer()
            sck.state = 1
            sck.state = 0
            t1 = timer()
            pulse_ns[k] = t1 - t0
        return self.read_douts()

    def close(self) -> None:
        for pin in self._pins:
            with contextlib.suppress(Exception):  # closing must never raise
                pin.close()
        self._pins = []
        if self._reserved:
            self._factory.release_all(self)
            self._reserved = False


def _default_gpiozero_factory() -> Any:
    """The factory named by GPIOZERO_PIN_FACTORY (for non-Pi boards that gpiozero supports)."""
    from gpiozero import Device

    try:
        return Device._default_pin_factory()
    except Exception as exc:
        raise HX711SetupError(
            f"GPIOZERO_PIN_FACTORY={os.environ.get('GPIOZERO_PIN_FACTORY')!r} "
            f"cannot be loaded ({exc}): unset it or install that pin library"
        ) from None


def open_backend(
    sck: int,
    douts: Sequence[int],
    *,
    pin_factory: Any = None,
    backend: str | GPIOBackend = "auto",
    dout_edges: str = "poll",
) -> GPIOBackend:
    """lgpio on a Pi; gpiozero with an explicit factory (or GPIOZERO_PIN_FACTORY off a Pi).

    `backend` may also be a ready-made backend object (already wired to sck/douts).
    `dout_edges="alerts"` (lgpio only) adds the kernel's timestamps of the DOUT edges.
    """
    from station.board import hx711_lgpio

    if dout_edges not in ("poll", "alerts"):
        raise HX711SetupError(f"unknown dout_edges {dout_edges!r}: use poll or alerts")
    if not isinstance(backend, str):
        return backend
    if backend not in ("auto", "lgpio", "gpiozero"):
        raise HX711SetupError(f"unknown HX711 backend {backend!r}: use auto, lgpio or gpiozero")
    if backend == "lgpio" or (backend == "auto" and pin_factory is None):
        if backend == "lgpio" or hx711_lgpio.detect_pi_model() is not None:
            return hx711_lgpio.LgpioBackend(sck, douts, dout_alerts=dout_edges == "alerts")
        if not os.environ.get("GPIOZERO_PIN_FACTORY"):
            raise HX711SetupError(
                f"no Raspberry Pi GPIO here ({hx711_lgpio.DEVICE_TREE_MODEL} not found): "
                "run on the Pi, or use --board emulator or --board sim"
            )
    if dout_edges == "alerts":
        raise HX711SetupError(
            "dout_edges='alerts' needs the lgpio backend (a Raspberry Pi): use dout_edges='poll'"
        )
    factory = pin_factory if pin_factory is not None else _default_gpiozero_factory()
    return GpiozeroBackend(factory, sck, douts)


# -- the driver ---------------------------------------------------------------------------


def to_signed24(raw: int) -> int:
    """24-bit two's complement to a Python int."""
    return raw - (1 << 24) if raw & 0x800000 else raw


class HX711Array:
    """N HX711 chips (normally four) on one SCK, read together. See the module docstring."""

    def __init__(
        self,
        sck: int,
        douts: Sequence[int],
        *,
        gain: int = 128,
        pin_factory: Any = None,
        ready_timeout_s: float = 0.2,
        max_step_counts: int | None = DEFAULT_MAX_STEP_COUNTS,
        spike_max_frames: int = 2,
        backend: str | GPIOBackend = "auto",
        dout_edges: str = "poll",
        rate_hz: float = NOMINAL_RATE_HZ,
        synchronized_start: bool = False,
        clock_ns: Callable[[], int] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if gain not in GAIN_PULSES:
            raise HX711SetupError(
                f"gain {gain!r} is not an HX711 gain: use 128 or 64 (channel A) or 32 (channel B)"
            )
        if ready_timeout_s <= 0:
            raise HX711SetupError(f"ready_timeout_s must be positive, got {ready_timeout_s}")
        self.sck, self.douts = check_pins(sck, douts)
        self.gain = gain
        self.n_pulses = GAIN_PULSES[gain]
        self.ready_timeout_s = float(ready_timeout_s)
        self.max_step_counts = max_step_counts
        self.spike_max_frames = spike_max_frames
        self._timer = clock_ns if clock_ns is not None else time.perf_counter_ns
        self._stamp = clock_ns if clock_ns is not None else time.monotonic_ns
        self._sleep = sleep if sleep is not None else time.sleep
        self._real_sleep = sleep is None  # on the real clock short holds spin (not in tests)
        self.wake_margin_ns = 0.0  # how late long sleeps wake (learned: _sleep_until_window)
        self._quiet_ns = RESET_QUIET_PERIODS * 1e9 / rate_hz
        self._reset_at_ns: float | None = None  # the chips reset then (power-up): no data yet
        self.counters = HX711Counters()
        self.pulse_stats = PulseStats()
        self.last_ready_ns = 0  # stamp taken when all DOUT were seen low for the last frame
        self.last_max_high_ns = 0
        n = len(self.douts)
        self._pulse_ns = [0] * self.n_pulses
        self._words = [0] * DATA_BITS
        self._ref: list[int | None] = [None] * n
        self._outlier_run = [0] * n
        self._last_outlier = [0] * n
        self._needs_priming = True  # chips keep a previous user's gain until powered down
        self._settling = True
        self._powered_down = False
        self._closed = False
        # Per-cell timing: when each DOUT fell (lo, hi], and the clock models that refine it.
        self.cell_timer = CellTimer(n, rate_hz)
        self.last_cell_dt_ns: tuple[int, ...] | None = None  # offsets from last_ready_ns
        self._edges: list[tuple[int, int] | None] = [None] * n
        self._all_high = (1 << n) - 1
        # DOUT levels after pulse k (bit i: chip i) -> chip i's bit in lane i of one integer,
        # so a frame's 24 reads decode in 24 steps, not 24 per chip (3 us, not 7.6, here).
        self._lanes = tuple(sum((m >> i & 1) << (DATA_BITS * i) for i in range(n))
                            for m in range(1 << n))
        self._douts_high_ns: int | None = None  # when every DOUT was last seen high
        self._backend = open_backend(
            self.sck, self.douts, pin_factory=pin_factory, backend=backend, dout_edges=dout_edges
        )
        self._take_falls = getattr(self._backend, "take_dout_falls", None)
        if synchronized_start:
            self.synchronized_start()

    # -- public ---------------------------------------------------------------------------

    @property
    def backend_name(self) -> str:
        return self._backend.name

    @property
    def frames_ok(self) -> int:
        return self.counters.frames_ok

    @property
    def discarded(self) -> dict[str, int]:
        """Discarded-frame counts per failed check."""
        c = self.counters
        return {name: getattr(c, name) for name in _FLAG_COUNTER.values()}

    def stamp_ns(self) -> int:
        """Now on the clock used for frame timestamps (time.monotonic_ns on a real board)."""
        return self._stamp()

    @property
    def lockstep(self) -> bool:
        """True while the chips convert together (one shared clock, synchronized start)."""
        return self.cell_timer.lockstep

    def cell_timing(self) -> CellTiming:
        """Each chip's measured rate, the skew between the cells and lockstep (for doctor)."""
        return self.cell_timer.timing()

    def synchronized_start(self) -> None:
        """Power every chip down and up through the shared SCK, so they restart together.

        On one shared clock this puts the chips in lockstep (their conversions coincide); on
        internal oscillators they start together and drift apart at their rate difference.
        """
        self.power_down()
        self.power_up()

    def read(self) -> tuple[int, ...]:
        """Signed counts of one synchronized conversion, one per DOUT (cell order).

        Raises HX711TimeoutError / HX711IntegrityError / HX711BackendError for a frame that
        cannot be trusted (counted in `counters`), HX711ClosedError when closed or powered down.
        """
        if self._closed:
            raise HX711ClosedError("HX711Array is closed")
        if self._powered_down:
            raise HX711ClosedError("HX711 chips are powered down: call power_up() first")
        if self._needs_priming:
            self._read_frame(check_spikes=False)
            self.counters.priming_frames += 1
            self._needs_priming = False
        values = self._read_frame(check_spikes=True)
        self.counters.frames_ok += 1
        return values

    def power_down(self) -> None:
        """Hold SCK high (> 60 us): the chips stop converting and draw < 1 uA."""
        if self._closed or self._powered_down:
            return
        self._backend.set_sck(1)
        self._sleep(POWER_DOWN_HOLD_S)  # SCK is meant to stay high here
        self._powered_down = True

    def power_up(self) -> None:
        """SCK low: the chips reset to A/128 and give data after settling."""
        if self._closed or not self._powered_down:
            return
        self._backend.set_sck(0)
        self._powered_down = False
        self._after_reset()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # best effort: the pins are released anyway
            self._backend.set_sck(0)
        self._backend.close()

    def __enter__(self) -> HX711Array:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------

    def _after_reset(self, *, settle: bool = True) -> None:
        """The chips may have reset (gain back to A/128, settling): plan for both."""
        if settle:
            self._settling = True
            self._reset_at_ns = self._stamp()
        if self.gain != 128:
            self._needs_priming = True
        self.cell_timer.restart()  # a reset restarts the conversion schedules
        self._douts_high_ns = None

    def _after_slow_pulse(self) -> None:
        """SCK stayed high too long: the chips reset only if it passed 60 us, and nothing
        shows which. Settle and prime as after a reset, but keep the clock models in doubt
        (the next edges confirm or restart them) and the instant the lines were seen high."""
        self._settling = True
        if self.gain != 128:
            self._needs_priming = True
        self.cell_timer.doubt(self._stamp())

    def _discard(self, error: HX711Error) -> HX711Error:
        c = self.counters
        c.frames_discarded += 1
        for flag, name in _FLAG_COUNTER.items():
            if error.flag & flag:
                setattr(c, name, getattr(c, name) + 1)
        return error

    def _wait_ready(self) -> None:
        """Poll until every DOUT is low, noting for each chip the two polls its edge fell
        between; polls are fine (50 us) only around the edges its clock model predicts."""
        timeout_s = (
            max(self.ready_timeout_s, SETTLING_TIMEOUT_S)
            if self._settling
            else (self.ready_timeout_s)
        )
        stamp = self._stamp
        read_douts = self._backend.read_douts
        n = len(self.douts)
        self._edges = edges = [None] * n
        t_prev = self._douts_high_ns
        high = self._all_high if t_prev is not None else 0  # lines seen high at t_prev
        windows: list[tuple[float, ...] | None] | None = None
        deadline = stamp() + int(timeout_s * 1e9)
        while True:
            try:
                mask = read_douts()
            except Exception as exc:
                raise self._discard(HX711BackendError(f"reading DOUT failed: {exc}")) from exc
            now = stamp()
            fell = high & ~mask
            if fell:
                for i in range(n):
                    if fell >> i & 1:
                        edges[i] = (t_prev, now)  # type: ignore[assignment]
            if mask == 0:
                # An edge bracketed narrowly pins its conversion; one found after a long sleep
                # (a settled model's frame, a late wake-up) may be the conversion before one
                # completing right now, so it is checked like a chip that was already ready.
                fresh = fell if t_prev is not None and now - t_prev <= MAX_BRACKET_NS else 0
                hold = self.cell_timer.hold_until(now, fresh)
                if hold is not None:  # a ready chip converts again right now: let it finish
                    if self._real_sleep and hold - now <= MAX_SPIN_NS:
                        while stamp() < hold:  # tens of us: cheaper than a timer wake-up
                            pass
                    else:
                        self._sleep(max(hold - now, 1.0) / 1e9)
                    now = stamp()
                self.last_ready_ns = now
                self._settling = False
                self._reset_at_ns = None
                return
            high, t_prev = mask, now
            if now >= deadline:
                cells = [i for i in range(n) if mask >> i & 1]
                self._after_reset(settle=False)  # a chip that came back may have reset
                raise self._discard(HX711TimeoutError(cells, self.douts, timeout_s))
            if windows is None:
                after = self._douts_high_ns
                windows = self.cell_timer.poll_windows(after) if after is not None else [None] * n
                quiet = self._no_data_before(after)
            delay_s, opens_window = _poll_delay(mask, now, windows, quiet)
            if opens_window:
                self._sleep_until_window(delay_s, now)
            else:
                self._sleep(delay_s)

    def _no_data_before(self, after_ns: int | None) -> list[float] | None:
        """Per chip, an instant before which it cannot have data: the chips reset at a
        power-up (all of them), or the chip's clock model was in doubt (a slow pulse during
        the clocking that ended at after_ns) and its edge did not come where predicted, so it
        reset then. 0 where nothing is known; None when nothing is known of any chip (the
        usual frame: no list built)."""
        reset_at = self._reset_at_ns
        models = self.cell_timer.models
        if reset_at is None and not any(model.doubtful for model in models):
            return None
        everyone = reset_at + self._quiet_ns if reset_at is not None else 0.0
        doubt = after_ns + self._quiet_ns if after_ns is not None else 0.0
        return [max(everyone, doubt if model.doubtful else 0.0) for model in models]

    def _sleep_until_window(self, delay_s: float, now: int) -> None:
        """Sleep until a fine window opens, delay_s from `now`, a long sleep shortened by how
        late long sleeps wake here.

        The margin tracks the 90th percentile of how late long sleeps woke (a stochastic
        quantile estimate: up 18 us after a later wake-up, down 2 us after an earlier one):
        waking early by it costs a poll or two, waking late costs the edge's timing. On an
        exact clock (virtual time) it stays 0."""
        delay_ns = delay_s * 1e9
        if delay_ns < LONG_SLEEP_NS:
            self._sleep(delay_s)
            return
        margin = self.wake_margin_ns
        asked_ns = max(delay_ns - margin, FINE_POLL_NS)
        self._sleep(asked_ns / 1e9)
        late = self._stamp() - now - asked_ns
        if late > margin + 1_000:  # (a microsecond is rounding, not lateness)
            margin += WAKE_MARGIN_STEP_NS * WAKE_MARGIN_QUANTILE
        else:
            margin -= WAKE_MARGIN_STEP_NS * (1.0 - WAKE_MARGIN_QUANTILE)
        self.wake_margin_ns = min(max(margin, 0.0), MAX_WAKE_MARGIN_NS)

    def _clock(self) -> int:
        """Clock one frame with the GC paused; SCK is low again whatever happens.

        A GPIO error leaves the chips mid-frame, each holding its next data bit on DOUT (a
        1 reads as "not ready" for ever): SCK is held high past 60 us first, so they reset."""
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._backend.clock_frame(
                self.n_pulses, self._timer, self._pulse_ns, self._words
            )
        except Exception as exc:
            with contextlib.suppress(Exception):
                self._backend.set_sck(1)
                self._sleep(POWER_DOWN_HOLD_S)
            with contextlib.suppress(Exception):
                self._backend.set_sck(0)
            self._after_reset()
            raise self._discard(HX711BackendError(f"GPIO error while clocking: {exc}")) from exc
        finally:
            if gc_was_enabled:
                gc.enable()

    def _read_frame(self, *, check_spikes: bool) -> tuple[int, ...]:
        self._wait_ready()
        after = self._clock()
        self._douts_high_ns = self._stamp() if after == self._all_high else None
        self._time_cells()
        pulses = self._pulse_ns
        self.pulse_stats.add(pulses)
        max_high = max(pulses)
        self.last_max_high_ns = max_high
        n = len(self.douts)
        lanes, every = self._lanes, self._all_high
        bits = 0
        for w in self._words:
            bits = (bits << 1) | lanes[w & every]
        raws = [bits >> (DATA_BITS * i) & 0xFFFFFF for i in range(n)]

        flag = FrameFlag.OK
        cells: list[int] = []
        details: list[str] = []
        if max_high > MAX_SCK_HIGH_NS:
            k = pulses.index(max_high)
            flag |= FrameFlag.SLOW_PULSE
            details.append(
                f"SCK high for {max_high / 1000:.0f} us on pulse {k + 1} (limit 50 us): "
                "the chips may have powered down"
            )
            self._after_slow_pulse()
        not_high = [i for i in range(n) if not after >> i & 1]
        if not_high:
            flag |= FrameFlag.DOUT_NOT_HIGH
            cells += not_high
            details.append(
                f"DOUT still low after {self.n_pulses} pulses on {self._cell_names(not_high)}"
                " (line stuck low or pulses lost)"
            )
        saturated = [i for i in range(n) if raws[i] in SATURATION_CODES]
        if saturated:
            flag |= FrameFlag.SATURATED
            cells += saturated
            details.append(
                f"saturation code on {self._cell_names(saturated)} (over-range or wiring fault)"
            )
        if flag:
            raise self._discard(HX711IntegrityError(flag, cells, "; ".join(details)))
        values = tuple(to_signed24(r) for r in raws)
        if check_spikes and self.max_step_counts is not None:
            spikes = self._spike_cells(values)
            if spikes:
                raise self._discard(
                    HX711IntegrityError(
                        FrameFlag.SPIKE,
                        spikes,
                        f"jump of more than {self.max_step_counts} counts on "
                        f"{self._cell_names(spikes)} (spike)",
                    )
                )
        return values

    def _time_cells(self) -> None:
        """Each cell's conversion instant for the frame just clocked (see cell_clock)."""
        edges = self._edges
        if self._take_falls is not None:
            _refine_with_kernel_stamps(edges, self._take_falls())
        self.last_cell_dt_ns = self.cell_timer.frame_offsets(edges, self.last_ready_ns)

    def _spike_cells(self, values: Sequence[int]) -> list[int]:
        """Cells whose value jumps too far from the last accepted one.

        A new level that persists longer than `spike_max_frames` frames is accepted as a
        real load change; only shorter excursions are rejected.
        """
        limit = self.max_step_counts
        assert limit is not None
        spikes = []
        for i, v in enumerate(values):
            ref = self._ref[i]
            if ref is None or abs(v - ref) <= limit:
                self._outlier_run[i] = 0
                continue
            run = self._outlier_run[i]
            if run and abs(v - self._last_outlier[i]) <= limit:
                run += 1
            else:
                run = 1
            self._outlier_run[i] = run
            self._last_outlier[i] = v
            if run > self.spike_max_frames:
                self._outlier_run[i] = 0
                continue
            spikes.append(i)
        if not spikes:
            self._ref = list(values)
        else:
            for i, v in enumerate(values):
                if i not in spikes:
                    self._ref[i] = v
        return spikes

    def _cell_names(self, cells: Sequence[int]) -> str:
        return ", ".join(f"cell {i} (DOUT GPIO{self.douts[i]})" for i in cells)


def _poll_delay(
    mask: int, now: int, windows: Sequence[tuple[float, ...] | None],
    no_data_before: Sequence[float] | None = None,
) -> tuple[float, bool]:
    """How long to sleep before the next poll, and whether that poll opens a fine window: fine
    (50 us) inside a still-high chip's edge window, else until its next window opens (a chip
    may have two, see `CellTimer.poll_windows`); 1 ms polls for a chip without a window (its
    model not sure yet, or its edge missed every window), unless it cannot have data before
    `no_data_before` (it reset). An empty window (T, T) only says when a chip is due: waking
    late for it costs nothing but latency."""
    delay_ns = MAX_SLEEP_NS
    opens = False
    for i, window in enumerate(windows):
        if not mask >> i & 1:
            continue
        bounds = window or ()  # no window: as if past its last one
        for k in range(0, len(bounds), 2):
            start, end = bounds[k], bounds[k + 1]
            if now < start:
                if start - now < delay_ns:
                    delay_ns, opens = start - now, start < end
                break
            if now <= end:
                return FINE_POLL_S, False
        else:  # past its last window, or none
            wait_ns = _coarse_poll_ns(now, no_data_before, i)
            if wait_ns <= delay_ns:
                delay_ns, opens = wait_ns, False
    return max(delay_ns / 1e9, FINE_POLL_S), opens


def _coarse_poll_ns(now: int, no_data_before: Sequence[float] | None, cell: int) -> float:
    """1 ms, or until a chip that reset can have data."""
    if no_data_before is None or no_data_before[cell] <= now:
        return POLL_INTERVAL_NS
    return max(no_data_before[cell] - now, POLL_INTERVAL_NS)


def _refine_with_kernel_stamps(
    edges: list[tuple[int, int] | None], falls: Sequence[tuple[int, int]]
) -> None:
    """A kernel-stamped falling edge inside a cell's poll bracket pins the bracket down; the
    data bits' edges (during clocking) and late reports fall outside every bracket."""
    for cell, t in falls:
        edge = edges[cell] if 0 <= cell < len(edges) else None
        if edge is not None and edge[0] < t <= edge[1]:
            edges[cell] = (t, t)


class HX711Source(BoardSource):
    """Four HX711 cells as a BoardSource: flagged Frames instead of exceptions."""

    kind = "hx711"
    nominal_rate_hz = 80.0

    def __init__(
        self,
        sck: int,
        douts: Sequence[int],
        *,
        gain: int = 128,
        pin_factory: Any = None,
        ready_timeout_s: float = 0.2,
        **array_options: Any,
    ) -> None:
        if len(douts) != N_CELLS:
            raise HX711SetupError(
                f"the board has {N_CELLS} load cells: give {N_CELLS} DOUT pins, got {len(douts)}"
            )
        self.array = HX711Array(
            sck,
            douts,
            gain=gain,
            pin_factory=pin_factory,
            ready_timeout_s=ready_timeout_s,
            **array_options,
        )

    @property
    def counters(self) -> HX711Counters:
        return self.array.counters

    @property
    def cell_timer(self) -> CellTimer:
        """The chips' clock models (rates, skew statistics, lockstep) for the acquisition."""
        return self.array.cell_timer

    def read(self) -> Frame:
        array = self.array
        try:
            counts = array.read()
        except HX711ClosedError:
            raise
        except HX711Error as exc:
            return Frame(array.stamp_ns(), (0, 0, 0, 0), int(exc.flag), exc.bad_cells)
        return Frame(array.last_ready_ns, counts, 0, 0, array.last_cell_dt_ns)  # type: ignore[arg-type]

    def close(self) -> None:
        self.array.close()
