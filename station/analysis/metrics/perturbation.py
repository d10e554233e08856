"""Response to a push (perturbation): peak COP excursion and recovery time.

Method: the COP is low-passed (filtering, default "butter10"); the reference position is the
mean COP over the `baseline_s` (2 s) before the push; RD(t) is the distance from it. The
pre-push sway band is RD <= mean(RD_pre) + `band_k` (3) * SD(RD_pre), SD with divisor N.
- peak excursion (mm): max RD after the push, and its time after the push (s);
- recovery time (s): from the push to the first sample at or after the peak from which RD stays
  inside the band for `hold_s` (0.5 s); None if that never happens before the recording ends.
k = 3 is an assumption: wide enough that ordinary quiet sway does not read as "not recovered".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.analysis.metrics.filtering import lowpass
from station.analysis.metrics.preprocess import uniform_rate_hz
from station.wire import json_safe

BASELINE_S = 2.0
BAND_K = 3.0
HOLD_S = 0.5


def perturbation_metrics(
    t_s: np.ndarray,
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    push_t_s: float,
    *,
    baseline_s: float = BASELINE_S,
    band_k: float = BAND_K,
    hold_s: float = HOLD_S,
    filter: str = "butter10",
) -> dict[str, Any]:
    """Peak excursion and recovery after a push at `push_t_s` (see module docstring).

    Keys: peak_excursion_mm, time_to_peak_s, recovery_time_s (None if not recovered),
    recovered, band_upper_mm, baseline_mean_distance_mm, baseline_sd_mm, baseline_s, hold_s,
    band_k.
    """
    t, x, y = (np.asarray(a, dtype=float) for a in (t_s, x_mm, y_mm))
    if not (t.ndim == x.ndim == y.ndim == 1 and t.size == x.size == y.size):
        raise ValueError("t_s, x_mm and y_mm must be 1-D arrays of the same length")
    cop = np.vstack([x, y])
    if not (np.isfinite(t).all() and np.isfinite(cop).all()):
        raise ValueError("perturbation trace has non-finite samples; trim it to the stance part")
    rate = uniform_rate_hz(t)
    if not t[0] + baseline_s <= push_t_s <= t[-1]:
        raise ValueError(
            f"push at t={push_t_s:.3f} s needs {baseline_s:g} s of quiet stance before it "
            f"inside the trace ({t[0]:.3f}..{t[-1]:.3f} s)"
        )
    cop = lowpass(cop, rate, filter)
    push = int(np.searchsorted(t, push_t_s, side="left"))
    pre = (t >= push_t_s - baseline_s) & (t < push_t_s)
    centre = cop[:, pre].mean(axis=1, keepdims=True)
    distance = np.hypot(*(cop - centre))
    rd_pre = distance[pre]
    upper = float(rd_pre.mean() + band_k * rd_pre.std())
    after = distance[push:]
    if after.size == 0:
        raise ValueError("no samples after the push")
    peak = int(np.argmax(after))
    hold_n = max(1, int(np.ceil(hold_s * rate)))
    inside = after[peak:] <= upper
    recovery: float | None = None
    if inside.size >= hold_n:
        # windows of hold_n consecutive inside samples: a moving sum equal to hold_n
        run_sums = np.convolve(inside.astype(np.int32), np.ones(hold_n, dtype=np.int32), "valid")
        full = np.flatnonzero(run_sums == hold_n)
        if full.size:
            recovery = float(t[push + peak + int(full[0])] - push_t_s)
    return json_safe(
        {
            "peak_excursion_mm": after[peak],
            "time_to_peak_s": t[push + peak] - push_t_s,
            "recovery_time_s": recovery,
            "recovered": recovery is not None,
            "band_upper_mm": upper,
            "baseline_mean_distance_mm": rd_pre.mean(),
            "baseline_sd_mm": rd_pre.std(),
            "baseline_s": baseline_s,
            "hold_s": hold_s,
            "band_k": band_k,
        }
    )
