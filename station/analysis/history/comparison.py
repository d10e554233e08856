"""A value against a reference (baseline, previous test): the change and how to show it.

One place decides what every page shows about a change, so no page can contradict
another: the change is real only beyond the measure's minimal detectable change
(station.analysis.scoring MDC table, the score's too); within it, or for a measure
without an MDC, the change is neutral (no colour, no arrow). A real change gets an
arrow that follows its sign (▲ up, ▼ down) and a tone that follows the measure's better
direction (a lower sway velocity is "▼ −4.0" in green). Time held is compared only
between trials of the same planned duration.
"""

from __future__ import annotations

from typing import Any

from station.analysis.scoring import better_direction, compare_to_baseline, mdc_value

UP, DOWN = "▲", "▼"
TONES = {"improved": "good", "worse": "bad"}


def _direction(measure: str) -> bool | None:
    try:
        return better_direction(measure)
    except KeyError:
        return None


def change_against(current: float | None, reference: float | None, measure: str,
                   stance: str) -> dict[str, Any] | None:
    """{"reference", "change", "mdc", "exceeds_mdc", "verdict", "arrow", "tone"}; None when
    either value is missing. verdict: "improved"/"worse" beyond the MDC, "within_mdc",
    or None (no MDC for the measure, or no better direction); tone: good/bad/neutral."""
    if current is None or reference is None:
        return None
    change = current - reference
    mdc = mdc_value(measure, reference, stance)
    exceeds, verdict = False, None
    if mdc is not None and mdc > 0:
        cmp = compare_to_baseline(current, reference, mdc,
                                  higher_is_better=_direction(measure))
        exceeds, verdict = cmp.exceeds_mdc, cmp.verdict
    arrow = "" if not exceeds or change == 0 else (UP if change > 0 else DOWN)
    return {"reference": reference, "change": round(change, 3),
            "mdc": None if mdc is None else round(mdc, 3), "exceeds_mdc": exceeds,
            "verdict": verdict, "arrow": arrow, "tone": TONES.get(verdict or "", "neutral")}


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
                "exceeds_mdc": False, "verdict": None, "arrow": "", "tone": "neutral",
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
