"""A wobble-board trial from its COP: contact point, rim contacts, tilt trace, measures.

    COP (+ the deck's weight if it was tared) -> rim contacts (the COP leaves the dome's
    reach) -> the dome's path (held at the reach while the rim is down) -> zero-lag
    low-pass -> friction correction -> rolled tilt -> measures (metrics/wobble.py)

The same function serves the trial pipeline and `balance-station analyze --dome-radius-mm`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from station.analysis.metrics.filtering import lowpass
from station.analysis.metrics.preprocess import prepare_trace
from station.analysis.metrics.wobble import wobble_measures
from station.analysis.wobble.contacts import RimContact, find_rim_contacts, radial
from station.analysis.wobble.tilt import contact_from_cop, correct_friction, tilt_from_contact
from station.wire import json_safe
from station.wobble import WobbleSetup, board_from_dict, default_setup


@dataclass(frozen=True)
class WobbleResult:
    """The tilt trace (uniform samples), the rim contacts and the measures (JSON-ready)."""

    t_s: np.ndarray
    tilt_deg: np.ndarray  # (n, 2) ML, AP
    rim: np.ndarray  # (n,) the rim is down
    contacts: tuple[RimContact, ...]
    measures: dict[str, Any]


def analyze_wobble(t_s: np.ndarray, force_n: np.ndarray | None, cop_mm: np.ndarray,
                   setup: WobbleSetup, *, filter: str = "butter10") -> WobbleResult:
    """The wobble analysis of one trace (t in s, force in N or None, COP (n, 2) in mm).

    Leading/trailing samples without a COP are dropped and short gaps bridged, as for the
    sway measures (metrics.preprocess); ValueError when the trace cannot be analysed.
    Without a force the friction correction is skipped (it needs F_z) and says so.
    """
    cop = np.asarray(cop_mm, dtype=float)
    trace = prepare_trace(t_s, cop[:, 0], cop[:, 1], force_n)
    rate = trace.rate_hz
    board = setup.board
    level = np.asarray(setup.level_mm, dtype=float)
    measured = np.column_stack([trace.x_mm, trace.y_mm])
    contact, load = contact_from_cop(measured, trace.force_n, setup)
    rim, contacts = find_rim_contacts(trace.t_s, contact - level, board)
    _, unit = radial(contact - level, board)
    reach = board.reach_mm
    held = contact.copy()
    held[rim] = level + reach * unit[rim]  # on the rim the dome's contact sits at its reach
    smooth = lowpass(held.T, rate, filter).T
    friction: dict[str, Any]
    if load is not None:
        _, shift = correct_friction(smooth, load, rate, setup)
        dome = held + shift  # the filter serves the accelerations, not the path's corners
        off_rim = shift[~rim] / board.mm_per_deg
        friction = {
            "applied": True, "surface_height_mm": setup.surface_height_mm,
            "rms_deg": float(np.sqrt(np.mean(np.sum(off_rim**2, axis=1)))) if len(off_rim)
            else None,
            "max_deg": float(np.hypot(*off_rim.T).max()) if len(off_rim) else None,
        }
    else:
        dome = held
        friction = {"applied": False, "why": "the trace has no force (F_z)"}
    d_dome, u_dome = radial(dome - level, board)
    past = rim | (d_dome > reach)
    dome[past] = level + reach * u_dome[past]  # the dome cannot roll past its reach
    tilt = tilt_from_contact(dome, setup)
    measures = wobble_measures(tilt[:, 0], tilt[:, 1], rate, board.max_tilt_deg,
                               [(c.start_s, c.end_s) for c in contacts], float(trace.t_s[0]))
    measures["rim_contacts"]["events"] = [c.to_json() for c in contacts]
    measures.update(
        board=board.to_json(), level_mm=[float(level[0]), float(level[1])],
        setup=setup.source, deck_tared=setup.deck_tared, friction_correction=friction,
        dome_only_pct=100.0 * float((~rim).mean()), duration_s=trace.duration_s,
        rate_hz=rate, filter=filter,
    )
    return WobbleResult(trace.t_s, tilt, rim, tuple(contacts), json_safe(measures))


def stored_setup(wobble: dict[str, Any] | None) -> WobbleSetup:
    """The set-up a stored trial was analysed with (its `metrics["wobble"]`: the board's
    profile and the level point), so a replay or a re-analysis keeps the station's set-up of
    that day; the default set-up when the trial has none. BoardProfileError when the stored
    board no longer checks."""
    wobble = wobble or {}
    board, level = wobble.get("board"), wobble.get("level_mm")
    if not isinstance(board, dict) or not isinstance(level, list | tuple) or len(level) != 2:
        return default_setup()
    return WobbleSetup(board_from_dict(dict(board), "the trial's board"),
                       level_mm=(float(level[0]), float(level[1])),
                       deck_tared=bool(wobble.get("deck_tared")),
                       source=str(wobble.get("setup") or "given"))


def write_tilt(result: WobbleResult, path: str) -> None:
    """Write `t_s,tilt_ml_deg,tilt_ap_deg` (one row per analysed sample)."""
    data = np.column_stack([result.t_s, result.tilt_deg])
    np.savetxt(path, data, delimiter=",", header="t_s,tilt_ml_deg,tilt_ap_deg", comments="",
               fmt=["%.6f", "%.4f", "%.4f"])


__all__ = ["RimContact", "WobbleResult", "analyze_wobble", "stored_setup", "write_tilt"]
