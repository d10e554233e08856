"""A value against a reference (baseline, previous test): the change and its verdict.

With a minimal detectable change for the measure (station.analysis.scoring) the verdict
says whether the change is real; without one (the score) any change counts.
"""

from __future__ import annotations

from typing import Any

from station.analysis.metrics.catalog import direction
from station.analysis.scoring import compare_to_baseline, mdc_value


def change_against(current: float | None, reference: float | None, measure: str,
                   stance: str) -> dict[str, Any] | None:
    """{"reference", "change", "mdc", "verdict"}; None when either value is missing."""
    if current is None or reference is None:
        return None
    hib = True if measure in ("score", "time_to_failure_s") else direction(measure)
    mdc = mdc_value(measure, reference, stance) if measure not in ("score",) else None
    if mdc is None or not mdc > 0:
        change = current - reference
        return {"reference": reference, "change": round(change, 3), "mdc": None,
                "verdict": None if change == 0 else (
                    "improved" if (change > 0) == bool(hib) else "worse")}
    cmp = compare_to_baseline(current, reference, mdc, higher_is_better=hib)
    return {"reference": reference, "change": round(cmp.change, 3), "mdc": round(mdc, 3),
            "verdict": cmp.verdict}
