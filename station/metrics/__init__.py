"""Measures of a finished balance trial: sway, frequency, force, landing, perturbation, symmetry.

Pure numpy/scipy; every measure is one documented function. See docs/metrics.md.
"""

from __future__ import annotations

from station.metrics.summary import compute_all

__all__ = ["compute_all"]
