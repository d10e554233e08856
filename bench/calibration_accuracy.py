"""Calibration + estimator accuracy on simulated boards, and the estimator's cost.

For each of several random boards (CellModel.randomized: gains off by up to
+-5 %, offsets up to +-20000 counts, 1 % non-linearity, HX711 noise at 80 SPS):

1. run the full calibration procedure (tare; 20 and 80 kg at the centre and the
   four corners of the foot area, 2 s each; least-squares fit with a quadratic
   term) -- station.calibration.simulate.simulate_procedure;
2. place static loads of 20..120 kg on a 25 mm grid over the whole cell
   rectangle (|x| <= 200, |y| <= 150 mm), 1 s each, and compare the mean
   estimated COP and force with the truth. Foot area: |x| <= 150, |y| <= 125 mm;
3. feed the real quiet-stance trace (../shared/reference-data, eyes open, 70 kg
   body, resampled to 80 Hz) through counts and back through the per-frame
   estimator, and compare with the true COP.

Also: the same with each mass placed up to +-2 mm off its mark (an imperfect
operator), the linear-only fit for comparison, a single 20 kg mass (the fit
then falls back to linear: no quadratic from one mass), cells really 5 mm off the
nominal layout (cells at +-205 x +-145 mm) with and without --refine-geometry, and
the cost per frame
(per-frame float path vs the same maths with numpy, and the block path).

Run: .venv/bin/python bench/calibration_accuracy.py [--boards 10]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from station.analysis.trace_files import load_trace
from station.board.cell_model import CellModel
from station.calibration.estimator import Estimator
from station.calibration.procedure import G
from station.calibration.simulate import RATE_HZ, CalibrationPlan, simulate_procedure
from station.frames import Frame
from station.geometry import DEFAULT_LAYOUT, CellLayout, forces_from_cop

REFERENCE = (
    Path(__file__).resolve().parents[2] / "shared" / "reference-data"
    / "quiet-stance-eyes-open-100hz.csv"
)
MASSES_KG = (20.0, 40.0, 60.0, 80.0, 100.0, 120.0)
GRID_X = np.arange(-200.0, 200.1, 25.0)
GRID_Y = np.arange(-150.0, 150.1, 25.0)
FOOT_X, FOOT_Y = 150.0, 125.0
STATIC_FRAMES = 80
BODY_KG = 70.0
POS = DEFAULT_LAYOUT.positions
# A board whose cells really sit 5 mm off the nominal layout the calibration starts from.
SHIFTED_LAYOUT = CellLayout(DEFAULT_LAYOUT.names, (-205.0, 205.0, -205.0, 205.0),
                            (145.0, 145.0, -145.0, -145.0))


def static_errors(model: CellModel, est: Estimator, rng: np.random.Generator,
                  positions: np.ndarray = POS) -> dict:
    gx, gy, gm = np.meshgrid(GRID_X, GRID_Y, MASSES_KG, indexing="ij")
    gx, gy, gm = gx.ravel(), gy.ravel(), gm.ravel()
    forces = forces_from_cop(gm * G, np.column_stack([gx, gy]), positions)  # (n, 4)
    frames = np.repeat(forces[:, None, :], STATIC_FRAMES, axis=1)  # (n, f, 4)
    counts = model.counts(frames, 0.0, rng)
    _, total, cop = est.estimate_block(None, counts.reshape(-1, 4))
    total = total.reshape(len(gx), STATIC_FRAMES).mean(axis=1)
    cop = cop.reshape(len(gx), STATIC_FRAMES, 2).mean(axis=1)
    cop_err = np.hypot(cop[:, 0] - gx, cop[:, 1] - gy)
    force_err = 100.0 * np.abs(total - gm * G) / (gm * G)
    foot = (np.abs(gx) <= FOOT_X) & (np.abs(gy) <= FOOT_Y)

    def stats(mask: np.ndarray) -> dict:
        return {
            "cop_rms_mm": float(np.sqrt(np.mean(cop_err[mask] ** 2))),
            "cop_max_mm": float(cop_err[mask].max()),
            "force_rms_pct": float(np.sqrt(np.mean(force_err[mask] ** 2))),
            "force_max_pct": float(force_err[mask].max()),
        }

    return {"foot": stats(foot), "grid": stats(np.ones_like(foot))}


def true_trace() -> tuple[np.ndarray, np.ndarray]:
    """The reference COP (mm), resampled to the board's 80 Hz."""
    tr = load_trace(REFERENCE)
    t = np.arange(tr.t_s[0], tr.t_s[-1], 1.0 / RATE_HZ)
    cop = np.column_stack([np.interp(t, tr.t_s, tr.x_mm), np.interp(t, tr.t_s, tr.y_mm)])
    return t, cop


def dynamic_error(
    model: CellModel, est: Estimator, rng: np.random.Generator, t: np.ndarray, cop: np.ndarray
) -> dict:
    counts = model.counts(forces_from_cop(BODY_KG * G, cop, POS), t, rng)
    live = [est.update(Frame(int(ti * 1e9), tuple(int(v) for v in c)))
            for ti, c in zip(t, counts, strict=True)]
    rec = np.array([(s.cop_x_mm, s.cop_y_mm) for s in live])
    diff = rec - cop
    return {
        "cop_rms_diff_mm": float(np.sqrt(np.mean(np.sum(diff**2, axis=1)))),
        "cop_rms_diff_ml_mm": float(np.sqrt(np.mean(diff[:, 0] ** 2))),
        "cop_rms_diff_ap_mm": float(np.sqrt(np.mean(diff[:, 1] ** 2))),
    }


def board_figures(seed: int, t: np.ndarray, cop: np.ndarray, *, quadratic: bool | None = None,
                  placement_error_mm: float = 0.0, dynamic: bool = True,
                  plan: CalibrationPlan | None = None, true_layout: CellLayout = DEFAULT_LAYOUT,
                  refine_geometry: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    model = CellModel.randomized(rng)
    fit, _ = simulate_procedure(model, rng, plan, quadratic=quadratic,
                                placement_error_mm=placement_error_mm, layout=true_layout,
                                fit_layout=DEFAULT_LAYOUT, refine_geometry=refine_geometry)
    cal = fit.to_calibration(f"seed{seed}")
    out = {"fit": fit.summary,
           "static": static_errors(model, Estimator(cal), rng, true_layout.positions)}
    if dynamic:
        out["dynamic"] = dynamic_error(model, Estimator(cal), rng, t, cop)
    return out


def worst_median(boards: list[dict], *path: str) -> dict:
    vals = []
    for b in boards:
        v = b
        for key in path:
            v = v[key]
        vals.append(v)
    return {"worst": round(max(vals), 4), "median": round(statistics.median(vals), 4)}


def summarize(boards: list[dict], dynamic: bool = True) -> dict:
    out = {
        f"static_{area}_{m}": worst_median(boards, "static", area, m)
        for area in ("foot", "grid")
        for m in ("cop_rms_mm", "cop_max_mm", "force_rms_pct", "force_max_pct")
    }
    if dynamic:
        out["dynamic_cop_rms_diff_mm"] = worst_median(boards, "dynamic", "cop_rms_diff_mm")
    return out


def numpy_per_frame(cal, counts: np.ndarray) -> None:
    """The per-frame maths done with numpy, to compare with Estimator.update's floats."""
    k, q, o, p = cal.newtons_per_count, cal.quadratic_n_per_count2, cal.offsets_counts, \
        cal.positions_mm
    for c in counts:
        d = np.asarray(c, dtype=float) - o
        f = (k + q * d) * d
        total = f.sum()
        if total >= cal.min_load_n:
            _ = f @ p / total


def cost(t: np.ndarray, cop: np.ndarray) -> dict:
    rng = np.random.default_rng(99)
    model = CellModel.randomized(rng)
    cal, _ = simulate_procedure(model, rng)
    cal = cal.to_calibration("cost")
    counts = model.counts(forces_from_cop(BODY_KG * G, cop, POS), t, rng)
    frames = [Frame(int(ti * 1e9), tuple(int(v) for v in c)) for ti, c in zip(t, counts,
                                                                              strict=True)]
    tuples = [f.counts for f in frames]

    def best_us(fn, n: int, repeat: int = 5) -> float:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return 1e6 * min(times) / n

    def run_update(est: Estimator) -> None:
        for f in frames:
            est.update(f)

    est, est_az = Estimator(cal), Estimator(cal, auto_zero=True)
    empty = model.counts(np.zeros((len(t), 4)), t, rng)
    empty_frames = [Frame(int(ti * 1e9), tuple(int(v) for v in c)) for ti, c in zip(t, empty,
                                                                                   strict=True)]

    def run_empty_az() -> None:
        e = Estimator(cal, auto_zero=True)
        for f in empty_frames:
            e.update(f)

    n = len(frames)
    per_frame_float = best_us(lambda: run_update(est), n)
    per_frame_numpy = best_us(lambda: numpy_per_frame(cal, tuples), n)
    return {
        "frames": n,
        "per_frame_update_us": round(per_frame_float, 3),
        "per_frame_update_auto_zero_loaded_us": round(best_us(lambda: run_update(est_az), n), 3),
        "per_frame_update_auto_zero_empty_us": round(best_us(run_empty_az, n), 3),
        "per_frame_numpy_maths_only_us": round(per_frame_numpy, 3),
        "numpy_over_float_ratio": round(per_frame_numpy / per_frame_float, 2),
        "block_path_us_per_frame": round(
            best_us(lambda: est.estimate_block(t, counts), n), 4),
        "cpu_share_at_80hz_pct": round(100 * per_frame_float * 80 / 1e6, 4),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", type=int, default=10)
    args = ap.parse_args(argv)
    if not REFERENCE.is_file():
        print(f"missing {REFERENCE}", file=sys.stderr)
        return 1
    t, cop = true_trace()
    seeds = range(args.boards)
    t0 = time.perf_counter()
    main_boards = [board_figures(s, t, cop) for s in seeds]
    sloppy = [board_figures(s, t, cop, placement_error_mm=2.0, dynamic=False) for s in seeds]
    linear = [board_figures(s, t, cop, quadratic=False, dynamic=False) for s in seeds]
    one_mass = [board_figures(s, t, cop, dynamic=False, plan=CalibrationPlan(masses_kg=(20.0,)),
                              placement_error_mm=2.0) for s in seeds]
    shifted = {
        f"refine_geometry_{refine}": summarize([
            board_figures(s, t, cop, dynamic=False, true_layout=SHIFTED_LAYOUT,
                          refine_geometry=refine, placement_error_mm=2.0) for s in seeds
        ], dynamic=False)
        for refine in (False, True)
    }
    result = {
        "boards": args.boards,
        "model": "CellModel.randomized: gain +-5 %, offsets +-20000 counts, 1 % non-linearity "
                 "at 490 N full scale, 39 counts rms noise (80 SPS); rigid plate, point load",
        "procedure": "tare 2 s; 20 and 80 kg at (0,0) and (+-150,+-100) mm, 2 s each; "
                     "least squares on equilibrium equations with a quadratic term",
        "foot_area": f"|x| <= {FOOT_X:g} mm, |y| <= {FOOT_Y:g} mm",
        "grid": "x -200..200, y -150..150 mm step 25; masses 20..120 kg step 20; 1 s each",
        "dynamic": f"{REFERENCE.name}, {BODY_KG:g} kg, resampled to 80 Hz, per-frame estimator "
                   "(raw, unfiltered)",
        "targets": {"static_foot_cop_rms_mm": 1.0, "static_foot_cop_max_mm": 2.0,
                    "force_error_pct": 0.5, "dynamic_cop_rms_diff_mm": 0.5},
        "results": summarize(main_boards),
        "placement_error_2mm": summarize(sloppy, dynamic=False),
        "linear_fit_only": summarize(linear, dynamic=False),
        "single_20kg_mass_2mm_placement_error_linear": summarize(one_mass, dynamic=False),
        "cells_5mm_off_nominal_2mm_placement_error": shifted,
        "estimator_cost": cost(t, cop),
        "bench_seconds": None,
    }
    r = result["results"]
    result["targets_met"] = {
        "static_foot_cop_rms": r["static_foot_cop_rms_mm"]["worst"] <= 1.0,
        "static_foot_cop_max": r["static_foot_cop_max_mm"]["worst"] <= 2.0,
        "force_error": r["static_grid_force_max_pct"]["worst"] <= 0.5,
        "dynamic_cop": r["dynamic_cop_rms_diff_mm"]["worst"] <= 0.5,
    }
    result["bench_seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
