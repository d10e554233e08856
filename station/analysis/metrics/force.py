"""Vertical-force measures. A board sees only vertical force, so the Dynamic Postural Stability
Index (Wikstrom et al. 2005), which needs shear, is reduced to its vertical part."""

from __future__ import annotations

import numpy as np


def mean_force(force_n: np.ndarray) -> float:
    """Mean vertical force (N). In quiet stance it equals body weight (plus anything held)."""
    return float(np.mean(force_n))


def vertical_stability_index(force_n: np.ndarray, body_weight_n: float) -> float:
    """VSI (unitless, fraction of body weight) = sqrt(sum (W - Fz)^2 / n) / W.

    Wikstrom et al. 2005 (J Athl Train 40:305), vertical component of the DPSI. 0 means a
    perfectly constant load equal to body weight.
    """
    if not body_weight_n > 0:
        raise ValueError(f"body weight must be positive, got {body_weight_n}")
    deviation = body_weight_n - np.asarray(force_n, dtype=float)
    return float(np.sqrt(np.mean(deviation * deviation)) / body_weight_n)
