"""Which way is better for each measure, shared by symmetry tables, baselines and targets.

Keys are flattened metric names: a nested key like rms_mm["ml"] is "rms_mm.ml"; a top-level
name covers all its sub-keys. True = higher is better, False = lower is better, None = no
direction (e.g. sway frequencies: a change is a change, not an improvement).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HIGHER_IS_BETTER: dict[str, bool | None] = {
    # quiet-stance sway: less is steadier
    "mean_distance_mm": False,
    "rms_mm": False,
    "range_mm": False,
    "path_length_mm": False,
    "mean_velocity_mm_s": False,
    "sway_area_mm2_s": False,
    "ellipse95_area_mm2": False,
    "prediction_ellipse95_area_mm2": False,
    "vertical_stability_index": False,
    # spectra: no better direction
    "mean_frequency_hz": None,
    "f50_hz": None,
    "f95_hz": None,
    "centroid_frequency_hz": None,
    "frequency_dispersion": None,
    # hop landing
    "peak_force_bw": False,
    "tts_vertical_s": False,
    "tts_cop_ml_s": False,
    "tts_cop_ap_s": False,
    "tts_cop_s": False,
    # perturbation
    "peak_excursion_mm": False,
    "recovery_time_s": False,
    # holds and scores
    "time_to_failure_s": True,
    "hold_time_s": True,
    "stability_score": True,
}


def direction(key: str) -> bool | None:
    """Higher-is-better flag of a flattened key; KeyError for a key that is not a measure."""
    if key in HIGHER_IS_BETTER:
        return HIGHER_IS_BETTER[key]
    top = key.split(".", 1)[0]
    if top in HIGHER_IS_BETTER:
        return HIGHER_IS_BETTER[top]
    raise KeyError(f"{key!r} is not a known measure")


def is_measure(key: str) -> bool:
    try:
        direction(key)
    except KeyError:
        return False
    return True


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"rms_mm": {"ml": 1}} -> {"rms_mm.ml": 1}."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
