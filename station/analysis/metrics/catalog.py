"""Which way is better for each measure, shared by symmetry tables, baselines and targets,
and the range a value of it can take on this board (`VALUE_RANGE`, for targets).

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
    # wobble board (docs/metrics.md section 11): less tilt is steadier; more time inside 5 deg
    "stability_index_deg": False,
    "wobble.zone_time_pct.0-5": True,
    "zone_time_pct": None,  # the outer zones: neither way (time moves between them)
    "quadrant_time_pct": None,
    "mean_tilt_velocity_deg_s": False,
    "max_tilt_reached_deg": False,
    "time_to_first_rim_contact_s": True,
    "rim_contacts": False,
    # holds and scores
    "time_to_failure_s": True,
    "hold_time_s": True,
    "stability_score": True,
    # biofeedback games (docs/metrics.md: weight shift, limits of stability, maze, toe taps)
    "rms_error_mm": False,
    "rms_error_axis_mm": False,
    "rms_error_off_axis_mm": False,
    "time_in_band_pct": True,
    "lag_s": False,
    "reaction_time_s": False,
    "movement_velocity_mm_s": True,
    "endpoint_excursion_pct": True,
    "max_excursion_pct": True,
    "max_excursion_mm": True,
    "directional_control_pct": True,
    "targets_reached_pct": True,
    "time_per_target_s": False,
    "completion_time_s": False,
    "path_efficiency_pct": True,
    "taps_pct": True,
    "interval_cv": False,
    "rhythm_error_s": False,
    "lost_control": False,
    "between_taps_velocity_mm_s": False,
}


# What a value can be at all on a ~400 x 300 mm board sampled at <= 93 Hz, in trials of at
# most 600 s: generous physical bounds, not norms (a target outside them can never be met).
_MM, _MM2, _S = (0.0, 1000.0), (0.0, 1e6), (0.0, 600.0)
_HZ = (0.0, 50.0)
VALUE_RANGE: dict[str, tuple[float, float]] = {
    "mean_distance_mm": _MM,
    "rms_mm": _MM,
    "range_mm": _MM,
    "path_length_mm": (0.0, 1e6),
    "mean_velocity_mm_s": (0.0, 2000.0),
    "sway_area_mm2_s": _MM2,
    "ellipse95_area_mm2": _MM2,
    "prediction_ellipse95_area_mm2": _MM2,
    "vertical_stability_index": (0.0, 10.0),  # a fraction of body weight
    "mean_frequency_hz": _HZ,
    "f50_hz": _HZ,
    "f95_hz": _HZ,
    "centroid_frequency_hz": _HZ,
    "frequency_dispersion": (0.0, 1.0),
    "peak_force_bw": (0.0, 20.0),
    "tts_vertical_s": _S,
    "tts_cop_ml_s": _S,
    "tts_cop_ap_s": _S,
    "tts_cop_s": _S,
    "peak_excursion_mm": _MM,
    "recovery_time_s": _S,
    "time_to_failure_s": _S,
    "hold_time_s": _S,
    "stability_score": (0.0, 100.0),
    "stability_index_deg": (0.0, 45.0),
    "zone_time_pct": (0.0, 100.0),
    "wobble.zone_time_pct.0-5": (0.0, 100.0),
    "quadrant_time_pct": (0.0, 100.0),
    "mean_tilt_velocity_deg_s": (0.0, 1000.0),
    "max_tilt_reached_deg": (0.0, 90.0),
    "time_to_first_rim_contact_s": _S,
    "rim_contacts": (0.0, 600.0),  # a count per trial, or seconds of a <= 600 s trial
    "score": (0.0, 100.0),  # the trial's stability score, as targets name it
    "rms_error_mm": _MM,
    "rms_error_axis_mm": _MM,
    "rms_error_off_axis_mm": _MM,
    "time_in_band_pct": (0.0, 100.0),
    "lag_s": (0.0, 10.0),
    "reaction_time_s": _S,
    "movement_velocity_mm_s": (0.0, 2000.0),
    "endpoint_excursion_pct": (-1000.0, 1000.0),  # a lean the wrong way is negative
    "max_excursion_pct": (0.0, 1000.0),
    "max_excursion_mm": _MM,
    "directional_control_pct": (0.0, 100.0),
    "targets_reached_pct": (0.0, 100.0),
    "time_per_target_s": _S,
    "completion_time_s": _S,
    "path_efficiency_pct": (0.0, 100.0),
    "taps_pct": (0.0, 1000.0),
    "interval_cv": (0.0, 10.0),
    "rhythm_error_s": _S,
    "lost_control": (0.0, 1000.0),
    "between_taps_velocity_mm_s": (0.0, 2000.0),
}


def value_range(key: str) -> tuple[float, float]:
    """(lowest, highest) a value of the measure `key` can take; KeyError when unknown."""
    return _lookup(VALUE_RANGE, key)


def direction(key: str) -> bool | None:
    """Higher-is-better flag of a flattened key; KeyError for a key that is not a measure."""
    return _lookup(HIGHER_IS_BETTER, key)


def _lookup(table: Mapping[str, Any], key: str) -> Any:
    """The entry of a flattened key: itself, its top-level name ("rms_mm.ml" -> "rms_mm"), or
    for a task's section ("landing.tts_cop_s", "perturbation.recovery_time_s") the measure."""
    parts = key.split(".")
    for name in (key, parts[0], ".".join(parts[1:2])):
        if name in table:
            return table[name]
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
