"""Raw counts -> cell forces -> total force and centre of pressure, for any block of frames.

One vectorized path for everything that converts recorded counts: the estimator's
block twin, trial analysis and re-analysis, trace files, calibration checks, exports
and the web's trial views. The live per-frame path (Estimator.update) does the same
sums on plain floats for speed, and a test holds the two equal.

Cell model (station.calibration.file.Calibration): F_i = k_i d + q_i d^2 with
d = counts - offset_i; COP = sum(F_i r_i) / sum(F_i), NaN below the minimum load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from station.geometry import cop_from_forces

if TYPE_CHECKING:
    from station.calibration.file import Calibration


class ForceAndCop(NamedTuple):
    """Per-frame estimates of a block of frames (leading shape of the counts)."""

    cell_forces_n: np.ndarray  # (..., 4) N
    force_n: np.ndarray  # (...) N, total vertical force
    cop_mm: np.ndarray  # (..., 2) mm [x, y]; NaN where force_n < the minimum load


def cell_forces_from_counts(
    counts: np.ndarray,
    offsets_counts: np.ndarray,
    newtons_per_count: np.ndarray,
    quadratic_n_per_count2: np.ndarray,
) -> np.ndarray:
    """Per-cell forces (..., 4) in N for raw counts (..., 4): F = (k + q d) d, d = c - o."""
    d = np.asarray(counts, dtype=float) - np.asarray(offsets_counts, dtype=float)
    return (newtons_per_count + quadratic_n_per_count2 * d) * d


def force_and_cop(
    calibration: Calibration,
    counts: np.ndarray,
    *,
    offsets_counts: np.ndarray | tuple[float, ...] | None = None,
    min_load_n: float | None = None,
) -> ForceAndCop:
    """Cell forces, total force and COP of raw counts (..., 4) with `calibration`.

    offsets_counts: zero offsets to use instead of the calibration's (an estimator's
    auto-zeroed ones). min_load_n: below it the COP is NaN; the calibration's by
    default, 0 to keep the COP of any load (a known test mass, an export).
    """
    offsets = calibration.offsets_counts if offsets_counts is None else offsets_counts
    forces = cell_forces_from_counts(
        counts, offsets, calibration.newtons_per_count, calibration.quadratic_n_per_count2
    )
    floor = calibration.min_load_n if min_load_n is None else min_load_n
    total, cop = cop_from_forces(forces, calibration.positions_mm, floor)
    return ForceAndCop(forces, total, cop)
