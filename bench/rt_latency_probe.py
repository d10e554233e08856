"""Control for bench/acquisition_load.py: can this machine wake a real-time task on time at all?

A separate process with no station code (pinned to the last CPU, SCHED_FIFO like the
acquisition) wakes every 12.5 ms (80 Hz) and records how late it is, first while the machine
is idle, then while CPU-bound threads in this process keep it busy. A late wake-up over one
period would make the acquisition miss an HX711 conversion. On a Raspberry Pi the busy phase
should show no such wake-up; on a virtual machine the hypervisor can deschedule the virtual CPU
(its "steal" time rises), which no code inside the guest can prevent. Prints JSON.

    .venv/bin/python bench/rt_latency_probe.py --seconds 90
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import threading
import time

import numpy as np
from acquisition_load import PERIOD_S, burn, steal_ms  # same load and steal counter


def wake_up_lateness(seconds: float, results: mp.Queue) -> None:
    """Runs in its own process: how late each 80 Hz wake-up comes (s)."""
    notes = []
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
    except (OSError, AttributeError) as exc:
        notes.append(f"SCHED_FIFO refused: {exc}")
    late = []
    due = time.monotonic()
    end = due + seconds
    while due < end:
        due += PERIOD_S
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        late.append(time.monotonic() - due)
    lateness = np.array(late)
    results.put({
        "wake_ups": len(lateness),
        "later_than_one_period": int((lateness > PERIOD_S).sum()),
        "p99_ms": round(float(np.percentile(lateness, 99)) * 1000, 3),
        "max_ms": round(float(lateness.max()) * 1000, 1),
        "notes": notes,
    })


def phase(seconds: float, busy_threads: int) -> dict:
    stop = threading.Event()
    work = [0]
    threads = [threading.Thread(target=burn, args=(stop, work), daemon=True)
               for _ in range(busy_threads)]
    for thread in threads:
        thread.start()
    results: mp.Queue = mp.get_context("spawn").Queue()
    steal0 = steal_ms()
    probe = mp.get_context("spawn").Process(target=wake_up_lateness, args=(seconds, results))
    probe.start()
    out = results.get()
    probe.join()
    out["vm_steal_ms"] = round(steal_ms() - steal0, 1)
    out["busy_threads"] = busy_threads
    stop.set()
    for thread in threads:
        thread.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="per phase")
    parser.add_argument("--busy-threads", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps({
        "idle": phase(args.seconds, 0),
        "busy": phase(args.seconds, args.busy_threads),
    }, indent=2))


if __name__ == "__main__":
    main()
