"""Re-analysis of a stored trial from its raw frames with the current code.

`reanalyze(store, analyze_fn=...)` walks the selected trials; `default_analyze` is the
station's pipeline (calibration snapshot -> cell forces -> COP -> metrics -> score), imported
lazily so the store does not depend on those modules to load.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from station.store.records import TrialRecord
from station.store.repository import Store

AnalyzeFn = Callable[[TrialRecord], tuple[dict[str, Any] | None, float | None, str]]


class AnalysisUnavailable(RuntimeError):
    """The analysis modules (calibration, metrics, scoring) cannot be imported."""


def default_analyze(trial: TrialRecord) -> tuple[dict[str, Any] | None, float | None, str]:
    """Metrics and score of a trial from its raw frames and its calibration snapshot."""
    try:
        from station import __version__
        from station.calibration.file import calibration_from_dict
        from station.geometry import cop_from_forces
        from station.metrics import compute_all
        from station.scoring import SCORE_VERSION, score_trial
    except ImportError as exc:
        raise AnalysisUnavailable(f"re-analysis needs {exc.name}, which is not available") from exc
    if trial.raw is None:
        raise ValueError("trial has no raw frames (removed by retention?)")
    if trial.calibration is None:
        raise ValueError("trial has no calibration snapshot")
    cal = calibration_from_dict(trial.calibration)
    raw = trial.raw
    valid = raw.valid
    t_s = (raw.t_ns[valid] - raw.t_ns[0]) / 1e9
    forces = cal.cell_forces(raw.counts[valid])
    total, cop = cop_from_forces(forces, cal.positions_mm, cal.min_load_n)
    if trial.outcome != "complete" and trial.time_to_failure_s is not None:
        held = t_s <= trial.time_to_failure_s
        t_s, total, cop = t_s[held], total[held], cop[held]
    try:
        metrics = compute_all(t_s, cop[:, 0], cop[:, 1], force_n=total)
    except ValueError:
        metrics = None  # too short or unusable: scored as such
    breakdown = score_trial(
        metrics,
        {"stance": trial.stance, "eyes": trial.eyes, "surface": trial.surface},
        completed=trial.outcome == "complete",
        time_to_failure_s=trial.time_to_failure_s,
        duration_s=trial.planned_duration_s,
    )
    return metrics, float(breakdown.total), f"station-{__version__}/score-{SCORE_VERSION}"


def reanalyze(
    store: Store,
    athlete_uid: str | None = None,
    since: datetime | None = None,
    analyze_fn: AnalyzeFn | None = None,
    progress: Callable[[str, str | None], None] | None = None,
) -> dict[str, int]:
    """Recompute metrics and score of every selected trial that still has raw frames.

    Each trial is updated in its own transaction (a crash loses nothing already done);
    a trial the analysis refuses is counted and left as it was.
    """
    analyze = analyze_fn or default_analyze
    done = failed = 0
    selected = store.trial_uids(athlete_uid=athlete_uid, since=since)
    with_raw = set(store.trial_uids(athlete_uid=athlete_uid, since=since, with_raw_only=True))
    for uid in selected:
        if uid not in with_raw:
            continue
        trial = store.load_trial(uid)
        try:
            metrics, score, version = analyze(trial)
        except AnalysisUnavailable:
            raise
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            failed += 1
            if progress:
                progress(uid, str(exc))
            continue
        store.update_analysis(uid, metrics, score, version)
        done += 1
        if progress:
            progress(uid, None)
    return {
        "selected": len(selected),
        "reanalyzed": done,
        "failed": failed,
        "without_raw": len(selected) - len(with_raw),
    }
