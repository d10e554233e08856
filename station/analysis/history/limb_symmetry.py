"""Left against right: the latest trial of each single-leg condition pair, per measure."""

from __future__ import annotations

from typing import Any

from station.analysis.history.history_rows import (
    CHARTED_MEASURES,
    KEY_MEASURES,
    condition_key,
    condition_label,
    latest_by_condition,
    measure_value,
)
from station.analysis.metrics.catalog import direction
from station.analysis.metrics.symmetry import limb_symmetry_index


def symmetry_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per left/right pair: each measure's left, right and L/R index (%)."""
    latest = latest_by_condition(rows)
    out = []
    for key, left in latest.items():
        if left["stance"] != "single-left":
            continue
        right = latest.get(condition_key({**left, "stance": "single-right"}))
        if right is None:
            continue
        label = condition_label({**left, "stance": "double"}).replace("Both feet, ", "")
        measures = []
        for measure in CHARTED_MEASURES:
            lv, rv = measure_value(left, measure), measure_value(right, measure)
            hib = True if measure == "score" else direction(measure)
            lsi = None
            if lv is not None and rv is not None:
                lsi = limb_symmetry_index(lv, rv, higher_is_better=hib)
            measures.append({"measure": measure, "label": KEY_MEASURES[measure][0],
                             "unit": KEY_MEASURES[measure][1], "left": lv, "right": rv,
                             "lsi_pct": None if lsi is None else round(lsi, 1)})
        out.append({"condition": label, "key": key, "measures": measures})
    return out
