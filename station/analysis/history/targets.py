"""An athlete's targets with their progress: the physio page's list and its JSON twin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from station.analysis.history.history_rows import (
    KEY_MEASURES,
    aware,
    condition_key,
    condition_label,
    measure_value,
    measured,
)
from station.analysis.history.store_reads import HistoryStore
from station.analysis.scoring import target_progress
from station.wire import json_safe


def targets_view(store: HistoryStore, athlete_uid: str,
                 rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with its baseline (first trial of its condition), latest value and progress;
    `applies_to` is the condition used (a target without one follows the last-tested).
    `rows` is the athlete's history with metrics (the caller has it already)."""
    out = []
    done = measured(rows)
    for target in store.list_targets(athlete_uid):
        # a target for "any condition" follows the condition tested last: baseline and
        # current value must come from the same stance/eyes/surface to be comparable
        condition = target.condition or (condition_key(done[-1]) if done else None)
        cond_rows = [r for r in rows if condition_key(r) == condition]
        cond_done = measured(cond_rows)
        base_value = measure_value(cond_done[0], target.measure) if cond_done else None
        current = next((v for r in reversed(cond_done)
                        if (v := measure_value(r, target.measure)) is not None), None)
        label, unit = KEY_MEASURES.get(target.measure, (target.measure, ""))
        item: dict[str, Any] = {
            "uid": target.uid, "measure": target.measure, "label": label, "unit": unit,
            "condition": target.condition, "value": target.value, "direction": target.direction,
            "applies_to": condition_label(cond_rows[0]) if cond_rows else None,
            "due_date": target.due_date.isoformat() if target.due_date else None,
            "notes": target.notes, "baseline": base_value, "current": current,
            "fraction": None, "on_track": None, "achieved": None, "days_left": None,
        }
        set_on = (aware(target.created_at) or datetime.now(UTC)).date()
        if None not in (base_value, current) and target.due_date and target.due_date > set_on:
            try:
                progress = target_progress(target.measure, base_value, target.value, current,
                                           set_on, target.due_date)
            except ValueError as exc:
                item["problem"] = str(exc)
            else:
                item.update(fraction=round(progress.fraction_achieved, 3),
                            on_track=progress.on_track, achieved=progress.achieved,
                            days_left=progress.days_left)
        out.append(item)
    return json_safe(out)
