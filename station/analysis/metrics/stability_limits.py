"""Limits of stability (LOS): the standard per-direction measures of the NeuroCom/Biodex test.

Definitions after the NeuroCom Balance Master LOS test (Clinical Interpretation Guide; also
Clark et al. 1997, Pickerill & Harter 2011), on the COP instead of the estimated COG, mm
instead of degrees; docs/metrics.md "Limits of stability" has the formulas. For each
direction k, from its cue (station.protocols.games.los_cue_times) to the end of its lean time,
with d = COP - centre (the mean COP before the first cue) and u_k the direction's unit vector:
- along = d . u_k (towards the target), across = |d x u_k|;
- reaction_time_s: cue to the first frame with along >= ONSET_FRACTION of the theoretical
  limit (the onset of the movement);
- primary endpoint: the first frame after the peak velocity towards the target where the
  smoothed along-velocity falls to ENDPOINT_VELOCITY_FRACTION of that peak (the end of the
  first movement); endpoint_excursion_pct = along there / theoretical limit x 100;
- max_excursion_mm = the largest along in the lean time; max_excursion_pct the same as % of
  the theoretical limit (station.protocols.games.THEORETICAL_LIMITS_MM);
- movement_velocity_mm_s: 90 % of the endpoint distance / the time from 5 % to 95 % of it;
- directional_control_pct: 100 x (on - off) / on from onset to endpoint, on = the net
  progress along u_k, off = the path length across it (extraneous movement); 100 = straight.
Each measure's mean over the directions reached is the test's composite. The per-direction
maximum excursions (mm) are the athlete's own envelope (`envelope_mm`), which places the
targets of the other games.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.protocols.games import (
    DIRECTIONS,
    THEORETICAL_LIMITS_MM,
    GameSpec,
    check_envelope,
    los_cue_times,
    unit_vector,
)

ONSET_FRACTION = 0.05  # movement onset: 5 % of the theoretical limit towards the target
ENDPOINT_VELOCITY_FRACTION = 0.1
SMOOTH_S = 0.1  # moving average before the velocity (COP noise)
MIN_EXCURSION_MM = 5.0  # an envelope reach is never below this (envelope bounds)
MEASURES = ("reaction_time_s", "movement_velocity_mm_s", "endpoint_excursion_pct",
            "max_excursion_pct", "max_excursion_mm", "directional_control_pct")


def _smooth(v: np.ndarray, n: int) -> np.ndarray:
    if n <= 1:
        return v
    kernel = np.ones(n) / n
    padded = np.pad(v, (n // 2, n - 1 - n // 2), mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def _crossing_time(t: np.ndarray, v: np.ndarray, level: float) -> float | None:
    """The first time v reaches `level` (linear interpolation between frames)."""
    hit = np.flatnonzero(v >= level)
    if hit.size == 0:
        return None
    i = int(hit[0])
    if i == 0 or v[i] == v[i - 1]:
        return float(t[i])
    return float(t[i - 1] + (level - v[i - 1]) / (v[i] - v[i - 1]) * (t[i] - t[i - 1]))


def direction_measures(t: np.ndarray, d: np.ndarray, k: int, cue_t: float,
                       limit_mm: float) -> dict[str, float | None]:
    """One direction's measures; t from the cue's window, d the COP minus the centre (n, 2)."""
    ux, uy = unit_vector(k)
    along = d[:, 0] * ux + d[:, 1] * uy
    across = d[:, 0] * uy - d[:, 1] * ux
    out: dict[str, float | None] = dict.fromkeys(MEASURES)
    if t.size < 3:
        return out
    peak = float(along.max())
    out["max_excursion_mm"] = max(peak, 0.0)
    out["max_excursion_pct"] = 100.0 * max(peak, 0.0) / limit_mm
    onset_hit = np.flatnonzero(along >= ONSET_FRACTION * limit_mm)
    if onset_hit.size == 0:
        return out  # never left the centre: no reaction, no movement
    i0 = int(onset_hit[0])
    out["reaction_time_s"] = float(t[i0] - cue_t)
    dt = float(np.median(np.diff(t)))
    vel = np.gradient(_smooth(along, max(1, round(SMOOTH_S / dt))), t)
    ip = i0 + int(np.argmax(vel[i0:]))
    slow = np.flatnonzero(vel[ip:] <= ENDPOINT_VELOCITY_FRACTION * vel[ip])
    ie = ip + int(slow[0]) if slow.size else t.size - 1
    endpoint = float(along[ie])
    out["endpoint_excursion_pct"] = 100.0 * endpoint / limit_mm
    t5 = _crossing_time(t[: ie + 1], along[: ie + 1], 0.05 * endpoint)
    t95 = _crossing_time(t[: ie + 1], along[: ie + 1], 0.95 * endpoint)
    if t5 is not None and t95 is not None and t95 > t5:
        out["movement_velocity_mm_s"] = 0.9 * endpoint / (t95 - t5)
    on = endpoint - float(along[i0])
    off = float(np.abs(np.diff(across[i0: ie + 1])).sum())
    if on > 0:
        out["directional_control_pct"] = max(0.0, 100.0 * (on - off) / on)
    return out


def los_metrics(t_s: np.ndarray, x_mm: np.ndarray, y_mm: np.ndarray,
                game: GameSpec) -> dict[str, Any]:
    """Per-direction and mean LOS measures and the envelope; ValueError when the trace does
    not reach the first cue."""
    t = np.asarray(t_s, dtype=float)
    cop = np.column_stack([np.asarray(x_mm, dtype=float), np.asarray(y_mm, dtype=float)])
    ok = np.isfinite(cop).all(axis=1)
    t, cop = t[ok], cop[ok]
    if t.size < 3:
        raise ValueError("limits of stability need a COP trace")
    rel = t - t[0]
    cues = los_cue_times(game)
    before = rel < cues[0]
    if before.sum() < 2:
        raise ValueError("limits of stability need quiet stance before the first cue")
    centre = cop[before].mean(axis=0)
    d = cop - centre
    by_direction: dict[str, dict[str, float | None]] = {}
    for k, name in enumerate(DIRECTIONS):
        window = (rel >= cues[k]) & (rel < cues[k] + game.lean_s)
        by_direction[name] = direction_measures(rel[window], d[window], k, float(cues[k]),
                                                THEORETICAL_LIMITS_MM[k])
    out: dict[str, Any] = {}
    for measure in MEASURES:
        values = [m[measure] for m in by_direction.values() if m[measure] is not None]
        out[measure] = float(np.mean(values)) if values else None
    reached = [name for name, m in by_direction.items() if m["reaction_time_s"] is not None]
    out["directions_reached"] = len(reached)
    # the envelope only from a whole test: a direction never leaned in is no reach
    envelope = [min(max(m["max_excursion_mm"] or 0.0, MIN_EXCURSION_MM), 300.0)
                for m in by_direction.values()]
    out["envelope_mm"] = (list(check_envelope(envelope)) if len(reached) == len(DIRECTIONS)
                          else None)
    out["centre_mm"] = [float(centre[0]), float(centre[1])]
    out["theoretical_limit_mm"] = list(THEORETICAL_LIMITS_MM)
    out["by_direction"] = by_direction
    return out
