"""`compute_all`: every sway measure of a finished trial as one JSON-safe dict.

Pipeline: validate (trace.prepare_trace) -> remove the mean -> low-pass (filtering) -> measures.
Keys, units and formulas are listed in docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from station.analysis.metrics import force, frequency, sway
from station.analysis.metrics.filtering import check_filter, lowpass
from station.analysis.metrics.preprocess import prepare_trace
from station.samples import Sample
from station.wire import json_safe


def compute_all(
    t_s: np.ndarray,
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    *,
    force_n: np.ndarray | None = None,
    body_weight_n: float | None = None,
    filter: str = "butter10",
) -> dict[str, Any]:
    """All sway measures of one trial (ML = x, AP = y, mm; t in s).

    Leading/trailing NaN samples are dropped; anything else wrong with the trace raises
    ValueError (see trace.prepare_trace). Force keys appear when `force_n` is given; without a
    body weight the mean force stands in for it (true in quiet stance).
    """
    trace = prepare_trace(t_s, x_mm, y_mm, force_n)
    check_filter(filter, trace.rate_hz)
    rows = [trace.x_mm, trace.y_mm]
    if trace.force_n is not None:
        rows.append(trace.force_n)
    signals = np.vstack(rows)
    centre = signals.mean(axis=1, keepdims=True)
    # one filter call for COP and force; means go back onto force only (it is not centred)
    signals = lowpass(signals - centre, trace.rate_hz, filter)
    ml = signals[0] - signals[0].mean()
    ap = signals[1] - signals[1].mean()
    duration = trace.duration_s

    distance = sway.mean_distance(ml, ap)
    path = sway.path_length(ml, ap)
    velocity = sway.mean_velocity(path, duration)
    ellipse = sway.confidence_ellipse(ml, ap)
    spectra = frequency.frequency_measures(ml, ap, trace.rate_hz)

    out: dict[str, Any] = {
        "n_samples": trace.n,
        "rate_hz": trace.rate_hz,
        "duration_s": duration,
        "filter": filter,
        "mean_distance_mm": distance,
        "rms_mm": sway.rms_distance(ml, ap),
        "range_mm": sway.sway_range(ml, ap),
        "path_length_mm": path,
        "mean_velocity_mm_s": velocity,
        "sway_area_mm2_s": sway.sway_area_per_second(ml, ap, duration),
        "ellipse95_area_mm2": ellipse.area_mm2,
        "mean_frequency_hz": sway.mean_frequency(velocity, distance),
        "f50_hz": {axis: spectra[axis]["f50_hz"] for axis in ("ml", "ap")},
        "f95_hz": {axis: spectra[axis]["f95_hz"] for axis in ("ml", "ap")},
        "centroid_frequency_hz": {axis: spectra[axis]["centroid_hz"] for axis in ("ml", "ap")},
        "frequency_dispersion": {axis: spectra[axis]["dispersion"] for axis in ("ml", "ap")},
        # extras
        "ellipse95": {
            "semi_major_mm": ellipse.semi_major_mm,
            "semi_minor_mm": ellipse.semi_minor_mm,
            "angle_deg": ellipse.angle_deg,
            "f_quantile": ellipse.f_quantile,
        },
        "prediction_ellipse95_area_mm2": ellipse.prediction_area_mm2,
        "n_dropped_edge_samples": trace.n_dropped_edge,
        "resampled": trace.resampled,
    }
    if trace.force_n is not None:
        fz = signals[2] + centre[2]
        mean_fz = force.mean_force(fz)
        weight = body_weight_n if body_weight_n is not None else mean_fz
        out["mean_force_n"] = mean_fz
        out["body_weight_n"] = weight
        out["body_weight_source"] = "given" if body_weight_n is not None else "mean_force"
        out["vertical_stability_index"] = force.vertical_stability_index(fz, weight)
    return json_safe(out)


def compute_from_samples(
    samples: Iterable[Sample],
    *,
    body_weight_n: float | None = None,
    filter: str = "butter10",
) -> dict[str, Any]:
    """compute_all on a recorded list of station Samples (COP in mm, force in N).

    Samples before the athlete is on the board (NaN COP) are edge-trimmed as usual.
    """
    rows = np.array([(s.t_s, s.cop_x_mm, s.cop_y_mm, s.force_n) for s in samples], dtype=float)
    if rows.size == 0:
        raise ValueError("no samples to analyse")
    return compute_all(
        rows[:, 0],
        rows[:, 1],
        rows[:, 2],
        force_n=rows[:, 3],
        body_weight_n=body_weight_n,
        filter=filter,
    )
