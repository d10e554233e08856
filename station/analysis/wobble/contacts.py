"""Rim contacts: when the COP leaves the disc the dome can reach, the deck's rim is down.

Rolling, the dome's contact stays within R * max tilt of the level point (a rocker: within
that distance along its rocking axis). When the rim touches, part of the load moves to the
rim, a rim's distance further out, so the COP jumps out of that disc at once. A contact is a
stretch of at least RIM_MIN_FRAMES frames with the COP beyond reach + margin/2 that gets
beyond reach + margin (station.wobble.profiles holds the rule, shared with the live detector).

The force distribution cannot say more: a rigid plate on four cells reports the resultant
(total force and COP) only, whatever the number of contacts, so two contacts look like one
at their weighted centre; the disc is the test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from station.wobble import RIM_MIN_FRAMES, WobbleBoard

SIDES = ("right", "front-right", "front", "front-left", "left", "back-left", "back",
         "back-right")


def side_of(direction_deg: float) -> str:
    """The side a direction points to (0 deg = right, 90 = front), in eighths."""
    return SIDES[round(direction_deg / 45.0) % 8]


@dataclass(frozen=True)
class RimContact:
    """One rim contact: when, how long, which side (direction 0 = right, 90 = front)."""

    start_s: float
    end_s: float
    direction_deg: float
    peak_beyond_mm: float  # the furthest the COP went beyond the dome's reach

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def side(self) -> str:
        return side_of(self.direction_deg)

    def to_json(self) -> dict[str, object]:
        return {"t_s": round(self.start_s, 4), "duration_s": round(self.duration_s, 4),
                "side": self.side, "direction_deg": round(self.direction_deg, 1),
                "peak_beyond_mm": round(self.peak_beyond_mm, 2)}


def radial(offset_mm: np.ndarray, board: WobbleBoard) -> tuple[np.ndarray, np.ndarray]:
    """(distance (n,) the dome would have rolled, unit direction (n, 2)) of offsets from level."""
    offset = np.asarray(offset_mm, dtype=float)
    axis = board.rocking_axis
    if axis is not None:
        ax = np.asarray(axis)
        along = offset @ ax
        return np.abs(along), np.outer(np.where(along < 0, -1.0, 1.0), ax)
    dist = np.hypot(offset[:, 0], offset[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where(dist[:, None] > 0, offset / dist[:, None], 0.0)
    return dist, unit


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def find_rim_contacts(t_s: np.ndarray, offset_mm: np.ndarray, board: WobbleBoard,
                      ) -> tuple[np.ndarray, list[RimContact]]:
    """(per-sample rim mask, contacts) of a uniformly sampled trace of COP offsets from level."""
    t = np.asarray(t_s, dtype=float)
    dist, unit = radial(offset_mm, board)
    reach, margin = board.reach_mm, board.rim_margin_mm
    rate = 1.0 / float(np.median(np.diff(t))) if len(t) > 1 else 80.0
    stay = dist > reach + 0.5 * margin
    enter = dist > reach + margin
    mask = np.zeros(len(t), bool)
    contacts: list[RimContact] = []
    starts, ends = _runs(stay)
    counts = np.concatenate([[0], np.cumsum(enter)])
    for a, b in zip(starts, ends, strict=True):
        at_end = b == len(t)  # the trace ends on the rim: no time left to confirm it
        if (b - a < RIM_MIN_FRAMES and not at_end) or counts[b] == counts[a]:
            continue
        mask[a:b] = True
        mean = unit[a:b].mean(axis=0)
        end_t = t[b] if b < len(t) else t[-1] + 1.0 / rate
        contacts.append(RimContact(float(t[a]), float(end_t),
                                   math.degrees(math.atan2(mean[1], mean[0])),
                                   float(dist[a:b].max() - reach)))
    return mask, contacts
