"""A finished trial's result card: its own measures against the baseline and the last test.

The kiosk shows it after a trial (GET /api/pages/result/<trial>) and the trial's JSON
(GET /api/trials/<uid>) carries the same comparison. A hop is shown by its landing, a
push by the reaction to it, a hold by its sway (history_rows.TASK_MEASURES); time held is
shown against the planned duration and compared only with equally long plans.
"""

from __future__ import annotations

from typing import Any

from station.analysis.history.baseline import baselines
from station.analysis.history.comparison import change_against, held_against, held_text
from station.analysis.history.game_summary import game_outcome_text, game_summary, is_game
from station.analysis.history.history_rows import (
    HELD,
    athlete_json,
    condition_key,
    condition_label,
    counted,
    held,
    iso,
    measure_json,
    measure_value,
    model_of,
    score_label,
    task_measures,
)
from station.analysis.history.measurement_error import error_for_row, trials_averaged
from station.analysis.history.norms_view import trial_norms
from station.analysis.history.store_reads import HistoryStore
from station.wire import json_safe


def previous_of(rows: list[dict[str, Any]], me: dict[str, Any]) -> dict[str, Any] | None:
    """The last counted trial of the same condition before `me` (rows: the whole history,
    oldest first: whether a trial was repeated at once is seen from its session)."""
    key = condition_key(me)
    before = {r["uid"] for r in rows[: next(i for i, r in enumerate(rows)
                                            if r["uid"] == me["uid"])]}
    return next((r for r in reversed(counted(rows))
                 if r["uid"] in before and condition_key(r) == key), None)


def result_card(store: HistoryStore, trial_uid: str) -> dict[str, Any]:
    """A finished trial with its change against the athlete's baseline of that condition
    (baseline.py: the baseline assessment, not simply the first trial) and the previous
    test of it. A trial of the baseline session is part of the baseline: no change against
    it. A game speaks its own measures (`summary`, `outcome_text`: game_summary.py); a
    training trial is never called part of a baseline assessment (`baseline.assessment`).
    StoreError when there is no such trial."""
    trial = store.load_trial(trial_uid, with_raw=False)
    rows = store.athlete_history(trial.athlete_uid, metrics=True)
    me = next(r for r in rows if r["uid"] == trial_uid)
    base = baselines(rows).get(condition_key(me))
    in_baseline = base is not None and me.get("session_uid") == base.session_uid
    reference = None if in_baseline else base
    previous = previous_of(rows, me)
    stance = me["stance"]
    my_held = held(me)
    measures = []
    for key in task_measures(me):
        value = measure_value(me, key)
        if key == HELD:
            vs_baseline = held_against(my_held, reference.to_json()["held"] if reference else
                                       None, stance)
            vs_last = held_against(my_held, held(previous) if previous else None, stance)
        else:
            error = error_for_row(rows, me, key)
            k_base = trials_averaged(reference.rule, len(reference.rows)) if reference else 1
            vs_baseline = change_against(value, reference.value(key) if reference else None,
                                         key, stance, error=error, k_reference=k_base)
            vs_last = change_against(value, measure_value(previous, key) if previous else None,
                                     key, stance, error=error)
        measures.append({**measure_json(key), "value": value, "vs_baseline": vs_baseline,
                         "vs_last": vs_last})
    # a baseline made of training trials (a game no assessment has: its first session), or
    # any game's first trials, is the first session to compare with, never "the baseline
    # assessment" (the games are training tasks, not the battery's tests)
    base_is_assessment = base is not None and not is_game(me) and all(
        r.get("session_kind") != "training" for r in base.rows)
    baseline_json = None if base is None else {**base.to_json(), "includes_this": in_baseline,
                                                "assessment": base_is_assessment}
    athlete = store.get_athlete(trial.athlete_uid)
    return json_safe({
        "trial_uid": trial_uid, "athlete": athlete_json(athlete),
        "norms": trial_norms(me, athlete),
        "condition": condition_label(me), "condition_key": condition_key(me),
        "task": me.get("task") or "hold", "model": model_of(me), "score_label": score_label(me),
        "outcome": me["outcome"], "failure_reason": trial.failure_reason,
        "score": me.get("score"), "held": {**my_held, "text": held_text(my_held)},
        "session_kind": me.get("session_kind") or "assessment",
        "summary": game_summary(me),  # a game's own measures in words (None: not a game)
        "outcome_text": game_outcome_text(me),
        "started_at": iso(me["started_at"]), "measures": measures,
        "baseline": baseline_json,
        "baseline_date": iso(base.started_at) if reference else None,
        "last_date": iso(previous["started_at"]) if previous else None,
    })
