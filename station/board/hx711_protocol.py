"""The HX711's protocol facts and the driver's errors: a leaf both GPIO backends share.

Datasheet facts (Avia Semiconductor HX711, rev. 2.0): 24 data bits, MSB first, two's
complement; 25/26/27 SCK pulses select the next conversion's channel and gain; SCK high for
more than 60 us powers the chip down (we allow 50 us); 0x7FFFFF / 0x800000 are the saturation
codes. The errors carry the frame flag and the cells concerned, so a source builds a flagged
Frame from any of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from station.board.spec import BoardSpecError
from station.frames import FrameFlag

GAIN_PULSES = {128: 25, 32: 26, 64: 27}
DATA_BITS = 24
MAX_SCK_HIGH_NS = 50_000
SATURATION_CODES = frozenset({0x7FFFFF, 0x800000})
HEADER_GPIOS = range(28)  # BCM GPIO numbers on the 40-pin header


# -- errors -------------------------------------------------------------------------------


class HX711Error(Exception):
    """Base of every driver error. `flag` and `cells` let a source build a flagged Frame."""

    def __init__(
        self, message: str, flag: FrameFlag = FrameFlag.SOURCE_ERROR, cells: Sequence[int] = ()
    ) -> None:
        super().__init__(message)
        self.flag = FrameFlag(flag)
        self.cells = tuple(sorted(set(cells)))

    @property
    def bad_cells(self) -> int:
        """The cells as a Frame.bad_cells bit mask."""
        mask = 0
        for i in self.cells:
            mask |= 1 << i
        return mask


class HX711SetupError(HX711Error, BoardSpecError):
    """The pins or the GPIO backend cannot be used; the message says what to fix."""


class HX711ClosedError(HX711Error):
    """read() on a closed or powered-down array: a programming error, not bad data."""


class HX711TimeoutError(HX711Error):
    """One or more chips never signalled ready (DOUT stayed high)."""

    def __init__(self, cells: Sequence[int], douts: Sequence[int], timeout_s: float) -> None:
        cells = sorted(cells)
        names = ", ".join(f"{i} (DOUT GPIO{douts[i]})" for i in cells)
        noun = "cell" if len(cells) == 1 else "cells"
        super().__init__(
            f"{noun} {names} not ready after {timeout_s * 1000:.0f} ms: unplugged or unpowered?",
            FrameFlag.TIMEOUT,
            cells,
        )


class HX711IntegrityError(HX711Error):
    """A clocked frame failed a check (DOUT not high, saturation, slow pulse, spike)."""

    def __init__(self, flag: FrameFlag, cells: Sequence[int], detail: str) -> None:
        super().__init__(f"frame discarded: {detail}", flag, cells)


class HX711BackendError(HX711Error):
    """A GPIO call failed in the middle of a read."""
