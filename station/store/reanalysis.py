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
    """Metrics and score from the stored frames with the live pipeline
    (station.analysis.pipeline.analyze_frames: cells aligned on their conversion instants when
    the frames kept them -> calibration snapshot -> forces -> COP -> metrics -> score), so a
    re-analysed trial matches what the current station would record."""
    try:
        from station.analysis.pipeline import analyze_frames
    except ImportError as exc:
        raise AnalysisUnavailable(f"re-analysis needs {exc.name}, which is not available") from exc
    if trial.raw is None:
        raise ValueError("trial has no raw frames (removed by retention?)")
    if trial.calibration is None:
        raise ValueError("trial has no calibration snapshot")
    raw = trial.raw
    valid = raw.valid
    if not valid.any():
        raise ValueError("trial has no valid frames")
    metrics, score, version = analyze_frames(
        raw.t_ns[valid],
        raw.counts[valid],
        trial.calibration,
        stance=trial.stance,
        eyes=trial.eyes,
        surface=trial.surface,
        task=trial.task,
        completed=trial.outcome == "complete",
        time_to_failure_s=trial.time_to_failure_s,
        planned_duration_s=trial.planned_duration_s,
        body_weight_n=trial.body_weight_n,
        perturbation_onsets_s=trial.perturbation_onsets_s or (),
        cell_dt_ns=None if raw.cell_dt_ns is None else raw.cell_dt_ns[valid],
        game=(trial.spec or {}).get("game"),
        wobble_setup=_wobble_setup(trial),
    )
    return metrics, score, version


def _wobble_setup(trial: TrialRecord) -> Any:
    """A wobble trial is analysed again with the board and level point it was analysed with
    (its stored metrics), not today's; None for other trials."""
    if trial.surface != "wobble" and trial.task != "wobble":
        return None
    from station.analysis.wobble import stored_setup

    return stored_setup((trial.metrics or {}).get("wobble"))


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
