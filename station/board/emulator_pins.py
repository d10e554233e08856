"""gpiozero mock pins wired to an `EmulatedHX711Board`: the emulator as a gpiozero pin factory.

Kept apart from the chip model so that what drives the chips through `FakeLgpio` (the
acquisition process on `--board emulator`) imports no gpiozero; the tests and tools that
use `HX711Array(pin_factory=board.factory)` get these through `EmulatedHX711Board.factory`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpiozero.pins.mock import MockFactory, MockPin

if TYPE_CHECKING:
    from station.board.emulator import EmulatedHX711Board, HX711ChipModel


class EmulatedSCKPin(MockPin):
    """The shared clock line: each level change is passed to every chip of the board."""

    def __init__(self, factory: MockFactory, info: object, board: EmulatedHX711Board) -> None:
        self.board = board
        super().__init__(factory, info)

    def _change_state(self, value: bool) -> bool:
        # No per-change history (MockPin keeps one): a long sim run would grow it forever.
        if self._state == value:
            return False
        self._state = value
        self.board.sck_edge(value)
        return True


class EmulatedDOUTPin(MockPin):
    """A DOUT line whose level is whatever its chip drives (pull resistors are ignored)."""

    def __init__(self, factory: MockFactory, info: object, chip: HX711ChipModel) -> None:
        self.chip = chip
        super().__init__(factory, info)

    def _change_state(self, value: bool) -> bool:
        return False  # the chip drives the line; a pull-up cannot change it

    def _get_state(self) -> int:
        chip = self.chip
        return chip.dout(chip.clock())


class MockPins:
    """A MockFactory with the board's SCK pin and one DOUT pin per chip."""

    def __init__(self, board: EmulatedHX711Board, revision: str | None = None) -> None:
        self.factory = MockFactory(revision=revision)
        self.sck: Any = self.factory.pin(board.sck, pin_class=EmulatedSCKPin, board=board)
        self.douts: list[Any] = [
            self.factory.pin(d, pin_class=EmulatedDOUTPin, chip=chip)
            for d, chip in zip(board.douts, board.chips, strict=True)
        ]
