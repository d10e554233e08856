"""Left against right: the latest trial of each single-leg condition pair, per measure.

A hold pair is compared on its sway, a hop pair on its landing (time to stabilization,
peak force): each task by its own measures (history_rows.CHARTED_BY_MODEL and the card's).
Each measure also carries its absolute symmetry index and a flag with a basis
(station.norms.asymmetry: a cited threshold, and never within measurement noise).
"""

from __future__ import annotations

from typing import Any

from station.analysis.history.history_rows import (
    HELD,
    condition_key,
    condition_label,
    latest_by_condition,
    measure_json,
    measure_value,
    model_of,
    task_measures,
)
from station.analysis.history.measurement_error import error_for_row
from station.analysis.metrics.symmetry import limb_symmetry_index
from station.analysis.scoring import better_direction, mdc_value
from station.norms.asymmetry import asymmetry_flag


def difference_mdc(rows: list[dict[str, Any]], left: dict[str, Any], measure: str,
                   lv: float, rv: float) -> float | None:
    """The 95 % MDC of a left-right difference of two single trials (at their mean)."""
    mean = (lv + rv) / 2.0
    error = error_for_row(rows, left, measure)
    if error is not None:
        return error.mdc95(mean)
    return mdc_value(measure, mean, str(left["stance"]))


def symmetry_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per left/right pair: each measure's left, right and L/R index (%)."""
    latest = latest_by_condition(rows)
    out = []
    for key, left in latest.items():
        if str(left["stance"]).replace("_", "-") != "single-left":
            continue
        right_stance = str(left["stance"]).replace("left", "right")
        right = latest.get(condition_key({**left, "stance": right_stance}))
        if right is None:
            continue
        label = condition_label({**left, "stance": "double"}).replace("Both feet, ", "")
        measures = []
        for measure in task_measures(left):
            if measure == HELD:
                continue  # hold times are compared against their plan, not leg to leg
            lv, rv = measure_value(left, measure), measure_value(right, measure)
            lsi, mdc = None, None
            if lv is not None and rv is not None:
                lsi = limb_symmetry_index(lv, rv, higher_is_better=better_direction(measure))
                mdc = difference_mdc(rows, left, measure, lv, rv)
            measures.append({**measure_json(measure), "measure": measure, "left": lv,
                             "right": rv, "lsi_pct": None if lsi is None else round(lsi, 1),
                             **asymmetry_flag(measure, lv, rv, mdc)})
        out.append({"condition": label, "key": key, "model": model_of(left),
                    "measures": measures})
    return out
