"""Open a board source from its command-line spec: `sim`, `hx711`, `emulator`, `replay:FILE`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from station.frames import BoardSource

DEFAULT_SCK = 5
DEFAULT_DOUTS = (6, 13, 19, 26)


class BoardSpecError(ValueError):
    """The --board value (or its pins) cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class BoardOptions:
    """Everything needed to open any board kind."""

    spec: str = "sim"
    realtime: bool = True
    demo: bool = False
    seed: int | None = None
    sck: int = DEFAULT_SCK
    douts: Sequence[int] = DEFAULT_DOUTS
    gain: int = 128


def board_kind(spec: str) -> str:
    """The kind part of a spec ('replay:x.csv' -> 'replay')."""
    return spec.split(":", 1)[0]


def open_board(options: BoardOptions) -> BoardSource:
    """Create the board source named by `options.spec`."""
    kind = board_kind(options.spec)
    if kind == "sim":
        from station.board.sim import SimulatedBoard

        return SimulatedBoard(realtime=options.realtime, demo=options.demo, seed=options.seed)
    if kind == "emulator":
        from station.board.sim import SimulatedBoard

        return SimulatedBoard(
            realtime=options.realtime, demo=options.demo, seed=options.seed, through_gpio=True
        )
    if kind == "hx711":
        from station.board.hx711 import HX711Source

        return HX711Source(sck=options.sck, douts=options.douts, gain=options.gain)
    if kind == "replay":
        path = options.spec.partition(":")[2]
        if not path:
            raise BoardSpecError("replay needs a file: --board replay:FILE.csv")
        from station.board.replay import ReplaySource

        return ReplaySource(path, realtime=options.realtime)
    raise BoardSpecError(
        f"unknown board {options.spec!r}: use sim, emulator, hx711 or replay:FILE"
    )
