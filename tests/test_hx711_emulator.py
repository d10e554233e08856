"""The GPIO-level HX711 emulator against the datasheet, driven pin by pin (no driver)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from gpiozero.exc import PinInvalidPin
from gpiozero.pins.mock import MockFactory, MockPin

from station.board.emulator import (
    POWER_DOWN_NS,
    EmulatedHX711Board,
    HX711ChipModel,
    ManualClock,
)
from station.board.emulator_pins import EmulatedDOUTPin, EmulatedSCKPin
from station.board.oscillator import ChipClocks, ConversionSchedule, ReadSchedule, ThermalDrift

MS = 1_000_000
US = 1_000


def make_board(**kwargs) -> tuple[EmulatedHX711Board, ManualClock]:
    clock = ManualClock()
    board = EmulatedHX711Board(clock=clock, **kwargs)
    board.sck_pin.function = "output"  # as a driver would; a GPIO starts as an input
    return board, clock


def pulse(board: EmulatedHX711Board, high_ns: int = 1 * US) -> None:
    board.sck_pin.state = 1
    board.clock.advance(high_ns)
    board.sck_pin.state = 0
    board.clock.advance(1 * US)


def shift_out(board: EmulatedHX711Board, chip: int = 0, pulses: int = 25) -> tuple[int, int]:
    """Clock a frame by hand: (raw 24-bit word read after each falling edge, DOUT after)."""
    pin = board.dout_pins[chip]
    raw = 0
    for k in range(pulses):
        pulse(board)
        if k < 24:
            raw = (raw << 1) | int(pin.state)
    return raw, int(pin.state)


def wait_ready(board: EmulatedHX711Board, chip: int = 0, step_ns: int = 100 * US) -> int:
    """Advance until DOUT goes low; return the time it did."""
    pin = board.dout_pins[chip]
    for _ in range(100_000):
        if not pin.state:
            return board.clock()
        board.clock.advance(step_ns)
    raise AssertionError("chip never became ready")


def test_pins_are_gpiozero_mock_pins_on_a_mock_factory():
    board, _ = make_board()
    assert isinstance(board.factory, MockFactory)
    assert isinstance(board.sck_pin, EmulatedSCKPin) and isinstance(board.sck_pin, MockPin)
    assert all(isinstance(p, EmulatedDOUTPin) for p in board.dout_pins)
    # The factory hands the same pin objects to whoever asks by BCM number.
    assert board.factory.pin(5) is board.sck_pin
    assert board.factory.pin(19) is board.dout_pins[2]
    assert len(board.chips) == 4


def test_mock_factory_pin_number_rules():
    """MockFactory pretends to be a Pi (revision a02082): BCM GPIO 0-27 only."""
    factory = MockFactory()
    assert factory.board_info.revision == "a02082"
    for n in (0, 2, 27):
        assert factory.pin(n).info.name == f"GPIO{n}"
    for n in (28, 99, -1):
        with pytest.raises(PinInvalidPin):
            factory.pin(n)


@pytest.mark.parametrize(("rate", "settle_ms"), [(80, 50), (10, 400)])
def test_dout_high_while_settling_then_low(rate, settle_ms):
    board, clock = make_board(rate_hz=rate)
    pin = board.dout_pins[0]
    clock.advance(settle_ms * MS - 1)
    assert pin.state == 1  # not ready during settling
    clock.advance(1)
    assert pin.state == 0  # first conversion ready exactly after settling


def test_what_a_ready_poll_works_out_early_never_changes_what_is_latched():
    """The emulator prepares the latch while DOUT is polled low (to keep its first SCK
    pulse short); the rise must still take the newest conversion and the newest input."""
    board, clock = make_board()
    chip = board.chips[0]
    chip.set_value(1000)
    wait_ready(board)
    chip.set_value(2000)  # changed after the poll saw DOUT low, before the first pulse
    raw, _ = shift_out(board)
    assert raw == 2000
    assert chip.overwritten == 0

    wait_ready(board, step_ns=10 * US)
    k_polled = chip.schedule.latest_at(clock())[0]
    clock.advance(chip.period_ns)  # a newer conversion completes between poll and rise
    chip.value_source = lambda t_s: int(t_s * 1e3)  # counts name the conversion's instant
    raw, _ = shift_out(board)
    assert chip.latched_index == k_polled + 1 and chip.overwritten == 1
    assert raw == int(chip.latched_conversion_ns / 1e6)


@pytest.mark.parametrize("rate", [80, 10])
def test_conversions_follow_the_output_rate(rate):
    board, _clock = make_board(rate_hz=rate)
    period = round(1e9 / rate)
    t0 = wait_ready(board, step_ns=10 * US)
    shift_out(board)
    assert board.dout_pins[0].state == 1
    t1 = wait_ready(board, step_ns=10 * US)
    assert t1 - t0 == pytest.approx(period, abs=20 * US)


@pytest.mark.parametrize(
    "value", [0, 1, -1, 0x123456, -0x123456, 0x7FFFFE, -0x7FFFFF, 0x555555, -0x2AAAAB]
)
def test_shifts_msb_first_twos_complement_on_rising_edges(value):
    board, _ = make_board()
    board.chips[0].set_value(value)
    wait_ready(board)
    raw, after = shift_out(board)
    assert raw == value & 0xFFFFFF
    assert after == 1  # DOUT goes high after the 25th pulse


def test_each_rising_edge_presents_the_next_bit():
    board, _ = make_board()
    board.chips[0].set_value(-0x500000)  # 0xB00000: bits 1011 first
    wait_ready(board)
    pin = board.dout_pins[0]
    assert pin.state == 0  # ready, nothing shifted yet
    seen = []
    for _ in range(4):
        board.sck_pin.state = 1
        seen.append(int(pin.state))  # the bit is valid right after the rising edge...
        board.sck_pin.state = 0
        assert int(pin.state) == seen[-1]  # ...and stays while SCK is low
    assert seen == [1, 0, 1, 1]


@pytest.mark.parametrize(
    ("pulses", "gain", "expected"), [(25, 128, 4000), (26, 32, 1000), (27, 64, 2000)]
)
def test_gain_pulses_apply_to_the_next_conversion(pulses, gain, expected):
    board, _ = make_board()
    chip = board.chips[0]
    chip.set_value(4000)
    wait_ready(board)
    raw, _ = shift_out(board, pulses=pulses)
    assert raw == 4000  # this frame was converted at the old gain
    assert chip.last_pulse_count == pulses
    wait_ready(board)
    assert chip.gain == gain
    raw, _ = shift_out(board)
    assert raw == expected


def test_gain_change_restarts_with_settling():
    board, clock = make_board()
    wait_ready(board)
    shift_out(board, pulses=27)
    t_end = clock()
    t_ready = wait_ready(board, step_ns=1 * US)
    assert t_ready - t_end == pytest.approx(50 * MS, abs=3 * US)


def test_pulses_while_not_ready_are_ignored():
    board, _ = make_board()
    chip = board.chips[0]
    chip.set_value(77)
    for _ in range(10):
        pulse(board)
    assert chip.ignored_pulses == 10
    assert board.dout_pins[0].state == 1
    wait_ready(board)
    assert shift_out(board)[0] == 77


def test_latest_conversion_is_published_when_not_read():
    board, clock = make_board()
    chip = board.chips[0]
    chip.value_source = lambda t_s: round(t_s * 1000)  # the conversion time in ms
    clock.advance(50 * MS + 3 * round(1e9 / 80) + 5 * MS)  # 4 conversions done, none read
    raw, _ = shift_out(board)
    assert raw == round(50 + 3 * 12.5)


def test_conversion_during_a_frame_is_not_published():
    board, clock = make_board()
    wait_ready(board, step_ns=1 * US)
    pin = board.dout_pins[0]
    for k in range(25):
        pulse(board)
        if k == 12:
            clock.advance(13 * MS)  # a whole conversion period passes mid-frame
    assert pin.state == 1  # still high after the frame: the next conversion is awaited
    wait_ready(board)


def test_sck_high_over_60us_powers_down_and_resets():
    board, clock = make_board()
    chip = board.chips[0]
    chip.set_value(1234)
    wait_ready(board)
    shift_out(board, pulses=27)  # gain A/64 for the next conversion
    wait_ready(board)
    assert chip.gain == 64
    board.sck_pin.state = 1
    clock.advance(POWER_DOWN_NS + 1)
    assert chip.is_powered_down()
    assert board.dout_pins[0].state == 1
    board.sck_pin.state = 0  # power up: reset
    assert chip.power_downs == 1
    assert chip.gain == 128
    t_up = clock()
    t_ready = wait_ready(board, step_ns=1 * US)
    assert t_ready - t_up == pytest.approx(50 * MS, abs=2 * US)
    assert shift_out(board)[0] == 1234  # at gain 128 again


def test_sck_high_of_exactly_60us_does_not_power_down():
    board, clock = make_board()
    board.sck_pin.state = 1
    clock.advance(POWER_DOWN_NS)
    board.sck_pin.state = 0
    assert board.chips[0].power_downs == 0


def test_the_emulators_own_time_modelling_a_rising_edge_is_not_sck_high_time():
    """Silicon latches its conversion on the rising edge in no time; the emulator takes
    microseconds of Python (tens, with cold caches after the driver slept). That time must not
    count as SCK high, or a pulse the driver kept short powers the emulated chips down."""
    board, clock = make_board()
    chip = board.chips[0]

    def slow_modelling(t_s: float) -> int:  # the latch's work takes 70 us of the board clock
        clock.advance(70 * US)
        return 4321

    chip.value_source = slow_modelling
    clock.advance(60 * MS)  # ready; nobody polled DOUT, so the rising edge does the latch
    board.sck_pin.state = 1
    board.sck_pin.state = 0
    assert chip.power_downs == 0
    rest = [int(board.dout_pins[0].state)]
    for _ in range(24):
        pulse(board)
        rest.append(int(board.dout_pins[0].state))
    assert chip.power_downs == 0
    assert int("".join(map(str, rest[:-1])), 2) == 4321  # the data bits after the first pulse
    board.sck_pin.state = 1  # a pulse held long by the host still powers the chip down
    clock.advance(POWER_DOWN_NS + 1)
    board.sck_pin.state = 0
    assert chip.power_downs == 1


def test_power_down_mid_frame_aborts_the_frame():
    board, _clock = make_board()
    board.chips[0].set_value(-5)
    wait_ready(board)
    pin = board.dout_pins[0]
    for _ in range(10):
        pulse(board)
    pulse(board, high_ns=80 * US)  # the 11th pulse is too long: chip resets
    levels = []
    for _ in range(14):
        pulse(board)
        levels.append(int(pin.state))
    assert levels == [1] * 14  # settling: DOUT high, the rest of the frame reads ones
    assert board.chips[0].power_downs == 1


def test_phases_make_chips_ready_at_different_times():
    board, clock = make_board(phases_ns=(0, 2 * MS, 4 * MS, 6 * MS))
    clock.advance(50 * MS)
    assert board.read_douts() == 0b1110
    clock.advance(2 * MS)
    assert board.read_douts() == 0b1100
    clock.advance(4 * MS)
    assert board.read_douts() == 0


def test_fault_stuck_high_and_stuck_low():
    board, clock = make_board()
    board.chips[1].stuck_high()
    board.chips[2].stuck_low()
    assert board.read_douts() & 0b0110 == 0b0010  # chip 2 reads low even while settling
    clock.advance(60 * MS)
    assert board.read_douts() == 0b0010  # chip 1 never ready
    board.clear_faults()
    assert board.read_douts() == 0


def test_fault_saturate_and_spike():
    board, _ = make_board()
    chip = board.chips[0]
    chip.set_value(10)
    chip.saturate()
    wait_ready(board)
    assert shift_out(board)[0] == 0x7FFFFF
    chip.saturate(positive=False)
    wait_ready(board)
    assert shift_out(board)[0] == 0x800000
    chip.clear_faults()
    chip.spike(-3_000_000, n_conversions=2)
    out = []
    for _ in range(3):
        wait_ready(board)
        out.append(shift_out(board)[0])
    assert out == [-3_000_000 & 0xFFFFFF, -3_000_000 & 0xFFFFFF, 10]


def test_over_range_input_clamps_to_saturation_codes():
    board, _ = make_board()
    board.chips[0].set_value(1 << 24)
    wait_ready(board)
    assert shift_out(board)[0] == 0x7FFFFF


def test_slow_pulse_advances_a_manual_clock_while_sck_high():
    board, clock = make_board()
    board.slow_pulse(high_ns=90 * US, at_pulse=2)
    board.sck_pin.state = 1
    board.sck_pin.state = 0
    t = clock()
    board.sck_pin.state = 1
    assert clock() - t == 90 * US
    board.sck_pin.state = 0
    assert board.chips[0].power_downs == 1


def test_slow_pulse_spins_in_real_time_with_a_real_clock():
    board = EmulatedHX711Board()  # real monotonic clock
    board.sck_pin.function = "output"
    board.slow_pulse(high_ns=100 * US)
    t0 = time.perf_counter_ns()
    board.sck_pin.state = 1
    t1 = time.perf_counter_ns()
    board.sck_pin.state = 0
    assert t1 - t0 >= 100 * US
    assert board.chips[0].power_downs == 1


def test_always_ready_publishes_after_dout_seen_high():
    board = EmulatedHX711Board(always_ready=True)
    board.sck_pin.function = "output"
    chip = board.chips[0]
    chip.value_source = lambda t_s: round(t_s * 80)  # the conversion number
    pin = board.dout_pins[0]
    outs = []
    for _ in range(3):
        assert pin.state == 0
        raw, after = shift_out(board)
        assert after == 1
        outs.append(raw)
    assert outs == [0, 1, 2]


def test_chip_model_rejects_a_bad_rate():
    with pytest.raises(ValueError, match="rate_hz"):
        HX711ChipModel(0)


def test_manual_clock_cannot_go_backwards():
    clock = ManualClock(5)
    clock.sleep(0.001)
    assert clock() == 5 + MS
    with pytest.raises(ValueError):
        clock.advance(-1)


# -- clocks: drift, one shared clock, overwritten conversions, the truth ------------------


def test_unread_conversions_are_overwritten_and_the_newest_is_latched():
    board, clock = make_board()
    chip = board.chips[0]
    chip.value_source = lambda t_s: round(t_s * 1e6)  # the conversion instant in us
    first = wait_ready(board, step_ns=1 * US)
    clock.advance(3 * round(1e9 / 80) + 2 * MS)  # three more conversions, none read
    raw, _ = shift_out(board)
    assert chip.overwritten == 3
    assert chip.latched_conversion_ns == chip.schedule.latest_at(clock())[1]
    assert raw == round(chip.latched_conversion_ns / 1e3)
    assert chip.latched_conversion_ns - first == pytest.approx(3 * 12.5 * MS, abs=1 * US)


def test_drift_moves_the_conversions_by_the_integrated_rate():
    def drift(t_s: float) -> float:
        return 0.01  # +1 %: 80.8 SPS instead of 80

    board, _ = make_board(drift=drift)
    schedule = board.chips[0].schedule
    k, t = schedule.latest_at(schedule.first_ns + 10 * 10**9)
    assert k == pytest.approx(10 * 80.8, abs=1)
    assert (t - schedule.first_ns) / k == pytest.approx(12.5 * MS / 1.01, rel=1e-6)


def test_thermal_drift_changes_the_period_slowly():
    drift = ThermalDrift(amplitude=0.002, period_s=60.0)
    schedule = ConversionSchedule(0, round(1e9 / 80), drift)
    k0, t0 = schedule.latest_at(15 * 10**9)  # a quarter period in: rate up by 0.2 %
    k1, t1 = schedule.first_after(t0)
    assert k1 == k0 + 1
    assert t1 - t0 == pytest.approx(12.5 * MS / 1.002, rel=1e-4)
    with pytest.raises(ValueError, match="too far in the past"):
        schedule.latest_at(1 * 10**9)


def test_without_drift_the_schedule_is_exact_arithmetic():
    schedule = ConversionSchedule(5 * MS, 12_500_000)
    assert schedule.latest_at(4 * MS) == (-1, -1)
    assert schedule.first_after(4 * MS) == (0, 5 * MS)
    assert schedule.latest_at(5 * MS + 25 * MS) == (2, 30 * MS)
    assert schedule.first_after(30 * MS) == (3, 42_500_000)
    assert schedule.upcoming(30 * MS, 2) == [42_500_000, 55_000_000]


def test_internal_oscillators_restart_on_their_own_phases_a_shared_clock_together():
    internal, clock = make_board(rate_hz=80, phases_ns=(0, 3 * MS, 6 * MS, 9 * MS))
    shared, _ = make_board(rate_hz=80, phases_ns=(0, 3 * MS, 6 * MS, 9 * MS), shared_clock=True)
    shared.clock = internal.clock  # one virtual clock for both boards
    for chip in shared.chips:
        chip.clock = internal.clock
    before = {b: [c.schedule.first_ns for c in b.chips] for b in (internal, shared)}
    assert len(set(before[shared])) == 4  # powered on at different moments
    for b in (internal, shared):  # the synchronized start: SCK high > 60 us, then low
        b.sck_pin.state = 1
        clock.advance(POWER_DOWN_NS + 10 * US)
        b.sck_pin.state = 0
    firsts_internal = [c.schedule.first_ns for c in internal.chips]
    firsts_shared = [c.schedule.first_ns for c in shared.chips]
    assert len(set(firsts_shared)) == 1
    assert np.diff(firsts_internal).tolist() == [3 * MS, 3 * MS, 3 * MS]


def test_a_shared_clock_has_one_rate_and_one_drift():
    with pytest.raises(ValueError, match="shared clock"):
        EmulatedHX711Board(clock=ManualClock(), rate_hz=(80, 81, 80, 80), shared_clock=True)
    with pytest.raises(ValueError, match="shared clock"):
        ChipClocks(rates_hz=(80.0, 81.0), phases_ns=(0, 0), drifts=(None, None), shared=True)


def test_chip_clocks_spread_and_shared():
    clocks = ChipClocks.internal(80.0, spread=0.03, drift_amplitude=0.002, seed=5)
    assert min(clocks.rates_hz) == pytest.approx(77.6) and max(clocks.rates_hz) == pytest.approx(
        82.4
    )
    assert all(isinstance(d, ThermalDrift) for d in clocks.drifts)
    assert len({d.phase_rad for d in clocks.drifts}) == 4
    shared = ChipClocks.shared_clock(80.0, seed=5)
    assert shared.shared and len(set(shared.rates_hz)) == 1
    board = EmulatedHX711Board(clock=ManualClock(), clocks=clocks)
    assert [c.rate_hz for c in board.chips] == list(clocks.rates_hz)
    assert [c.drift for c in board.chips] == list(clocks.drifts)
    with pytest.raises(ValueError, match="describe 4 chips"):
        EmulatedHX711Board(douts=(6, 13), clock=ManualClock(), clocks=clocks)


def test_read_schedule_forms_frames_like_the_driver():
    clocks = ChipClocks.internal(80.0, spread=0.03, seed=2)
    reads = ReadSchedule(clocks)
    previous = None
    for _ in range(200):
        t_read, cells = reads.next()
        assert max(cells) <= t_read  # every cell converted before it was read
        if previous is not None:  # ... and after the previous frame was read
            assert min(cells) > previous
        previous = t_read + reads.read_ns
        assert max(cells) == t_read  # the frame is read when the last chip is ready
