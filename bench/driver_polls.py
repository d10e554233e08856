"""How the HX711 driver waits for DOUT: sleeps and polls per frame, in the emulator's virtual time.

`python bench/driver_polls.py [--frames 800]`

The driver must not spin between conversions (12.5 ms apart at 80 SPS): it sleeps until its
clock model's next predicted DOUT edge and polls every 50 us only around it. This runs the
real driver (`HX711Array`) on four emulated chips in virtual time (`ManualClock`: the
driver's sleeps advance the clock, so host load changes nothing), once with the chips on
their own oscillators (±3 %) and once on one shared clock, and counts per frame: sleeps, the
50 us fine polls among them, the 1 ms polls (a chip whose model is not sure yet), and the time
asleep. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.board.emulator import EmulatedHX711Board, ManualClock
from station.board.hx711 import FINE_POLL_S, POLL_INTERVAL_S, HX711Array
from station.board.oscillator import ChipClocks

SCK, DOUTS = 5, (6, 13, 19, 26)
WARM_UP_FRAMES = 200  # the clock models learn the chips first


def waits_per_frame(clocks: ChipClocks, frames: int) -> dict[str, float]:
    board = EmulatedHX711Board(SCK, DOUTS, clock=ManualClock(), clocks=clocks)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        board.sleep(seconds)

    array = HX711Array(SCK, DOUTS, pin_factory=board.factory, clock_ns=board.clock, sleep=sleep)
    for _ in range(WARM_UP_FRAMES):
        array.read()
    sleeps.clear()
    for _ in range(frames):
        array.read()
    array.close()
    return {
        "sleeps": round(len(sleeps) / frames, 2),
        "fine_polls_50us": round(sum(s <= FINE_POLL_S * 1.2 for s in sleeps) / frames, 2),
        "polls_1ms": round(sum(abs(s - POLL_INTERVAL_S) < 1e-6 for s in sleeps) / frames, 2),
        "asleep_ms": round(1000 * sum(sleeps) / frames, 2),
        "frame_period_ms": 12.5,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=800)
    args = parser.parse_args()
    result = {
        "bench": "driver_polls",
        "frames": args.frames,
        "own_oscillators_3pct": waits_per_frame(ChipClocks.internal(spread=0.03, seed=7),
                                                args.frames),
        "shared_clock": waits_per_frame(ChipClocks.shared_clock(), args.frames),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
