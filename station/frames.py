"""The one currency of the acquisition path: a frame of four raw HX711 counts.

Every board source (the HX711 driver, the GPIO-level emulator, the simulated
athlete, a replayed recording) yields `Frame`s, so everything downstream is
written once and tested on any of them.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import NamedTuple

N_CELLS = 4
COUNTS_MIN = -(1 << 23)
COUNTS_MAX = (1 << 23) - 1


class FrameFlag(enum.IntFlag):
    """Why a frame was discarded. A frame with no flag set is valid data."""

    OK = 0
    TIMEOUT = 1  # a chip never signalled ready (DOUT stayed high)
    DOUT_NOT_HIGH = 2  # a DOUT line was not high after the gain pulses (integrity)
    SATURATED = 4  # a chip returned 0x7FFFFF or 0x800000
    SLOW_PULSE = 8  # an SCK high time exceeded 50 us (the chip may have powered down)
    SPIKE = 16  # a sample rejected as a physically impossible jump
    SOURCE_ERROR = 32  # any other source failure (replay file error, backend error)


class Frame(NamedTuple):
    """One synchronized conversion of the four cells.

    t_ns: monotonic timestamp in nanoseconds (the station's clock for live
    sources; the simulated clock for fast offline simulation).
    counts: four signed 24-bit counts in cell order c0..c3 (all zero when invalid).
    flags: FrameFlag bits; 0 means valid.
    bad_cells: bit i set when cell i caused the failure (0 when valid or unknown).
    cell_dt_ns: when each cell's conversion completed, as four offsets in ns from t_ns
    (usually <= 0: the chips converted before the frame was read); None when unknown, which
    means "treat the four as simultaneous" (old recordings, sources that cannot tell).
    """

    t_ns: int
    counts: tuple[int, int, int, int]
    flags: int = 0
    bad_cells: int = 0
    cell_dt_ns: tuple[int, int, int, int] | None = None

    @property
    def valid(self) -> bool:
        return self.flags == 0


def bad_cell_indices(mask: int) -> list[int]:
    """Cell indices named by a `bad_cells` bit mask."""
    return [i for i in range(N_CELLS) if mask & (1 << i)]


class BoardSource(ABC):
    """A source of frames. `read()` blocks until the next frame is due.

    Live sources (hardware, real-time simulation, paced replay) return frames at
    their sample rate; offline sources return them as fast as they can.
    `read()` returns invalid frames (flags set) instead of raising, so the
    acquisition loop counts them; it raises `EOFError` when a finite source ends.
    """

    kind: str = "abstract"
    nominal_rate_hz: float = 80.0

    @abstractmethod
    def read(self) -> Frame:
        """Return the next frame (valid or flagged)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release pins, files or threads."""

    def __iter__(self) -> Iterator[Frame]:
        while True:
            try:
                yield self.read()
            except EOFError:
                return

    def __enter__(self) -> BoardSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
