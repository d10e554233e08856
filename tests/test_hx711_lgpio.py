"""The raw lgpio backend, run off a Pi through a fake `lgpio` wired to the emulator."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from station.board import hx711_lgpio
from station.board.emulator import EmulatedHX711Board, FakeLgpio, ManualClock
from station.board.hx711 import HX711Array
from station.board.hx711_lgpio import LgpioBackend, detect_pi_model, find_header_gpiochip
from station.board.hx711_protocol import HX711IntegrityError, HX711SetupError, HX711TimeoutError
from station.board.oscillator import ChipClocks
from station.frames import FrameFlag

SCK, DOUTS = 5, (6, 13, 19, 26)
US = 1_000


def dev_dir(tmp_path: Path, *chips: int) -> Path:
    d = tmp_path / "dev"
    d.mkdir()
    for n in chips:
        (d / f"gpiochip{n}").touch()
    (d / "gpiochip_not_a_chip").touch()
    return d


@pytest.fixture
def pi(monkeypatch, tmp_path):
    """A fake Raspberry Pi 4: device-tree model, /dev/gpiochip0, lgpio importable."""
    board = EmulatedHX711Board(SCK, DOUTS, clock=ManualClock())
    lg = FakeLgpio(board)
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\x00")
    monkeypatch.setattr(hx711_lgpio, "DEVICE_TREE_MODEL", model)
    monkeypatch.setattr(hx711_lgpio, "DEV_DIR", dev_dir(tmp_path, 0, 1))
    monkeypatch.setitem(sys.modules, "lgpio", lg)
    lg.chip_labels = {0: "pinctrl-bcm2711", 1: "raspberrypi-exp-gpio"}
    return board, lg


def open_array(board: EmulatedHX711Board, **kwargs) -> HX711Array:
    return HX711Array(SCK, DOUTS, clock_ns=board.clock, sleep=board.sleep, **kwargs)


def calls_without_handle(lg: FakeLgpio) -> list[tuple]:
    return [(c[0], *c[2:]) for c in lg.calls]


def test_detect_pi_model(tmp_path):
    f = tmp_path / "model"
    f.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    assert detect_pi_model(f) == "Raspberry Pi 5 Model B Rev 1.0"
    f.write_bytes(b"Some Other Board\x00")
    assert detect_pi_model(f) is None
    assert detect_pi_model(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({0: "gpio-brcmstb@107d508500", 1: "gpio-brcmstb@107d517c00", 4: "pinctrl-rp1"}, 4),
        ({0: "pinctrl-rp1", 10: "gpio-brcmstb@107d508500"}, 0),  # Pi 5, kernel >= 6.6.45
        ({0: "pinctrl-bcm2711", 1: "raspberrypi-exp-gpio"}, 0),  # Pi 4
        ({0: "pinctrl-bcm2835"}, 0),  # Pi 3 and older
    ],
)
def test_finds_the_header_gpiochip_by_label(tmp_path, labels, expected):
    lg = FakeLgpio(EmulatedHX711Board(clock=ManualClock()), chip_labels=labels)
    assert find_header_gpiochip(lg, dev_dir(tmp_path, *labels)) == expected
    assert not lg.open_handles  # every probe handle was closed


def test_no_gpiochip_is_a_setup_error(tmp_path):
    lg = FakeLgpio(EmulatedHX711Board(clock=ManualClock()))
    with pytest.raises(HX711SetupError, match="no GPIO chip found"):
        find_header_gpiochip(lg, dev_dir(tmp_path))


def test_unopenable_gpiochips_ask_for_the_gpio_group(tmp_path):
    lg = FakeLgpio(EmulatedHX711Board(clock=ManualClock()), chip_labels={})
    with pytest.raises(HX711SetupError, match="'gpio' group"):
        find_header_gpiochip(lg, dev_dir(tmp_path, 0))


def test_auto_selects_lgpio_on_a_pi_and_reads_bit_exact(pi):
    board, lg = pi
    board.set_values([0x7FFFFE, -0x7FFFFF, 12345, -1])
    arr = open_array(board, max_step_counts=None)
    assert arr.backend_name == "lgpio"
    assert arr.read() == (0x7FFFFE, -0x7FFFFF, 12345, -1)
    assert ("gpio_claim_output", SCK, 0, 0) in calls_without_handle(lg)
    assert ("group_claim_input", list(DOUTS), FakeLgpio.SET_PULL_UP) in calls_without_handle(lg)
    reads_before, writes_before = lg.group_reads, lg.writes
    board.set_values([1, 2, 3, 4])
    assert arr.read() == (1, 2, 3, 4)
    # One group read per data pulse plus the after-frame check and the ready poll(s);
    # two writes per pulse.
    assert lg.writes - writes_before == 2 * 25
    assert 24 + 1 + 1 <= lg.group_reads - reads_before <= 24 + 1 + 20
    arr.close()
    assert ("group_free", DOUTS[0]) in calls_without_handle(lg)
    assert ("gpio_free", SCK) in calls_without_handle(lg)
    assert not lg.open_handles and not lg.claimed


def test_lgpio_gain_pulses(pi):
    board, lg = pi
    board.set_values([4000] * 4)
    arr = open_array(board, gain=64)
    assert arr.read() == (2000,) * 4
    writes = lg.writes
    arr.read()
    assert lg.writes - writes == 2 * 27
    assert all(chip.last_pulse_count == 27 for chip in board.chips)


def test_lgpio_faults_are_flagged(pi):
    board, _ = pi
    arr = open_array(board)
    arr.read()
    board.chips[3].stuck_high()
    with pytest.raises(HX711TimeoutError, match=r"cell 3 \(DOUT GPIO26\)"):
        arr.read()
    board.clear_faults()
    board.slow_pulse(high_ns=70 * US, at_pulse=3)
    with pytest.raises(HX711IntegrityError) as info:
        arr.read()
    assert info.value.flag == FrameFlag.SLOW_PULSE
    board.chips[0].stuck_low()
    with pytest.raises(HX711IntegrityError, match="cell 0"):
        arr.read()
    board.clear_faults()
    arr.read()
    assert arr.counters.frames_ok == 2
    assert (arr.counters.timeout, arr.counters.slow_pulse, arr.counters.dout_not_high) == (1, 1, 1)


def test_group_read_may_return_a_plain_int(pi):
    """Older lgpio builds return the bits alone; both forms are accepted."""
    board, lg = pi
    real = lg.group_read
    lg.group_read = lambda h, g: real(h, g)[1]
    board.set_values([7, 8, 9, 10])
    assert open_array(board).read() == (7, 8, 9, 10)


def test_lgpio_missing_on_a_pi(pi, monkeypatch):
    monkeypatch.setitem(sys.modules, "lgpio", None)  # import lgpio -> ImportError
    with pytest.raises(
        HX711SetupError, match=r"lgpio is not installed: pip install 'balance-station\[pi\]'"
    ):
        open_array(pi[0])


def test_busy_pin_is_a_setup_error_and_releases_everything(pi):
    board, lg = pi
    lg.busy = {19}
    with pytest.raises(HX711SetupError, match="DOUT GPIO 6, 13, 19, 26 is busy") as info:
        open_array(board)
    assert "overlay" in str(info.value)
    assert not lg.open_handles and not lg.claimed
    lg.busy = {SCK}
    with pytest.raises(HX711SetupError, match=r"GPIO 5 \(SCK\) is busy"):
        open_array(board)
    assert not lg.open_handles and not lg.claimed


def test_second_driver_on_the_same_pins_is_refused(pi):
    board, _ = pi
    first = open_array(board)
    with pytest.raises(HX711SetupError, match="busy"):
        open_array(board)
    first.close()
    open_array(board).close()


def test_unopenable_chip_is_a_setup_error(pi):
    _board, lg = pi
    with pytest.raises(HX711SetupError, match=r"cannot open /dev/gpiochip7.*'gpio' group"):
        LgpioBackend(SCK, DOUTS, gpiochip=7, lgpio=lg)


def test_explicit_lgpio_backend_off_a_pi_uses_the_given_chip(pi, monkeypatch, tmp_path):
    board, _lg = pi
    monkeypatch.setattr(hx711_lgpio, "DEVICE_TREE_MODEL", tmp_path / "nothing")
    board.set_values([3, 2, 1, 0])
    arr = open_array(board, backend="lgpio")
    assert arr.backend_name == "lgpio" and arr.read() == (3, 2, 1, 0)


def test_lgpio_import_retried_from_a_writable_directory(pi, monkeypatch, tmp_path):
    """lgpio opens a pipe in the cwd at import; an unwritable cwd must not stop the station."""
    _board, lg = pi
    cwds = []

    def import_module(name):
        cwds.append(os.getcwd())
        if len(cwds) == 1:
            raise FileNotFoundError(2, "No such file or directory", ".lgd-nfy-3")
        return lg

    monkeypatch.setattr(hx711_lgpio.importlib, "import_module", import_module)
    monkeypatch.setattr(hx711_lgpio.tempfile, "gettempdir", lambda: str(tmp_path))
    here = os.getcwd()
    assert hx711_lgpio.import_lgpio() is lg
    assert cwds == [here, str(tmp_path)] and os.getcwd() == here


def test_lgpio_import_failing_twice_is_a_setup_error(pi, monkeypatch):
    def import_module(name):
        raise PermissionError(13, "Permission denied", ".lgd-nfy0")

    monkeypatch.setattr(hx711_lgpio.importlib, "import_module", import_module)
    with pytest.raises(HX711SetupError, match="writable working directory"):
        open_array(pi[0])


# -- DOUT edge timestamps from lgpio alerts ----------------------------------------------


def alert_array(board, lg, **kwargs) -> HX711Array:
    backend = LgpioBackend(
        SCK, DOUTS, gpiochip=0, lgpio=lg, dout_alerts=True,
        realtime_offset_ns=lambda: lg.epoch_offset_ns,
    )
    return HX711Array(SCK, DOUTS, backend=backend, clock_ns=board.clock, sleep=board.sleep,
                      **kwargs)


def timing_errors(arr: HX711Array, board: EmulatedHX711Board, frames: int) -> list[int]:
    errors = []
    for _ in range(frames):
        arr.read()
        if arr.last_cell_dt_ns is not None:
            truth = board.latched_conversions_ns()
            errors += [abs(arr.last_ready_ns + d - t)
                       for d, t in zip(arr.last_cell_dt_ns, truth, strict=True)]
    return errors


def test_alerts_claim_each_dout_and_pin_edges_to_the_kernel_timestamps():
    board = EmulatedHX711Board(SCK, DOUTS, clock=ManualClock(), clocks=ChipClocks.internal(seed=1))
    lg = FakeLgpio(board)
    arr = alert_array(board, lg)
    board.set_values([10, -20, 30, -40])
    assert arr.read() == (10, -20, 30, -40)  # bit exact through four gpio_read per pulse
    calls = calls_without_handle(lg)
    for gpio in DOUTS:
        assert ("gpio_claim_alert", gpio, FakeLgpio.FALLING_EDGE, FakeLgpio.SET_PULL_UP) in calls
        assert ("callback", gpio, FakeLgpio.FALLING_EDGE) in calls
    assert not any(c[0] == "group_claim_input" for c in calls)
    errors = timing_errors(arr, board, 300)
    assert lg.alerts_sent > 300 * 4  # data bits' edges are reported too, and ignored
    assert max(errors[40:]) <= 1 * US  # each edge known to the nanosecond
    arr.close()
    assert not lg.claimed and not lg.open_handles and not lg._callbacks


def test_late_alerts_fall_back_to_the_polls():
    board = EmulatedHX711Board(SCK, DOUTS, clock=ManualClock(), clocks=ChipClocks.internal(seed=2))
    lg = FakeLgpio(board, alert_latency_ns=3 * 1_000_000)  # reports arrive after the read
    arr = alert_array(board, lg)
    errors = timing_errors(arr, board, 300)
    assert sorted(errors)[int(0.95 * len(errors))] <= 300 * US


def test_alerts_need_the_lgpio_backend():
    board = EmulatedHX711Board(SCK, DOUTS, clock=ManualClock())
    with pytest.raises(HX711SetupError, match="needs the lgpio backend"):
        HX711Array(SCK, DOUTS, pin_factory=board.factory, dout_edges="alerts")
    with pytest.raises(HX711SetupError, match="unknown dout_edges"):
        HX711Array(SCK, DOUTS, pin_factory=board.factory, dout_edges="irq")


def test_auto_backend_on_a_pi_takes_alerts_when_asked(pi):
    board, lg = pi
    board.set_values([5, 6, 7, 8])
    arr = open_array(board, dout_edges="alerts")
    assert arr.read() == (5, 6, 7, 8)
    assert any(c[0] == "gpio_claim_alert" for c in lg.calls)
    arr.close()
