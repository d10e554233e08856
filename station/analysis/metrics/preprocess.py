"""Checks and tidies a recorded trace before any measure is computed.

Every measure assumes uniform sampling and finite values; this module is the one place that
enforces it, so a bad trace fails with a message that says what is wrong instead of a number
that is silently wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_DURATION_S = 2.0
"""Shortest trace analysed: a Welch segment and a filter need a few seconds of data."""
JITTER_TOLERANCE = 0.25
"""Largest relative deviation of any sample interval from the median interval accepted as-is."""
MAX_GAP_S = 0.25
"""Longest gap (e.g. discarded HX711 frames) that is bridged by linear interpolation.

0.25 s is 20 frames at 80 Hz: shorter than a third of a period of the fastest sway that
matters (F95 is usually below 1.5 Hz), so bridging it changes the measures little, while a
whole trial is no longer lost to one stall of the acquisition."""


@dataclass(frozen=True)
class Trace:
    """A validated, uniformly sampled trace (seconds, millimetres, newtons)."""

    t_s: np.ndarray
    x_mm: np.ndarray
    y_mm: np.ndarray
    force_n: np.ndarray | None
    rate_hz: float
    n_dropped_edge: int
    resampled: bool

    @property
    def n(self) -> int:
        return int(self.t_s.size)

    @property
    def duration_s(self) -> float:
        """(N - 1) / fs: the time actually spanned by the N samples."""
        return (self.n - 1) / self.rate_hz


def _as_1d(name: str, values: object) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def estimate_rate_hz(t_s: np.ndarray) -> float:
    """Sample rate from the median interval: robust to a few late or dropped frames."""
    dt = np.diff(t_s)
    if dt.size == 0 or not np.all(dt > 0):
        bad = int(np.argmax(dt <= 0)) + 1 if dt.size else 0
        raise ValueError(f"timestamps must be strictly increasing (sample {bad} is not)")
    return float(1.0 / np.median(dt))


def uniform_rate_hz(t_s: np.ndarray, jitter_tolerance: float = JITTER_TOLERANCE) -> float:
    """Rate of a trace that must already be uniform (event analyses count samples).

    ValueError when any interval is off the median by more than `jitter_tolerance`.
    """
    rate = estimate_rate_hz(t_s)
    deviation = np.abs(np.diff(t_s) * rate - 1.0)
    if deviation.max() > jitter_tolerance:
        worst = int(np.argmax(deviation))
        raise ValueError(
            f"irregular timing at t={t_s[worst]:.3f} s: interval "
            f"{(t_s[worst + 1] - t_s[worst]) * 1000:.1f} ms vs median {1000 / rate:.1f} ms"
        )
    return rate


def trim_nan_edges(columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
    """Drop leading/trailing samples where any column is not finite (stepping on/off the board).

    A non-finite value inside the trace is an error: interpolating over it would invent sway.
    """
    finite = np.logical_and.reduce([np.isfinite(c) for c in columns.values()])
    if not finite.any():
        raise ValueError("trace has no sample where time, COP and force are all finite")
    first = int(np.argmax(finite))
    last = finite.size - int(np.argmax(finite[::-1]))
    inner = finite[first:last]
    if not inner.all():
        t = columns["t_s"][first:last]
        bad = np.flatnonzero(~inner)
        where = t[bad[0]] if np.isfinite(t[bad[0]]) else float("nan")
        raise ValueError(
            f"{bad.size} non-finite sample(s) inside the trace (first near t={where:.3f} s); "
            "only leading/trailing NaN samples are dropped"
        )
    dropped = finite.size - (last - first)
    return {k: v[first:last] for k, v in columns.items()}, dropped


def prepare_trace(
    t_s: object,
    x_mm: object,
    y_mm: object,
    force_n: object | None = None,
    *,
    min_duration_s: float = MIN_DURATION_S,
    jitter_tolerance: float = JITTER_TOLERANCE,
    max_gap_s: float = MAX_GAP_S,
) -> Trace:
    """Validate a trace and return it uniformly sampled.

    Raises ValueError when: arrays differ in length or are not 1-D numeric; a NaN sits inside
    the trace; timestamps do not increase; a gap exceeds `max_gap_s`; or the trace is shorter
    than `min_duration_s`. Intervals within +-`jitter_tolerance` of the median are taken as
    uniform; otherwise (dropped frames up to `max_gap_s`) the trace is linearly interpolated
    onto the uniform grid t0 + k/fs.
    """
    columns = {
        "t_s": _as_1d("t_s", t_s),
        "x_mm": _as_1d("x_mm", x_mm),
        "y_mm": _as_1d("y_mm", y_mm),
    }
    if force_n is not None:
        columns["force_n"] = _as_1d("force_n", force_n)
    lengths = {k: v.size for k, v in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"arrays must have the same length, got {lengths}")
    columns, dropped = trim_nan_edges(columns)
    t = columns["t_s"]
    if t.size < 3:
        raise ValueError(f"trace too short: {t.size} finite samples")
    rate = estimate_rate_hz(t)
    dt = np.diff(t)
    period = 1.0 / rate
    resampled = False
    if np.max(np.abs(dt * rate - 1.0)) > jitter_tolerance:
        worst = int(np.argmax(dt))
        if dt[worst] > max_gap_s:
            raise ValueError(
                f"irregular timing: gap of {dt[worst]:.3f} s at t={t[worst]:.3f} s "
                f"(median interval {period * 1000:.1f} ms; gaps up to {max_gap_s} s are bridged)"
            )
        n_uniform = int(np.floor((t[-1] - t[0]) * rate + 1e-9)) + 1
        grid = t[0] + np.arange(n_uniform) * period
        columns = {k: (grid if k == "t_s" else np.interp(grid, t, v)) for k, v in columns.items()}
        resampled = True
    trace = Trace(
        t_s=columns["t_s"],
        x_mm=columns["x_mm"],
        y_mm=columns["y_mm"],
        force_n=columns.get("force_n"),
        rate_hz=rate,
        n_dropped_edge=dropped,
        resampled=resampled,
    )
    if trace.duration_s < min_duration_s:
        raise ValueError(
            f"trace too short: {trace.duration_s:.2f} s analysable, need >= {min_duration_s} s"
        )
    return trace
