"""Saving finished trials into the store (one transaction per trial, raw frames included)."""

from __future__ import annotations

from typing import Any

from station.store.rawframes import RawFrames
from station.store.records import SessionRecord, TrialRecord
from station.trials.runner import FinishedTrial, Saver


def trial_record(finished: FinishedTrial, session_uid: str, board_id: str | None) -> TrialRecord:
    """The store's record of a finished trial (raw = the analysed, held frames)."""
    spec, outcome = finished.spec, finished.outcome
    n = len(finished.t_ns)
    raw = RawFrames.from_arrays(  # held frames are all valid
        finished.t_ns, finished.counts, cell_dt_ns=finished.cell_dt_ns
    )
    duration = raw.duration_s
    first_s = finished.t_ns[0] / 1e9 if n else 0.0
    outcome_name = {"complete": "complete", "failed": "failed"}.get(outcome.state.value, "aborted")
    return TrialRecord(
        session_uid=session_uid,
        seq=finished.request.seq,
        stance=spec.stance,
        eyes=spec.eyes,
        surface=spec.surface,
        planned_duration_s=float(spec.duration_s),
        outcome=outcome_name,
        duration_s=duration,
        started_at=finished.started_at,
        clock_synced=finished.clock_synced,
        protocol=finished.protocol.id,
        task=spec.task,
        spec=spec.to_json(),
        body_weight_n=outcome.body_weight_n,
        perturbation_onsets_s=[t - first_s for t in outcome.perturbation_onsets_s],
        time_to_failure_s=outcome.time_to_failure_s,
        failure_reason=outcome.failure_reason,
        metrics=finished.metrics,
        score=finished.score,
        calibration=finished.calibration,
        board_id=board_id,
        analysis_version=finished.analysis_version,
        raw=raw if n else None,
        rate_hz=(n - 1) / duration if duration > 0 else None,
    )


def store_saver(store: Any, board_id: str | None = None) -> Saver:
    """A Saver for TrialRunner: trials of a known athlete go into their session.

    A trial without an athlete (a quick try on the board) is analysed and shown,
    but not kept: history belongs to a person.
    """

    def save(finished: FinishedTrial) -> str | None:
        request = finished.request
        if request.athlete_uid is None or len(finished.t_ns) == 0:
            return None  # nobody to file it under, or it ended before the hold began
        if request.session_uid is None:
            request.session_uid = store.create_session(
                SessionRecord(athlete_uid=request.athlete_uid, protocol=finished.protocol.id)
            )
        return store.save_trial(trial_record(finished, request.session_uid, board_id))

    return save
