"""Time-domain sway measures (Prieto et al. 1996, IEEE TBME 43:956; Quijoux et al. 2021,
Physiol Rep 9:e15067).

Every function takes the medio-lateral (ml = x) and antero-posterior (ap = y) COP traces in mm,
already mean-removed (and filtered, if wanted), uniformly sampled at `rate_hz`.

Time base: T = (N - 1) / fs, the time actually spanned by N samples. The path has N - 1
increments, so dividing by (N - 1) / fs makes a constant-speed trace report exactly its speed
(N / fs would under-report by a factor (N - 1) / N, 0.04 % for 30 s at 80 Hz).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np


def resultant_distance(ml: np.ndarray, ap: np.ndarray) -> np.ndarray:
    """RD[n] = sqrt(ML[n]^2 + AP[n]^2) (mm)."""
    return np.hypot(ml, ap)


def mean_distance(ml: np.ndarray, ap: np.ndarray) -> dict[str, float]:
    """MDIST (mm): mean(|ML|), mean(|AP|), mean(RD). Prieto 1996 eq. MDIST."""
    return {
        "ml": float(np.mean(np.abs(ml))),
        "ap": float(np.mean(np.abs(ap))),
        "resultant": float(np.mean(resultant_distance(ml, ap))),
    }


def rms_distance(ml: np.ndarray, ap: np.ndarray) -> dict[str, float]:
    """RDIST (mm): sqrt(mean(ML^2)), sqrt(mean(AP^2)), sqrt(mean(RD^2)); divisor N. Prieto 1996."""
    ml2 = float(np.mean(ml * ml))
    ap2 = float(np.mean(ap * ap))
    return {"ml": ml2**0.5, "ap": ap2**0.5, "resultant": (ml2 + ap2) ** 0.5}


def sway_range(ml: np.ndarray, ap: np.ndarray) -> dict[str, float]:
    """Range (mm) per axis: max - min. Prieto 1996 (RANGE_ML, RANGE_AP)."""
    return {"ml": float(np.ptp(ml)), "ap": float(np.ptp(ap))}


def path_length(ml: np.ndarray, ap: np.ndarray) -> dict[str, float]:
    """Total excursion TOTEX (mm): sum |dML|, sum |dAP|, sum sqrt(dML^2 + dAP^2). Prieto 1996."""
    dml = np.diff(ml)
    dap = np.diff(ap)
    return {
        "ml": float(np.sum(np.abs(dml))),
        "ap": float(np.sum(np.abs(dap))),
        "total": float(np.sum(np.hypot(dml, dap))),
    }


def mean_velocity(path_mm: dict[str, float], duration_s: float) -> dict[str, float]:
    """MVELO (mm/s) = TOTEX / T with T = (N - 1) / fs (see module docstring). Prieto 1996."""
    return {k: v / duration_s for k, v in path_mm.items()}


def sway_area_per_second(ml: np.ndarray, ap: np.ndarray, duration_s: float) -> float:
    """Sway area (mm^2/s) = (1 / (2T)) * sum |AP[n+1] ML[n] - AP[n] ML[n+1]|.

    The area swept per second by the COP vector from the mean position (Hufschmidt 1980;
    Prieto 1996 AREA-SW). T = (N - 1) / fs.
    """
    cross = ap[1:] * ml[:-1] - ap[:-1] * ml[1:]
    return float(np.sum(np.abs(cross)) / (2.0 * duration_s))


def mean_frequency(
    velocity_mm_s: dict[str, float], distance_mm: dict[str, float]
) -> dict[str, float | None]:
    """Mean frequency (Hz), Prieto 1996 MFREQ.

    resultant: MVELO / (2 pi MDIST) - the rotation rate of a circle with that speed and radius.
    per axis: MVELO_axis / (4 sqrt(2) MDIST_axis). None when the distance is zero.
    """

    def ratio(num: float, den: float) -> float | None:
        return num / den if den > 0 else None

    return {
        "ml": ratio(velocity_mm_s["ml"], 4.0 * 2.0**0.5 * distance_mm["ml"]),
        "ap": ratio(velocity_mm_s["ap"], 4.0 * 2.0**0.5 * distance_mm["ap"]),
        "resultant": ratio(velocity_mm_s["total"], 2.0 * np.pi * distance_mm["resultant"]),
    }


class Ellipse(NamedTuple):
    """A 95 % ellipse of the COP cloud (mm, mm^2, degrees)."""

    area_mm2: float
    semi_major_mm: float
    semi_minor_mm: float
    angle_deg: float
    """Major axis direction, counter-clockwise from +ML (x) towards +AP (y), in (-90, 90]."""
    prediction_area_mm2: float
    f_quantile: float


@lru_cache(maxsize=256)
def _f_quantile(p: float, n: int) -> float:
    from scipy import stats  # when used: the station starts without scipy

    return float(stats.f.ppf(p, 2, n - 2))


def confidence_ellipse(ml: np.ndarray, ap: np.ndarray, p: float = 0.95) -> Ellipse:
    """95 % confidence ellipse area (mm^2) = 2 pi F(p; 2, N-2) sqrt(s_ML^2 s_AP^2 - s_MLAP^2).

    Covariance divisor N - 1 (numpy.cov default). F is the F distribution quantile (scipy), not
    the chi-square limit 5.991/2; for N = 2400 the two differ by 0.1 %. Prieto 1996 AREA-CE.
    Semi-axes sqrt(2 F lambda_i) from the covariance eigenvalues. The prediction ellipse (for a
    new sample) multiplies the area by (N-1)(N+1) / (N(N-2)) (Schubert & Kirchner 2014).
    """
    n = ml.size
    if n < 3:
        raise ValueError("an ellipse needs at least 3 samples")
    cov = np.cov(np.vstack([ml, ap]))
    f_q = _f_quantile(p, n)
    eigvals, eigvecs = np.linalg.eigh(cov)
    eigvals = np.clip(eigvals, 0.0, None)
    det = max(float(cov[0, 0] * cov[1, 1] - cov[0, 1] ** 2), 0.0)
    area = 2.0 * np.pi * f_q * det**0.5
    major = eigvecs[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])))
    if angle <= -90.0:
        angle += 180.0
    elif angle > 90.0:
        angle -= 180.0
    return Ellipse(
        area_mm2=float(area),
        semi_major_mm=float((2.0 * f_q * eigvals[1]) ** 0.5),
        semi_minor_mm=float((2.0 * f_q * eigvals[0]) ** 0.5),
        angle_deg=angle,
        prediction_area_mm2=float(area * (n - 1) * (n + 1) / (n * (n - 2))),
        f_quantile=f_q,
    )
