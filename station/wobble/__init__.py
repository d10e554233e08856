"""The wobble board as a measured instrument: its profile and its set-up (a shared currency).

The simulator rolls it, the analysis turns the COP into tilt, the hold engine watches its rim,
the CLI reads files with it: all of them describe the board with these values.
"""

from __future__ import annotations

from station.wobble.profiles import (
    DEFAULT_BOARD,
    RIM_MIN_FRAMES,
    BoardProfileError,
    WobbleBoard,
    board_from_dict,
    dome_board,
    load_boards,
    max_tilt_from_rim,
    preset,
    preset_names,
    presets,
    resolve_board,
)
from station.wobble.setup import (
    COM_HEIGHT_MM,
    SURFACE_HEIGHT_MM,
    SetupRefused,
    WobbleSetup,
    default_setup,
)

__all__ = [
    "COM_HEIGHT_MM",
    "DEFAULT_BOARD",
    "RIM_MIN_FRAMES",
    "SURFACE_HEIGHT_MM",
    "BoardProfileError",
    "SetupRefused",
    "WobbleBoard",
    "WobbleSetup",
    "board_from_dict",
    "default_setup",
    "dome_board",
    "load_boards",
    "max_tilt_from_rim",
    "preset",
    "preset_names",
    "presets",
    "resolve_board",
]
