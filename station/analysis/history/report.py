"""The printable report: the athlete's history with baseline against latest per condition.

The report page and its PDF (printed from the same page) show this one dict.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from station.analysis.history.athlete_history import history_view
from station.analysis.history.comparison import change_against
from station.analysis.history.history_rows import (
    KEY_MEASURES,
    by_condition,
    condition_label,
    iso,
    measure_value,
    measured,
)
from station.analysis.history.store_reads import HistoryStore
from station.wire import json_safe


def baseline_against_latest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per condition tested: the first and the latest trial, each key measure's change."""
    conditions = []
    for key, group in by_condition(rows).items():
        done = measured(group)
        if not done:
            continue
        base, last = done[0], done[-1]
        conditions.append({
            "key": key, "label": condition_label(base), "n": len(done),
            "baseline_date": iso(base["started_at"]), "latest_date": iso(last["started_at"]),
            "measures": [
                {"label": label, "unit": unit, "baseline": measure_value(base, m),
                 "latest": measure_value(last, m),
                 "cmp": change_against(measure_value(last, m), measure_value(base, m), m,
                                       base["stance"]) if last is not base else None}
                for m, (label, unit) in KEY_MEASURES.items()
            ],
        })
    return conditions


def report_view(store: HistoryStore, athlete_uid: str,
                now: datetime | None = None) -> dict[str, Any]:
    """Baseline against latest per condition, L/R symmetry and targets: the printable report
    (the history view plus `conditions` and when it was `generated`)."""
    rows = store.athlete_history(athlete_uid, metrics=True)
    history = history_view(store, athlete_uid, rows)
    generated = (now or datetime.now(UTC)).isoformat(timespec="minutes")
    return json_safe({**history, "conditions": baseline_against_latest(rows),
                      "generated": generated})
