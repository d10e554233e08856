"""Rolling without slipping: the deck's orientation along the dome contact's path, its tilt.

The straight-line rule (the contact moves R * theta) is exact only while the contact moves
along one straight line from the level point. A sphere rolling on a plane is non-holonomic:
loops of the contact turn the body a little about the vertical and, at second order, tilt it,
so after wobbling the deck's tilt is not (p - level) / R any more (docs/metrics.md section 11
gives the size: tenths of a degree over a vigorous 30 s hold). Integrating the rolling along
the contact's path from a known orientation is exact for the rolling model; the simulator
(the truth) and the analysis (the estimate) both call it.
"""

from __future__ import annotations

import numpy as np


def qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products a * b of quaternions (..., 4) as (w, x, y, z)."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=-1)


def _turns(steps_mm: np.ndarray, radius_mm: float) -> np.ndarray:
    """The rotation (n, 4) of each contact step: about z x dp by |dp| / R."""
    steps = np.atleast_2d(np.asarray(steps_mm, dtype=float))
    length = np.hypot(steps[:, 0], steps[:, 1])
    angle = length / radius_mm
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(length > 0, np.sin(0.5 * angle) / length, 0.0)
    q = np.zeros((len(steps), 4))
    q[:, 0] = np.cos(0.5 * angle)
    q[:, 1] = -steps[:, 1] * scale  # z x (dx, dy, 0) = (-dy, dx, 0)
    q[:, 2] = steps[:, 0] * scale
    return q


def straight_roll(offset_mm: np.ndarray | tuple[float, float], radius_mm: float) -> np.ndarray:
    """The orientation (4,) after rolling straight from level to a contact offset (x, y)."""
    return _turns(np.asarray(offset_mm, dtype=float).reshape(1, 2), radius_mm)[0]


def roll(steps_mm: np.ndarray, radius_mm: float, q0: np.ndarray) -> np.ndarray:
    """Orientations (n, 4) after each contact step (n, 2), starting from q0 (4,).

    No spin about the vertical (the contact only rolls). The running product
    q_k = dq_k ... dq_1 q0 is a Hillis-Steele scan: log2(n) vectorized passes.
    """
    if len(steps_mm) == 0:
        return np.zeros((0, 4))
    q = _turns(steps_mm, radius_mm)
    shift = 1
    n = len(q)
    while shift < n:
        q[shift:] = qmul(q[shift:], q[:-shift])
        shift *= 2
    q = qmul(q, np.broadcast_to(np.asarray(q0, dtype=float), q.shape))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def tilt_deg(q: np.ndarray) -> np.ndarray:
    """Tilt (n, 2) in degrees, ML and AP: the deck normal's angle from vertical, split along
    the direction it leans (so the total tilt is the length of the vector). Positive ML: the
    right side down; positive AP: the front down."""
    w, x, y, z = np.asarray(q, dtype=float).T
    nx = 2.0 * (x * z + w * y)
    ny = 2.0 * (y * z - w * x)
    nz = 1.0 - 2.0 * (x * x + y * y)
    horiz = np.hypot(nx, ny)
    theta = np.degrees(np.arctan2(horiz, nz))
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(horiz > 0, theta / horiz, 0.0)
    return np.column_stack([nx * k, ny * k])


def rolled_tilt_deg(path_mm: np.ndarray, radius_mm: float) -> np.ndarray:
    """Tilt (n, 2) along a dome contact path (n, 2) measured from the level point.

    The first sample is taken as reached by rolling straight from level (exact when the
    deck was level at the level point before the path began, the set-up's premise).
    """
    path = np.asarray(path_mm, dtype=float)
    if len(path) == 0:
        return np.zeros((0, 2))
    q0 = straight_roll(path[0], radius_mm)
    q = np.vstack([q0[None, :], roll(np.diff(path, axis=0), radius_mm, q0)])
    return tilt_deg(q)
