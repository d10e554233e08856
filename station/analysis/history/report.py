"""The printable report: the athlete's history with baseline against latest per condition.

The report page and its PDF (printed from the same page) show this one dict: a one-page
summary first (report_summary.py), then the details; invalidated trials count nowhere in
it. Each condition is reported with its task's own measures, against its baseline assessment
(baseline.py), with the rule that made the baseline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from station.analysis.history.athlete_history import history_view
from station.analysis.history.baseline import baselines
from station.analysis.history.comparison import change_against, held_against
from station.analysis.history.history_rows import (
    HELD,
    by_condition,
    condition_label,
    counted,
    held,
    iso,
    measure_json,
    measure_value,
    task_measures,
)
from station.analysis.history.norms_view import report_norms
from station.analysis.history.report_summary import key_trace, summary_view, task_results
from station.analysis.history.store_reads import HistoryStore
from station.analysis.history.wobble_report import wobble_section
from station.wire import json_safe


def baseline_against_latest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per condition tested: its baseline and the latest trial, each own measure's change
    (none while the latest trial is part of the baseline assessment)."""
    bases = baselines(rows)
    conditions = []
    for key, done in by_condition(counted(rows)).items():
        base, last = bases[key], done[-1]
        compared = last.get("session_uid") != base.session_uid
        measures = []
        for m in task_measures(last):
            if m == HELD:
                base_held = base.to_json()["held"]
                cmp = held_against(held(last), base_held, base.rows[0]["stance"])
            else:
                cmp = change_against(measure_value(last, m), base.value(m), m,
                                     base.rows[0]["stance"])
            measures.append({**measure_json(m), "baseline": base.value(m),
                             "latest": measure_value(last, m), "cmp": cmp if compared else None})
        conditions.append({
            "key": key, "label": condition_label(last), "n": len(done),
            "baseline_date": iso(base.started_at), "baseline_rule": base.rule_text(),
            "latest_date": iso(last["started_at"]), "measures": measures,
            "in_baseline": not compared,
        })
    return conditions


def valid_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trials the report may count: an invalidated trial (Store.invalidate_trial) is in
    no result, baseline, trend, target or trace of the report."""
    return [r for r in rows if not r.get("invalid")]


def report_view(store: HistoryStore, athlete_uid: str,
                now: datetime | None = None) -> dict[str, Any]:
    """Baseline against latest per condition, L/R symmetry and targets: the printable report
    (the history view plus `conditions`, the first page's `summary`, the hop and push
    `task_results`, the latest key trial's `trace`, the `norms` section and when it was
    `generated`)."""
    rows = valid_rows(store.athlete_history(athlete_uid, metrics=True))
    history = history_view(store, athlete_uid, rows)
    generated = (now or datetime.now(UTC)).isoformat(timespec="minutes")
    report = {**history, "conditions": baseline_against_latest(rows), "generated": generated}
    return json_safe({**report, "summary": summary_view(store, athlete_uid, report, rows),
                      "task_results": task_results(rows), "trace": key_trace(store, rows),
                      "norms": report_norms(rows, store.get_athlete(athlete_uid)),
                      "wobble": wobble_section(rows)})  # web/templates/_report_wobble.html
