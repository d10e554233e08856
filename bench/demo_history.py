"""What the demo's weeks of history cost at start: seconds and trials made.

Makes the demo history (station.trials.demo_history.ensure_demo_history) into a fresh SQLite
store in a temp dir, with the shipped simulated-board calibration, and prints JSON: trials,
sessions, total seconds and seconds per trial, split into simulate+analyse and the rest
(mostly saving). The station does the same in its demo thread on the first demo start.

    .venv/bin/python bench/demo_history.py [--hold 12] [--weeks 6]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from station.calibration import try_load_calibration
from station.store import open_store
from station.trials import demo_history

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=12.0, help="hold length (s), as --demo-hold")
    parser.add_argument("--weeks", type=int, default=demo_history.WEEKS)
    args = parser.parse_args()
    calibration, problem = try_load_calibration(ROOT / "calibration" / "sim-board.json")
    assert calibration is not None, problem
    spent = {"simulate_and_analyse_s": 0.0}
    simulate, analyze = demo_history.simulate_hold, demo_history.analyze_frames
    simulate_game = demo_history.simulate_game  # the training sessions' games (demo_games)

    def timed(fn):
        def run(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent["simulate_and_analyse_s"] += time.perf_counter() - t0
        return run

    demo_history.simulate_hold = timed(simulate)  # type: ignore[assignment]
    demo_history.analyze_frames = timed(analyze)  # type: ignore[assignment]
    demo_history.simulate_game = timed(simulate_game)  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(tmp, upgrade=True)
        report = demo_history.ensure_demo_history(
            store, calibration.to_dict(), duration_s=args.hold, weeks=args.weeks
        )
        store.close()
    assert report is not None
    out = {**report.as_dict(), "hold_s": args.hold,
           "seconds_per_trial": round(report.seconds / max(report.trials, 1), 4),
           "simulate_and_analyse_s": round(spent["simulate_and_analyse_s"], 2)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
