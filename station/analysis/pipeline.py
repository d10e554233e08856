"""One trial's analysis from its raw frames: the same code live and in `reanalyze`.

counts -> the four cells at one instant (each frame's own t_ns, from each cell's conversion
instant: station.calibration.alignment.align_frames, modified Akima, no latency) -> cell
forces (the calibration in force when the trial ran) -> force and COP -> sway metrics
(+ landing or perturbation measures for those tasks) -> the task's score
(station.analysis.scoring: a hold by its sway, a hop by its landing, a push by the reaction).
Frames without cell offsets (every trial stored before they were kept) skip the alignment,
so they give exactly the numbers they gave. A change here changes ANALYSIS_VERSION, so stored
trials show which code produced their numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from station import __version__
from station.analysis.metrics import compute_all, landing_metrics, perturbation_metrics
from station.analysis.metrics.games import GAME_MEASURES
from station.analysis.scoring import SCORE_VERSION, score_trial
from station.calibration.alignment import align_frames
from station.calibration.conversion import force_and_cop
from station.calibration.file import calibration_from_dict
from station.protocols.games import GameSpec
from station.wire import json_safe

if TYPE_CHECKING:
    from station.wobble import WobbleSetup

ANALYSIS_VERSION = f"station-{__version__}/score-{SCORE_VERSION}"


def analyze_frames(
    t_ns: np.ndarray,
    counts: np.ndarray,
    calibration: Mapping[str, Any],
    *,
    stance: str,
    eyes: str,
    surface: str,
    task: str = "hold",
    completed: bool,
    time_to_failure_s: float | None,
    planned_duration_s: float,
    body_weight_n: float | None = None,
    perturbation_onsets_s: Sequence[float] = (),
    cell_dt_ns: np.ndarray | None = None,
    wobble_setup: WobbleSetup | None = None,
    game: Mapping[str, Any] | GameSpec | None = None,
) -> tuple[dict[str, Any] | None, float, str]:
    """(metrics or None when the trace is too short to analyse, score 0-100, version).

    `t_ns`/`counts` are the valid frames of the held part of the trial; `cell_dt_ns` their
    cells' conversion offsets from t_ns ((n, 4) ns, zero rows not known; None: none known);
    perturbation onsets are in seconds from the first frame; `game` is a biofeedback game's
    spec (the trial spec's "game": targets and envelope), None for its defaults.
    """
    cal = calibration_from_dict(calibration)
    t_s = (np.asarray(t_ns, dtype=np.int64) - int(t_ns[0])) / 1e9 if len(t_ns) else np.zeros(0)
    cells = np.asarray(counts)
    if cell_dt_ns is not None and len(cells) and np.any(cell_dt_ns):
        cells = align_frames(t_ns, cells, np.asarray(cell_dt_ns, dtype=np.int64))
    _, total, cop = force_and_cop(cal, cells)
    landing: dict[str, Any] | None = None
    sway = np.ones(len(t_s), dtype=bool)
    if task == "hop" and body_weight_n:
        # The frames start before the flight phase; sway is measured after touch-down.
        try:
            landing = json_safe(landing_metrics(t_s, total, cop[:, 0], cop[:, 1], body_weight_n))
            sway = t_s >= landing["landing_t_s"]
        except ValueError as exc:
            landing = {"error": str(exc)}
    metrics: dict[str, Any] | None
    try:
        metrics = compute_all(
            t_s[sway], cop[sway, 0], cop[sway, 1], force_n=total[sway], body_weight_n=body_weight_n
        )
    except ValueError:
        metrics = None  # too short or unusable: scored as such
    if metrics is not None and landing is not None:
        metrics["landing"] = landing
    if metrics is not None and task == "push" and perturbation_onsets_s:
        try:
            metrics["perturbation"] = json_safe(
                perturbation_metrics(t_s, cop[:, 0], cop[:, 1], float(perturbation_onsets_s[0]))
            )
        except ValueError as exc:
            metrics["perturbation"] = {"error": str(exc)}
    # ---- wobble board (issue 14) -----------------------------------------------------------
    # A wobble-board trial (surface or task "wobble") gains metrics["wobble"]: tilt, rim
    # contacts and stability indices (docs/metrics.md section 11) with `wobble_setup` (the
    # board and its level point) or, until the station stores one, the default preset with
    # its level point at the board centre (metrics["wobble"]["setup"] says "default").
    if metrics is not None and (surface == "wobble" or task == "wobble"):
        from station.analysis.wobble import analyze_wobble
        from station.wobble import default_setup

        setup = wobble_setup if wobble_setup is not None else default_setup()
        try:
            metrics["wobble"] = analyze_wobble(t_s, total, cop, setup).measures
        except ValueError as exc:
            metrics["wobble"] = {"error": str(exc)}
    # ---- end of the wobble board block ---------------------------------------------------
    # ---- biofeedback games (issue 16): metrics[task] from the game's own targets ----------
    if metrics is not None and task in GAME_MEASURES:
        try:
            metrics[task] = json_safe(GAME_MEASURES[task](t_s, total, cop, body_weight_n,
                                                         GameSpec.from_json(game)))
        except ValueError as exc:
            metrics[task] = {"error": str(exc)}
    breakdown = score_trial(
        metrics,
        {"stance": stance, "eyes": eyes, "surface": surface},
        completed=completed,
        time_to_failure_s=time_to_failure_s,
        duration_s=planned_duration_s,
        task=task,
    )
    return metrics, float(breakdown.total), ANALYSIS_VERSION
