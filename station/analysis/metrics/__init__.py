"""Measures of a finished balance trial: sway, frequency, force, landing, perturbation, symmetry.

Pure numpy/scipy; every measure is one documented function. See docs/metrics.md.
"""

from __future__ import annotations

from station.analysis.metrics.landing import landing_metrics
from station.analysis.metrics.perturbation import perturbation_metrics
from station.analysis.metrics.summary import compute_all, compute_from_samples
from station.analysis.metrics.symmetry import limb_symmetry_index, symmetry_table

__all__ = [
    "compute_all",
    "compute_from_samples",
    "landing_metrics",
    "limb_symmetry_index",
    "perturbation_metrics",
    "symmetry_table",
]
