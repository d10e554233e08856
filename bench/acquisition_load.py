"""Acquisition under load: does a busy station process make the acquisition drop frames?

Runs the real acquisition process (pinned core, SCHED_FIFO where permitted,
GC frozen) on the real-time simulated board at 80 Hz through two phases of
equal length in one run: the station process idle, then the station process
kept busy by CPU-bound Python threads that churn garbage (the worst case for
GIL and GC pauses). For each phase it counts frames lost anywhere between the
board and the station's history: gaps in the frame clock (> 1.5 sample
periods; the simulated board, like an HX711, loses a conversion nobody read
in time), ring overruns and frames discarded by checks. It also reports the
CPU time the hypervisor stole from this virtual machine during each phase
(/proc/stat "steal"): stalls of the whole VM are not the station's doing.

    .venv/bin/python bench/acquisition_load.py --seconds 600    # the issue's 10 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

import numpy as np

from station.acquisition.process import RealtimeOptions
from station.board.spec import BoardOptions
from station.live.runtime import StationConfig, StationRuntime

PERIOD_S = 1.0 / 80.0


def burn(stop: threading.Event, counter: list[int]) -> None:
    """Pure-Python work that holds the GIL and makes garbage for the collector."""
    rng = np.random.default_rng(0)
    while not stop.is_set():
        junk = [{"i": i, "s": str(i)} for i in range(20000)]
        counter[0] += len(junk)
        np.linalg.svd(rng.normal(size=(120, 120)))


def steal_ms() -> float:
    """CPU time stolen from this VM by the hypervisor, all CPUs (ms)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    return int(fields[8]) * 1000.0 / os.sysconf("SC_CLK_TCK")


def phase(runtime: StationRuntime, seconds: float, busy_threads: int) -> dict:
    stats = runtime.acquisition.stats
    before = {k: stats[k] for k in ("frames_total", "frames_valid", "ring_lost")}
    written_before = runtime.history.written
    steal0 = steal_ms()
    stop = threading.Event()
    work = [0]
    threads = [threading.Thread(target=burn, args=(stop, work), daemon=True)
               for _ in range(busy_threads)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    time.sleep(0.3)  # let the reader drain the ring
    n_new = runtime.history.written - written_before
    t = runtime.history.latest(n_new)["t_s"]
    gaps = np.diff(t)
    by_gaps = int(np.sum(np.round(gaps[gaps > 1.5 * PERIOD_S] / PERIOD_S) - 1))
    written = stats["frames_total"] - before["frames_total"]
    discarded = written - (stats["frames_valid"] - before["frames_valid"])
    ring_lost = stats["ring_lost"] - before["ring_lost"]
    return {
        "busy_threads": busy_threads,
        "busy_work_items": work[0],
        "frames_written_by_acquisition": written,
        "frames_reaching_station_history": n_new,
        "frames_discarded_by_checks": discarded,
        "ring_lost": ring_lost,
        "dropped_frames_by_clock_gaps": by_gaps,
        "dropped_frames_total": by_gaps + ring_lost + discarded,
        "max_gap_ms": round(float(gaps.max()) * 1000, 2) if len(gaps) else None,
        "achieved_rate_hz": round((len(t) - 1) / (t[-1] - t[0]), 3) if len(t) > 1 else None,
        "vm_steal_ms": round(steal_ms() - steal0, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="total, split in 2 phases")
    parser.add_argument("--busy-threads", type=int, default=4)
    args = parser.parse_args()

    runtime = StationRuntime(
        StationConfig(
            board=BoardOptions(spec="sim", realtime=True, seed=1),
            history_s=args.seconds + 30,
            realtime=RealtimeOptions(),  # what the station asks for: pinned core, SCHED_FIFO
        )
    )
    runtime.start()
    time.sleep(1.0)  # start-up
    idle = phase(runtime, args.seconds / 2, 0)
    busy = phase(runtime, args.seconds / 2, args.busy_threads)
    granted = runtime.acquisition.stats.snapshot()["granted"]
    runtime.stop()
    print(json.dumps({
        "seconds_per_phase": args.seconds / 2,
        "idle_station": idle,
        "busy_station": busy,
        "busy_vs_idle_dropped": (
            round(busy["dropped_frames_total"] / idle["dropped_frames_total"], 2)
            if idle["dropped_frames_total"] else None
        ),
        "granted": granted,
    }, indent=2))


if __name__ == "__main__":
    main()
