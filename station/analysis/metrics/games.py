"""The biofeedback games' measures by task, in one call shape for the analysis pipeline.

Each entry takes (t_s, total force N, COP (n, 2) mm, body weight N or None, GameSpec) of the
held part of the trial and returns the task's section of the metrics (metrics[task]).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from station.analysis.metrics.maze import maze_metrics
from station.analysis.metrics.stability_limits import los_metrics
from station.analysis.metrics.toe_taps import toe_tap_metrics
from station.analysis.metrics.weight_shift import weight_shift_metrics
from station.protocols.games import GameSpec

GameMeasure = Callable[[np.ndarray, np.ndarray, np.ndarray, float | None, GameSpec],
                       dict[str, Any]]


def _toe_taps(t: np.ndarray, f: np.ndarray, cop: np.ndarray, bw: float | None,
              game: GameSpec) -> dict[str, Any]:
    return toe_tap_metrics(t, f, cop[:, 0], cop[:, 1], bw or float(np.median(f)), game)


GAME_MEASURES: dict[str, GameMeasure] = {
    "weight_shift": lambda t, f, cop, bw, game: weight_shift_metrics(t, cop[:, 0], cop[:, 1],
                                                                     game),
    "limits_of_stability": lambda t, f, cop, bw, game: los_metrics(t, cop[:, 0], cop[:, 1],
                                                                   game),
    "maze": lambda t, f, cop, bw, game: maze_metrics(t, cop[:, 0], cop[:, 1], game),
    "toe_taps": _toe_taps,
}
