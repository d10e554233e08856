"""The HX711 driver against the GPIO-level emulator, in virtual time (deterministic)."""

from __future__ import annotations

import time

import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from station.board.emulator import EmulatedHX711Board, ManualClock
from station.board.factory import open_board
from station.board.hx711 import HX711Array, HX711Source, PulseStats, to_signed24
from station.board.hx711_protocol import (
    HX711BackendError,
    HX711ClosedError,
    HX711IntegrityError,
    HX711SetupError,
    HX711TimeoutError,
)
from station.board.spec import BoardOptions, BoardSpecError
from station.frames import Frame, FrameFlag

SCK, DOUTS = 5, (6, 13, 19, 26)
MS = 1_000_000
US = 1_000


def virtual_board(**kwargs) -> EmulatedHX711Board:
    return EmulatedHX711Board(SCK, DOUTS, clock=ManualClock(), **kwargs)


def open_array(board: EmulatedHX711Board, **kwargs) -> HX711Array:
    """The driver on the board's virtual clock: its waits and pulse timing are exact."""
    return HX711Array(
        SCK, DOUTS, pin_factory=board.factory, clock_ns=board.clock, sleep=board.sleep, **kwargs
    )


@pytest.fixture
def board() -> EmulatedHX711Board:
    return virtual_board()


@pytest.fixture
def array(board):
    arr = open_array(board)
    yield arr
    arr.close()


# -- bit-exact reads ----------------------------------------------------------------------

EXACT = [
    (0, 0, 0, 0),
    (1, -1, 2, -2),
    (123_456, -123_456, 7_654_321, -7_654_321),
    (0x7FFFFE, -0x7FFFFF, 0x400000, -0x400000),  # extremes short of the saturation codes
    (0x555555, -0x555556, 0x2AAAAA, 0x0F0F0F),  # alternating bit patterns
]


@pytest.mark.parametrize("values", EXACT)
def test_reads_are_bit_exact(board, values):
    arr = open_array(board, max_step_counts=None)
    board.set_values(values)
    assert arr.read() == values
    assert arr.read() == values
    assert arr.frames_ok == 2
    assert arr.counters.frames_discarded == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-0x7FFFFF, 0x7FFFFE), min_size=4, max_size=4),
)
def test_any_value_reads_back_exactly(values):
    board = virtual_board(always_ready=True)
    arr = open_array(board, max_step_counts=None)
    board.set_values(values)
    assert arr.read() == tuple(values)
    arr.close()


def test_to_signed24():
    assert to_signed24(0x000000) == 0
    assert to_signed24(0x7FFFFF) == 8_388_607
    assert to_signed24(0x800000) == -8_388_608
    assert to_signed24(0xFFFFFF) == -1


def test_each_cell_reads_its_own_line(board, array):
    for cell in range(4):
        values = [0, 0, 0, 0]
        values[cell] = 4242
        board.set_values(values)
        assert array.read() == tuple(values)


# -- gain ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gain", "pulses", "expected"), [(128, 25, 4000), (64, 27, 2000), (32, 26, 1000)]
)
def test_gain_sets_pulse_count_and_first_frame_is_already_at_that_gain(
    board, gain, pulses, expected
):
    board.set_values([4000] * 4)
    arr = open_array(board, gain=gain)
    rises_before = board.sck_rises
    assert arr.read() == (expected,) * 4  # priming frame discarded: data is at the new gain
    assert arr.counters.priming_frames == 1
    assert (board.sck_rises - rises_before) == 2 * pulses  # priming frame + data frame
    assert all(chip.last_pulse_count == pulses for chip in board.chips)
    rises_before = board.sck_rises
    assert arr.read() == (expected,) * 4
    assert board.sck_rises - rises_before == pulses
    assert all(chip.gain == gain for chip in board.chips)


def test_priming_overrides_a_gain_left_by_a_previous_user(board):
    board.set_values([4000] * 4)
    previous = open_array(board, gain=64)
    previous.read()
    previous.close()
    arr = open_array(board, gain=128)
    assert arr.read() == (4000,) * 4  # not 2000: the leftover A/64 frame was discarded


def test_bad_gain_is_a_setup_error(board):
    with pytest.raises(HX711SetupError, match="gain 100 is not an HX711 gain"):
        open_array(board, gain=100)


# -- waiting for ready --------------------------------------------------------------------


def test_waits_until_every_chip_is_ready():
    board = virtual_board(phases_ns=(0, 3 * MS, 6 * MS, 9 * MS))
    board.set_values([10, 20, 30, 40])
    arr = open_array(board)
    assert arr.read() == (10, 20, 30, 40)
    # The frame starts only when the last chip (9 ms late) is ready.
    latest_first_ready = 50 * MS + 9 * MS
    assert arr.last_ready_ns >= latest_first_ready
    period = round(1e9 / 80)
    t_prev = arr.last_ready_ns
    assert arr.read() == (10, 20, 30, 40)
    assert arr.last_ready_ns - t_prev == pytest.approx(period, abs=1.1 * MS)  # 1 ms polls


def test_first_read_waits_for_settling_at_10_sps():
    board = virtual_board(rate_hz=10)
    board.set_values([1, 2, 3, 4])
    arr = open_array(board)  # ready_timeout 0.2 s, but settling takes 0.4 s
    assert arr.read() == (1, 2, 3, 4)
    assert arr.counters.timeout == 0


def test_timeout_names_the_unplugged_cell(board, array):
    board.set_values([5, 6, 7, 8])
    assert array.read() == (5, 6, 7, 8)
    board.chips[2].stuck_high()
    t0 = board.clock()
    with pytest.raises(HX711TimeoutError) as info:
        array.read()
    err = info.value
    assert str(err) == "cell 2 (DOUT GPIO19) not ready after 200 ms: unplugged or unpowered?"
    assert err.flag == FrameFlag.TIMEOUT and err.cells == (2,) and err.bad_cells == 0b0100
    assert board.clock() - t0 == pytest.approx(200 * MS, abs=2 * MS)
    assert array.counters.timeout == 1
    assert array.counters.frames_discarded == 1
    board.clear_faults()
    assert array.read() == (5, 6, 7, 8)


def test_first_read_allows_for_settling_before_timing_out(board, array):
    board.chips[1].stuck_high()
    t0 = board.clock()
    with pytest.raises(HX711TimeoutError, match=r"cell 1 .*not ready after 600 ms"):
        array.read()
    assert board.clock() - t0 == pytest.approx(600 * MS, abs=2 * MS)


def test_timeout_lists_every_missing_cell(board, array):
    board.chips[0].stuck_high()
    board.chips[3].stuck_high()
    with pytest.raises(HX711TimeoutError, match=r"cells 0 \(DOUT GPIO6\), 3 \(DOUT GPIO26\)"):
        array.read()


# -- integrity faults ---------------------------------------------------------------------


def test_stuck_low_dout_is_flagged_not_returned(board, array):
    board.set_values([1, 2, 3, 4])
    assert array.read() == (1, 2, 3, 4)
    board.chips[1].stuck_low()
    with pytest.raises(HX711IntegrityError, match=r"DOUT still low .* cell 1 \(DOUT GPIO13\)") as i:
        array.read()
    assert i.value.flag == FrameFlag.DOUT_NOT_HIGH and i.value.cells == (1,)
    assert array.counters.dout_not_high == 1
    board.clear_faults()
    assert array.read() == (1, 2, 3, 4)


@pytest.mark.parametrize("positive", [True, False])
def test_saturation_is_flagged_not_returned(board, array, positive):
    board.set_values([1, 2, 3, 4])
    array.read()
    board.chips[3].saturate(positive=positive)
    with pytest.raises(HX711IntegrityError, match="saturation code on cell 3") as info:
        array.read()
    assert info.value.flag == FrameFlag.SATURATED and info.value.cells == (3,)
    assert array.counters.saturated == 1
    board.clear_faults()
    assert array.read() == (1, 2, 3, 4)


def test_two_faults_in_one_frame_are_both_counted(board, array):
    array.read()
    board.chips[0].stuck_low()
    board.chips[2].saturate()
    with pytest.raises(HX711IntegrityError) as info:
        array.read()
    assert info.value.flag == FrameFlag.DOUT_NOT_HIGH | FrameFlag.SATURATED
    assert info.value.cells == (0, 2)
    c = array.counters
    assert (c.dout_not_high, c.saturated, c.frames_discarded) == (1, 1, 1)


def test_slow_pulse_is_flagged_and_the_driver_recovers(board):
    board.set_values([4000, -4000, 1, -1])
    arr = open_array(board, gain=64)
    assert arr.read() == (2000, -2000, 0, -1)
    board.slow_pulse(high_ns=80 * US, at_pulse=7)
    with pytest.raises(HX711IntegrityError, match="SCK high for 80 us on pulse 7") as info:
        arr.read()
    assert info.value.flag & FrameFlag.SLOW_PULSE
    assert arr.last_max_high_ns == 80 * US
    assert arr.counters.slow_pulse == 1
    assert all(chip.power_downs == 1 for chip in board.chips)  # the chips really reset
    # After the reset the chips are back at A/128: the driver primes A/64 again.
    assert arr.read() == (2000, -2000, 0, -1)
    assert arr.counters.priming_frames == 2


def test_an_always_ready_board_powered_down_mid_frame_comes_back_in_step():
    """Always ready still settles after a power-down: with data at once, the pulses left in
    the frame that powered it down started a new frame, and the chips stayed out of step
    with the driver (DOUT low after the last pulse) frame after frame."""
    board = virtual_board(always_ready=True)
    board.set_values([11, 22, 33, 44])
    arr = open_array(board)
    assert arr.read() == (11, 22, 33, 44)
    board.slow_pulse(high_ns=100 * US, at_pulse=5)
    with pytest.raises(HX711IntegrityError, match="SCK high for 100 us on pulse 5"):
        arr.read()
    assert all(chip.power_downs == 1 for chip in board.chips)
    assert [arr.read() for _ in range(3)] == [(11, 22, 33, 44)] * 3
    assert arr.counters.dout_not_high == 0
    arr.close()


def test_a_pulse_of_50us_passes_and_51us_fails(board, array):
    array.read()
    board.slow_pulse(high_ns=50 * US)
    array.read()
    board.slow_pulse(high_ns=51 * US)
    with pytest.raises(HX711IntegrityError, match="SCK high for 51 us"):
        array.read()


def test_isolated_spike_is_rejected(board, array):
    board.set_values([1000] * 4)
    assert array.read() == (1000,) * 4
    board.chips[1].spike(6_000_000)
    with pytest.raises(HX711IntegrityError, match="cell 1") as info:
        array.read()
    assert info.value.flag == FrameFlag.SPIKE and info.value.cells == (1,)
    assert array.read() == (1000,) * 4
    board.chips[2].spike(-5_000_000, n_conversions=2)
    for _ in range(2):
        with pytest.raises(HX711IntegrityError):
            array.read()
    assert array.read() == (1000,) * 4
    assert array.counters.spike == 3


def test_a_lasting_step_is_accepted_as_a_real_load_change(board, array):
    board.set_values([0] * 4)
    array.read()
    board.set_values([5_000_000, 0, 0, 0])
    for _ in range(2):
        with pytest.raises(HX711IntegrityError):
            array.read()
    assert array.read() == (5_000_000, 0, 0, 0)
    assert array.read() == (5_000_000, 0, 0, 0)


def test_small_changes_are_never_spikes(board, array):
    for v in range(0, 4_000_000, 400_000):
        board.set_values([v, -v, v // 2, 0])
        assert array.read() == (v, -v, v // 2, 0)
    assert array.counters.spike == 0


def test_backend_error_leaves_sck_low_and_is_counted(board, array):
    array.read()

    def broken(now):
        raise OSError("line went away")

    board.chips[2].dout = broken
    with pytest.raises(HX711BackendError):
        array.read()
    assert board.sck_pin.state == 0
    assert array.counters.source_error == 1


def test_a_gpio_error_mid_frame_resets_the_chips_so_none_is_left_mid_frame(board, array):
    """A chip left after pulse 10 of 25 holds its next data bit on DOUT: a 1 reads as "not
    ready" for ever. The driver holds SCK high past 60 us first, so every chip resets and
    the next frame is whole."""
    board.set_values([0x7FFFFF - 1] * 4)  # 23 ones after the sign: DOUT high mid-frame
    assert array.read() == (0x7FFFFF - 1,) * 4
    chip = board.chips[2]
    working = chip.dout
    failed = []

    def fails_mid_frame(now):
        if chip.last_pulse_count == 10 and not failed:  # read after the 10th data pulse
            failed.append(now)
            raise OSError("line went away")
        return working(now)

    chip.dout = fails_mid_frame
    with pytest.raises(HX711BackendError, match="GPIO error while clocking"):
        array.read()
    chip.dout = working
    assert all(c.power_downs == 1 for c in board.chips)
    assert board.sck_pin.state == 0
    assert array.read() == (0x7FFFFF - 1,) * 4


# -- power down / up ----------------------------------------------------------------------


def test_power_down_then_up_recovers(board):
    board.set_values([300, 200, 100, 0])
    arr = open_array(board, gain=64)
    assert arr.read() == (150, 100, 50, 0)
    arr.power_down()
    assert board.sck_pin.state == 1
    assert all(chip.is_powered_down() for chip in board.chips)
    with pytest.raises(HX711ClosedError, match="power_up"):
        arr.read()
    arr.power_up()
    assert all(chip.power_downs == 1 for chip in board.chips)
    t_up = board.clock()
    assert arr.read() == (150, 100, 50, 0)
    assert arr.last_ready_ns - t_up >= 50 * MS  # settling after power-up was waited for
    assert arr.counters.frames_discarded == 0


def test_never_sleeps_while_sck_is_high(board):
    levels = []

    def watching_sleep(seconds):
        levels.append(board.sck_pin.state)
        board.sleep(seconds)

    arr = HX711Array(
        SCK, DOUTS, pin_factory=board.factory, clock_ns=board.clock, sleep=watching_sleep
    )
    board.chips[1].stuck_high()
    with pytest.raises(HX711TimeoutError):
        arr.read()
    board.clear_faults()
    for _ in range(5):
        arr.read()
    assert len(levels) > 100
    assert not any(levels)


# -- pins and setup errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sck", "douts", "message"),
    [
        (99, DOUTS, "GPIO 99 is not a valid BCM pin"),
        (5, (6, 13, 19, 28), "GPIO 28 is not a valid BCM pin"),
        (-1, DOUTS, "GPIO -1 is not a valid BCM pin"),
        (5, (6, 13, 13, 26), "GPIO 13 is used twice"),
        (6, DOUTS, "GPIO 6 is used twice: SCK and DOUT of cell 0"),
        (True, DOUTS, "not a BCM GPIO number"),
        ("GPIO5", DOUTS, "not a BCM GPIO number"),
        (5.0, DOUTS, "not a BCM GPIO number"),
        (5, (), "no DOUT pins"),
    ],
)
def test_bad_pins_are_one_clear_setup_error(sck, douts, message):
    with pytest.raises(HX711SetupError, match=message):
        HX711Array(sck, douts, pin_factory=MockFactory())


def test_numpy_pin_numbers_are_accepted():
    import numpy as np

    board = virtual_board()
    arr = HX711Array(np.int64(SCK), np.array(DOUTS), pin_factory=board.factory)
    assert arr.sck == SCK and arr.douts == DOUTS
    assert all(type(p) is int for p in (arr.sck, *arr.douts))
    arr.close()


def test_setup_error_is_a_board_spec_error():
    assert issubclass(HX711SetupError, BoardSpecError)


def test_pins_in_use_are_refused_until_released(board):
    first = open_array(board)
    with pytest.raises(HX711SetupError, match="already in use by <HX711 driver: SCK GPIO5"):
        open_array(board)
    first.close()
    second = open_array(board)
    second.close()


def test_pin_held_by_a_gpiozero_device_is_refused():
    factory = MockFactory()
    led = LED(5, pin_factory=factory)
    with pytest.raises(HX711SetupError, match="GPIO5 is already in use"):
        HX711Array(5, DOUTS, pin_factory=factory)
    led.close()
    HX711Array(5, DOUTS, pin_factory=factory).close()


def test_plain_mock_pins_read_as_unplugged():
    """Unemulated pins float; the pull-up the driver enables makes them read not-ready."""
    clock = ManualClock()
    arr = HX711Array(SCK, DOUTS, pin_factory=MockFactory(), clock_ns=clock, sleep=clock.sleep)
    with pytest.raises(HX711TimeoutError, match=r"cells 0 .*3 \(DOUT GPIO26\)"):
        arr.read()


def test_no_pin_factory_off_a_pi_says_what_to_do(monkeypatch, tmp_path):
    from station.board import hx711_lgpio

    monkeypatch.setattr(hx711_lgpio, "DEVICE_TREE_MODEL", tmp_path / "model")
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    with pytest.raises(HX711SetupError, match=r"no Raspberry Pi GPIO here.*--board emulator"):
        HX711Array(SCK, DOUTS)


def test_close_is_idempotent_and_read_after_close_raises(board, array):
    array.close()
    array.close()
    with pytest.raises(HX711ClosedError):
        array.read()


# -- statistics ---------------------------------------------------------------------------


def test_pulse_stats_summary():
    stats = PulseStats()
    stats.add([1_500, 2_500, 2_600, 70_000])
    s = stats.summary()
    assert s["pulses"] == 4 and s["over_50us"] == 1
    assert s["max_us"] == 70.0
    assert s["p50_us_le"] == 3.0
    assert s["mean_us"] == pytest.approx((1.5 + 2.5 + 2.6 + 70) / 4)


def test_driver_records_every_pulse(board, array):
    array.read()
    array.read()
    assert array.pulse_stats.count == 3 * 25  # priming + 2 frames


# -- the board source ---------------------------------------------------------------------


def make_source(board: EmulatedHX711Board) -> HX711Source:
    return HX711Source(
        SCK, DOUTS, pin_factory=board.factory, clock_ns=board.clock, sleep=board.sleep
    )


def test_source_returns_frames_stamped_when_ready(board):
    board.set_values([1, 2, 3, 4])
    src = make_source(board)
    assert src.kind == "hx711"
    frame = src.read()
    assert isinstance(frame, Frame) and frame.valid
    assert frame.counts == (1, 2, 3, 4)
    assert frame.t_ns == src.array.last_ready_ns
    src.close()


def test_source_turns_errors_into_flagged_frames(board):
    board.set_values([1, 2, 3, 4])
    src = make_source(board)
    src.read()
    board.chips[2].stuck_high()
    frame = src.read()
    assert frame.flags == FrameFlag.TIMEOUT and frame.bad_cells == 0b0100
    assert frame.counts == (0, 0, 0, 0)
    board.clear_faults()
    board.chips[0].saturate()
    frame = src.read()
    assert frame.flags == FrameFlag.SATURATED and frame.bad_cells == 0b0001
    board.clear_faults()
    assert src.read().counts == (1, 2, 3, 4)
    assert src.counters.frames_ok == 2 and src.counters.frames_discarded == 2
    src.close()
    with pytest.raises(HX711ClosedError):
        src.read()


def test_source_needs_four_cells(board):
    with pytest.raises(HX711SetupError, match="give 4 DOUT pins"):
        HX711Source(SCK, DOUTS[:3], pin_factory=board.factory)


def test_open_board_hx711_off_a_pi_is_a_clear_error(monkeypatch, tmp_path):
    from station.board import hx711_lgpio

    monkeypatch.setattr(hx711_lgpio, "DEVICE_TREE_MODEL", tmp_path / "model")
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    with pytest.raises(BoardSpecError, match="no Raspberry Pi GPIO here"):
        open_board(BoardOptions(spec="hx711"))


# -- real time ----------------------------------------------------------------------------


def test_real_clock_slow_pulse_is_caught_by_the_drivers_own_timer():
    """Real perf_counter timing: the emulator holds SCK high >= 100 us in real time, so the
    check cannot miss it whatever the load (host noise can only add spurious flags, which
    the loop below tolerates before the injection)."""
    board = EmulatedHX711Board(SCK, DOUTS, always_ready=True, clock=time.monotonic_ns)
    board.set_values([11, 22, 33, 44])
    src = HX711Source(SCK, DOUTS, pin_factory=board.factory)
    deadline = time.monotonic() + 10.0  # a loaded host may flag many frames in a row
    while True:
        frame = src.read()
        if frame.valid or time.monotonic() > deadline:
            break
    assert frame.counts == (11, 22, 33, 44)
    assert abs(frame.t_ns - time.monotonic_ns()) < 1_000_000_000  # monotonic_ns stamps
    downs_before = [chip.power_downs for chip in board.chips]
    board.slow_pulse(high_ns=100 * US, at_pulse=5)
    frame = src.read()
    assert frame.flags & FrameFlag.SLOW_PULSE
    assert src.array.last_max_high_ns >= 100 * US
    # The emulator's real clock saw the long pulse too: every chip powered down.
    assert all(c.power_downs > n for c, n in zip(board.chips, downs_before, strict=True))
    src.close()


def test_any_number_of_chips():
    single = EmulatedHX711Board(SCK, (6,), clock=ManualClock())
    single.chips[0].set_value(-77)
    arr = HX711Array(
        SCK, (6,), pin_factory=single.factory, clock_ns=single.clock, sleep=single.sleep
    )
    assert arr.read() == (-77,)


def test_unknown_backend_name_is_a_setup_error(board):
    with pytest.raises(HX711SetupError, match="unknown HX711 backend 'rpigpio'"):
        open_array(board, backend="rpigpio")


def test_chips_on_different_oscillators_still_give_whole_frames():
    """Real chips run at ~80-93 SPS each: every frame waits for all four, none is partial."""
    board = EmulatedHX711Board(
        SCK,
        DOUTS,
        clock=ManualClock(),
        rate_hz=(80, 85, 90, 93),
        phases_ns=(0, 4 * MS, 7 * MS, 1 * MS),
    )
    arr = open_array(board)
    stamps = []
    for k in range(40):
        values = (k, -k, 2 * k, -2 * k)
        board.set_values(values)
        assert arr.read() == values
        stamps.append(arr.last_ready_ns)
    # The frame rate follows the slowest chip (80 SPS, 12.5 ms); 1 ms polls blur each stamp.
    mean_gap = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    assert 12.4 * MS <= mean_gap <= 13.5 * MS
    assert arr.counters.frames_discarded == 0
