"""A value against a reference (baseline, previous test): the change and how to show it.

One place decides what every page shows about a change, so no page can contradict
another: the change is real only beyond the measure's minimal detectable change
(station.analysis.scoring MDC table, the score's too); within it, or for a measure
without an MDC, the change is neutral (no colour, no arrow). A real change gets an
arrow that follows its sign (▲ up, ▼ down) and a tone that follows the measure's better
direction (a lower sway velocity is "▼ −4.0" in green). Time held is compared only
between trials of the same planned duration.

The MDC is the reliable-change rule's (station.norms.reliable_change): from the athlete's
own repeats or the protocol's error when the caller gives them (`error`, `condition`),
else the scoring MDC table; `verdict_text` says it in words ("real improvement", "within
measurement noise", "real decline") and `mdc_source` where the MDC comes from. One
rounding rule for the change as shown (`change_text`): the measure's decimals, a real
minus sign, and a change that rounds to zero is "0.0" with no sign (never "−0.0").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from station.analysis.history.history_rows import measure_json
from station.analysis.scoring import better_direction, compare_to_baseline, mdc_for, mdc_value
from station.norms.reliable_change import MeasurementError, error_for, verdict_text

UP, DOWN = "▲", "▼"
MINUS = "\u2212"
TONES = {"improved": "good", "worse": "bad"}


def change_text(change: float | None, digits: int = 1) -> str:
    """A change as every page shows it: "+4.2", "\u22124.2", or "0.0" (no sign) when it rounds
    to zero at `digits` decimals; "–" for no change to show."""
    if change is None:
        return "–"
    shown = f"{abs(change):.{digits}f}"
    if float(shown) == 0:
        return shown
    return ("+" if change > 0 else MINUS) + shown


def _direction(measure: str) -> bool | None:
    try:
        return better_direction(measure)
    except KeyError:
        return None


def _mdc(measure: str, reference: float, stance: str, error: MeasurementError | None,
         condition: Mapping[str, Any] | None, k_current: int,
         k_reference: int) -> tuple[float | None, str | None, str | None]:
    """(MDC, basis, source): the given error, the protocol's, else the scoring table's."""
    if error is None and condition is not None:
        error = error_for(measure, stance, condition.get("surface"), condition.get("eyes"))
    if error is not None:
        return error.mdc95(reference, k_current, k_reference), error.basis, error.source
    entry = mdc_for(measure, stance)
    if entry is None:
        return None, None, None
    return (mdc_value(measure, reference, stance),
            "assumption" if entry.assumption else "published", entry.source)


def change_against(current: float | None, reference: float | None, measure: str,
                   stance: str, *, error: MeasurementError | None = None,
                   condition: Mapping[str, Any] | None = None, k_current: int = 1,
                   k_reference: int = 1) -> dict[str, Any] | None:
    """{"reference", "change", "text", "mdc", "exceeds_mdc", "verdict", "verdict_text", "mdc_basis",
    "mdc_source", "arrow", "tone"}; None when either value is missing. verdict:
    "improved"/"worse" beyond the MDC, "within_mdc", or None (no MDC for the measure, or no
    better direction); tone: good/bad/neutral. `error` (e.g. the athlete's own) or
    `condition` (a row with surface and eyes: the protocol's error) refine the MDC; k_current
    and k_reference are the trials averaged on each side (averaging narrows the MDC)."""
    if current is None or reference is None:
        return None
    change = current - reference
    mdc, basis, source = _mdc(measure, reference, stance, error, condition, k_current,
                              k_reference)
    exceeds, verdict = False, None
    if mdc is not None and mdc > 0:
        cmp = compare_to_baseline(current, reference, mdc,
                                  higher_is_better=_direction(measure))
        exceeds, verdict = cmp.exceeds_mdc, cmp.verdict
    arrow = "" if not exceeds or change == 0 else (UP if change > 0 else DOWN)
    return {"reference": reference, "change": round(change, 3),
            "text": change_text(change, measure_json(measure)["digits"]),
            "mdc": None if mdc is None else round(mdc, 3), "exceeds_mdc": exceeds,
            "verdict": verdict, "verdict_text": verdict_text(verdict), "mdc_basis": basis,
            "mdc_source": source, "arrow": arrow, "tone": TONES.get(verdict or "", "neutral")}


def held_against(current: dict[str, Any], reference: dict[str, Any] | None,
                 stance: str) -> dict[str, Any] | None:
    """Time held against a reference's, both `history_rows.held` dicts: compared only when
    both were planned equally long (a completed 10 s hold is not 10 s worse than a 20 s
    one); otherwise the change is None and `note` says why."""
    if reference is None or current["held_s"] is None or reference["held_s"] is None:
        return None
    if current["planned_s"] is None or current["planned_s"] != reference["planned_s"]:
        planned = "?" if reference["planned_s"] is None else f"{reference['planned_s']:g}"
        mine = "?" if current["planned_s"] is None else f"{current['planned_s']:g}"
        return {"reference": reference["held_s"], "change": None, "mdc": None,
                "text": "–", "exceeds_mdc": False, "verdict": None, "verdict_text": None,
                "mdc_basis": None,
                "mdc_source": None, "arrow": "", "tone": "neutral",
                "note": f"not compared: planned {mine} s here, {planned} s there"}
    return change_against(current["held_s"], reference["held_s"], "time_to_failure_s", stance)


def held_text(held: dict[str, Any]) -> str:
    """"completed (20 s)" or "failed at 8.4 of 20 s": time held against the plan."""
    planned = held["planned_s"]
    of = " s" if planned is None else f" of {planned:g} s"
    if held["completed"]:
        return "completed" + ("" if planned is None else f" ({planned:g} s)")
    if held["held_s"] is None:
        return "not held"
    return f"failed at {held['held_s']:.1f}{of}"
