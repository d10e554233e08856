"""Targets every 4-6 weeks: suggested from the baseline, the plan and the measurement error,
and reviewed on their due date (met / not met / extend).

Why: a target is only worth setting when reaching it would be a real change. The suggested
change is the plan's expected gain (`GAIN_PCT` of the baseline over the target period) but
never less than the measure's minimal detectable change: a target smaller than the reliable
change is not a target, it is noise (station.norms.reliable_change.target_too_small: the
rule a physio's own target is checked by too). A measure without a known measurement error
gets no suggestion. The MDC comes from station.analysis.scoring (the station's table); the athlete's
own error (the norms work) plugs in as `mdc`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from station.analysis.history.baseline import Baseline, baselines
from station.analysis.history.history_rows import (
    KEY_MEASURES,
    condition_key,
    counted,
    key_label,
    measure_value,
)
from station.analysis.history.targets import has_measure
from station.analysis.scoring import better_direction, mdc_value
from station.norms.reliable_change import target_too_small
from station.training.ladder import Ladder, Stage

GAIN_PCT = {"mean_velocity_mm_s.total": 15.0, "score": 10.0}
EXTEND_WEEKS = 4
EXTEND_FRACTION = 0.5  # at least half way there on the due date: extend, not "not met"
Mdc = Callable[[str, float, str], float | None]


def stage_conditions(stage: Stage) -> list[str]:
    """The condition keys of the stage's hold items (the history's condition_key)."""
    keys = []
    for item in stage.holds:
        key = condition_key({"stance": item.stance, "eyes": item.eyes,
                             "surface": item.surface, "task": item.task})
        if key not in keys:
            keys.append(key)
    return keys


def suggest_targets(ladder: Ladder, stage_id: str, rows: Sequence[dict[str, Any]],
                    today: date, mdc: Mdc = mdc_value) -> list[dict[str, Any]]:
    """Per condition of the stage with a baseline, per measure of GAIN_PCT: the suggested
    target value, direction and due date, with the baseline, the MDC and why; or the reason
    none is suggested."""
    weeks = ladder.rules.target_weeks[1]
    due = today + timedelta(weeks=weeks)
    bases: dict[str, Baseline] = baselines(list(rows))
    out = []
    for key in stage_conditions(ladder.stage(stage_id)):
        base = bases.get(key)
        for measure, pct in GAIN_PCT.items():
            label, unit = KEY_MEASURES.get(measure, (measure, ""))
            entry: dict[str, Any] = {"condition": key, "condition_label": key_label(key),
                                     "measure": measure, "label": label, "unit": unit,
                                     "due_date": due.isoformat(), "weeks": weeks}
            value = base.value(measure) if base is not None else None
            if value is None:
                out.append({**entry, "value": None, "reason": "no baseline in this condition "
                            "yet: test it first"})
                continue
            error = mdc(measure, value, key.split(" · ")[0])
            if error is None or error <= 0:
                out.append({**entry, "value": None, "baseline": value,
                            "reason": "no measurement error known for this measure: no target"})
                continue
            planned = abs(value) * pct / 100.0
            change = error if target_too_small(planned, error) else planned
            higher = bool(better_direction(measure))
            target = round(value + change if higher else value - change, 1)
            if target_too_small(target - value, error):  # rounded inside the noise: step out
                target = round(target + (0.1 if higher else -0.1), 1)
            if not higher and target <= 0:
                out.append({**entry, "value": None, "baseline": value, "mdc": error,
                            "reason": "the baseline is already within the measurement error "
                            "of zero: no target"})
                continue
            why = (f"the plan's {pct:g} % in {weeks} weeks" if change == planned else
                   f"the measurement error ({error:.1f}): the plan's {pct:g} % "
                   f"({planned:.1f}) would be within it")
            out.append({**entry, "value": target, "baseline": round(value, 2),
                        "direction": ">=" if higher else "<=", "mdc": round(error, 2),
                        "change": round(change, 2), "reason": f"change of {change:.1f}: {why}"})
    return out


def review_target(target: dict[str, Any], rows: Sequence[dict[str, Any]],
                  today: date) -> dict[str, Any]:
    """A target on or after its due date: met (the latest value in its condition reaches it),
    extend (at least half way from the baseline: a new due date EXTEND_WEEKS on) or not met;
    before its due date: open. `target`: measure, value, direction, condition, due_date
    (date), baseline (the value it started from, may be None)."""
    due = target.get("due_date")
    condition = target.get("condition")
    latest = next((v for r in reversed(counted(rows))
                   if condition is None or condition_key(r) == condition
                   if has_measure(r, target["measure"])  # a push has no COP-velocity result
                   if (v := measure_value(r, target["measure"])) is not None), None)
    direction = target.get("direction") or "<="
    met = latest is not None and (latest <= target["value"] if direction == "<="
                                  else latest >= target["value"])
    label, unit = KEY_MEASURES.get(target["measure"], (target["measure"], ""))
    out = {"measure": target["measure"], "label": label, "unit": unit,
           "value": target["value"], "latest": latest,
           "due_date": due.isoformat() if due else None, "next_assessment": None}
    if met:
        return {**out, "review": "met",
                "reason": f"latest {latest:.1f} reaches {target['value']:g}"}
    if due is None or today < due:
        return {**out, "review": "open", "reason": "not due yet",
                "next_assessment": due.isoformat() if due else None}
    base = target.get("baseline")
    if latest is not None and base is not None and base != target["value"]:
        fraction = (latest - base) / (target["value"] - base)
        if fraction >= EXTEND_FRACTION:
            new_due = today + timedelta(weeks=EXTEND_WEEKS)
            return {**out, "review": "extend", "new_due_date": new_due.isoformat(),
                    "next_assessment": new_due.isoformat(),
                    "reason": f"{fraction:.0%} of the way on the due date: extend "
                              f"{EXTEND_WEEKS} weeks"}
    return {**out, "review": "not met", "next_assessment": today.isoformat(),
            "reason": "due and not reached" + ("" if latest is not None else
                                               " (no result in its condition)")}
