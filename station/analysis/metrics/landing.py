"""Single-leg hop landing: landing instant, peak vertical force, time to stabilization (TTS).

Landing: the first sample at or above `flight_threshold_n` (20 N) after a flight phase, i.e. a
run of at least `min_flight_s` (0.08 s) below that threshold that follows contact.

Peak vertical force (body weights): max Fz in the window / W, on the unfiltered force (a 10 Hz
low-pass would flatten the impact). 80 Hz under-estimates it: an impact peak rises in ~20-50 ms
and a sample can land up to 6 ms from the apex; the HX711 also averages over its 12.5 ms
conversion. tests/test_metrics_landing.py measures the loss on a synthetic impact (figures in
docs/metrics.md): about 3-6 % on average and up to ~12 % for a 20 ms rise, ~1-2 % for 50 ms.
Treat 80 Hz peaks as a lower bound; compare an athlete only with themselves on the station.

TTS, default method "moving_rms" (a moving-RMS-window method, one of the families compared by
Fransz et al. 2015), inside a fixed window of `window_s` (3 s) after landing, because trial
length changes TTS the most (Fransz 2015); a shorter recording is refused:
- vertical force: deviation Fz - W; stable when the RMS of the deviation over a trailing
  `rms_window_s` (0.25 s) stays <= `force_threshold_bw` (0.05) * W;
- COP, per axis: deviation from the mean COP of the window's last `reference_s` (1 s); stable
  when its trailing 0.25 s RMS stays <= `cop_threshold_mm` (5 mm, an assumption set above
  normal single-leg sway over a quarter second);
TTS = time from landing to the end of the last trailing window that exceeds the threshold;
None when the signal is still above it at the end of the window. tts_cop_s = the later axis.

Method "sequential_average" (Colby et al. 1999): cumulative mean inside band mean +- 0.25 SD
of the same window. Kept for comparison only: with a fixed 3 s window the impact inflates the
SD, and a test shows it reports *shorter* TTS for *slower* settling
(test_sequential_average_is_not_monotonic_in_a_3s_window).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.analysis.metrics.filtering import lowpass
from station.analysis.metrics.preprocess import uniform_rate_hz
from station.wire import json_safe

FLIGHT_THRESHOLD_N = 20.0
MIN_FLIGHT_S = 0.08
WINDOW_S = 3.0
RMS_WINDOW_S = 0.25
REFERENCE_S = 1.0
FORCE_THRESHOLD_BW = 0.05
COP_THRESHOLD_MM = 5.0
SD_FRACTION = 0.25
METHODS = ("moving_rms", "sequential_average")


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


def moving_rms_tts(
    deviation: np.ndarray, rate_hz: float, threshold: float, rms_window_s: float = RMS_WINDOW_S
) -> float | None:
    """TTS (s): end of the last trailing RMS window of `deviation` above `threshold`.

    0.0 if no window exceeds it; None if the last window still does (not yet stable).
    """
    width = max(1, round(rms_window_s * rate_hz))
    if deviation.size < width:
        raise ValueError("window shorter than one RMS window")
    energy = np.concatenate([[0.0], np.cumsum(deviation * deviation)])
    rms = np.sqrt(np.clip((energy[width:] - energy[:-width]) / width, 0.0, None))
    above = rms > threshold
    if not above.any():
        return 0.0
    if above[-1]:
        return None
    last_above = above.size - 1 - int(np.argmax(above[::-1]))
    return (last_above + width) / rate_hz


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
    method: str = "moving_rms",
    rms_window_s: float = RMS_WINDOW_S,
    reference_s: float = REFERENCE_S,
    force_threshold_bw: float = FORCE_THRESHOLD_BW,
    cop_threshold_mm: float = COP_THRESHOLD_MM,
    sd_fraction: float = SD_FRACTION,
    filter: str = "none",
) -> dict[str, Any]:
    """Landing measures of a hop recording (see module docstring for the methods).

    COP may be NaN while airborne; it must be finite inside the window. `filter` applies to
    the TTS signals only (never to the peak force). Keys: landing_t_s, peak_force_n,
    peak_force_bw, time_to_peak_s, tts_vertical_s, tts_cop_ml_s, tts_cop_ap_s, tts_cop_s
    (None = not stable within the window), window_s, rate_hz, method.
    """
    if method not in METHODS:
        raise ValueError(f"unknown TTS method {method!r}; choose one of {', '.join(METHODS)}")
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
    rate = uniform_rate_hz(t)
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
    signals = lowpass(np.vstack([fz_window, cop]), rate, filter)
    if method == "sequential_average":
        tts = [sequential_average_tts(s, rate, sd_fraction) for s in signals]
        description = (
            f"sequential average, band mean +- {sd_fraction:g} SD of the {window_s:g} s window"
        )
    else:
        n_ref = max(1, round(reference_s * rate))
        reference = signals[1:, -n_ref:].mean(axis=1, keepdims=True)
        tts = [
            moving_rms_tts(
                signals[0] - body_weight_n, rate, force_threshold_bw * body_weight_n, rms_window_s
            )
        ]
        tts += [
            moving_rms_tts(d, rate, cop_threshold_mm, rms_window_s) for d in signals[1:] - reference
        ]
        description = (
            f"moving RMS over {rms_window_s:g} s: force within {force_threshold_bw:g} W of W, "
            f"COP within {cop_threshold_mm:g} mm of its last-{reference_s:g}-s mean, "
            f"in a fixed {window_s:g} s window"
        )
    cop_tts = None if tts[1] is None or tts[2] is None else max(tts[1], tts[2])
    return json_safe(
        {
            "landing_t_s": t[landing],
            "peak_force_n": fz_window[peak],
            "peak_force_bw": fz_window[peak] / body_weight_n,
            "time_to_peak_s": t[landing + peak] - t[landing],
            "tts_vertical_s": tts[0],
            "tts_cop_ml_s": tts[1],
            "tts_cop_ap_s": tts[2],
            "tts_cop_s": cop_tts,
            "window_s": window_s,
            "rate_hz": rate,
            "method": (
                f"{description}; landing = force >= {flight_threshold_n:g} N after >= "
                f"{min_flight_s:g} s of flight"
            ),
        }
    )
