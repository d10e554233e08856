"""A stored trial's COP trace for the replay on the athlete page, from its raw frames.

Recomputed from the raw counts and the trial's own calibration snapshot (what was
measured, not what a later calibration would say), decimated to at most
`TRACE_MAX_POINTS` points; the replay keeps real time.
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
    cop = force_and_cop(cal, np.asarray(trial.raw.counts)).cop_mm
    t = (trial.raw.t_ns - trial.raw.t_ns[0]) / 1e9
    step = max(1, int(np.ceil(len(t) / TRACE_MAX_POINTS)))
    keep = np.isfinite(cop[::step]).all(axis=1)
    out["t"] = np.round(t[::step][keep], 3).tolist()
    out["x"] = np.round(cop[::step, 0][keep], 1).tolist()
    out["y"] = np.round(cop[::step, 1][keep], 1).tolist()
    return json_safe(out)
