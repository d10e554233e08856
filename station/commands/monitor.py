"""`balance-station monitor`: a live terminal readout of the board (no web browser needed)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from station.acquisition.process import Acquisition, RealtimeOptions
from station.commands._common import add_board_args, add_config_args, resolve
from station.commands._errors import UserError
from station.commands.run import load_estimator
from station.frames import Frame


def register(sub: Any) -> None:
    p = sub.add_parser("monitor", help="live terminal readout: counts, forces, rate, discards")
    add_board_args(p)
    add_config_args(p)
    p.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    p.add_argument("--interval", type=float, default=0.5, help="refresh period in s (default 0.5)")
    p.set_defaults(func=handle)


def format_line(frame: Frame | None, sample: Any, stats: dict, calibrated: bool) -> str:
    if frame is None:
        return f"waiting for frames... state={stats['state']}"
    counts = " ".join(f"{c:>9d}" for c in frame.counts)
    parts = [f"counts [{counts}]"]
    if calibrated and sample is not None and sample.force_n == sample.force_n:
        forces = " ".join(f"{f:7.1f}" for f in sample.cell_forces_n)
        parts.append(f"N [{forces}] total {sample.force_n / 9.80665:6.1f} kg")
        if sample.cop_x_mm == sample.cop_x_mm:
            parts.append(f"COP ({sample.cop_x_mm:6.1f}, {sample.cop_y_mm:6.1f}) mm")
    else:
        parts.append("not calibrated")
    parts.append(f"{stats['achieved_rate_hz']:5.1f} Hz, {stats['frames_discarded']} discarded")
    failing = stats.get("failing_cells") or {}
    if failing:
        parts.append("FAILING cells " + ", ".join(f"{c} ({s:.0f} s)" for c, s in failing.items()))
    return " | ".join(parts)


def handle(args: argparse.Namespace) -> int:
    if args.interval <= 0:
        raise UserError("--interval must be positive")
    settings = resolve(args)
    estimator, problem = load_estimator(settings.calibration_path)
    if problem:
        print(f"note: {problem}", file=sys.stderr)
    acq = Acquisition(settings.board, realtime=RealtimeOptions(sched_fifo_priority=0))
    acq.start()
    tty = sys.stdout.isatty()
    end = time.monotonic() + args.seconds if args.seconds else float("inf")
    frame = sample = None
    try:
        while time.monotonic() < end and not acq.ended:
            time.sleep(args.interval)
            for message in acq.messages():
                if message[0] in ("board_error", "cell_failing", "cell_recovered", "log"):
                    print(f"\n{message}", file=sys.stderr)
            batch = acq.read_new()
            for i in range(len(batch)):
                if not batch.flags[i]:
                    frame = Frame(int(batch.t_ns[i]), tuple(int(c) for c in batch.counts[i]))
                    sample = estimator.update(frame)
            line = format_line(
                frame, sample, acq.stats.snapshot(time.monotonic_ns()), estimator is not None
            )
            print(("\r" + line + "\033[K") if tty else line, end="" if tty else "\n", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        acq.stop()
        if tty:
            print()
    return 0
