"""Four cells, one instant: resample each cell to common instants before they are combined.

Why: four HX711 on their own oscillators convert at different instants, up to one period
(12.5 ms at 80 SPS) apart, so COP = sum(F_i r_i) / sum(F_i) and the total force of a raw frame
mix forces from different moments (docs/cell-timing.md has the figures). The driver says
when each cell converted (`Frame.cell_dt_ns`, offsets from the frame's t_ns); this module
brings the four cells to one instant. It works on any per-cell quantity that adds up
linearly (raw counts before calibration, or forces).

Method: interpolation of each cell's series on its own conversion instants
t_i[k] = t_ns[k] + cell_dt_ns[k][i]. Every conversion read in frame k is newer than every
conversion read in frame k-1 (the driver reads a chip only after it converted again), so an
instant between the two frames' conversions lies inside every cell's samples: it is always
interpolation, never extrapolation.

- Block (analysis, `align_block`): the whole series at once, to each frame's own t_ns by
  default (the timeline of the analysis does not change). Modified Akima cubic ("makima",
  scipy) by default: it follows a landing's curvature (a chord cuts a force peak by 1-2 %),
  and unlike a cubic spline it does not ring after a step; "linear" is there too. No
  latency (the recording is complete); at the very ends a cell's end value is held.
- Live (`LiveAligner`, per frame, plain floats): causal, linear. Each cell is interpolated
  between its previous and current samples to the frame's oldest conversion instant
  min_i t_i[k]; the aligned values describe that instant, at most one conversion period
  before t_ns: at most one frame of latency, and nothing waits for the next frame.

Frames whose cell_dt_ns is None (old recordings, sources that cannot tell) are taken as
simultaneous, so they come out exactly as they went in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from station.frames import N_CELLS

MAX_GAP_NS = 40_000_000  # live: no interpolation across a gap longer than ~3 periods


def cell_instants_ns(t_ns: np.ndarray, cell_dt_ns: np.ndarray | None) -> np.ndarray:
    """Each cell's conversion instant (n, cells) in ns: t_ns + cell_dt_ns (None: t_ns)."""
    t = np.asarray(t_ns, dtype=np.int64)
    if cell_dt_ns is None:
        return np.repeat(t[:, None], N_CELLS, axis=1)
    dt = np.asarray(cell_dt_ns, dtype=np.int64)
    if dt.ndim != 2 or dt.shape[0] != t.shape[0]:
        raise ValueError(f"cell_dt_ns must be (n, cells) for {t.shape[0]} frames, got {dt.shape}")
    return t[:, None] + dt


def offsets_array(
    cell_dt_ns: Sequence[Sequence[int] | None], n_cells: int = N_CELLS
) -> np.ndarray:
    """Frames' cell_dt_ns (tuples, or None = simultaneous) as an (n, cells) int64 array."""
    out = np.zeros((len(cell_dt_ns), n_cells), dtype=np.int64)
    for k, dt in enumerate(cell_dt_ns):
        if dt is not None:
            out[k] = dt
    return out


METHODS = ("makima", "linear")


def _interpolate(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, method: str) -> np.ndarray:
    if method == "linear" or xp.size < 3:
        return np.interp(x, xp, fp)
    from scipy.interpolate import Akima1DInterpolator  # only the analysis path needs scipy

    return Akima1DInterpolator(xp, fp, method="makima")(np.clip(x, xp[0], xp[-1]))


def align_block(
    values: np.ndarray, cell_t_ns: np.ndarray, target_ns: np.ndarray, method: str = "makima"
) -> np.ndarray:
    """Every cell's value at the instants target_ns (n_out,), from values (n, cells) sampled at
    cell_t_ns (n, cells). NaN values are skipped (their neighbours are used) and stay NaN
    in the output rows where the frame itself had them, when n_out == n."""
    if method not in METHODS:
        raise ValueError(f"unknown alignment method {method!r}: use {' or '.join(METHODS)}")
    v = np.asarray(values, dtype=float)
    tc = np.asarray(cell_t_ns)
    if v.shape != tc.shape:
        raise ValueError(f"values {v.shape} and cell instants {tc.shape} differ in shape")
    target = np.asarray(target_ns, dtype=float)
    out = np.full((target.shape[0], v.shape[1]), np.nan)
    origin = float(tc.min()) if tc.size else 0.0  # interpolate in small numbers
    x = target - origin
    for i in range(v.shape[1]):
        ok = np.isfinite(v[:, i])
        if not ok.any():
            continue
        xp = tc[ok, i].astype(float) - origin
        fp = v[ok, i]
        if xp.size > 1 and not (np.diff(xp) > 0).all():  # sort; a repeated instant: last wins
            order = np.argsort(xp, kind="stable")
            xp, fp = xp[order], fp[order]
            keep = np.append(np.diff(xp) > 0, True)
            xp, fp = xp[keep], fp[keep]
        out[:, i] = _interpolate(x, xp, fp, method)
    if out.shape == v.shape:
        out[~np.isfinite(v)] = np.nan
    return out


def align_frames(
    t_ns: np.ndarray,
    values: np.ndarray,
    cell_dt_ns: np.ndarray | None,
    target_ns: np.ndarray | None = None,
    method: str = "makima",
) -> np.ndarray:
    """The block path for a series of frames: values (n, cells) at each frame's t_ns (or at
    target_ns); cell_dt_ns (n, cells) or None (simultaneous: values come back unchanged)."""
    t = np.asarray(t_ns, dtype=np.int64)
    target = t if target_ns is None else np.asarray(target_ns)
    if cell_dt_ns is None and target_ns is None:
        return np.asarray(values, dtype=float).copy()
    return align_block(values, cell_instants_ns(t, cell_dt_ns), target, method)


class LiveAligner:
    """Causal per-frame alignment: each cell at the frame's oldest conversion instant.

    `update(t_ns, values, cell_dt_ns)` returns (instant_ns, aligned values). Feed it the
    valid frames in order; a frame without cell_dt_ns passes through unchanged (instant t_ns),
    and a cell whose previous sample is missing or older than `max_gap_ns` is not
    interpolated (its own value is used). Plain floats: a few operations per cell.
    """

    __slots__ = ("_prev_t", "_prev_v", "max_gap_ns")

    def __init__(self, max_gap_ns: int = MAX_GAP_NS) -> None:
        self.max_gap_ns = max_gap_ns
        self._prev_t: list[int] | None = None
        self._prev_v: Sequence[float] = ()

    def reset(self) -> None:
        """Forget the previous frame (after invalid frames, a restart)."""
        self._prev_t = None

    def update(
        self, t_ns: int, values: Sequence[float], cell_dt_ns: Sequence[int] | None
    ) -> tuple[int, tuple[float, ...]]:
        if cell_dt_ns is None:
            self._prev_t = [t_ns] * len(values)
            self._prev_v = values
            return t_ns, tuple(values)
        times = [t_ns + d for d in cell_dt_ns]
        target = min(times)
        out = list(values)
        prev_t, prev_v = self._prev_t, self._prev_v
        if prev_t is not None and len(prev_t) == len(times):
            gap = self.max_gap_ns
            for i, ti in enumerate(times):
                tp = prev_t[i]
                if tp < target < ti and ti - tp <= gap:
                    w = (target - tp) / (ti - tp)
                    out[i] = prev_v[i] + w * (values[i] - prev_v[i])
        self._prev_t = times
        self._prev_v = values
        return target, tuple(out)
