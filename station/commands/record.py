"""`balance-station record`: save a board's raw counts to a CSV file (board.recording format).

    balance-station record --board sim --seconds 30 --out quiet.csv [--no-realtime]
        [--scenario single_leg_hold] [--demo] [--seed 1] [--force]

Only valid frames are written; invalid ones are counted and reported at the end. The file is
version 2 of the format: each frame carries its cells' conversion offsets when the board
knows them (docs/cell-timing.md), so a replay aligns the cells as the live board does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from station.board.factory import open_board
from station.board.recording import RawCsvWriter
from station.board.spec import BoardOptions, BoardSpecError, board_kind, is_simulated
from station.commands._errors import UserError
from station.frames import BoardSource


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "record",
        help="record raw counts to a CSV file",
        description=(
            "Record a board's raw HX711 counts to CSV "
            "(header t_s,c0,c1,c2,c3,dt0_us,dt1_us,dt2_us,dt3_us)."
        ),
    )
    p.add_argument("--board", default="sim", help="sim, emulator, hx711 or replay:FILE")
    p.add_argument("--seconds", type=float, required=True, help="length of the recording (s)")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument(
        "--no-realtime",
        dest="realtime",
        action="store_false",
        help="sim/emulator/replay: produce frames as fast as possible (simulated time)",
    )
    p.add_argument("--demo", action="store_true", help="sim: athletes keep doing tests")
    p.add_argument("--scenario", help="sim: scenario file or shipped name to run")
    p.add_argument("--seed", type=int, help="sim: random seed (repeatable runs)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.seconds > 0:
        raise UserError(f"--seconds must be positive, not {args.seconds:g}")
    out = Path(args.out)
    if out.exists() and not args.force:
        raise UserError(f"{out} exists; choose another --out or add --force to overwrite")
    if not out.parent.is_dir():
        raise UserError(f"folder {out.parent} does not exist")
    kind = board_kind(args.board)
    if not is_simulated(kind) and (args.demo or args.scenario or args.seed is not None):
        raise UserError("--demo, --scenario and --seed only apply to --board sim or emulator")
    if kind == "hx711" and not args.realtime:
        raise UserError("--no-realtime does not apply to --board hx711 (real hardware)")
    try:
        board = open_board(
            BoardOptions(spec=args.board, realtime=args.realtime, demo=args.demo, seed=args.seed)
        )
    except (BoardSpecError, ValueError, OSError, NotImplementedError) as exc:
        raise UserError(str(exc).splitlines()[0] if str(exc) else repr(exc)) from None
    with board:
        if args.scenario:
            try:
                board.run_scenario(args.scenario)  # type: ignore[attr-defined]
            except ValueError as exc:
                raise UserError(str(exc)) from None
        try:
            writer = RawCsvWriter(out)
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror}") from None
        with writer:
            valid, invalid = record_frames(board, writer, args.seconds)
    print(
        f"recorded {valid} frames ({args.seconds:g} s, board {board.kind}) to {out}"
        + (f"; {invalid} invalid frames skipped" if invalid else ""),
        file=sys.stderr,
    )
    return 0


def record_frames(board: BoardSource, writer: RawCsvWriter, seconds: float) -> tuple[int, int]:
    """Write valid frames until `seconds` of frame time have passed or the source ends."""
    valid = invalid = 0
    t_end_ns: int | None = None
    for frame in board:
        if t_end_ns is None:
            t_end_ns = frame.t_ns + round(seconds * 1e9)
        if frame.t_ns >= t_end_ns:
            break
        if frame.valid:
            writer.write_frame(frame.t_ns, frame.counts, frame.cell_dt_ns)
            valid += 1
        else:
            invalid += 1
    return valid, invalid
