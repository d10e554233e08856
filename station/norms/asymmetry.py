"""Left against right with a basis: the absolute symmetry index and its cited threshold.

ASI (%) = 100 * |L - R| / ((L + R) / 2), the absolute symmetry index (0 = symmetric).
For single-leg stance the threshold is ASI >= 16 % of total COP path length: Nolff, Conner,
Haworth & Goble 2023 (J Mot Behav, doi:10.1080/00222895.2022.2163222), BTrackS single-leg
stance, 161 young adults 18-29 years, 20 s trials, hands on hips: a difference of 16 % or more
between legs was beyond the average adult's. Path length over equal trial lengths is velocity
times duration, so the index is the same on mean COP velocity. ASI 16 % equals a limb symmetry
index (min/max) of 85.2 %. A pair is flagged only when it is past the threshold AND the L-R
difference is beyond measurement noise (the 95 % MDC of a difference of two trials).
"""

from __future__ import annotations

import math
from typing import Any

ASI_THRESHOLD_PCT = 16.0
ASI_MEASURES = ("mean_velocity_mm_s.total", "path_length_mm.total")
ASI_SOURCE = ("Nolff MR, Conner NO, Haworth JL, Goble DJ (2023) Lower limb asymmetry "
              "evaluation using the Balance Tracking System (BTrackS) single leg stance "
              "protocol. J Mot Behav, doi:10.1080/00222895.2022.2163222: ASI >= 16 % of COP "
              "path length, 161 young adults, 20 s single-leg trials")


def absolute_symmetry_index(left: float | None, right: float | None) -> float | None:
    """100 |L - R| / mean(L, R) in %; None for a missing, non-finite or non-positive value."""
    if left is None or right is None or not (math.isfinite(left) and math.isfinite(right)):
        return None
    if left <= 0 or right <= 0:
        return None
    return 100.0 * abs(left - right) / ((left + right) / 2.0)


def lsi_equivalent(asi_pct: float) -> float:
    """The min/max limb symmetry index (%) that an ASI corresponds to: 16 % -> 85.2 %."""
    a = asi_pct / 100.0
    return 100.0 * (2.0 - a) / (2.0 + a)


def asymmetry_flag(measure: str, left: float | None, right: float | None,
                   mdc: float | None) -> dict[str, Any]:
    """{"asi_pct", "asymmetric", "within_noise", "flag_text", "flag_source"}: asymmetric is
    True past the
    cited threshold and beyond the MDC, False otherwise, None when not judged (no cited
    threshold for the measure, or a value missing); within_noise: |L - R| <= `mdc`, the
    95 % MDC of a difference of two trials (None without an MDC)."""
    asi = absolute_symmetry_index(left, right)
    out: dict[str, Any] = {"asi_pct": None if asi is None else round(asi, 1),
                           "asymmetric": None, "within_noise": None, "flag_text": None,
                           "flag_source": None}
    if asi is None or left is None or right is None:
        return out
    if mdc is not None:
        out["within_noise"] = abs(left - right) <= mdc
    if measure not in ASI_MEASURES:
        out["flag_text"] = "no cited asymmetry threshold for this measure: not judged"
        return out
    out["flag_source"] = ASI_SOURCE
    diff = abs(left - right)
    if asi < ASI_THRESHOLD_PCT:
        out.update(asymmetric=False, flag_text=f"ASI {asi:.0f} % < {ASI_THRESHOLD_PCT:g} %: "
                                               "typical left/right difference")
    elif mdc is not None and diff <= mdc:
        out.update(asymmetric=False,
                   flag_text=f"ASI {asi:.0f} % but the difference {diff:.1f} is within "
                             f"measurement noise (MDC {mdc:.1f})")
    else:
        noise = "" if mdc is None else f", beyond measurement noise (MDC {mdc:.1f})"
        out.update(asymmetric=True,
                   flag_text=f"ASI {asi:.0f} % >= {ASI_THRESHOLD_PCT:g} %{noise}")
    return out
