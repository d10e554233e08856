"""A stored trial's COP trace for the replay on the athlete page, from its raw frames.

Recomputed from the raw counts and the trial's own calibration snapshot (what was
measured, not what a later calibration would say), decimated to at most
`TRACE_MAX_POINTS` points; the replay keeps real time. A wobble trial's trace also carries
the deck's tilt (`wobble`: the rolled tilt of station.analysis.wobble with the board and level
point the trial was analysed with, at the trace's times) so the replay shows the level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.analysis.history.store_reads import HistoryStore
from station.calibration.conversion import force_and_cop
from station.calibration.file import calibration_from_dict
from station.wire import json_safe

TRACE_MAX_POINTS = 1500


def trace_view(store: HistoryStore, trial_uid: str) -> dict[str, Any]:
    """{"t" (s from the first frame), "x", "y" (mm), "stance", "outcome"}; "problem" says
    why the lists are empty. StoreError when there is no such trial."""
    trial = store.load_trial(trial_uid, with_raw=True)
    out: dict[str, Any] = {"trial_uid": trial_uid, "t": [], "x": [], "y": [],
                           "stance": trial.stance, "outcome": trial.outcome}
    if trial.raw is None or trial.calibration is None or trial.raw.n < 2:
        out["problem"] = "no raw frames kept for this trial"
        return out
    cal = calibration_from_dict(trial.calibration)
    measured = force_and_cop(cal, np.asarray(trial.raw.counts))
    cop = measured.cop_mm
    t = (trial.raw.t_ns - trial.raw.t_ns[0]) / 1e9
    step = max(1, int(np.ceil(len(t) / TRACE_MAX_POINTS)))
    keep = np.isfinite(cop[::step]).all(axis=1)
    out["t"] = np.round(t[::step][keep], 3).tolist()
    out["x"] = np.round(cop[::step, 0][keep], 1).tolist()
    out["y"] = np.round(cop[::step, 1][keep], 1).tolist()
    if trial.surface == "wobble" or trial.task == "wobble":
        out["wobble"] = wobble_trace(trial.metrics, t, measured.force_n, cop,
                                     np.asarray(out["t"]))
    return json_safe(out)


def wobble_trace(metrics: dict[str, Any] | None, t_s: np.ndarray, force_n: np.ndarray,
                 cop_mm: np.ndarray, at_s: np.ndarray) -> dict[str, Any]:
    """The deck's tilt (deg, ML and AP) at the trace's times, the rim's state and the board's
    maximum; {"problem": ...} when the trial's wobble analysis cannot be redone."""
    from station.analysis.wobble import analyze_wobble, stored_setup
    from station.wobble import BoardProfileError

    try:
        setup = stored_setup((metrics or {}).get("wobble"))
        result = analyze_wobble(t_s, force_n, cop_mm, setup)
    except (BoardProfileError, ValueError) as exc:
        return {"problem": f"no tilt for the replay: {exc}"}
    at = np.asarray(at_s, dtype=float)  # the same clock as t_s (the tilt's is uniform)
    ml = np.interp(at, result.t_s, result.tilt_deg[:, 0])
    ap = np.interp(at, result.t_s, result.tilt_deg[:, 1])
    rim = np.interp(at, result.t_s, result.rim.astype(float)) > 0.5
    return {"ml": np.round(ml, 2).tolist(), "ap": np.round(ap, 2).tolist(),
            "rim": rim.tolist(), "max_tilt_deg": setup.board.max_tilt_deg,
            "board": setup.board.name}
