"""Frequency-domain sway measures from a Welch power spectral density.

Choices (stated because peers differ): Hann window, segments of `segment_s` = 10 s (or the whole
trace if shorter), 50 % overlap, constant (mean) detrend per segment, one-sided density.
A 30 s trial gives 5 segments and a 0.1 Hz bin width. Measures use the bins whose centre lies in
the band 0.15-5 Hz (Prieto et al. 1996, P96 in docs/references.md: below 0.15 Hz a 30 s trial
holds < 5 cycles, above 5 Hz there is little sway).

Spectral moments mu_k = sum f^k P(f) df over the band.
- F50 / F95 (Hz): frequency below which 50 % / 95 % of the band power lies. Each bin spreads its
  power evenly over [f - df/2, f + df/2]; the cumulative power is interpolated linearly inside
  the bin, so a pure tone on a bin centre gives F50 at that centre (Hann leakage is symmetric).
- centroidal frequency (Hz) = sqrt(mu2 / mu0)
- frequency dispersion (unitless, 0 = pure tone, 1 = spread) = sqrt(1 - mu1^2 / (mu0 mu2))
(Prieto et al. 1996: CFREQ, FREQD; Quijoux et al. 2021.)
"""

from __future__ import annotations

import numpy as np

SEGMENT_S = 10.0
BAND_HZ = (0.15, 5.0)


def welch_psd(
    values: np.ndarray, rate_hz: float, segment_s: float = SEGMENT_S
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Welch PSD (mm^2/Hz) along the last axis; returns (freqs_hz, psd)."""
    n = values.shape[-1]
    nperseg = min(n, round(segment_s * rate_hz))
    from scipy import signal  # when used: the station starts without scipy

    return signal.welch(
        values,
        fs=rate_hz,
        window="hann",
        nperseg=nperseg,
        noverlap=nperseg // 2,
        detrend="constant",
        scaling="density",
        axis=-1,
    )


def _power_quantile(edges: np.ndarray, cumulative: np.ndarray, fraction: float) -> float:
    """Frequency where the piecewise-linear cumulative power first reaches `fraction` of it."""
    target = fraction * cumulative[-1]
    k = int(np.searchsorted(cumulative, target, side="left"))
    k = min(max(k, 1), cumulative.size - 1)
    lo, hi = cumulative[k - 1], cumulative[k]
    share = (target - lo) / (hi - lo) if hi > lo else 0.0
    return float(edges[k - 1] + share * (edges[k] - edges[k - 1]))


def spectral_measures(
    freqs_hz: np.ndarray, psd: np.ndarray, band_hz: tuple[float, float] = BAND_HZ
) -> dict[str, float | None]:
    """F50, F95, centroidal frequency and dispersion of one spectrum (see module docstring).

    All None when the band holds no power (a motionless trace) or fewer than 2 bins.
    """
    # a bin centre on a band edge counts as inside despite rounding in the estimated rate
    slack = 1e-6 * (freqs_hz[1] - freqs_hz[0]) if freqs_hz.size > 1 else 0.0
    in_band = (freqs_hz >= band_hz[0] - slack) & (freqs_hz <= band_hz[1] + slack)
    f = freqs_hz[in_band]
    p = psd[in_band]
    empty = {"f50_hz": None, "f95_hz": None, "centroid_hz": None, "dispersion": None}
    if f.size < 2:
        return empty
    df = float(f[1] - f[0])
    power = p * df
    mu0 = float(power.sum())
    if not mu0 > 0:
        return empty
    mu1 = float(np.dot(f, power))
    mu2 = float(np.dot(f * f, power))
    edges = np.concatenate([[f[0] - df / 2], f + df / 2])
    cumulative = np.concatenate([[0.0], np.cumsum(power)])
    dispersion_sq = max(1.0 - mu1 * mu1 / (mu0 * mu2), 0.0)
    return {
        "f50_hz": _power_quantile(edges, cumulative, 0.50),
        "f95_hz": _power_quantile(edges, cumulative, 0.95),
        "centroid_hz": (mu2 / mu0) ** 0.5,
        "dispersion": dispersion_sq**0.5,
    }


def frequency_measures(
    ml: np.ndarray,
    ap: np.ndarray,
    rate_hz: float,
    segment_s: float = SEGMENT_S,
    band_hz: tuple[float, float] = BAND_HZ,
) -> dict[str, dict[str, float | None]]:
    """Spectral measures per axis: {"ml": {...}, "ap": {...}} (one Welch call for both axes)."""
    freqs, psd = welch_psd(np.vstack([ml, ap]), rate_hz, segment_s)
    return {
        "ml": spectral_measures(freqs, psd[0], band_hz),
        "ap": spectral_measures(freqs, psd[1], band_hz),
    }
