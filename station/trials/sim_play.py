"""One trial played offline by the simulated athlete, frame by frame, as the station runs it.

simulator -> raw counts -> the live estimator (calibration/sim-board.json) -> the hold
engine with the trial's detector; once the hold starts the athlete is asked to play the game
(`play_game`, as the autopilot does); then the held frames go through the stored trial's
analysis (station.analysis.pipeline). The games' tests and bench/games_sim.py use it to see
the live figures and the analysis side by side, in seconds rather than real time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from station.analysis.pipeline import analyze_frames
from station.board.sim.engine import SimEngine
from station.calibration.estimator import Estimator
from station.calibration.file import load_calibration
from station.protocols.games import GAME_TASKS, GameSpec
from station.protocols.model import TrialSpec
from station.samples import Sample
from station.trials.events import State
from station.trials.hold import HoldEngine

SIM_CALIBRATION = Path(__file__).resolve().parents[2] / "calibration" / "sim-board.json"
SIM_STANCE = {"double": "double", "single-left": "left", "single-right": "right"}


def play_trial(spec: TrialSpec, skill: float, seed: int = 0, mass_kg: float = 70.0,
               calibration_path: Path = SIM_CALIBRATION) -> dict[str, Any]:
    """{"outcome", "metrics", "score", "events", "status"} of one simulated trial of `spec`."""
    sim = SimEngine(seed=seed)
    sim.schedule(0.0, "step_on", {"mass_kg": mass_kg, "stance": SIM_STANCE[spec.stance],
                                  "skill": skill, "surface": spec.surface, "eyes": spec.eyes})
    engine = HoldEngine(spec)
    estimator = Estimator(load_calibration(calibration_path))
    held_t: list[int] = []
    held_counts: list[np.ndarray] = []
    planned = spec.task not in GAME_TASKS
    events = []
    for _ in range(int((spec.duration_s + 15.0) * sim.rate_hz)):
        chunk = sim.advance(1)
        forces, total, cop = estimator.estimate_block(chunk.t_s, chunk.counts)
        t = float(chunk.t_s[0])
        sample = Sample(t, float(total[0]), float(cop[0, 0]), float(cop[0, 1]),
                        tuple(float(v) for v in forces[0]))
        events += engine.update(sample)
        if engine.state is State.HOLDING or engine.state.terminal:
            held_t.append(round(t * 1e9))
            held_counts.append(chunk.counts[0])
        if engine.state is State.HOLDING and not planned:
            planned = True
            game = spec.game if spec.game is not None else GameSpec()
            sim.schedule(sim.next_t_s, "play_game", {
                "task": spec.task, "game": game.to_json(), "skill": skill,
                "elapsed_s": engine.status()["hold_elapsed_s"], "duration_s": spec.duration_s})
        if engine.state.terminal:
            break
    out = engine.result
    if out is None or out.hold_start_t is None:
        raise RuntimeError(f"the simulated athlete never started the hold of {spec.id!r}")
    keep = [i for i, tn in enumerate(held_t) if out.hold_start_t <= tn / 1e9 <= out.hold_end_t]
    calibration = json.loads(calibration_path.read_text())
    metrics, score, _ = analyze_frames(
        np.array(held_t)[keep], np.array(held_counts)[keep], calibration,
        stance=spec.stance, eyes=spec.eyes, surface=spec.surface, task=spec.task,
        completed=out.completed, time_to_failure_s=out.time_to_failure_s,
        planned_duration_s=spec.duration_s, body_weight_n=out.body_weight_n, game=spec.game)
    return {"outcome": out, "metrics": metrics, "score": score, "events": events,
            "status": engine.status()}
