"""The report's wobble-board section: each wobble condition's latest trial in degrees.

A wobble trial's own measures (docs/metrics.md section 11: the stability indices, the time in
the 5-degree zones and the quadrants, the mean tilt velocity, the rim contacts) are more than
the report's baseline-against-latest table shows (the score, the index, the time inside 5
degrees). This section lays them out for the latest trial of each wobble condition, for the
template partial web/templates/_report_wobble.html (`report_view`'s "wobble").
"""

from __future__ import annotations

from typing import Any

from station.analysis.history.history_rows import by_condition, condition_label, counted, iso

ZONE_LABELS = {"0-5": "0–5°", "5-10": "5–10°", "10-15": "10–15°", "15-max": "15° to the rim"}
QUADRANT_LABELS = {"front_right": "front right", "front_left": "front left",
                   "back_left": "back left", "back_right": "back right"}


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return float(value)
    return None


def wobble_measures_view(wobble: dict[str, Any]) -> dict[str, Any] | None:
    """One trial's `metrics["wobble"]` as the report shows it; None without a tilt trace."""
    si = wobble.get("stability_index_deg") if isinstance(wobble, dict) else None
    if not isinstance(si, dict):
        return None
    rim = wobble.get("rim_contacts") or {}
    board = wobble.get("board") or {}
    zones = wobble.get("zone_time_pct") or {}
    quadrants = wobble.get("quadrant_time_pct") or {}
    max_tilt = _number(board.get("max_tilt_deg"))
    return {
        "indices": [
            {"label": "Overall stability index", "value": _number(si.get("overall")),
             "unit": "°"},
            {"label": "Front–back (AP) index", "value": _number(si.get("ap")), "unit": "°"},
            {"label": "Side–side (ML) index", "value": _number(si.get("ml")), "unit": "°"},
            {"label": "Mean tilt velocity", "value": _number(wobble.get(
                "mean_tilt_velocity_deg_s")), "unit": "°/s"},
            {"label": "Largest tilt", "value": _number(wobble.get("max_tilt_reached_deg")),
             "unit": "°"},
        ],
        # in the labels' order, level to the rim and front to back: the store sorts keys
        "zones": [{"label": label.replace(
            "the rim", f"the rim ({max_tilt:.1f}°)" if max_tilt else "the rim"),
            "pct": _number(zones.get(k))} for k, label in ZONE_LABELS.items()],
        "quadrants": [{"label": label, "pct": _number(quadrants.get(k))}
                      for k, label in QUADRANT_LABELS.items()],
        "rim_contacts": int(rim.get("count") or 0),
        "rim_contact_s": _number(rim.get("total_s")) or 0.0,
        "time_to_first_rim_contact_s": _number(wobble.get("time_to_first_rim_contact_s")),
        "board": board.get("name"),
        "setup": wobble.get("setup"),
    }


def wobble_section(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per wobble condition tested (surface or task wobble): its latest trial's measures."""
    out = []
    for key, done in by_condition(counted(rows)).items():
        last = done[-1]
        if last.get("surface") != "wobble" and last.get("task") != "wobble":
            continue
        view = wobble_measures_view((last.get("metrics") or {}).get("wobble") or {})
        if view is None:
            continue
        out.append({"key": key, "label": condition_label(last), "n": len(done),
                    "latest_date": iso(last["started_at"]), "outcome": last.get("outcome"),
                    **view})
    return out
