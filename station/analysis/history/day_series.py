"""Per-day series, decimated on the server: a chart gets at most MAX_POINTS points.

Shared by the trend charts (athlete_history.py) and the log beside them (log_trend.py), so a
long history is a small page on a phone whatever its length.
"""

from __future__ import annotations

import numpy as np

MAX_POINTS = 200


def decimate(t: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS,
             lo: np.ndarray | None = None, hi: np.ndarray | None = None,
             n: np.ndarray | None = None,
             n_training: np.ndarray | None = None) -> dict[str, list]:
    """At most max_points points: neighbours merged into their (n-weighted) mean, with the
    lowest `lo` and highest `hi` of the merged points (`lo`/`hi` default to `y`) and, when
    given, the sum of `n_training` (how many of the `n` were training trials)."""
    lo = y if lo is None else lo
    hi = y if hi is None else hi
    n = np.ones(len(y)) if n is None else np.asarray(n, dtype=float)
    extra = {} if n_training is None else {"n_training": np.asarray(n_training, dtype=int)}
    if len(t) <= max_points:
        return {"t": t.tolist(), "y": y.tolist(), "lo": lo.tolist(), "hi": hi.tolist(),
                "n": n.astype(int).tolist(), **{k: v.tolist() for k, v in extra.items()}}
    edges = np.linspace(0, len(t), max_points + 1).astype(int)
    starts = edges[:-1]
    counts = np.add.reduceat(n, starts)
    mean = np.add.reduceat(y * n, starts) / counts
    tm = np.add.reduceat(t, starts) / np.diff(edges)
    return {
        "t": np.round(tm, 0).tolist(),
        "y": np.round(mean, 3).tolist(),
        "lo": np.minimum.reduceat(lo, starts).tolist(),
        "hi": np.maximum.reduceat(hi, starts).tolist(),
        "n": counts.astype(int).tolist(),
        **{k: np.add.reduceat(v, starts).tolist() for k, v in extra.items()},
    }
