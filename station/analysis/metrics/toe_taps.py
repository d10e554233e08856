"""Toe taps on one leg: the taps (short dips of the board force), their rhythm, lost control.

The rules are station.protocols.games' TAP_* and LOST_CONTROL_* (the live detector uses the
same): a tap is the force below (1 - TAP_MIN_FRAC) x body weight for TAP_MIN_S..TAP_MAX_S; a
longer dip is the free foot put down; the COP more than LOST_CONTROL_MM from the stance
reference (the median COP of the first second) for LOST_CONTROL_MIN_S, outside a tap and
TAP_SETTLE_S after one, is control lost. Measures (docs/metrics.md, "Toe taps"):
- taps, expected_taps (duration / tap_interval_s, rounded down), taps_pct = taps / expected;
- mean_interval_s, interval_cv (std / mean of the intervals between taps: the rhythm's
  steadiness), rhythm_error_s (mean |interval - tap_interval_s|);
- foot_downs, lost_control (foot downs + COP excursions between taps);
- between_taps_velocity_mm_s: mean COP speed away from the taps (the hold between them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.protocols.games import (
    LOST_CONTROL_MIN_S,
    LOST_CONTROL_MM,
    TAP_MAX_S,
    TAP_MIN_FRAC,
    TAP_MIN_S,
    TAP_SETTLE_S,
    GameSpec,
)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first index, one past the last) of each run of True in mask."""
    m = np.r_[False, np.asarray(mask, dtype=bool), False].astype(np.int8)
    edges = np.diff(m)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def toe_tap_metrics(t_s: np.ndarray, force_n: np.ndarray, x_mm: np.ndarray, y_mm: np.ndarray,
                    body_weight_n: float, game: GameSpec) -> dict[str, Any]:
    """The toe-tap measures of one trial; ValueError on < 2 s or without a body weight."""
    t = np.asarray(t_s, dtype=float)
    f = np.asarray(force_n, dtype=float)
    cop = np.column_stack([np.asarray(x_mm, dtype=float), np.asarray(y_mm, dtype=float)])
    if t.size < 3 or t[-1] - t[0] < 2.0:
        raise ValueError("toe taps need at least 2 s of force")
    if not body_weight_n or not body_weight_n > 0:
        raise ValueError("toe taps need the body weight")
    below = f < (1.0 - TAP_MIN_FRAC) * body_weight_n
    starts, ends = runs(below)
    # a run ends at the first frame back above the threshold (or the trace's end)
    end_t = np.where(ends < t.size, t[np.minimum(ends, t.size - 1)], t[-1])
    length = end_t - t[starts]
    is_tap = (length >= TAP_MIN_S) & (length <= TAP_MAX_S) & (ends < t.size)
    is_down = length > TAP_MAX_S
    tap_t = t[starts[is_tap]] - t[0]
    # away from taps: not in a dip and not within TAP_SETTLE_S after one
    near = below.copy()
    for s, e in zip(starts, ends, strict=True):
        near[s:e] = True
        near[e:np.searchsorted(t, t[min(e, t.size - 1)] + TAP_SETTLE_S)] = True
    ok = np.isfinite(cop).all(axis=1)
    first = ok & (t - t[0] < 1.0) & ~near
    ref = np.median(cop[first], axis=0) if first.any() else np.nanmedian(cop[ok], axis=0)
    far = ok & ~near & (np.hypot(*(cop - ref).T) > LOST_CONTROL_MM)
    fs, fe = runs(far)
    far_len = t[fe - 1] - t[fs]  # first to last frame of the excursion
    excursions = int((far_len >= LOST_CONTROL_MIN_S).sum())
    intervals = np.diff(tap_t)
    duration = float(t[-1] - t[0])
    expected = max(int(duration // game.tap_interval_s), 1)
    quiet = ok & ~near
    speed = None
    if quiet.sum() > 2:
        step = np.hypot(*np.diff(cop, axis=0).T)
        both = quiet[1:] & quiet[:-1]
        dt = np.diff(t)
        if both.any() and dt[both].sum() > 0:
            speed = float(step[both].sum() / dt[both].sum())
    return {
        "taps": int(is_tap.sum()),
        "expected_taps": expected,
        "taps_pct": 100.0 * float(is_tap.sum()) / expected,
        "tap_times_s": [float(v) for v in tap_t],
        "mean_interval_s": float(intervals.mean()) if intervals.size else None,
        "interval_cv": (float(intervals.std() / intervals.mean())
                        if intervals.size >= 2 and intervals.mean() > 0 else None),
        "rhythm_error_s": (float(np.abs(intervals - game.tap_interval_s).mean())
                           if intervals.size else None),
        "foot_downs": int(is_down.sum()),
        "lost_control": int(is_down.sum()) + excursions,
        "between_taps_velocity_mm_s": speed,
    }
