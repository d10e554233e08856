"""Simulated board throughput: fast vectorized path vs per-frame read() vs the full GPIO path.

Prints one JSON object. Frames per second and the ratio to real time (80 frames/s), all
measured in this run on this machine, plus raw-CSV write/read time for a 10-minute file.

    .venv/bin/python bench/sim_throughput.py [--seconds 600]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from station.board.recording import read_raw_csv, write_raw_csv
from station.board.sim import SimEngine, SimulatedBoard, simulate

RATE_HZ = 80.0


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0, help="simulated time (fast path)")
    parser.add_argument("--frames", type=int, default=4000, help="frames for per-frame paths")
    args = parser.parse_args()
    n_fast = int(args.seconds * RATE_HZ)

    # Fast path: a whole demo (athletes stepping on, holds, hops) in one vectorized call.
    engine = SimEngine(seed=1, demo=True)
    el_demo, _ = timed(lambda: engine.advance(n_fast))
    el_scn, res = timed(lambda: simulate("single_leg_hold", seed=1, duration_s=args.seconds))

    def per_frame(board: SimulatedBoard, n: int) -> float:
        board.read()  # warm-up (and the emulator's priming read)
        el, _ = timed(lambda: [board.read() for _ in range(n)])
        board.close()
        return n / el

    read_fps = per_frame(SimulatedBoard(realtime=False, seed=1, demo=True), args.frames)
    gpio_fps = per_frame(
        SimulatedBoard(realtime=False, seed=1, demo=True, through_gpio=True), args.frames // 4
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rec.csv"
        el_w, _ = timed(lambda: write_raw_csv(path, res.t_s, res.counts))
        el_r, _ = timed(lambda: read_raw_csv(path))
        size = path.stat().st_size

    fast_fps = n_fast / el_demo
    print(
        json.dumps(
            {
                "machine": platform.machine(),
                "python": platform.python_version(),
                "simulated_seconds": args.seconds,
                "fast_path_demo_frames_per_s": round(fast_fps),
                "fast_path_scenario_frames_per_s": round(n_fast / el_scn),
                "per_frame_read_frames_per_s": round(read_fps),
                "gpio_emulator_path_frames_per_s": round(gpio_fps),
                "x_real_time": {
                    "fast_path": round(fast_fps / RATE_HZ),
                    "per_frame_read": round(read_fps / RATE_HZ, 1),
                    "gpio_emulator_path": round(gpio_fps / RATE_HZ, 1),
                },
                "fast_path_over_per_frame_read": round(fast_fps / read_fps, 1),
                "raw_csv_10min_equivalent": {
                    "frames": len(res.t_s),
                    "bytes": size,
                    "write_s": round(el_w, 4),
                    "read_s": round(el_r, 4),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
