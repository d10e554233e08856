"""Simulated wobble-board sessions through the simulated board's calibration (test helpers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from station.board.sim import SimResult, simulate
from station.calibration.conversion import force_and_cop
from station.calibration.file import load_calibration
from station.samples import Sample
from station.wobble import WobbleSetup, preset

SIM_CAL = load_calibration(Path(__file__).resolve().parents[1] / "calibration" / "sim-board.json")
STEP_ON_S = 1.0


@dataclass
class Session:
    sim: SimResult
    total_n: np.ndarray
    cop_mm: np.ndarray
    setup: WobbleSetup  # the true board and level point

    def samples(self, from_s: float = 0.0) -> list[Sample]:
        forces = force_and_cop(SIM_CAL, self.sim.counts).cell_forces_n
        return [Sample(float(t), float(f), float(c[0]), float(c[1]), tuple(cf))
                for t, f, c, cf in zip(self.sim.t_s, self.total_n, self.cop_mm, forces,
                                       strict=True) if t >= from_s]

    def true_contacts(self) -> list[tuple[float, float]]:
        rim = self.sim.wobble.rim.astype(np.int8)
        edges = np.diff(np.concatenate([[0], rim, [0]]))
        t = self.sim.t_s
        return [(float(t[a]), float(t[b - 1])) for a, b in
                zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)]


def session(board: str = "round-40-hemisphere", *, stance: str = "double", skill: float = 0.5,
            eyes: str = "open", seed: int = 0, duration_s: float = 30.0,
            level_mm: tuple[float, float] = (6.0, -4.0), extra: list | None = None) -> Session:
    events = [(0.0, "place_wobble_board", {"board": board, "level_x_mm": level_mm[0],
                                           "level_y_mm": level_mm[1]}),
              (STEP_ON_S, "step_on", {"skill": skill, "eyes": eyes, "stance": stance}),
              *(extra or [])]
    sim = simulate(events, duration_s=duration_s, seed=seed)
    _, total, cop = force_and_cop(SIM_CAL, sim.counts)
    return Session(sim, total, cop, WobbleSetup(preset(board), level_mm=level_mm))
