"""The biofeedback games played by simulated athletes of three skills: each game's measures
and score, from the live detector's run and the stored trial's analysis (station.trials.
sim_play). The figures docs/metrics.md quotes for the games come from this script.

    .venv/bin/python bench/games_sim.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from station.protocols import get_protocol
from station.trials.sim_play import play_trial

GAMES = {
    "weight_shift": ("weight-shift", "heel-toe", ("rms_error_mm", "time_in_band_pct", "lag_s")),
    "limits_of_stability": ("limits-of-stability", "los-8",
                            ("reaction_time_s", "movement_velocity_mm_s", "max_excursion_pct",
                             "directional_control_pct")),
    "maze": ("maze", "maze-8", ("targets_reached_pct", "time_per_target_s")),
    "toe_taps": ("toe-taps", "left-taps", ("taps_pct", "interval_cv", "lost_control")),
}
SKILLS = (0.3, 0.6, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    out: dict[str, dict[str, dict[str, float]]] = {}
    for task, (protocol, trial_id, measures) in GAMES.items():
        spec = get_protocol(protocol).trial(trial_id)
        out[task] = {}
        for skill in SKILLS:
            rows = [play_trial(spec, skill, seed) for seed in range(args.seeds)]
            summary = {m: round(float(np.mean([r["metrics"][task][m] for r in rows])), 2)
                       for m in measures}
            summary["score"] = round(float(np.mean([r["score"] for r in rows])), 1)
            out[task][f"skill {skill}"] = summary
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
