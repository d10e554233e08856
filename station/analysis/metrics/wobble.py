"""Measures of a wobble-board trial from its tilt trace, as tilting-platform systems report them.

Pure functions of arrays (degrees, seconds). The stability indices are the Biodex Balance
System's (B-SD and AS98 in docs/references.md): root-mean-square deviation from level,
overall = sqrt(sum(ml^2 + ap^2) / n), AP = sqrt(sum(ap^2) / n), ML = sqrt(sum(ml^2) / n);
time in zones of total tilt (0-5, 5-10, 10-15 deg and 15 deg to the board's maximum, 20 deg
on the Biodex) and in the four quadrants, the mean tilt velocity, and the rim contacts.
docs/metrics.md section 11 gives every formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

ZONE_STARTS_DEG = (0.0, 5.0, 10.0, 15.0)
ZONE_KEYS = ("0-5", "5-10", "10-15", "15-max")
QUADRANT_KEYS = ("front_right", "front_left", "back_left", "back_right")


def stability_indices(ml_deg: np.ndarray, ap_deg: np.ndarray) -> dict[str, float]:
    """Overall, AP and ML stability index (deg): RMS deviation from level (0, 0)."""
    ml = np.asarray(ml_deg, dtype=float)
    ap = np.asarray(ap_deg, dtype=float)
    return {
        "overall": float(np.sqrt(np.mean(ml * ml + ap * ap))),
        "ap": float(np.sqrt(np.mean(ap * ap))),
        "ml": float(np.sqrt(np.mean(ml * ml))),
    }


def zone_time_pct(total_deg: np.ndarray, max_tilt_deg: float) -> dict[str, float]:
    """% of samples per zone of total tilt; the last zone runs from 15 deg to the maximum.

    A zone is [start, next start); tilts at or past the board's maximum (the rim is down)
    count in the zone that holds the maximum, so the four add up to 100.
    """
    total = np.minimum(np.asarray(total_deg, dtype=float), max_tilt_deg)
    idx = np.searchsorted(np.asarray(ZONE_STARTS_DEG), total, side="right") - 1
    counts = np.bincount(np.clip(idx, 0, len(ZONE_KEYS) - 1), minlength=len(ZONE_KEYS))
    pct = 100.0 * counts / max(len(total), 1)
    return {key: float(p) for key, p in zip(ZONE_KEYS, pct, strict=True)}


def quadrant_time_pct(ml_deg: np.ndarray, ap_deg: np.ndarray) -> dict[str, float]:
    """% of samples with the deck tilted into each quadrant (front = AP >= 0, right = ML >= 0)."""
    ml = np.asarray(ml_deg, dtype=float)
    ap = np.asarray(ap_deg, dtype=float)
    n = max(len(ml), 1)
    right, front = ml >= 0, ap >= 0
    masks = (front & right, front & ~right, ~front & ~right, ~front & right)
    return {key: 100.0 * float(m.sum()) / n for key, m in zip(QUADRANT_KEYS, masks, strict=True)}


def mean_tilt_velocity(ml_deg: np.ndarray, ap_deg: np.ndarray, rate_hz: float) -> float:
    """Path length of the tilt vector over the trial's duration (deg/s)."""
    ml = np.asarray(ml_deg, dtype=float)
    ap = np.asarray(ap_deg, dtype=float)
    if len(ml) < 2:
        return float("nan")
    path = float(np.hypot(np.diff(ml), np.diff(ap)).sum())
    return path / ((len(ml) - 1) / rate_hz)


def rim_contact_summary(contacts: Sequence[tuple[float, float]], t0_s: float
                        ) -> dict[str, Any]:
    """Count, total time and time to the first of rim contacts given as (start_s, end_s)."""
    starts = [a for a, _ in contacts]
    return {
        "count": len(contacts),
        "total_s": float(sum(b - a for a, b in contacts)),
        "time_to_first_s": (min(starts) - t0_s) if starts else None,
    }


def wobble_measures(ml_deg: np.ndarray, ap_deg: np.ndarray, rate_hz: float,
                    max_tilt_deg: float, contacts: Sequence[tuple[float, float]] = (),
                    t0_s: float = 0.0) -> dict[str, Any]:
    """Every wobble measure of one trial (keys of docs/metrics.md section 11)."""
    ml = np.asarray(ml_deg, dtype=float)
    ap = np.asarray(ap_deg, dtype=float)
    if len(ml) == 0:
        raise ValueError("no tilt samples to measure")
    total = np.hypot(ml, ap)
    rim = rim_contact_summary(contacts, t0_s)
    return {
        "stability_index_deg": stability_indices(ml, ap),
        "zone_time_pct": zone_time_pct(total, max_tilt_deg),
        "quadrant_time_pct": quadrant_time_pct(ml, ap),
        "mean_tilt_velocity_deg_s": mean_tilt_velocity(ml, ap, rate_hz),
        "mean_tilt_deg": {"ml": float(ml.mean()), "ap": float(ap.mean())},
        "max_tilt_reached_deg": float(total.max()),
        "time_to_first_rim_contact_s": rim["time_to_first_s"],
        "rim_contacts": {"count": rim["count"], "total_s": rim["total_s"]},
    }
