"""Weight-shift tracking: how closely the COP followed the game's moving target.

The target is station.protocols.games.weight_shift_path (the one the athlete saw), timed from
the first frame of the hold. Measures (docs/metrics.md, "Weight shift"):
- rms_error_mm: sqrt(mean |COP - target|^2), time-weighted, in the plane;
- rms_error_axis_mm / rms_error_off_axis_mm: the same along the shift's axis and across it;
- time_in_band_pct: share of time with |COP - target| <= band_mm (sample-and-hold: the
  interval to the next frame counts as in the band when this frame is, as the live count);
- lag_s: the delay (0..2 s) that best aligns the COP with the target along the axis
  (maximum cross-correlation): how far behind the target the athlete moves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.protocols.games import GameSpec, weight_shift_path

MAX_LAG_S = 2.0


def _interval_weights(t_s: np.ndarray) -> np.ndarray:
    """Each frame's share of the time: the interval to the next frame (the last has none)."""
    w = np.zeros(t_s.size)
    if t_s.size > 1:
        w[:-1] = np.diff(t_s)
    return w


def weight_shift_metrics(t_s: np.ndarray, x_mm: np.ndarray, y_mm: np.ndarray,
                         game: GameSpec) -> dict[str, Any]:
    """The tracking measures of one weight-shift trial; ValueError on < 1 s of COP."""
    t = np.asarray(t_s, dtype=float)
    cop = np.column_stack([np.asarray(x_mm, dtype=float), np.asarray(y_mm, dtype=float)])
    ok = np.isfinite(cop).all(axis=1)
    if t.size < 2 or t[-1] - t[0] < 1.0 or ok.sum() < 2:
        raise ValueError("weight shift needs at least 1 s of COP")
    rel = t - t[0]
    target = weight_shift_path(rel, game)
    w = _interval_weights(t)
    w[~ok] = 0.0  # no COP: not counted in the error; counts as outside the band below
    total_w = float(_interval_weights(t).sum())
    err = np.where(ok[:, None], cop - target, 0.0)
    dist2 = (err ** 2).sum(axis=1)
    axis = 1 if game.axis == "ap" else 0
    wsum = float(w.sum())
    in_band = ok & (dist2 <= game.band_mm ** 2)
    pct_in = 100.0 * float(_interval_weights(t)[in_band].sum()) / total_w
    return {
        "rms_error_mm": float(np.sqrt((w * dist2).sum() / wsum)),
        "rms_error_axis_mm": float(np.sqrt((w * err[:, axis] ** 2).sum() / wsum)),
        "rms_error_off_axis_mm": float(np.sqrt((w * err[:, 1 - axis] ** 2).sum() / wsum)),
        "time_in_band_pct": pct_in,
        "lag_s": _lag_s(rel, cop[:, axis], target[:, axis], ok),
        "band_mm": float(game.band_mm),
        "axis": game.axis,
    }


def _lag_s(t: np.ndarray, cop: np.ndarray, target: np.ndarray, ok: np.ndarray) -> float | None:
    """The delay 0..MAX_LAG_S s that maximizes the correlation of the COP with the target."""
    dt = float(np.median(np.diff(t)))
    max_k = min(round(MAX_LAG_S / dt), t.size // 2)
    if max_k < 1 or not ok.all():
        c = np.where(ok, cop, np.nanmean(np.where(ok, cop, np.nan)))
    else:
        c = cop
    c = c - c.mean()
    g = target - target.mean()
    n = t.size
    lags = np.arange(max_k + 1)
    # correlation of cop[k:] with target[:n-k], normalised per lag (sliding windows)
    corr = np.array([np.dot(c[k:], g[:n - k]) / max(np.linalg.norm(c[k:]) *
                                                     np.linalg.norm(g[:n - k]), 1e-12)
                     for k in lags])
    if not np.isfinite(corr).any():
        return None
    return float(lags[int(np.argmax(corr))] * dt)
