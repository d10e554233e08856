"""False-alarm sweep of the hold engine: how much sway before a normal hold ends early.

Not a timing benchmark: it measures the figures quoted in docs/hold-engine.md. Prints JSON.
1. Synthetic single-leg holds (station.trials.synthetic_samples) at rising sway and vertical-force
   fluctuation, N seeds each: outcome counts, mean COP RMS and velocity.
2. The simulated athlete (station.board.sim) on each surface/eyes/skill, through the
   estimator with calibration/sim-board.json.

    .venv/bin/python bench/hold_engine_false_alarms.py [--seeds 60] [--sim-seeds 6]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from station.protocols import TrialSpec
from station.samples import Sample
from station.trials import HoldEngine
from station.trials.synthetic_samples import FOOT_X_MM, Script

ROOT = Path(__file__).resolve().parents[1]
HOLD_S = 30.0


def outcome(spec: TrialSpec, samples: list[Sample]) -> str:
    engine = HoldEngine(spec)
    for s in samples:
        engine.update(s)
        if engine.state.terminal:
            break
    if engine.result is None:
        return "not_finished:" + engine.state.value
    return engine.result.failure_reason or "complete"


def sway_stats(samples: list[Sample], t0: float, t1: float) -> tuple[float, float]:
    cop = np.array([(s.cop_x_mm, s.cop_y_mm) for s in samples if t0 <= s.t_s < t1])
    cop = cop - cop.mean(axis=0)
    rms = float(np.sqrt((cop**2).sum(axis=1).mean()))
    return rms, float(np.hypot(*np.diff(cop, axis=0).T).sum() / (t1 - t0))


def synthetic(seeds: int) -> list[dict]:
    spec = TrialSpec(id="l", stance="single-left", duration_s=HOLD_S)
    rows = []
    for sway, fz, cutoff in [(4.5, 0.02, 0.85), (6.0, 0.03, 0.85), (7.5, 0.03, 1.0),
                             (9.0, 0.04, 1.2)]:
        counts: Counter[str] = Counter()
        stats = []
        for seed in range(seeds):
            script = (Script(seed=seed, sway_cutoff_hz=cutoff).empty(0.5).step_on().stand(2.0)
                      .shift(0.6, -FOOT_X_MM, sway_mm=sway).stand(4.0, sway_mm=sway, fz_frac=0.01)
                      .stand(HOLD_S + 4.0, sway_mm=sway, fz_frac=fz))
            samples = script.build()
            stats.append(sway_stats(samples, 8.0, 8.0 + HOLD_S))
            counts[outcome(spec, samples)] += 1
        rms, vel = np.mean(stats, axis=0)
        rows.append({"sway_rms_per_axis_mm": sway, "vertical_std_frac": fz,
                     "cop_rms_mm": round(float(rms), 1), "cop_velocity_mm_s": round(float(vel), 1),
                     "outcomes": dict(counts)})
    return rows


def simulated(seeds: int) -> list[dict]:
    from station.board.sim import simulate
    from station.calibration.estimator import Estimator
    from station.calibration.file import load_calibration

    cal = load_calibration(ROOT / "calibration" / "sim-board.json")
    rows = []
    for surface in ("firm", "foam", "wobble"):
        for eyes in ("open", "closed"):
            for skill in (0.2, 0.5, 0.8):
                counts: Counter[str] = Counter()
                stats = []
                for seed in range(seeds):
                    events = [(0.5, "step_on", {"mass_kg": 70, "surface": surface, "eyes": eyes,
                                                "skill": skill}),
                              (3.0, "lift_foot", {"side": "right"})]
                    res = simulate(events, seed=seed, duration_s=HOLD_S + 15.0)
                    forces, total, cop = Estimator(cal).estimate_block(res.t_s, res.counts)
                    samples = [Sample(float(t), float(f), float(c[0]), float(c[1]),
                                      tuple(float(v) for v in fc))
                               for t, f, c, fc in zip(res.t_s, total, cop, forces, strict=True)]
                    stats.append(sway_stats(samples, 10.0, 10.0 + HOLD_S))
                    spec = TrialSpec(id="l", stance="single-left", surface=surface, eyes=eyes,
                                     duration_s=HOLD_S)
                    counts[outcome(spec, samples)] += 1
                rms, vel = np.mean(stats, axis=0)
                rows.append({"surface": surface, "eyes": eyes, "skill": skill,
                             "cop_rms_mm": round(float(rms), 1),
                             "cop_velocity_mm_s": round(float(vel), 1),
                             "outcomes": dict(counts)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=60)
    parser.add_argument("--sim-seeds", type=int, default=6)
    args = parser.parse_args()
    print(json.dumps({"hold_s": HOLD_S, "synthetic": synthetic(args.seeds),
                      "simulated_athlete": simulated(args.sim_seeds)}, indent=1))


if __name__ == "__main__":
    main()
