"""Raw lgpio backend for the HX711 driver: the fast path on a Raspberry Pi (Pi 5 included).

Why raw lgpio: one `gpio_write` per clock edge and one `group_read` per pulse reading all four
DOUT lines at once, with no gpiozero layers in between, keeps the SCK high time to a few
microseconds (the chips power down above 60 us). RPi.GPIO and pigpio do not work on a Pi 5.

`lgpio` is imported lazily (it exists only on the Pi: `pip install 'balance-station[pi]'`).
The gpiochip holding the 40-pin header is found by its label: "pinctrl-rp1" on a Pi 5
(gpiochip4 on kernels before 6.6.45, gpiochip0 after), "pinctrl-bcm2711" on a Pi 4,
"pinctrl-bcm2835" on older models.

When each DOUT fell (the per-cell timing, see `station.board.cell_clock`): the driver's own
polls are the default here too, fine (50 us) only around the edges the clock model predicts;
with the model that is tens of microseconds, well inside what alignment needs. lgpio's
line-event alerts (`dout_alerts=True`) give the kernel's timestamp of every edge instead,
which is better when the Pi is so loaded that the polls wake late, but costs: each DOUT must
then be claimed alone (four `gpio_read` per pulse instead of one `group_read`), lgpio stamps
alerts on CLOCK_REALTIME (mapped here to the monotonic frame clock, so an NTP step may move
them: a stamp outside the poll bracket is ignored), and every data bit's falling edge is
reported too, ~100 per frame through lgpio's notification thread, which competes for the
GIL with the bit-banging loop whose SCK high time must stay under 50 us. So polling is what
the station uses; alerts are there to try on a loaded Pi (`doctor` shows the skew either way).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from station.board.hx711_protocol import DATA_BITS, HX711SetupError

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
DEV_DIR = Path("/dev")
HEADER_CHIP_LABELS = ("pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835")


def detect_pi_model(path: Path | None = None) -> str | None:
    """'Raspberry Pi 5 Model B Rev 1.0' on a Pi, None anywhere else."""
    path = DEVICE_TREE_MODEL if path is None else path
    try:
        model = path.read_bytes().decode("ascii", "replace").strip("\x00\n ")
    except OSError:
        return None
    return model if model.startswith("Raspberry Pi") else None


def import_lgpio() -> ModuleType:
    """Import lgpio, which opens a notification pipe `.lgd-nfy*` in the working directory.

    A service started in an unwritable directory (e.g. `/`) fails that import with an
    OSError (gpiozero issue #1106); retry once from the temp directory before giving up.
    """
    try:
        return importlib.import_module("lgpio")
    except ImportError:
        raise HX711SetupError(
            "lgpio is not installed: pip install 'balance-station[pi]'"
            " (or apt install python3-lgpio)"
        ) from None
    except OSError as first:
        cwd = os.getcwd()
        try:
            os.chdir(tempfile.gettempdir())
            return importlib.import_module("lgpio")
        except Exception:
            raise HX711SetupError(
                f"lgpio failed to start ({first}): it needs a writable working directory; "
                f"{cwd} is not (set WorkingDirectory= in the systemd unit)"
            ) from None
        finally:
            os.chdir(cwd)


def _chip_numbers(dev_dir: Path) -> list[int]:
    numbers = []
    for entry in dev_dir.glob("gpiochip*"):
        m = re.fullmatch(r"gpiochip(\d+)", entry.name)
        if m:
            numbers.append(int(m.group(1)))
    return sorted(set(numbers))


def find_header_gpiochip(lgpio: Any, dev_dir: Path | None = None) -> int:
    """Number of the gpiochip that drives the 40-pin header."""
    dev_dir = DEV_DIR if dev_dir is None else dev_dir
    numbers = _chip_numbers(dev_dir)
    if not numbers:
        raise HX711SetupError(
            f"no GPIO chip found ({dev_dir}/gpiochip* missing): is this a Raspberry Pi?"
        )
    labels = {}
    for n in numbers:
        try:
            handle = lgpio.gpiochip_open(n)
        except lgpio.error:
            continue
        try:
            labels[n] = str(lgpio.gpio_get_chip_info(handle)[3])
        except lgpio.error:
            pass
        finally:
            lgpio.gpiochip_close(handle)
    for wanted in HEADER_CHIP_LABELS:
        for n, label in labels.items():
            if label == wanted:
                return n
    if not labels:
        raise HX711SetupError(
            f"cannot open any of {dev_dir}/gpiochip{numbers}: add the user to the 'gpio' group"
        )
    model = detect_pi_model() or ""
    if "Pi 5" in model and 4 in labels:
        return 4  # gpiozero's rule for a Pi 5 whose chip labels are unknown
    return 0 if 0 in labels else min(labels)


def _realtime_minus_monotonic_ns() -> int:
    return time.time_ns() - time.monotonic_ns()


class LgpioBackend:
    """SCK claimed as an output, the DOUT lines claimed as one input group (pull-ups on);
    with `dout_alerts`, each DOUT claimed alone for falling-edge alerts (see the module
    docstring) and `take_dout_falls()` gives their kernel timestamps."""

    name = "lgpio"

    def __init__(
        self,
        sck: int,
        douts: Sequence[int],
        *,
        gpiochip: int | None = None,
        lgpio: Any = None,
        dev_dir: Path | None = None,
        dout_alerts: bool = False,
        realtime_offset_ns: Callable[[], int] = _realtime_minus_monotonic_ns,
    ) -> None:
        lg = import_lgpio() if lgpio is None else lgpio
        self._lg = lg
        self._sck = sck
        self._douts = list(douts)
        self._leader = self._douts[0]
        self._handle: int | None = None
        self._sck_claimed = False
        self._group_claimed = False
        self._alerts = dout_alerts
        self._alert_claimed: list[int] = []
        self._callbacks: list[Any] = []
        self._falls: deque[tuple[int, int]] = deque(maxlen=4096)  # (gpio, realtime ns)
        self._cell_of = {g: i for i, g in enumerate(self._douts)}
        self._realtime_offset_ns = realtime_offset_ns
        chip = find_header_gpiochip(lg, dev_dir) if gpiochip is None else gpiochip
        self.gpiochip = chip
        try:
            self._handle = lg.gpiochip_open(chip)
        except lg.error as exc:
            raise HX711SetupError(
                f"cannot open /dev/gpiochip{chip} ({_text(exc)}): "
                "add the user to the 'gpio' group (or run on the Pi)"
            ) from None
        try:
            try:
                lg.gpio_claim_output(self._handle, sck, 0)
            except lg.error as exc:
                raise _claim_error(f"GPIO {sck} (SCK)", exc) from None
            self._sck_claimed = True
            pull_up = getattr(lg, "SET_PULL_UP", getattr(lg, "SET_BIAS_PULL_UP", 0))
            if dout_alerts:
                self._claim_alerts(pull_up)
            else:
                try:
                    lg.group_claim_input(self._handle, self._douts, pull_up)
                except lg.error as exc:
                    pins = ", ".join(str(d) for d in self._douts)
                    raise _claim_error(f"DOUT GPIO {pins}", exc) from None
                self._group_claimed = True
                first = lg.group_read(self._handle, self._leader)
                self._read_is_pair = not isinstance(first, int)  # lgpio returns [size, bits]
        except BaseException:
            self.close()
            raise

    def _claim_alerts(self, pull_up: int) -> None:
        lg = self._lg
        for gpio in self._douts:
            try:
                lg.gpio_claim_alert(self._handle, gpio, lg.FALLING_EDGE, pull_up)
            except lg.error as exc:
                raise _claim_error(f"DOUT GPIO {gpio} (alerts)", exc) from None
            self._alert_claimed.append(gpio)
            self._callbacks.append(lg.callback(self._handle, gpio, lg.FALLING_EDGE, self._on_fall))

    def _on_fall(self, chip: int, gpio: int, level: int, timestamp_ns: int) -> None:
        # lgpio's notification thread: a deque append only (thread-safe, no lock, no GIL hog).
        if level == 0:
            self._falls.append((gpio, timestamp_ns))

    def take_dout_falls(self) -> list[tuple[int, int]]:
        """DOUT falling edges reported since the last call: (cell, monotonic ns)."""
        falls = self._falls
        if not falls:
            return []
        offset = self._realtime_offset_ns()
        cell_of = self._cell_of
        out = []
        while falls:
            gpio, t = falls.popleft()
            out.append((cell_of.get(gpio, -1), t - offset))
        return out

    def set_sck(self, level: int) -> None:
        self._lg.gpio_write(self._handle, self._sck, level)

    def read_douts(self) -> int:
        if self._alerts:
            read, h = self._lg.gpio_read, self._handle
            bits = 0
            for i, gpio in enumerate(self._douts):
                if read(h, gpio):
                    bits |= 1 << i
            return bits
        r = self._lg.group_read(self._handle, self._leader)
        return r[1] if self._read_is_pair else r

    def clock_frame(
        self, n_pulses: int, timer: Callable[[], int], pulse_ns: list[int], words: list[int]
    ) -> int:
        lg = self._lg
        write = lg.gpio_write
        group_read = lg.group_read
        h, sck, leader = self._handle, self._sck, self._leader
        if self._alerts:
            read_douts = self.read_douts
            for k in range(DATA_BITS):
                t0 = timer()
                write(h, sck, 1)
                write(h, sck, 0)
                t1 = timer()
                pulse_ns[k] = t1 - t0
                words[k] = read_douts()
        elif self._read_is_pair:
            for k in range(DATA_BITS):
                t0 = timer()
                write(h, sck, 1)
                write(h, sck, 0)
                t1 = timer()
                pulse_ns[k] = t1 - t0
                words[k] = group_read(h, leader)[1]
        else:
            for k in range(DATA_BITS):
                t0 = timer()
                write(h, sck, 1)
                write(h, sck, 0)
                t1 = timer()
                pulse_ns[k] = t1 - t0
                words[k] = group_read(h, leader)
        for k in range(DATA_BITS, n_pulses):
            t0 = timer()
            write(h, sck, 1)
            write(h, sck, 0)
            t1 = timer()
            pulse_ns[k] = t1 - t0
        return self.read_douts()

    def close(self) -> None:
        lg = self._lg
        if self._handle is None:
            return
        for cb in self._callbacks:
            with contextlib.suppress(Exception):
                cb.cancel()
        self._callbacks = []
        for gpio in self._alert_claimed:
            with contextlib.suppress(lg.error):
                lg.gpio_free(self._handle, gpio)
        self._alert_claimed = []
        for claimed, free, pin in (
            (self._group_claimed, lg.group_free, self._leader),
            (self._sck_claimed, lg.gpio_free, self._sck),
        ):
            if claimed:
                with contextlib.suppress(lg.error):
                    free(self._handle, pin)
        self._group_claimed = self._sck_claimed = False
        with contextlib.suppress(lg.error):
            lg.gpiochip_close(self._handle)
        self._handle = None


def _text(exc: BaseException) -> str:
    value = getattr(exc, "value", None)
    return str(value) if value is not None else str(exc)


def _claim_error(what: str, exc: BaseException) -> HX711SetupError:
    text = _text(exc)
    if "busy" in text.lower() or "in use" in text.lower():
        return HX711SetupError(
            f"{what} is busy ({text}): another program or a device-tree overlay "
            "(1-wire, I2C, SPI, UART) holds it; stop it or pick other pins"
        )
    return HX711SetupError(f"cannot claim {what}: {text}")
