"""An athlete's targets with their progress: the physio page's list and its JSON twin, and
the check that refuses a new target on the wrong side of the baseline (and flags a saved
one the baseline has moved past: `problem`, `wrong_side`).

A target's baseline is its condition's baseline (baseline.py), its current value the
latest counted trial of that condition; a target for "any condition" follows the
condition tested last, so both come from the same stance, eyes, surface and task.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from station.analysis.history.baseline import Baseline, baselines
from station.analysis.history.history_rows import (
    KEY_MEASURES,
    aware,
    condition_key,
    counted,
    key_label,
    measure_value,
)
from station.analysis.history.store_reads import HistoryStore
from station.analysis.scoring import better_direction, check_target_side, target_progress
from station.wire import json_safe


def applies_to(condition: str | None, rows: list[dict[str, Any]]) -> str | None:
    """The condition key a target is measured in: its own, else the one tested last."""
    if condition:
        return condition
    done = counted(rows)
    return condition_key(done[-1]) if done else None


def _current(rows: list[dict[str, Any]], condition: str | None, measure: str) -> float | None:
    return next((v for r in reversed(counted(rows)) if condition_key(r) == condition
                 if (v := measure_value(r, measure)) is not None), None)


def check_target(rows: list[dict[str, Any]], measure: str, value: float,
                 direction: str | None, condition: str | None) -> None:
    """ValueError (its message is for the physio) when a new target cannot be reached the
    way it says: a direction against the measure's better one, or a value on the wrong side
    of (or equal to) the condition's baseline. `rows`: the athlete's history with metrics."""
    label = KEY_MEASURES.get(measure, (measure, ""))[0]
    try:
        hib = better_direction(measure)
    except KeyError:
        hib = None
    if direction is not None and hib is not None and (direction == ">=") != hib:
        better = "higher" if hib else "lower"
        wanted = ">=" if hib else "<="
        raise ValueError(f"{label}: {better} is better, so a target on it is reached at "
                         f"{wanted} its value, not {direction}")
    problem = wrong_side(measure, value, baselines(rows).get(applies_to(condition, rows) or ""))
    if problem is not None:
        raise ValueError(problem)


def wrong_side(measure: str, value: float, base: Baseline | None) -> str | None:
    """Why a target cannot be reached from its condition's baseline (it equals it, or lies
    on its wrong side), for the physio; None when it can, or when there is no baseline."""
    baseline = base.value(measure) if base is not None else None
    if base is None or baseline is None:
        return None
    try:
        check_target_side(measure, baseline, value)
    except ValueError:
        label, unit = KEY_MEASURES.get(measure, (measure, ""))
        unit = f" {unit}" if unit else ""
        which = f"(baseline: {base.started_at:%Y-%m-%d}, {base.rule_text()})"
        if value == baseline:
            return f"{label}: the target equals the baseline {baseline:.1f}{unit} {which}"
        side, better = ("above", "lower") if value > baseline else ("below", "higher")
        return (f"{label}: {better} is better, but the target {value:g}{unit} is "
                f"{side} the baseline {baseline:.1f}{unit} {which}")
    return None


def targets_view(store: HistoryStore, athlete_uid: str,
                 rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with its baseline, latest value and progress; `condition_label` is the
    target's own condition (None: any), `applies_to` the condition used. `rows` is the
    athlete's history with metrics (the caller has it already)."""
    out = []
    bases: dict[str, Baseline] = baselines(rows)
    for target in store.list_targets(athlete_uid):
        condition = applies_to(target.condition, rows)
        base = bases.get(condition or "")
        base_value = base.value(target.measure) if base is not None else None
        current = _current(rows, condition, target.measure)
        label, unit = KEY_MEASURES.get(target.measure, (target.measure, ""))
        item: dict[str, Any] = {
            "uid": target.uid, "measure": target.measure, "label": label, "unit": unit,
            "condition": target.condition, "value": target.value, "direction": target.direction,
            "condition_label": key_label(target.condition) if target.condition else None,
            "applies_to": key_label(condition) if condition else None,
            "due_date": target.due_date.isoformat() if target.due_date else None,
            "notes": target.notes, "baseline": base_value, "current": current,
            "baseline_info": base.to_json() if base is not None else None,
            "fraction": None, "on_track": None, "achieved": None, "days_left": None,
            "wrong_side": False,
        }
        set_on = (aware(target.created_at) or datetime.now(UTC)).date()
        # a target the baseline has moved past (a trial invalidated, a later battery) or
        # one set before there was a baseline: flagged whatever its progress
        problem = wrong_side(target.measure, target.value, base)
        if problem is not None:
            item["problem"] = problem
            item["wrong_side"] = True
        elif None not in (base_value, current) and target.due_date and target.due_date > set_on:
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
