"""Single-leg hop landing: landing instant, peak vertical force, time to stabilization (TTS).

Landing: the first sample at or above `flight_threshold_n` (20 N) after a flight phase, i.e. a
run of at least `min_flight_s` with force below that threshold.

Peak vertical force (body weights): max Fz in the analysis window / W, on the unfiltered force
(a 10 Hz low-pass would flatten the impact). At 80 Hz the board under-estimates it: an impact
peak lasts ~20-50 ms and a sample lands up to 6 ms from the apex; the HX711 also averages over
its conversion. tests/test_metrics_landing.py measures the loss on a synthetic half-sine impact
(docs/metrics.md gives the figure); treat 80 Hz peaks as a lower bound and compare an athlete
only with themselves on the same board.

TTS by the sequential-average method (Colby et al. 1999; compared in Fransz et al. 2015):
within a fixed window of `window_s` (3 s) after landing, for a signal s the sequential average
is a[k] = mean(s[0..k]); the reference band is mean(s) +- `sd_fraction` (0.25) * SD(s) over
the whole window; TTS is the time from landing to the first sample after which a[k] stays in
the band until the end of the window. Trial length changes TTS the most (Fransz 2015), so the
window is fixed and refused when the recording is shorter. Computed for vertical force and for
each COP axis; the COP TTS is the later of the two axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.metrics.filtering import lowpass
from station.metrics.summary import json_safe
from station.metrics.trace import estimate_rate_hz

FLIGHT_THRESHOLD_N = 20.0
MIN_FLIGHT_S = 0.08
WINDOW_S = 3.0
SD_FRACTION = 0.25


def find_landing(
    force_n: np.ndarray,
    rate_hz: float,
    flight_threshold_n: float = FLIGHT_THRESHOLD_N,
    min_flight_s: float = MIN_FLIGHT_S,
) -> int:
    """Index of the first sample >= threshold after the first flight of >= min_flight_s.

    A flight must follow contact, so an empty board before the athlete steps on is not one.
    """
    airborne = force_n < flight_threshold_n
    # run boundaries of the airborne mask
    padded = np.concatenate([[False], airborne, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, stops = edges[0::2], edges[1::2]
    min_len = max(1, int(np.ceil(min_flight_s * rate_hz)))
    # a flight starts after contact (not an empty board at the start) and ends in contact
    long_runs = np.flatnonzero((stops - starts >= min_len) & (starts > 0) & (stops < force_n.size))
    if long_runs.size == 0:
        raise ValueError(
            f"no landing found: need a flight (force < {flight_threshold_n:g} N for >= "
            f"{min_flight_s:g} s) followed by contact"
        )
    return int(stops[long_runs[0]])


def sequential_average_tts(
    values: np.ndarray, rate_hz: float, sd_fraction: float = SD_FRACTION
) -> float:
    """TTS (s) of one signal over its (fixed) window by the sequential-average method.

    a[k] = cumulative mean; band = mean +- sd_fraction * SD (whole window, divisor N). The
    last sample of a[k] equals the window mean, so TTS always exists and is <= window.
    """
    cumulative = np.cumsum(values) / np.arange(1, values.size + 1)
    centre = float(np.mean(values))
    half_width = sd_fraction * float(np.std(values))
    outside = np.abs(cumulative - centre) > half_width
    if not outside.any():
        return 0.0
    last_outside = values.size - 1 - int(np.argmax(outside[::-1]))
    return (last_outside + 1) / rate_hz


def landing_metrics(
    t_s: np.ndarray,
    force_n: np.ndarray,
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    body_weight_n: float,
    *,
    flight_threshold_n: float = FLIGHT_THRESHOLD_N,
    min_flight_s: float = MIN_FLIGHT_S,
    window_s: float = WINDOW_S,
    sd_fraction: float = SD_FRACTION,
    filter: str = "none",
) -> dict[str, Any]:
    """Landing measures of a hop recording (see module docstring for the methods).

    COP may be NaN while airborne; it must be finite inside the window. `filter` applies to
    the TTS signals only (never to the peak force). Keys: landing_t_s, peak_force_n,
    peak_force_bw, time_to_peak_s, tts_vertical_s, tts_cop_ml_s, tts_cop_ap_s, tts_cop_s,
    window_s, rate_hz, method.
    """
    if not body_weight_n > 0:
        raise ValueError(f"body weight must be positive, got {body_weight_n}")
    t = np.asarray(t_s, dtype=float)
    fz = np.asarray(force_n, dtype=float)
    x = np.asarray(x_mm, dtype=float)
    y = np.asarray(y_mm, dtype=float)
    if not (t.ndim == fz.ndim == x.ndim == y.ndim == 1 and t.size == fz.size == x.size == y.size):
        raise ValueError("t_s, force_n, x_mm and y_mm must be 1-D arrays of the same length")
    if not (np.isfinite(t).all() and np.isfinite(fz).all()):
        raise ValueError("time and force must be finite everywhere in a landing recording")
    rate = estimate_rate_hz(t)
    landing = find_landing(fz, rate, flight_threshold_n, min_flight_s)
    n_window = round(window_s * rate)
    if landing + n_window > t.size:
        have = (t.size - landing) / rate
        raise ValueError(
            f"recording ends {have:.2f} s after landing; the TTS window needs {window_s:g} s"
        )
    window = slice(landing, landing + n_window)
    cop = np.vstack([x[window], y[window]])
    if not np.isfinite(cop).all():
        raise ValueError("COP has non-finite samples inside the landing window")
    fz_window = fz[window]
    peak = int(np.argmax(fz_window))
    tts_signals = lowpass(np.vstack([fz_window, cop]), rate, filter)
    tts = [sequential_average_tts(s, rate, sd_fraction) for s in tts_signals]
    return json_safe(
        {
            "landing_t_s": t[landing],
            "peak_force_n": fz_window[peak],
            "peak_force_bw": fz_window[peak] / body_weight_n,
            "time_to_peak_s": t[landing + peak] - t[landing],
            "tts_vertical_s": tts[0],
            "tts_cop_ml_s": tts[1],
            "tts_cop_ap_s": tts[2],
            "tts_cop_s": max(tts[1], tts[2]),
            "window_s": window_s,
            "rate_hz": rate,
            "method": (
                f"sequential average, band mean +- {sd_fraction:g} SD over a fixed "
                f"{window_s:g} s window after landing (force >= {flight_threshold_n:g} N "
                f"after >= {min_flight_s:g} s of flight)"
            ),
        }
    )
