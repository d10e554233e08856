"""Target maze: how the COP went through the game's targets, one after another.

The targets are station.protocols.games.maze_targets_mm (inside the athlete's envelope, the
order the athlete saw them). A target is collected once the COP has stayed within
target_radius_mm of it for dwell_s (the live rule: from the first frame inside to a frame at
least dwell_s later, all inside); then the next target counts. Measures (docs/metrics.md):
- targets_reached, targets_reached_pct (of the game's targets);
- time_per_target_s: mean time from one collection (the hold start for the first) to the
  next, dwell included; completion_time_s: to the last target (None when not all reached);
- path_efficiency_pct: straight-line distance between the targets reached / the COP's path
  length over the same time x 100 (100 = straight from target to target).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.protocols.games import GameSpec, maze_targets_mm


def collect_index(t: np.ndarray, inside: np.ndarray, start: int, dwell_s: float) -> int | None:
    """The first frame >= start that completes dwell_s inside (None: never)."""
    ins = inside[start:]
    if not ins.any():
        return None
    idx = np.arange(ins.size)
    # the start of the current inside run, for every frame (-1 outside)
    run_start = np.where(ins & ~np.r_[False, ins[:-1]], idx, 0)
    run_start = np.maximum.accumulate(run_start)
    tt = t[start:]
    done = ins & (tt - tt[run_start] >= dwell_s)
    hit = np.flatnonzero(done)
    return start + int(hit[0]) if hit.size else None


def maze_metrics(t_s: np.ndarray, x_mm: np.ndarray, y_mm: np.ndarray,
                 game: GameSpec) -> dict[str, Any]:
    """The maze measures of one trial; ValueError on < 1 s of COP."""
    t = np.asarray(t_s, dtype=float)
    cop = np.column_stack([np.asarray(x_mm, dtype=float), np.asarray(y_mm, dtype=float)])
    if t.size < 2 or t[-1] - t[0] < 1.0:
        raise ValueError("the maze needs at least 1 s of COP")
    targets = maze_targets_mm(game)
    finite = np.isfinite(cop).all(axis=1)
    r2 = game.target_radius_mm ** 2
    times: list[float] = []
    start, last_t, last_i = 0, float(t[0]), 0
    ends = [0]
    for target in targets:
        inside = finite & (((cop - target) ** 2).sum(axis=1) <= r2)
        i = collect_index(t, inside, start, game.dwell_s)
        if i is None:
            break
        times.append(float(t[i]) - last_t)
        last_t, last_i, start = float(t[i]), i, i + 1
        ends.append(i)
    n = len(times)
    out: dict[str, Any] = {
        "targets": len(targets),
        "targets_reached": n,
        "targets_reached_pct": 100.0 * n / len(targets),
        "time_per_target_s": float(np.mean(times)) if times else None,
        "completion_time_s": float(last_t - t[0]) if n == len(targets) else None,
        "target_times_s": times,
        "path_efficiency_pct": None,
    }
    if n:
        steps = cop[: last_i + 1][finite[: last_i + 1]]
        path = float(np.hypot(*np.diff(steps, axis=0).T).sum())
        waypoints = np.vstack([cop[finite][0], targets[:n]])
        straight = float(np.hypot(*np.diff(waypoints, axis=0).T).sum())
        out["path_efficiency_pct"] = min(100.0, 100.0 * straight / path) if path > 0 else None
    return out
