"""How one wobble board sits on this station's platform: the level point and the platform.

The board's profile says how it rolls; the set-up says where: the COP with the deck held
level (the level contact point), the height of the platform's top surface above the cells'
load axis (the friction force at the contact acts up there and shifts the COP by
F_h * d / F_z), and whether the zero was taken with the board on (then the deck's weight
must be added back, at the level point, to get the contact point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from station.wobble.profiles import DEFAULT_BOARD, BoardProfileError, WobbleBoard, preset

# Assumptions until the set-up measures them (docs/metrics.md section 11):
# a plate on top of bar or half-bridge cells puts its surface 20-40 mm above their load axis;
SURFACE_HEIGHT_MM = 30.0
# the body's centre of mass stands ~1.0 m above the deck, the deck ~50 mm above the platform.
COM_HEIGHT_MM = 1050.0


@dataclass(frozen=True)
class WobbleSetup:
    """A board on the platform: its profile, its level point (mm) and the platform's d."""

    board: WobbleBoard
    level_mm: tuple[float, float] = (0.0, 0.0)
    surface_height_mm: float = SURFACE_HEIGHT_MM
    deck_tared: bool = False  # the zero was taken with the deck on the platform
    com_height_mm: float = COM_HEIGHT_MM
    source: str = field(default="given", compare=False)  # "given" or "default"

    def __post_init__(self) -> None:
        x, y = self.level_mm
        if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > 500.0:
            raise BoardProfileError(f"level_mm: ({x:g}, {y:g}) is not a point on the platform")
        if not 0.0 <= self.surface_height_mm <= 200.0:
            raise BoardProfileError(
                f"surface_height_mm: {self.surface_height_mm:g} is outside 0..200 mm")
        if not 300.0 <= self.com_height_mm <= 2000.0:
            raise BoardProfileError(f"com_height_mm: {self.com_height_mm:g} is outside "
                                    "300..2000 mm")

    @property
    def deck_weight_n(self) -> float:
        return self.board.mass_kg * 9.80665

    def to_json(self) -> dict[str, object]:
        return {"board": self.board.to_json(), "level_mm": list(self.level_mm),
                "surface_height_mm": self.surface_height_mm, "deck_tared": self.deck_tared,
                "source": self.source}


def default_setup() -> WobbleSetup:
    """The station's default until a set-up is stored: the default preset, level at the centre."""
    return WobbleSetup(preset(DEFAULT_BOARD), source="default")


# ------------------------------------------------------------------ the guided set-up
# The procedure the /wobble page walks through (station/web/views/api_wobble.py captures the
# frames; everything it decides is here, pure, so a test can play it with made-up COPs):
#   1. level: the deck held level (a spirit level on the deck, or a mark) and still, by hand
#      or by someone standing on it; the mean COP is the level contact point (while only the
#      dome touches, the COP IS the dome's contact, whatever the load above it);
#   2. optional rim checks, front/back/left/right (a rocker: its two rocking sides): roll
#      the deck slowly towards that side until the rim touches and rest it there; the COP's
#      travel before the rim's jump is the dome's reach R * max tilt in that direction;
#   3. optional re-level: the level point again, after the rolling (a dome that slipped
#      does not come back to the same contact point).
SETUP_SIDES: dict[str, tuple[float, float]] = {
    "front": (0.0, 1.0), "back": (0.0, -1.0), "left": (-1.0, 0.0), "right": (1.0, 0.0)}
# the deck's own weight at least (20-35 N on the presets): held level by hand or stood on, all
# of it reaches the platform at the dome's contact (a zero taken with the deck on needs a
# person on it)
SETUP_MIN_LOAD_N = 15.0
# held still: the deck's wobble while the level is taken, RMS. The simulated athlete on a free
# 60 mm dome wobbles 2-4 deg and the mean of 3 s lands 1.1-1.7 mm (~1-1.5 deg) from the true
# level (tests/test_wobble_setup.py); a deck held against a spirit level does better.
LEVEL_MAX_STD_DEG = 4.0
RIM_JUMP_MM = 3.0  # a frame-to-frame COP step this large (or 5 % of the reach) is the rim
RESIDUAL_OK_DEG = 1.0  # a rim check within 1 degree of the profile passes
RELEVEL_OK_DEG = 0.5  # the level point found again within 0.5 degree
# What a real board's faults look like in the check (shown with every report).
FAULT_SIGNS = {
    "slipping": "A dome that slips (a smooth dome on a smooth platform, or dust) slides "
                "instead of rolling: the level point found again after the rim checks is "
                "not where it was (re-level residual over 0.5 deg), and repeated rim checks "
                "disagree; while it slides the tilt reads low. Put a thin rubber mat under "
                "the dome.",
    "soft": "A soft dome (rubber, an air cushion) flattens under the load: the contact "
            "becomes a patch the COP can move across, so the dome's effective radius is not "
            "the profile's and changes with the load. Every rim check is off by about the "
            "same on all sides (all long or all short), and differently for a light and a "
            "heavy person. Use the effective radius in a user profile, or a harder dome.",
    "non_spherical": "A dome that is not a sphere (flatter on top, or oval) gives residuals "
                     "that differ by direction: front/back against left/right, or small "
                     "near level and large near the rim. The tilt is then right only where "
                     "the profile's radius matches; measure the dome or enter a profile "
                     "per axis (a rocker).",
    "level_off": "A level point taken with the deck not quite level shows as opposite "
                 "residuals on opposite sides (front high, back low by the same): take the "
                 "level point again.",
}


class SetupRefused(ValueError):
    """A set-up step cannot use the frames it got; the message says what to do."""


@dataclass(frozen=True)
class CopCapture:
    """The COP frames of one set-up step, summarised (mm, N, s)."""

    mean_mm: tuple[float, float]
    std_mm: float
    force_n: float
    n: int
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {"mean_mm": [round(v, 2) for v in self.mean_mm], "std_mm": round(self.std_mm, 2),
                "force_n": round(self.force_n, 1), "n": self.n,
                "seconds": round(self.seconds, 2)}


def _frames(t_s: object, force_n: object, cop_mm: object) -> tuple:
    t = np.asarray(t_s, dtype=float)
    f = np.asarray(force_n, dtype=float)
    cop = np.asarray(cop_mm, dtype=float).reshape(-1, 2)
    ok = np.isfinite(f) & np.isfinite(cop).all(axis=1)
    if ok.sum() < 20:
        raise SetupRefused("too few frames with a centre of pressure: is the board on the "
                           "platform?")
    t, f, cop = t[ok], f[ok], cop[ok]
    if float(np.median(f)) < SETUP_MIN_LOAD_N:
        raise SetupRefused(f"the load is {float(np.median(f)):.0f} N: put the board on the "
                           f"platform (at least {SETUP_MIN_LOAD_N:.0f} N; with the zero taken "
                           "with the board on, stand on the deck) so the centre of pressure "
                           "is the dome's contact")
    return t, f, cop


def level_capture(board: WobbleBoard, t_s: object, force_n: object, cop_mm: object
                  ) -> CopCapture:
    """The level contact point from frames with the deck held level and still."""
    t, f, cop = _frames(t_s, force_n, cop_mm)
    mean = cop.mean(axis=0)
    std = float(np.sqrt(np.mean(np.sum((cop - mean) ** 2, axis=1))))
    if std / board.mm_per_deg > LEVEL_MAX_STD_DEG:
        raise SetupRefused(f"the deck moved ({std / board.mm_per_deg:.1f} deg RMS, at most "
                           f"{LEVEL_MAX_STD_DEG:g} deg): hold it level and still, then measure "
                           "again")
    return CopCapture((float(mean[0]), float(mean[1])), std, float(f.mean()), len(t),
                      float(t[-1] - t[0]))


def rim_reach_mm(board: WobbleBoard, level_mm: tuple[float, float], side: str,
                 cop_mm: object) -> tuple[float, float, bool]:
    """(reach along the side, sideways drift, rim seen) from a roll towards `side`.

    The reach is the COP's largest travel along the side's direction before its first jump
    of RIM_JUMP_MM (or 5 % of the reach) between frames, where the rim took load; without a
    jump, the largest travel (the rim may not have touched: `rim seen` False).
    """
    ux, uy = SETUP_SIDES[side]
    rel = np.asarray(cop_mm, dtype=float).reshape(-1, 2) - np.asarray(level_mm, dtype=float)
    rel = rel[np.isfinite(rel).all(axis=1)]
    along = rel[:, 0] * ux + rel[:, 1] * uy
    across = rel[:, 0] * -uy + rel[:, 1] * ux
    jump = max(RIM_JUMP_MM, 0.05 * board.reach_mm)
    steps = np.flatnonzero(np.diff(along) > jump)
    end = int(steps[0]) + 1 if len(steps) else len(along)
    k = int(np.argmax(along[:end]))
    return float(along[k]), float(across[k]), bool(len(steps))


def check_sides(board: WobbleBoard) -> tuple[str, ...]:
    """The sides a rim check can be made on: all four for a dome, the rocking two for a rocker."""
    axis = board.rocking_axis
    if axis is None:
        return tuple(SETUP_SIDES)
    return ("left", "right") if axis == (1.0, 0.0) else ("front", "back")


def rim_check(board: WobbleBoard, level_mm: tuple[float, float], side: str, t_s: object,
              force_n: object, cop_mm: object) -> dict[str, object]:
    """One rim check: the tilt the dome's reach says (deg) against the profile's maximum."""
    if side not in check_sides(board):
        raise SetupRefused(f"side {side!r}: check one of {', '.join(check_sides(board))} "
                           f"on this board")
    _, _, cop = _frames(t_s, force_n, cop_mm)
    reach, drift, seen = rim_reach_mm(board, level_mm, side, cop)
    if reach < 0.3 * board.reach_mm:
        raise SetupRefused(f"the deck hardly tilted to the {side} ({reach / board.mm_per_deg:.1f}"
                           f" deg): roll it slowly until the rim touches, then measure again")
    tilt = reach / board.mm_per_deg
    return {"side": side, "reach_mm": round(reach, 2), "tilt_deg": round(tilt, 2),
            "residual_deg": round(tilt - board.max_tilt_deg, 2),
            "sideways_deg": round(drift / board.mm_per_deg, 2), "rim_seen": seen}


def setup_report(board: WobbleBoard, level: CopCapture, rims: dict[str, dict[str, object]],
                 relevel: CopCapture | None = None) -> dict[str, object]:
    """The set-up's residual report: each check in degrees, what they suggest, the fault signs."""
    residuals = {side: float(r["residual_deg"]) for side, r in rims.items()}
    findings: list[str] = []
    out: dict[str, object] = {
        "board": board.name, "level_mm": [round(v, 2) for v in level.mean_mm],
        "level": level.to_json(), "rim_checks": rims, "residuals_deg": residuals,
        "max_tilt_deg": round(board.max_tilt_deg, 2), "fault_signs": FAULT_SIGNS,
    }
    if rims:
        reaches = [float(r["reach_mm"]) for r in rims.values()]
        radius = sum(reaches) / len(reaches) / board.max_tilt_rad
        out["effective_radius_mm"] = round(radius, 1)
        worst = max(residuals.values(), key=abs)
        out["worst_residual_deg"] = round(worst, 2)
        if all(abs(v) <= RESIDUAL_OK_DEG for v in residuals.values()):
            findings.append(f"the rim checks agree with the profile within {RESIDUAL_OK_DEG:g} "
                            "deg")
        elif (all(v < -RESIDUAL_OK_DEG for v in residuals.values())
              or all(v > RESIDUAL_OK_DEG for v in residuals.values())):
            way = "short" if worst < 0 else "long"
            findings.append(f"every rim check reads {way} (effective radius {radius:.0f} mm, "
                            f"profile {board.dome_radius_mm:g} mm): a soft or flattened dome, "
                            "or the wrong profile")
        else:
            findings.append("the rim checks differ by side: see the fault signs")
        for a, b in (("front", "back"), ("left", "right")):
            if a in residuals and b in residuals:
                ra, rb = residuals[a], residuals[b]
                if abs(ra - rb) > 2 * RESIDUAL_OK_DEG and ra * rb < 0:
                    findings.append(f"{a} and {b} disagree with opposite signs "
                                    f"({ra:+.1f} / {rb:+.1f} deg): the level point is off")
    else:
        findings.append("no rim check made: the dome's radius and maximum tilt are the "
                        "profile's, unchecked")
    if relevel is not None:
        moved = math.dist(relevel.mean_mm, level.mean_mm) / board.mm_per_deg
        out["relevel_deg"] = round(moved, 2)
        out["relevel"] = relevel.to_json()
        if moved > RELEVEL_OK_DEG:
            findings.append(f"the level point moved {moved:.1f} deg between the first and the "
                            "second level: the dome may be slipping")
        else:
            findings.append(f"the level point came back within {RELEVEL_OK_DEG:g} deg")
    out["findings"] = findings
    out["ok"] = all(any(w in f for w in ("agree", "came back", "no rim check"))
                    for f in findings)
    out["rims_checked"] = len(rims)
    return out
