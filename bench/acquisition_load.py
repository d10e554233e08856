"""Acquisition under load: does a busy station process make the acquisition drop frames?

Runs the real acquisition process on the real-time simulated board (80 Hz)
for --seconds while the station process is kept busy by CPU-bound Python
threads that also churn garbage (the worst case for GIL and GC pauses), and
counts frames lost anywhere between the board and the station's history:
gaps in the frame clock (> 1.5 sample periods), ring overruns and frames
discarded by checks. Prints one JSON object.

    .venv/bin/python bench/acquisition_load.py --seconds 600    # the issue's 10 minutes
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import numpy as np

from station.acquisition.process import RealtimeOptions
from station.board.factory import BoardOptions
from station.runtime import StationConfig, StationRuntime


def burn(stop: threading.Event, counter: list[int]) -> None:
    """Pure-Python work that holds the GIL and makes garbage for the collector."""
    while not stop.is_set():
        junk = [{"i": i, "s": str(i)} for i in range(20000)]
        counter[0] += len(junk)
        np.linalg.svd(np.random.default_rng(0).normal(size=(120, 120)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--busy-threads", type=int, default=4)
    args = parser.parse_args()

    runtime = StationRuntime(
        StationConfig(
            board=BoardOptions(spec="sim", realtime=True, seed=1),
            history_s=args.seconds + 30,
            realtime=RealtimeOptions(sched_fifo_priority=0),
        )
    )
    stop = threading.Event()
    work = [0]
    threads = [threading.Thread(target=burn, args=(stop, work), daemon=True)
               for _ in range(args.busy_threads)]
    runtime.start()
    for thread in threads:
        thread.start()
    t0 = time.monotonic()
    time.sleep(args.seconds)
    elapsed = time.monotonic() - t0
    stop.set()
    time.sleep(0.3)  # let the reader drain the ring
    stats = runtime.acquisition.stats.snapshot(time.monotonic_ns())
    data = runtime.history.latest()
    runtime.stop()
    t = data["t_s"]
    period = 1.0 / 80.0
    gaps = np.diff(t)
    dropped_by_gaps = int(np.sum(np.round(gaps[gaps > 1.5 * period] / period) - 1))
    print(json.dumps({
        "seconds": round(elapsed, 1),
        "busy_threads": args.busy_threads,
        "busy_work_items": work[0],
        "frames_written_by_acquisition": stats["frames_total"],
        "frames_in_station_history": len(t),
        "frames_discarded_by_checks": stats["frames_discarded"],
        "ring_lost": stats["ring_lost"],
        "dropped_frames_by_clock_gaps": dropped_by_gaps,
        "dropped_frames_total": dropped_by_gaps + stats["ring_lost"] + stats["frames_discarded"],
        "max_gap_ms": round(float(gaps.max()) * 1000, 2) if len(gaps) else None,
        "achieved_rate_hz": round((len(t) - 1) / (t[-1] - t[0]), 3) if len(t) > 1 else None,
        "granted": stats["granted"],
    }, indent=2))


if __name__ == "__main__":
    main()
