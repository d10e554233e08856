"""How one wobble board sits on this station's platform: the level point and the platform.

The board's profile says how it rolls; the set-up says where: the COP with the deck held
level (the level contact point), the height of the platform's top surface above the cells'
load axis (the friction force at the contact acts up there and shifts the COP by
F_h * d / F_z), and whether the zero was taken with the board on (then the deck's weight
must be added back, at the level point, to get the contact point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from station.wobble.profiles import DEFAULT_BOARD, BoardProfileError, WobbleBoard, preset

# Assumptions until the set-up measures them (docs/metrics.md section 11):
# a plate on top of bar or half-bridge cells puts its surface 20-40 mm above their load axis;
SURFACE_HEIGHT_MM = 30.0
# the body's centre of mass stands ~1.0 m above the deck, the deck ~50 mm above the platform.
COM_HEIGHT_MM = 1050.0


@dataclass(frozen=True)
class WobbleSetup:
    """A board on the platform: its profile, its level point (mm) and the platform's d."""

    board: WobbleBoard
    level_mm: tuple[float, float] = (0.0, 0.0)
    surface_height_mm: float = SURFACE_HEIGHT_MM
    deck_tared: bool = False  # the zero was taken with the deck on the platform
    com_height_mm: float = COM_HEIGHT_MM
    source: str = field(default="given", compare=False)  # "given" or "default"

    def __post_init__(self) -> None:
        x, y = self.level_mm
        if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > 500.0:
            raise BoardProfileError(f"level_mm: ({x:g}, {y:g}) is not a point on the platform")
        if not 0.0 <= self.surface_height_mm <= 200.0:
            raise BoardProfileError(
                f"surface_height_mm: {self.surface_height_mm:g} is outside 0..200 mm")
        if not 300.0 <= self.com_height_mm <= 2000.0:
            raise BoardProfileError(f"com_height_mm: {self.com_height_mm:g} is outside "
                                    "300..2000 mm")

    @property
    def deck_weight_n(self) -> float:
        return self.board.mass_kg * 9.80665

    def to_json(self) -> dict[str, object]:
        return {"board": self.board.to_json(), "level_mm": list(self.level_mm),
                "surface_height_mm": self.surface_height_mm, "deck_tared": self.deck_tared,
                "source": self.source}


def default_setup() -> WobbleSetup:
    """The station's default until a set-up is stored: the default preset, level at the centre."""
    return WobbleSetup(preset(DEFAULT_BOARD), source="default")
