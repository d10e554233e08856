"""A finished trial's result card: its key measures against the baseline and the last test.

The kiosk shows it after a trial (GET /api/pages/result/<trial>) and the trial's JSON
(GET /api/trials/<uid>) carries the same comparison.
"""

from __future__ import annotations

from typing import Any

from station.analysis.history.comparison import change_against
from station.analysis.history.history_rows import (
    KEY_MEASURES,
    athlete_json,
    condition_key,
    condition_label,
    iso,
    measure_value,
    measured,
)
from station.analysis.history.store_reads import HistoryStore
from station.wire import json_safe


def result_card(store: HistoryStore, trial_uid: str) -> dict[str, Any]:
    """A finished trial with its change against the athlete's baseline (first trial of the
    same condition) and previous test of that condition. StoreError when there is no such
    trial."""
    trial = store.load_trial(trial_uid, with_raw=False)
    rows = store.athlete_history(trial.athlete_uid, metrics=True)
    me = next(r for r in rows if r["uid"] == trial_uid)
    same = measured(r for r in rows if condition_key(r) == condition_key(me))
    index = next(i for i, r in enumerate(same) if r["uid"] == trial_uid) if me in same else None
    baseline = same[0] if same and same[0]["uid"] != trial_uid else None
    previous = same[index - 1] if index else None
    measures = []
    for key, (label, unit) in KEY_MEASURES.items():
        value = measure_value(me, key)
        measures.append({
            "key": key, "label": label, "unit": unit, "value": value,
            "vs_baseline": change_against(
                value, measure_value(baseline, key) if baseline else None, key, me["stance"]),
            "vs_last": change_against(
                value, measure_value(previous, key) if previous else None, key, me["stance"]),
        })
    return json_safe({
        "trial_uid": trial_uid, "athlete": athlete_json(store.get_athlete(trial.athlete_uid)),
        "condition": condition_label(me), "outcome": me["outcome"],
        "failure_reason": trial.failure_reason, "score": me.get("score"),
        "started_at": iso(me["started_at"]), "measures": measures,
        "baseline_date": iso(baseline["started_at"]) if baseline else None,
        "last_date": iso(previous["started_at"]) if previous else None,
    })
