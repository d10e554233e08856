"""`balance-station analyze FILE`: sway metrics (docs/metrics.md) of a recorded trace."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from station.analysis.metrics import compute_all
from station.analysis.trace_files import (
    FILTERS,
    TraceError,
    filter_trace,
    load_trace,
    summarize_trace,
    write_cop,
)
from station.calibration.file import CalibrationError, load_calibration
from station.commands._errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="summarize a trace file (raw counts, cell forces or COP)",
        description=(
            "Read a CSV trace (header t_s,c0..c3 | t_s,f0_n..f3_n | t_s,x_mm,y_mm | "
            "t_s,ml_m,ap_m), derive the COP in mm and print its sway metrics as JSON "
            "(keys: docs/metrics.md)."
        ),
    )
    p.add_argument("file", type=Path, help="trace CSV file")
    p.add_argument("--calibration", type=Path, help="calibration JSON (raw counts, cell forces)")
    p.add_argument("--filter", choices=FILTERS, default="butter10",
                   help="butter10 (default): 4th-order 10 Hz zero-lag Butterworth; none: raw")
    p.add_argument("--cop-out", type=Path, help="write the derived COP as t_s,x_mm,y_mm")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    calibration = None
    if args.calibration is not None:
        try:
            calibration = load_calibration(args.calibration)
        except CalibrationError as exc:
            raise UserError(str(exc)) from None
    try:
        trace = load_trace(args.file, calibration)
        filtered = filter_trace(trace, args.filter)
    except TraceError as exc:
        raise UserError(str(exc)) from None
    if args.cop_out is not None:
        try:
            write_cop(filtered, args.cop_out)
        except OSError as exc:
            raise UserError(f"{args.cop_out}: cannot write ({exc.strerror})") from None
    try:
        # compute_all filters itself: give it the unfiltered trace.
        metrics = compute_all(
            trace.t_s, trace.x_mm, trace.y_mm, force_n=trace.force_n, filter=args.filter
        )
    except ValueError as exc:
        raise UserError(f"{args.file}: cannot analyse this trace: {exc}") from None
    summary = summarize_trace(filtered)
    out = {
        "file": str(args.file),
        "source_format": summary["source_format"],
        **metrics,
        "force": summary["force"],
        "cop": summary["cop"],
    }
    print(json.dumps(out, indent=2))
    return 0
