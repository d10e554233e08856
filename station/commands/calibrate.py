"""`balance-station calibrate`: tare, gain fit and verification of a board.

Interactive on a real board (prompts, Enter to continue), or `--simulate` to
run the same procedure on the simulated board without anyone at the keyboard
(this is how calibration/sim-board.json is made). The logic is in
station.calibration.procedure; this module only collects frames and talks.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from station.board.cell_model import CellModel
from station.calibration.file import (
    DEFAULT_MIN_LOAD_N,
    Calibration,
    CalibrationError,
    load_calibration,
    save_calibration,
    try_load_calibration,
)
from station.calibration.procedure import (
    CalibrationFitRefused,
    GainFit,
    MeasurementRefused,
    Placement,
    Verification,
    fit_gains,
    measure_placement,
    record_verification,
    tare,
    verify,
)
from station.calibration.simulate import (
    DEFAULT_MARKS,
    DEFAULT_MASSES_KG,
    VERIFY_AT_MM,
    VERIFY_MASS_KG,
    CalibrationPlan,
    calibrate_simulated,
)
from station.commands._common import add_config_args, resolve
from station.commands._errors import UserError
from station.frames import BoardSource

T = TypeVar("T")
Ask = Callable[[str], str]
Say = Callable[[str], None]

MAX_RETRIES = 5


def _point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y in mm, got {text!r}") from None
    return x, y


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "calibrate",
        help="calibrate a board (tare, known masses, verification)",
        description="Tare the empty board, fit each cell's gain from a known mass placed at "
        "marked spots, verify, and write the calibration file.",
    )
    p.add_argument("--board", default=None,
                   help="board spec (default: the config's board.kind, with its pins)")
    add_config_args(p)
    p.add_argument("--out", type=Path, help="calibration file to write")
    p.add_argument("--board-name", default=None, help="name stored in the file")
    p.add_argument("--mass", type=float, action="append", dest="masses",
                   help=f"known mass in kg, repeatable (default {DEFAULT_MASSES_KG})")
    p.add_argument("--mark", type=_point, action="append", dest="marks",
                   help="marked spot X,Y in mm, repeatable (default centre and the corners "
                   "of the foot area +-150,+-100); write --mark=-150,100 for a negative X")
    p.add_argument("--step-s", type=float, default=3.0, help="seconds averaged per step")
    p.add_argument("--min-load-n", type=float, default=DEFAULT_MIN_LOAD_N,
                   help="COP undefined below this total force (default %(default)s N)")
    p.add_argument("--linear", action="store_true",
                   help="no quadratic term (by default fitted when two masses or more are used)")
    p.add_argument("--refine-geometry", action="store_true",
                   help="also fit the cell positions (needs accurate marks)")
    p.add_argument("--verify", type=Path, metavar="CAL",
                   help="only verify CAL with a known mass and store the result in it")
    p.add_argument("--at", type=_point, default=VERIFY_AT_MM,
                   help="verification spot X,Y in mm (--at=-50,30 for a negative X)")
    p.add_argument("--simulate", action="store_true",
                   help="run the whole procedure on the simulated board (no prompts)")
    p.add_argument("--seed", type=int, default=None,
                   help="with --simulate: a random board of this seed instead of the default")
    p.set_defaults(func=run)


def _plan(args: argparse.Namespace) -> CalibrationPlan:
    return CalibrationPlan(
        masses_kg=tuple(args.masses or DEFAULT_MASSES_KG),
        marks_mm=tuple(args.marks or DEFAULT_MARKS),
        step_s=args.step_s,
    )


def run(args: argparse.Namespace) -> int:
    if args.simulate:
        return _run_simulated(args)
    from station.board.factory import open_board
    from station.board.spec import BoardSpecError

    options = resolve(args).board  # the config's pins and gain, --board overrides the kind
    try:
        board = open_board(options)
    except (BoardSpecError, ImportError, OSError) as exc:
        raise UserError(f"cannot open board {options.spec!r}: {exc}") from None
    with board:
        if args.verify is not None:
            return _run_verify_only(args, board, input, print)
        if args.out is None:
            raise UserError("--out FILE is needed to save the calibration")
        reference, _ = try_load_calibration(args.out) if args.out.exists() else (None, None)
        try:
            fit = run_interactive(
                board, _plan(args), input, print,
                reference=reference, quadratic=False if args.linear else None,
                refine_geometry=args.refine_geometry, rate_hz=board.nominal_rate_hz,
            )
        except CalibrationFitRefused as exc:
            raise UserError(f"calibration refused: {exc}") from None
        cal = fit.to_calibration(args.board_name or args.out.stem, min_load_n=args.min_load_n)
        _print_fit(fit, print)
        result = _verify_step(board, cal, VERIFY_MASS_KG, args.at, input, print,
                              args.step_s, board.nominal_rate_hz)
        if result is not None:
            record_verification(cal, result)
        save_calibration(cal, args.out)
        print(f"saved {args.out}")
    return 0


def collect_counts(board: BoardSource, seconds: float, rate_hz: float) -> np.ndarray:
    """Read `seconds` of valid frames (invalid ones are skipped) as an (n, 4) array."""
    n = max(1, round(seconds * rate_hz))
    rows: list[tuple[int, int, int, int]] = []
    bad = 0
    while len(rows) < n:
        frame = board.read()
        if frame.valid:
            rows.append(frame.counts)
        else:
            bad += 1
            if bad > n:
                raise MeasurementRefused(f"{bad} invalid frames: check the board's wiring")
    return np.array(rows, dtype=float)


def _retry(step: Callable[[], T], prompt: str, ask: Ask, say: Say) -> T:
    for _ in range(MAX_RETRIES):
        ask(prompt)
        try:
            return step()
        except MeasurementRefused as exc:
            say(f"  refused: {exc.reason}")
    raise UserError(f"giving up after {MAX_RETRIES} refused attempts")


def run_interactive(
    board: BoardSource,
    plan: CalibrationPlan,
    ask: Ask,
    say: Say,
    *,
    reference: Calibration | None = None,
    quadratic: bool | None = None,
    refine_geometry: bool = False,
    rate_hz: float = 80.0,
) -> GainFit:
    """Prompt through tare and every placement of the plan, then fit the gains."""
    settle_s = 1.0

    def measure(fn: Callable[[np.ndarray], T]) -> Callable[[], T]:
        def step() -> T:
            collect_counts(board, settle_s, rate_hz)  # let the plate settle after the hand
            return fn(collect_counts(board, plan.step_s, rate_hz))
        return step

    tared = _retry(measure(lambda c: tare(c, reference=reference)),
                   "Remove everything from the board and keep it still, press Enter ", ask, say)
    say("  tare done")
    placements: list[Placement] = []
    for mass, x, y in plan.steps():
        where = "the centre" if (x, y) == (0.0, 0.0) else f"the mark at x={x:g} mm, y={y:g} mm"
        placement = _retry(
            measure(lambda c, m=mass, px=x, py=y: measure_placement(m, px, py, c)),
            f"Place {mass:g} kg at {where}, hands off, press Enter ", ask, say,
        )
        placements.append(placement)
        say("  ok")
    ask("Remove the mass from the board, press Enter ")
    return fit_gains(placements, tared.offsets_counts, quadratic=quadratic,
                     refine_geometry=refine_geometry)


def _print_fit(fit: GainFit, say: Say) -> None:
    say("fit residuals (force error, COP error):")
    for r in fit.per_position:
        say(f"  {r['mass_kg']:g} kg at ({r['x_mm']:g}, {r['y_mm']:g}) mm: "
            f"{r['force_error_n']:+.2f} N ({r['force_error_pct']:+.3f} %), "
            f"{r['cop_error_mm']:.2f} mm")
    s = fit.summary
    say(f"  max force error {s['force_error_pct_max']:.3f} %, "
        f"max COP error {s['cop_error_mm_max']:.2f} mm")


def _verify_step(
    board: BoardSource, cal: Calibration, mass_kg: float, at: tuple[float, float],
    ask: Ask, say: Say, step_s: float, rate_hz: float,
) -> Verification | None:
    answer = ask(f"Verification: place a known mass at x={at[0]:g}, y={at[1]:g} mm; "
                 f"enter its mass in kg (empty to skip) ").strip()
    if not answer:
        return None
    try:
        mass = float(answer)
    except ValueError:
        raise UserError(f"not a mass in kg: {answer!r}") from None
    collect_counts(board, 1.0, rate_hz)
    try:
        result = verify(cal, collect_counts(board, step_s, rate_hz), mass, *at)
    except MeasurementRefused as exc:
        raise UserError(f"verification refused: {exc.reason}") from None
    say(f"  measured {result.measured_mass_kg:.2f} kg at ({result.measured_x_mm:.1f}, "
        f"{result.measured_y_mm:.1f}) mm: error {result.mass_error_kg:+.3f} kg "
        f"({result.mass_error_pct:+.2f} %), {result.cop_error_mm:.2f} mm")
    return result


def _run_verify_only(args: argparse.Namespace, board: BoardSource, ask: Ask, say: Say) -> int:
    try:
        cal = load_calibration(args.verify)
    except CalibrationError as exc:
        raise UserError(str(exc)) from None
    result = _verify_step(board, cal, VERIFY_MASS_KG, args.at, ask, say,
                          args.step_s, board.nominal_rate_hz)
    if result is not None:
        record_verification(cal, result)
        save_calibration(cal, args.verify)
        say(f"verification stored in {args.verify}")
    return 0


def simulated_board_model(seed: int | None) -> tuple[CellModel, str]:
    """The default simulated board's cells, or a random board for `seed`."""
    if seed is None:
        try:
            from station.board.sim import default_cell_model
        except ImportError:
            raise UserError(
                "the simulated board (station.board.sim) is not available; pass --seed N"
            ) from None
        return default_cell_model(), "sim"
    return CellModel.randomized(np.random.default_rng(seed)), f"sim-seed{seed}"


def _run_simulated(args: argparse.Namespace) -> int:
    model, name = simulated_board_model(args.seed)
    rng = np.random.default_rng(args.seed if args.seed is not None else 2024)
    try:
        cal = calibrate_simulated(
            model, args.board_name or name, rng=rng, plan=_plan(args),
            quadratic=False if args.linear else None, refine_geometry=args.refine_geometry,
            min_load_n=args.min_load_n, verify_at=args.at,
        )
    except (CalibrationFitRefused, MeasurementRefused) as exc:
        raise UserError(f"calibration refused: {exc}") from None
    v = cal.verification or {}
    print(f"fit: max force error {cal.residuals['force_error_pct_max']:.4f} %, "
          f"max COP error {cal.residuals['cop_error_mm_max']:.3f} mm; verification "
          f"{v.get('mass_error_pct')} % mass, {v.get('cop_error_mm')} mm")
    if args.out is not None:
        save_calibration(cal, args.out)
        print(f"saved {args.out}")
    return 0
