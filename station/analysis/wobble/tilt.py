"""From the COP to the deck's tilt: the contact point, the friction shift, the rolling.

While only the dome touches, every force on the deck (the athlete's and its own weight) goes
through the dome's contact, so the COP is the contact point, with two corrections:
- a zero taken with the deck on removed its weight at the level point: add it back there;
- the friction force F_h at the contact acts on the platform's top surface, d above the
  cells' load axis, so the cells see the COP moved by -F_h d / F_z. F_h is the mass times the
  acceleration of the moving masses, which the COP itself tells: the athlete's centre of
  mass follows the contact as an inverted pendulum, c'' = w^2 (c - p) with w^2 = g / H (the
  "gravity line" relation, Caron et al. 1997, CFB97 in docs/references.md; c is found from p
  by solving that equation over the whole trace, a banded system), and the deck's centre of
  mass moves h_com / R times the contact. The correction is iterated twice (it is a few
  per cent of the tilt, so the second pass changes it by a few per cent of that).
Then the tilt follows by rolling along the corrected contact path (station.wobble.rolling).
"""

from __future__ import annotations

import numpy as np

from station.wobble import WobbleSetup
from station.wobble.rolling import rolled_tilt_deg

G_MM_S2 = 9806.65
FRICTION_PASSES = 2


def contact_from_cop(cop_mm: np.ndarray, force_n: np.ndarray | None,
                     setup: WobbleSetup) -> tuple[np.ndarray, np.ndarray | None]:
    """(contact point (n, 2) mm, load through the contact (n,) N or None without force).

    With the zero taken with the deck on (setup.deck_tared), its weight is added back at the
    level point: contact = (F cop + W_deck level) / (F + W_deck).
    """
    cop = np.asarray(cop_mm, dtype=float)
    if force_n is None:
        return cop.copy(), None
    force = np.asarray(force_n, dtype=float)
    if not setup.deck_tared:
        return cop.copy(), force.copy()
    w = setup.deck_weight_n
    load = force + w
    level = np.asarray(setup.level_mm, dtype=float)
    return (cop * force[:, None] + w * level) / load[:, None], load


def gravity_line_com(p_mm: np.ndarray, rate_hz: float, com_height_mm: float) -> np.ndarray:
    """Centre of mass c (n, 2) of an inverted pendulum whose COP is p: (w^2 - D^2) c = w^2 p.

    Second differences for D^2, reflecting ends (zero slope); one banded solve for both axes.
    """
    p = np.asarray(p_mm, dtype=float)
    n = len(p)
    k = (G_MM_S2 / com_height_mm) / (rate_hz * rate_hz)  # w^2 dt^2
    ab = np.empty((3, n))
    ab[0, :] = -1.0
    ab[2, :] = -1.0
    ab[1, :] = 2.0 + k
    ab[1, 0] = ab[1, -1] = 1.0 + k
    from scipy.linalg import solve_banded  # when used: the station starts without scipy

    return solve_banded((1, 1), ab, k * p)


def second_derivative(p_mm: np.ndarray, rate_hz: float) -> np.ndarray:
    """Central second difference (n, 2) in mm/s^2 (ends copied from their neighbours)."""
    acc = np.zeros_like(p_mm)
    if len(p_mm) >= 3:
        acc[1:-1] = (p_mm[2:] - 2.0 * p_mm[1:-1] + p_mm[:-2]) * rate_hz * rate_hz
        acc[0], acc[-1] = acc[1], acc[-2]
    return acc


def friction_shift_mm(p_mm: np.ndarray, load_n: np.ndarray, rate_hz: float,
                      setup: WobbleSetup) -> np.ndarray:
    """The COP shift d F_h / F_z (n, 2) that the contact motion p (absolute, mm) implies."""
    board = setup.board
    deck_w = setup.deck_weight_n
    athlete_kg = np.maximum(load_n - deck_w, 0.0) / (G_MM_S2 / 1000.0)
    com = gravity_line_com(p_mm, rate_hz, setup.com_height_mm)
    com_acc = (G_MM_S2 / setup.com_height_mm) * (com - p_mm)
    deck_acc = second_derivative(p_mm, rate_hz) * (board.deck_com_height_mm
                                                   / board.dome_radius_mm)
    f_h = (athlete_kg[:, None] * com_acc + board.mass_kg * deck_acc) / 1000.0  # N
    with np.errstate(invalid="ignore", divide="ignore"):
        return setup.surface_height_mm * f_h / load_n[:, None]


def correct_friction(measured_mm: np.ndarray, load_n: np.ndarray, rate_hz: float,
                     setup: WobbleSetup) -> tuple[np.ndarray, np.ndarray]:
    """(contact p, shift) with p = measured + d F_h(p) / F_z, solved by FRICTION_PASSES passes."""
    p = np.asarray(measured_mm, dtype=float)
    shift = np.zeros_like(p)
    for _ in range(FRICTION_PASSES):
        shift = friction_shift_mm(p, load_n, rate_hz, setup)
        p = measured_mm + shift
    return p, shift


def tilt_from_contact(contact_mm: np.ndarray, setup: WobbleSetup) -> np.ndarray:
    """Tilt ML, AP (n, 2) in degrees from the dome's contact path (absolute, mm).

    Dome: rolled along the path from the level point (exact for rolling without slip or
    spin). Rocker: the cylinder rolls one way only, tilt = offset / R along its rocking axis.
    """
    board = setup.board
    offset = np.asarray(contact_mm, dtype=float) - np.asarray(setup.level_mm, dtype=float)
    axis = board.rocking_axis
    if axis is None:
        return rolled_tilt_deg(offset, board.dome_radius_mm)
    ax = np.asarray(axis)
    return np.degrees(np.outer(offset @ ax, ax) / board.dome_radius_mm)
