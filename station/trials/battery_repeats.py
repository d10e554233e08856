"""Should the battery ask for a repeat of its key step? Only when a repeat can settle a change.

Why: averaging repeated trials narrows the minimal detectable change,
    MDC95 = 1.96 * SEM * sqrt(1/k + 1/m)   (k trials today, m averaged in the baseline),
so a change that one trial leaves "within measurement noise" may be resolved by the mean of
two or three. The battery suggests a repeat of its key step (the protocol's `key_trial`)
exactly then, with the reason in words, and never when the change is already real, when even
MAX_TRIALS would not resolve it (a repeat would only tire the athlete), or when today's
battery is the baseline itself. The suggestion is optional: the physio decides.

The SEM is the one the station's comparisons use (station.analysis.history.measurement_error:
the athlete's own repeats, else the protocol's error); for a measure with only a scoring-table
MDC the SEM is read back from it (MDC for single trials = 1.96 * sqrt(2) * SEM).
"""

from __future__ import annotations

import math
from typing import Any

from station.analysis.history.baseline import baselines
from station.analysis.history.history_rows import (
    KEY_MEASURES,
    TASK_MEASURES,
    condition_key,
    condition_label,
    counted,
    measure_value,
    model_of,
)
from station.analysis.history.measurement_error import error_for_row, trials_averaged
from station.analysis.scoring import better_direction, mdc_value
from station.norms.reliable_change import Z95, verdict, verdict_text
from station.trials.battery import Progress, Step

MAX_TRIALS = 3  # the most trials of the key step a battery asks for


def mdc95(sem: float, k_current: int, k_reference: int) -> float:
    """1.96 * SEM * sqrt(1/k + 1/m)."""
    return Z95 * sem * math.sqrt(1 / k_current + 1 / k_reference)


def _sem(rows: list[dict[str, Any]], me: dict[str, Any], measure: str,
         reference: float) -> float | None:
    error = error_for_row(rows, me, measure)
    if error is not None:
        return error.sem_at(reference)
    table = mdc_value(measure, reference, str(me["stance"]))
    return None if table is None or table <= 0 else table / (Z95 * math.sqrt(2))


def _key_steps(run: Progress) -> list[Step]:
    key = run.protocol.key_trial
    return [s for s in run.steps if key is not None and s.spec.id == key]


def key_change(run: Progress, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Today's key result against the baseline, with the verdict on the mean of today's
    trials of the key condition, and `suggest` (a repeat, with `more`, `mdc_with` and the
    `reason`) when one or two more trials could tell a real change from noise; None while
    the key step has no result, or when there is nothing to compare it with."""
    steps = _key_steps(run)
    done = [s for s in steps if s.status == "done" and s.last is not None]
    if not done:
        return None
    spec = done[-1].spec
    key = condition_key({"stance": spec.stance, "eyes": spec.eyes, "surface": spec.surface,
                         "task": spec.task})
    today = [r for r in counted(rows)
             if r.get("session_uid") == run.session_uid and condition_key(r) == key]
    base = baselines(rows).get(key)
    if not today or base is None or base.session_uid == run.session_uid:
        return None
    measure = TASK_MEASURES[model_of(today[-1])][0]
    values = [v for r in today if (v := measure_value(r, measure)) is not None]
    reference = base.value(measure)
    if not values or reference is None:
        return None
    sem = _sem(rows, base.rows[0], measure, reference)
    if sem is None:
        return None
    k, m = len(values), trials_averaged(base.rule, len(base.rows))
    mean = sum(values) / k
    change = mean - reference
    mdc_now = mdc95(sem, k, m)
    try:
        lower_is_better: bool | None = not better_direction(measure)
    except KeyError:
        lower_is_better = None
    code = verdict(change, mdc_now, lower_is_better)
    label, unit = KEY_MEASURES.get(measure, (measure, ""))
    out: dict[str, Any] = {
        "step": done[-1].number, "condition": condition_label(today[-1]), "measure": measure,
        "label": label, "unit": unit, "trials": k, "baseline": reference,
        "baseline_trials": m, "value": round(mean, 2), "change": round(change, 2),
        "mdc": round(mdc_now, 2), "verdict": code, "verdict_text": verdict_text(code),
        "suggest": None,
    }
    if code != "within_mdc" or run.finished:
        return out
    for n in range(k + 1, MAX_TRIALS + 1):
        mdc_n = mdc95(sem, n, m)
        if abs(change) > mdc_n:
            out["suggest"] = {"step": done[-1].number, "more": n - k, "trials": n,
                              "mdc_with": round(mdc_n, 2),
                              "reason": _reason(out, n, mdc_n)}
            break
    return out


def _reason(change: dict[str, Any], n: int, mdc_n: float) -> str:
    unit = f" {change['unit']}" if change["unit"] else ""
    k = change["trials"]
    trials = "one trial" if k == 1 else f"the mean of {k} trials"
    more = "one more trial" if n - k == 1 else f"{n - k} more trials"
    return (f"{change['condition']}: {change['label']} {change['value']:.1f}{unit} "
            f"against the baseline {change['baseline']:.1f}{unit} is within the measurement "
            f"noise with {trials} (the change must exceed {change['mdc']:.1f}{unit}). The "
            f"mean of {n} trials narrows that to {mdc_n:.1f}{unit}, enough to tell whether "
            f"the change is real: {more} suggested (optional).")
