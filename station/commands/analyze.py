"""`balance-station analyze FILE`: sway metrics (docs/metrics.md) of a recorded trace.

With a wobble board (--dome-radius-mm R or --board-profile NAME) the file's COP is taken as
the dome's contact point and a `wobble` object (tilt, rim contacts, stability indices;
docs/metrics.md section 11) joins the JSON; --tilt-out writes the tilt trace.

With the test and the person (--age, --sex, --stance, --surface, --eyes) a `norms` object
joins it: per measure with a norm its percentile, the norm's id and source, or the reason
there is none (station.norms; docs/metrics.md "Norms and reliable change").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from station.analysis.metrics import compute_all
from station.analysis.trace_files import (
    FILTERS,
    Trace,
    TraceError,
    filter_trace,
    load_trace,
    summarize_trace,
    write_cop,
)
from station.analysis.wobble import analyze_wobble, write_tilt
from station.calibration.file import CalibrationError, load_calibration
from station.commands._errors import UserError
from station.norms.matching import TrialConditions, norms_object
from station.wobble import (
    SURFACE_HEIGHT_MM,
    BoardProfileError,
    WobbleSetup,
    dome_board,
    preset_names,
    resolve_board,
)


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
    w = p.add_argument_group(
        "wobble board", "treat the COP as a wobble board's dome contact: adds 'wobble' to the JSON")
    board = w.add_mutually_exclusive_group()
    board.add_argument("--dome-radius-mm", type=float, metavar="R",
                       help="the dome's sphere radius (with --max-tilt-deg)")
    board.add_argument("--board-profile", metavar="NAME",
                       help=f"a preset ({', '.join(preset_names())}) or FILE.toml[:NAME] "
                            "with a [[board]] table")
    w.add_argument("--max-tilt-deg", type=float, default=20.0,
                   help="with --dome-radius-mm: tilt at which the rim touches (default 20)")
    w.add_argument("--deck-mass-kg", type=float, default=0.0,
                   help="with --dome-radius-mm: the deck's mass (default 0: no deck term)")
    w.add_argument("--level-mm", metavar="X,Y", default="0,0",
                   help="COP with the deck level (default 0,0, the board centre)")
    w.add_argument("--surface-height-mm", type=float, default=SURFACE_HEIGHT_MM,
                   help="platform surface above the cells' load axis, for the friction "
                        f"correction (default {SURFACE_HEIGHT_MM:g})")
    w.add_argument("--deck-tared", action="store_true",
                   help="the zero was taken with the deck on (its weight is added back)")
    w.add_argument("--tilt-out", type=Path, help="write t_s,tilt_ml_deg,tilt_ap_deg")
    n = p.add_argument_group(
        "norms", "compare with normative data: adds 'norms' to the JSON (percentile per "
                 "measure, or why there is no matching norm)")
    n.add_argument("--age", type=float, metavar="YEARS", help="the person's age in years")
    n.add_argument("--sex", choices=("F", "M"), help="the person's sex")
    n.add_argument("--stance", choices=("double", "left", "right"),
                   help="double-leg or single-leg (left/right) stance")
    n.add_argument("--surface", choices=("firm", "foam", "wobble"), help="standing surface")
    n.add_argument("--eyes", choices=("open", "closed"))
    p.set_defaults(func=run)


def norm_conditions(args: argparse.Namespace, duration_s: float) -> TrialConditions | None:
    """The test the norms options describe (None: no norms option given). Stance, surface
    and eyes are needed to compare like with like; UserError names the missing ones."""
    given = [args.age, args.sex, args.stance, args.surface, args.eyes]
    if all(v is None for v in given):
        return None
    missing = [f"--{name}" for name in ("stance", "surface", "eyes")
               if getattr(args, name) is None]
    if missing:
        raise UserError(f"norms need the test's {', '.join(missing)} (a norm is compared "
                        "only with the same kind of test)")
    if args.age is not None and not 0 < args.age < 130:
        raise UserError(f"--age {args.age:g}: give the age in years (e.g. 34)")
    stance = {"left": "single-left", "right": "single-right"}.get(args.stance, args.stance)
    return TrialConditions(stance=stance, surface=args.surface, eyes=args.eyes,
                           duration_s=duration_s, filter=args.filter,
                           device="the analysed recording", age=args.age, sex=args.sex)


def wobble_setup(args: argparse.Namespace) -> WobbleSetup | None:
    """The set-up the wobble options describe, or None without --dome-radius-mm/--board-profile."""
    if args.dome_radius_mm is None and args.board_profile is None:
        if args.tilt_out is not None:
            raise UserError("--tilt-out needs --dome-radius-mm R or --board-profile NAME")
        return None
    try:
        x_text, y_text = args.level_mm.split(",")
        level = (float(x_text), float(y_text))
    except ValueError:
        raise UserError(f"--level-mm: {args.level_mm!r} is not X,Y in mm (e.g. 3.5,-2)") \
            from None
    try:
        if args.board_profile is not None:
            board = resolve_board(args.board_profile)
        else:
            board = dome_board(args.dome_radius_mm, args.max_tilt_deg, args.deck_mass_kg)
        return WobbleSetup(board, level_mm=level, surface_height_mm=args.surface_height_mm,
                           deck_tared=args.deck_tared)
    except BoardProfileError as exc:
        raise UserError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    setup = wobble_setup(args)
    norm_test_given = norm_conditions(args, 0.0) is not None  # refuses missing options early
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
    if setup is not None:
        out["wobble"] = _wobble(args, trace, setup)
    if norm_test_given:
        test = norm_conditions(args, float(metrics["duration_s"]))
        assert test is not None
        out["norms"] = norms_object(metrics, test)
    print(json.dumps(out, indent=2))
    return 0


def _wobble(args: argparse.Namespace, trace: Trace, setup: WobbleSetup) -> dict:
    try:
        result = analyze_wobble(trace.t_s, trace.force_n,
                                np.column_stack([trace.x_mm, trace.y_mm]), setup,
                                filter=args.filter)
    except ValueError as exc:
        raise UserError(f"{args.file}: cannot analyse it as a wobble board: {exc}") from None
    if args.tilt_out is not None:
        try:
            write_tilt(result, args.tilt_out)
        except OSError as exc:
            raise UserError(f"{args.tilt_out}: cannot write ({exc.strerror})") from None
    return result.measures
