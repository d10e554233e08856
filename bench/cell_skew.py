"""Four cells, one instant: what the sampling skew between the HX711s costs, and what the
per-cell timing plus alignment give back. Prints JSON.

Landings (hop_landing), pushes (push) and single-leg sway (single_leg_hold) go through the
GPIO-level emulator and the real driver (virtual time): each chip on its own oscillator
(rates spread over +-3 %, each drifting like a warming board) or all on one shared clock
after a synchronized start. Each chip converts the simulated force of its cell at its own
conversion instant; the simulator knows the truth at every instant. The cells are ideal
(nominal gain, no offset, no non-linearity) with the datasheet's noise, so the errors are the
timing's, not the calibration's.

Variants, each compared with the truth at the instant it describes:

- none: the raw frame (what the station does without alignment), at the mean of its four
  conversion instants, the best a raw frame can be credited with;
- block: `align_frames` (the analysis path, modified Akima) to each frame's t_ns;
- block_linear: the same with linear interpolation;
- live: `LiveAligner` (the live path, causal) at each frame's oldest conversion instant;
- station_live: the same frames through the station's own live path, the shared-memory
  acquisition ring (offsets and all) and the estimator (`Estimator.update`, which aligns
  with `LiveAligner` before counts -> forces), at each frame's oldest conversion instant;
- block_true_instants: block with the emulator's exact instants (the method's own floor).

Figures: COP error (RMS and max, mm) while someone stands on the board, the landing's peak
force (body weights) and its error (% of the true peak at the same instants), the max COP
error from 50 ms after contact to 1 s, single-leg sway COP RMS error, and how well the
skew the driver reports agrees with the emulator (p95, max, us). `targets` checks the
issue's targets on the block path with per-chip clocks.

    .venv/bin/python bench/cell_skew.py [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from station.acquisition.ring import FrameRing
from station.board.cell_model import CellModel
from station.board.oscillator import ChipClocks
from station.board.sim import SimEngine
from station.board.sim.gpio_path import GpioPath
from station.board.sim.scenario import load_scenario
from station.calibration.alignment import LiveAligner, align_frames, offsets_array
from station.calibration.estimator import Estimator
from station.calibration.file import Calibration
from station.frames import Frame
from station.geometry import DEFAULT_LAYOUT, cop_from_forces

SCENARIOS = ("hop_landing", "push", "single_leg_hold")
SPREAD = 0.03  # +-3 % between the chips' rates
DRIFT = 0.003  # +-0.3 % temperature walk of each rate ...
DRIFT_PERIOD_S = 120.0  # ... over two minutes
ON_BOARD_BW = 0.2  # COP errors count while the true force exceeds this
LANDING_FROM_S, LANDING_TO_S = 0.05, 1.0  # the landing window after first contact
SWAY_SETTLE_S = 0.5  # single-leg sway counted from this long after the weight shift
TARGETS = {
    "single_leg_sway_cop_rms_mm": 0.05,
    "landing_peak_force_error_pct": 2.0,
    "landing_cop_max_mm_from_50ms": 2.0,
}


def run_through_driver(scenario: str, clocks: ChipClocks, seed: int) -> dict[str, Any]:
    """Frames from the emulated chips and the driver, with the emulator's truth."""
    scn = load_scenario(scenario)
    engine = SimEngine(seed=seed, cells=CellModel(), history_s=None)
    engine.schedule_events(scn, t0_s=0.0)
    path = GpioPath(engine, realtime=False, chips=clocks)
    end_ns = int(scn.end_s * 1e9)
    t, counts, dt, truth = [], [], [], []
    wall = time.perf_counter()
    while True:
        frame = path.read()
        if frame.t_ns > end_ns:
            break
        if not frame.valid:
            continue
        t.append(frame.t_ns)
        counts.append(frame.counts)
        dt.append(frame.cell_dt_ns)
        truth.append(path.emulator.latched_conversions_ns())
    wall = time.perf_counter() - wall
    timing = path.source.array.cell_timing()
    path.close()
    return {
        "engine": engine,
        "t_ns": np.array(t, dtype=np.int64),
        "counts": np.array(counts, dtype=float),
        "dt": dt,
        "true_cell_t_ns": np.array(truth, dtype=np.int64),
        "timing": timing,
        "wall_s": wall,
        "phases": engine.athlete.phases,
        "weight_n": engine.athlete.weight_n,
    }


def _stats(err: np.ndarray) -> tuple[float, float]:
    err = err[np.isfinite(err)]
    if not err.size:
        return float("nan"), float("nan")
    return float(np.sqrt(np.mean(err * err))), float(np.max(np.abs(err)))


def evaluate(run: dict[str, Any], forces: np.ndarray, label_ns: np.ndarray) -> dict[str, Any]:
    """Errors of per-cell forces (n, 4) describing the instants label_ns, against the truth."""
    engine: SimEngine = run["engine"]
    truth = engine.state_at(label_ns / 1e9)
    total, cop = cop_from_forces(forces, DEFAULT_LAYOUT.positions, min_load_n=1.0)
    bw = run["weight_n"]
    on = truth.total_force_n > ON_BOARD_BW * bw
    cop_err = np.linalg.norm(cop - truth.true_cop_mm, axis=1)
    cop_err[~on] = np.nan
    rms, mx = _stats(cop_err)
    out: dict[str, Any] = {"cop_rms_mm": round(rms, 4), "cop_max_mm": round(mx, 3)}
    t_s = label_ns / 1e9
    marks = {p.label: p.t_s for p in run["phases"]}
    if "landing" in marks:
        t_land = marks["landing"]
        win = (t_s >= t_land - 0.1) & (t_s <= t_land + LANDING_TO_S)
        true_peak = float(truth.total_force_n[win].max())
        est_peak = float(total[win].max())
        after = (t_s >= t_land + LANDING_FROM_S) & (t_s <= t_land + LANDING_TO_S) & on
        force_err = (total - truth.total_force_n)[win] / bw * 100
        out["landing"] = {
            "true_peak_bw": round(true_peak / bw, 3),
            "peak_bw": round(est_peak / bw, 3),
            "peak_force_error_pct": round((est_peak - true_peak) / true_peak * 100, 3),
            "force_error_max_pct_bw": round(float(np.max(np.abs(force_err))), 2),
            "cop_max_mm_from_50ms": round(_stats(cop_err[after])[1], 3),
            "cop_max_mm_first_50ms": round(
                _stats(cop_err[(t_s >= t_land) & (t_s < t_land + LANDING_FROM_S) & on])[1], 3
            ),
        }
    single = [v for k, v in marks.items() if k.startswith("single_")]
    if single and "hop" not in marks:
        start = single[0] + SWAY_SETTLE_S
        stop = min([v for k, v in marks.items() if k in ("touch_down", "put_foot_down",
                                                           "step_off") and v > start]
                   or [t_s[-1]])
        sway = (t_s >= start) & (t_s < stop)
        rms_s, max_s = _stats(cop_err[sway])
        out["single_leg_sway"] = {"cop_rms_mm": round(rms_s, 4), "cop_max_mm": round(max_s, 3),
                                  "seconds": round(stop - start, 1)}
    pushes = [p.t_s for p in run["phases"] if p.label == "push"]
    if pushes:
        win = np.zeros(t_s.shape, bool)
        for tp in pushes:
            win |= (t_s >= tp) & (t_s < tp + 1.5)
        rms_p, max_p = _stats(cop_err[win])
        out["pushes"] = {"cop_rms_mm": round(rms_p, 4), "cop_max_mm": round(max_p, 3)}
    return out


def analyse(run: dict[str, Any], newtons_per_count: np.ndarray) -> dict[str, Any]:
    forces = run["counts"] * newtons_per_count
    t = run["t_ns"]
    known = np.array([d is not None for d in run["dt"]])
    dt = offsets_array(run["dt"])
    cell_t = t[:, None] + dt
    true_t = run["true_cell_t_ns"]
    err_us = np.abs(cell_t - true_t)[known] / 1e3
    mean_instant = cell_t.mean(axis=1).round().astype(np.int64)
    variants = {
        "none": evaluate(run, forces, mean_instant),
        "block": evaluate(run, align_frames(t, forces, dt), t),
        "block_linear": evaluate(run, align_frames(t, forces, dt, method="linear"), t),
    }
    live = LiveAligner()
    live_t, live_v = [], []
    for k in range(len(t)):
        target, values = live.update(int(t[k]), forces[k].tolist(),
                                     run["dt"][k])
        live_t.append(target)
        live_v.append(values)
    variants["live"] = evaluate(run, np.array(live_v), np.array(live_t, dtype=np.int64))
    variants["station_live"] = evaluate(
        run, through_the_station(run, newtons_per_count), np.array(live_t, dtype=np.int64)
    )
    variants["block_true_instants"] = evaluate(
        run, align_frames(t, forces, true_t - t[:, None]), t
    )
    timing = run["timing"]
    skew = (true_t.max(axis=1) - true_t.min(axis=1)) / 1e6
    return {
        "frames": len(t),
        "frames_with_cell_timing": int(known.sum()),
        "true_skew_ms": {"mean": round(float(skew.mean()), 3), "max": round(float(skew.max()), 3)},
        "reported_skew_error_us": {
            "p95": round(float(np.percentile(err_us, 95)), 2) if err_us.size else None,
            "max": round(float(err_us.max()), 2) if err_us.size else None,
        },
        "driver": {
            "rates_hz": [None if r is None else round(r, 3) for r in timing.rates_hz],
            "skew_mean_ms": round(timing.skew_mean_ms, 3),
            "skew_max_ms": round(timing.skew_max_ms, 3),
            "lockstep": timing.lockstep,
        },
        "emulated_seconds_per_wall_second": round(
            (t[-1] - t[0]) / 1e9 / run["wall_s"], 1) if len(t) > 1 else None,
        "variants": variants,
    }


def through_the_station(run: dict[str, Any], newtons_per_count: np.ndarray) -> np.ndarray:
    """Cell forces (n, 4) of the run's frames written into the acquisition ring, read back
    as the station's reader does and estimated by the live estimator (ideal calibration)."""
    calibration = Calibration(
        board="ideal", created=datetime(2026, 1, 1, tzinfo=UTC),
        positions_mm=DEFAULT_LAYOUT.positions, offsets_counts=np.zeros(4),
        newtons_per_count=np.asarray(newtons_per_count, dtype=float), min_load_n=1.0,
    )
    estimator = Estimator(calibration)
    ring = FrameRing(capacity=1 << 12)
    out = []
    try:
        counts = run["counts"].astype(np.int64).tolist()
        for start in range(0, len(counts), 256):  # as the reader drains it, in batches
            for k in range(start, min(start + 256, len(counts))):
                ring.write(Frame(int(run["t_ns"][k]), tuple(counts[k]), 0, 0, run["dt"][k]))
            batch = ring.read_new()
            for t, c, dt in zip(batch.t_ns.tolist(), batch.counts.tolist(),
                                batch.cell_offsets(), strict=True):
                out.append(estimator.update(Frame(t, tuple(c), 0, 0, dt)).cell_forces_n)
    finally:
        ring.close()
    return np.array(out)


def check_targets(results: dict[str, Any]) -> dict[str, Any]:
    block = {name: results[name]["internal"]["variants"]["block"] for name in results}
    got = {
        "single_leg_sway_cop_rms_mm": block["single_leg_hold"]["single_leg_sway"]["cop_rms_mm"],
        "landing_peak_force_error_pct": abs(
            block["hop_landing"]["landing"]["peak_force_error_pct"]),
        "landing_cop_max_mm_from_50ms": block["hop_landing"]["landing"]["cop_max_mm_from_50ms"],
    }
    return {
        key: {"target_le": TARGETS[key], "aligned": got[key], "met": bool(got[key] <= TARGETS[key])}
        for key in TARGETS
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    npc = CellModel().newtons_per_count
    modes = {
        "internal": ChipClocks.internal(
            spread=SPREAD, drift_amplitude=DRIFT, drift_period_s=DRIFT_PERIOD_S, seed=args.seed
        ),
        "shared_clock": ChipClocks.shared_clock(
            drift_amplitude=DRIFT, drift_period_s=DRIFT_PERIOD_S, seed=args.seed
        ),
    }
    results: dict[str, Any] = {}
    for name in SCENARIOS:
        results[name] = {}
        for mode, clocks in modes.items():
            results[name][mode] = analyse(run_through_driver(name, clocks, args.seed), npc)
    out = {
        "benchmark": "cell_skew",
        "python": platform.python_version(),
        "seed": args.seed,
        "clocks": {
            mode: {"label": c.label, "rates_hz": [round(r, 3) for r in c.rates_hz],
                   "drift_pct": DRIFT * 100, "drift_period_s": DRIFT_PERIOD_S}
            for mode, c in modes.items()
        },
        "scenarios": results,
        "targets": check_targets(results),
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
