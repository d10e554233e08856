"""What a board is, before one is opened: the kinds, their spec syntax, default pins, errors.

A leaf (it imports nothing of the board's sources), so the driver, the simulator, the config
validation and the web can all ask "which kinds exist, which are simulated" in one place.
`station.board.factory` opens the source a spec names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_SCK = 5  # BCM GPIO of the shared clock line (header pin 29)
DEFAULT_DOUTS = (6, 13, 19, 26)  # BCM GPIO of the four DOUT lines (header pins 31, 33, 35, 37)


@dataclass(frozen=True)
class BoardKind:
    """One kind of board source and how people name it."""

    name: str
    simulated: bool  # nobody stands on it: the simulated athlete's actions apply
    takes_file: bool = False  # spec is `name:FILE`
    summary: str = ""


BOARD_KINDS: dict[str, BoardKind] = {
    kind.name: kind
    for kind in (
        BoardKind("sim", simulated=True, summary="simulated athlete on a simulated board"),
        BoardKind("emulator", simulated=True,
                  summary="the simulated board through the GPIO-level HX711 emulator and driver"),
        BoardKind("hx711", simulated=False, summary="four HX711 chips on the Pi's GPIO"),
        BoardKind("replay", simulated=False, takes_file=True, summary="a raw recording (CSV)"),
    )
}
SPEC_HELP = "sim, emulator, hx711 or replay:FILE"


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
    shared_clock: bool = False  # the four HX711 on one clock (hardware/shared-clock.md)


def board_kind(spec: str) -> str:
    """The kind part of a spec ('replay:x.csv' -> 'replay')."""
    return spec.split(":", 1)[0]


def check_spec(spec: str) -> BoardKind:
    """The kind a spec names, or BoardSpecError saying what would be valid."""
    kind = BOARD_KINDS.get(board_kind(spec))
    if kind is None:
        raise BoardSpecError(f"unknown board {spec!r}: use {SPEC_HELP}")
    if kind.takes_file and not spec.partition(":")[2]:
        raise BoardSpecError(f"{kind.name} needs a file: --board {kind.name}:FILE.csv")
    return kind


def is_simulated(spec_or_kind: str) -> bool:
    """True for boards nobody stands on (sim, emulator): demo and sim actions apply."""
    kind = BOARD_KINDS.get(board_kind(spec_or_kind))
    return kind is not None and kind.simulated
