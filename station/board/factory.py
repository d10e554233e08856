"""Open a board source from its spec (`sim`, `hx711`, `emulator`, `replay:FILE`).

The kinds themselves, default pins and BoardOptions live in `station.board.spec` (a leaf);
this module only knows how to build each source, importing it when it is asked for so the
acquisition process loads only the source it runs. `shared_clock` (the four HX711 on one
clock, hardware/shared-clock.md) makes the driver start the chips together, and the
simulated boards run their chips on one clock.
"""

from __future__ import annotations

from station.board.spec import BoardOptions, check_spec
from station.frames import BoardSource


def open_board(options: BoardOptions) -> BoardSource:
    """Create the board source named by `options.spec` (BoardSpecError if it names none)."""
    kind = check_spec(options.spec).name
    if kind in ("sim", "emulator"):
        from station.board.oscillator import ChipClocks
        from station.board.sim import SimulatedBoard

        return SimulatedBoard(
            realtime=options.realtime, demo=options.demo, seed=options.seed,
            through_gpio=kind == "emulator",
            chips=ChipClocks.shared_clock() if options.shared_clock else None,
        )
    if kind == "hx711":
        from station.board.hx711 import HX711Source

        return HX711Source(
            sck=options.sck, douts=options.douts, gain=options.gain,
            synchronized_start=options.shared_clock,
        )
    from station.board.replay import ReplaySource

    return ReplaySource(options.spec.partition(":")[2], realtime=options.realtime)
