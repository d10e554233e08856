"""An athlete's targets with their progress: the physio page's list and its JSON twin, and
the check that refuses a new target on the wrong side of the baseline (and flags a saved
one the baseline has moved past: `problem`, `wrong_side`).

A target's baseline is its condition's baseline (baseline.py), its current value the
latest counted trial of that condition; a target for "any condition" follows the
condition tested last among the trials whose task has the target's measure (a COP-velocity
target never follows a push), so both come from the same stance, eyes, surface and task.
The change since the baseline gets the same reliable-change verdict as every page
(comparison.change_against: "real improvement", "within measurement noise", "real
decline"), and a target closer to its baseline than the reliable change is refused, or
flagged when saved (`too_small`): station.norms.reliable_change.target_too_small, the rule
the plan's suggested targets follow too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from station.analysis.history.baseline import Baseline, baselines
from station.analysis.history.comparison import change_against
from station.analysis.history.history_rows import (
    KEY_MEASURES,
    aware,
    condition_key,
    condition_parts,
    counted,
    key_label,
    measure_value,
    task_measures,
)
from station.analysis.history.measurement_error import error_for_row, trials_averaged
from station.analysis.history.store_reads import HistoryStore
from station.analysis.scoring import better_direction, check_target_side, target_progress
from station.norms.reliable_change import target_too_small, target_within_noise_text
from station.wire import json_safe


def has_measure(row: dict[str, Any], measure: str) -> bool:
    """Whether the row's task measures `measure` (a push has no COP-velocity result)."""
    return measure in task_measures(row)


def applies_to(condition: str | None, rows: list[dict[str, Any]],
               measure: str | None = None) -> str | None:
    """The condition key a target is measured in: its own, else the one tested last among
    the trials whose task has `measure` (any task when None)."""
    if condition:
        return condition
    done = [r for r in counted(rows) if measure is None or has_measure(r, measure)]
    return condition_key(done[-1]) if done else None


def _latest(rows: list[dict[str, Any]], condition: str | None,
            measure: str) -> dict[str, Any] | None:
    """The latest counted trial of the condition with a value of `measure`."""
    return next((r for r in reversed(counted(rows)) if condition_key(r) == condition
                 if has_measure(r, measure) if measure_value(r, measure) is not None), None)


def change_since(rows: list[dict[str, Any]], base: Baseline, measure: str,
                 value: float | None) -> dict[str, Any] | None:
    """`value` (a latest result, or a target) against the baseline, judged as every page
    judges a change: the athlete's own error or the protocol's, the baseline's repeats
    averaged (comparison.change_against)."""
    reference = base.value(measure)
    if value is None or reference is None:
        return None
    return change_against(value, reference, measure, str(base.rows[0]["stance"]),
                          error=error_for_row(rows, base.rows[0], measure),
                          k_reference=trials_averaged(base.rule, len(base.rows)))


def too_small(rows: list[dict[str, Any]], measure: str, value: float,
              base: Baseline | None) -> str | None:
    """Why a target is no target (closer to its baseline than the reliable change), for the
    physio; None when it is far enough, or when no baseline or MDC says."""
    cmp = change_since(rows, base, measure, value) if base is not None else None
    if cmp is None or not target_too_small(cmp["change"], cmp["mdc"]):
        return None
    label, unit = KEY_MEASURES.get(measure, (measure, ""))
    reference = cmp["reference"]
    higher = value > reference if value != reference else bool(_better(measure))
    nearest = reference + cmp["mdc"] if higher else reference - cmp["mdc"]
    return target_within_noise_text(label, unit, cmp["change"], cmp["mdc"], nearest)


def _better(measure: str) -> bool | None:
    try:
        return better_direction(measure)
    except KeyError:
        return None


def check_target(rows: list[dict[str, Any]], measure: str, value: float,
                 direction: str | None, condition: str | None) -> None:
    """ValueError (its message is for the physio) when a new target cannot be reached the
    way it says: a direction against the measure's better one, or a value on the wrong side
    of (or equal to) the condition's baseline. `rows`: the athlete's history with metrics."""
    label = KEY_MEASURES.get(measure, (measure, ""))[0]
    hib = _better(measure)
    if direction is not None and hib is not None and (direction == ">=") != hib:
        better = "higher" if hib else "lower"
        wanted = ">=" if hib else "<="
        raise ValueError(f"{label}: {better} is better, so a target on it is reached at "
                         f"{wanted} its value, not {direction}")
    if condition and measure not in task_measures(condition_parts(condition)):
        raise ValueError(f"{label} is not measured in a {condition_parts(condition)['task']} "
                         f"trial ({key_label(condition)}): pick a condition whose test has it")
    base = baselines(rows).get(applies_to(condition, rows, measure) or "")
    problem = wrong_side(measure, value, base) or too_small(rows, measure, value, base)
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
    target's own condition (None: any), `applies_to` the condition used (for "any
    condition": the last tested whose task has the measure); `change` is the change since
    the baseline with its verdict and `verdict_text` the verdict in words; `too_small` flags
    a target closer to its baseline than the reliable change. `rows` is the athlete's history
    with metrics (the caller has it already)."""
    out = []
    bases: dict[str, Baseline] = baselines(rows)
    for target in store.list_targets(athlete_uid):
        condition = applies_to(target.condition, rows, target.measure)
        base = bases.get(condition or "")
        base_value = base.value(target.measure) if base is not None else None
        latest = _latest(rows, condition, target.measure)
        current = measure_value(latest, target.measure) if latest is not None else None
        in_baseline = (latest is not None and base is not None
                       and latest.get("session_uid") == base.session_uid)
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
            "wrong_side": False, "too_small": False,
            "change": None if base is None or in_baseline
            else change_since(rows, base, target.measure, current),
        }
        # the change since the baseline in words; "baseline only" while nothing came after it
        item["verdict_text"] = ("baseline only" if in_baseline
                                else (item["change"] or {}).get("verdict_text"))
        set_on = (aware(target.created_at) or datetime.now(UTC)).date()
        # a target the baseline has moved past (a trial invalidated, a later battery) or
        # one set before there was a baseline: flagged whatever its progress
        problem = wrong_side(target.measure, target.value, base)
        small = too_small(rows, target.measure, target.value, base)
        if problem is not None:
            item["problem"] = problem
            item["wrong_side"] = True
        elif small is not None:
            item["problem"] = small
            item["too_small"] = True
        due = target.due_date
        # a target within the noise is not judged reached or on track: reaching it says nothing
        if problem is None and small is None and None not in (base_value, current) and due \
                and due > set_on:
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
