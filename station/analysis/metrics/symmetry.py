"""Left/right limb symmetry index (LSI) for single-leg measures.

LSI (%) = 100 * performance(involved) / performance(uninvolved), where performance is the value
itself when higher is better and its reciprocal when lower is better (sway, TTS). So for sway
LSI = 100 * value(uninvolved) / value(involved): 100 = symmetric, 80 = the involved leg sways
25 % more. When no leg is named involved, the weaker leg is taken as involved, which gives
LSI = 100 * min / max for either direction (always <= 100). Clinical return-to-sport criteria
commonly ask for LSI >= 90 % (e.g. Grindem et al. 2016), written for higher-is-better tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from station.analysis.metrics.catalog import direction, flatten, is_measure

Side = Literal["left", "right"]


def _usable(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def limb_symmetry_index(
    left: float | None,
    right: float | None,
    *,
    higher_is_better: bool | None,
    involved: Side | None = None,
) -> float | None:
    """LSI in % (see module docstring); None when a value is missing, non-finite or <= 0.

    higher_is_better=None (no better direction, e.g. frequencies) allows only the min/max form.
    """
    if not (_usable(left) and _usable(right)) or left <= 0 or right <= 0:
        return None
    if involved is None:
        return 100.0 * min(left, right) / max(left, right)
    if involved not in ("left", "right"):
        raise ValueError(f"involved must be 'left' or 'right', got {involved!r}")
    if higher_is_better is None:
        raise ValueError("an involved-side LSI needs a measure with a better direction")
    inv, uninv = (left, right) if involved == "left" else (right, left)
    ratio = inv / uninv if higher_is_better else uninv / inv
    return 100.0 * ratio


def weaker_side(left: float, right: float, higher_is_better: bool | None) -> Side | None:
    """The leg that did worse; None for a tie or a measure without a better direction."""
    if higher_is_better is None or left == right:
        return None
    left_worse = left < right if higher_is_better else left > right
    return "left" if left_worse else "right"


def symmetry_table(
    left_metrics: Mapping[str, Any],
    right_metrics: Mapping[str, Any],
    *,
    involved: Side | None = None,
) -> dict[str, dict[str, Any]]:
    """LSI for every measure present in both legs' metrics (nested dicts are flattened).

    Returns {"mean_velocity_mm_s.total": {"left", "right", "higher_is_better", "lsi_pct",
    "weaker_side"}, ...}; bookkeeping keys (n_samples, filter, ...) are skipped.
    """
    left_flat = flatten(left_metrics)
    right_flat = flatten(right_metrics)
    table: dict[str, dict[str, Any]] = {}
    for key in sorted(left_flat.keys() & right_flat.keys()):
        if not is_measure(key):
            continue
        left, right = left_flat[key], right_flat[key]
        hib = direction(key)
        usable = _usable(left) and _usable(right)
        table[key] = {
            "left": left,
            "right": right,
            "higher_is_better": hib,
            "lsi_pct": limb_symmetry_index(
                left, right, higher_is_better=hib, involved=involved if hib is not None else None
            ),
            "weaker_side": weaker_side(left, right, hib) if usable else None,
        }
    return table
