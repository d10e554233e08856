"""The full path: simulated counts fed to the GPIO-level HX711 emulator and read back by the
real driver (station.board.hx711), so the bit-banging code runs on every simulated frame."""

from __future__ import annotations

from station.frames import Frame


class GpioPath:
    def __init__(self, rate_hz: float = 80.0) -> None:
        raise NotImplementedError(
            "--board emulator (through_gpio=True) needs station/board/emulator.py and "
            "station/board/hx711.py, which are not available yet; use --board sim"
        )

    def read(self, t_ns: int, counts) -> Frame:  # pragma: no cover - see __init__
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover
        pass
