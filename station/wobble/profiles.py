"""Wobble-board profiles as data: the dome, the deck, the rim, the mass; presets and checks.

A wobble board rests on the platform through its dome, so while only the dome touches the
centre of pressure IS the dome's contact point. Everything the station derives from that
(tilt in degrees, the reachable disc, rim contacts) needs the board's geometry, which lives
here as a frozen `WobbleBoard`. Presets are data (presets.toml beside this module); a
user-defined board is the same table, checked field by field so a typo names the field.

Geometry (a vertical section through the tilt direction, the deck level, heights above the
platform): the dome is a sphere (or, for a rocker, a cylinder) of radius R whose lowest point
touches the platform, so its centre is R up; the deck's underside is flat, h = rim_height_mm
up, and its rim is a (half the deck's span in that direction) from the centre line. Rolling
without slipping by a tilt theta moves the centre, and the contact under it, by R*theta;
the rim is at height R - (R - h) cos theta - a sin theta and touches the platform at the
maximum tilt, the root of (R - h) cos theta + a sin theta = R (Deligiannis & Mangalam 2025,
DM25 in docs/references.md: ground clearance sets the maximum tilt).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESETS_FILE = Path(__file__).resolve().parent / "presets.toml"
DEFAULT_BOARD = "round-40-hemisphere"

KINDS = ("dome", "rocker")
CYLINDER_AXES = ("ap", "ml")  # the rocker's cylinder runs front-back (rocks ML) or left-right

# Rim-contact rule shared by the live detector and the offline analysis: a contact is a run
# of at least RIM_MIN_FRAMES consecutive frames with the COP further from the level point than
# the dome can roll (R * max tilt) plus half the margin, at least one of them beyond the full
# margin, RIM_MARGIN_MM + RIM_MARGIN_FRAC of the reach. The margin covers the friction shift
# (<= ~3 % of the reach, docs/metrics.md section 11) twice and the HX711 noise; a rim touch
# moves the COP by >= 15 % of the rim's distance at once, several times more. Two frames:
# confirmed 12.5 ms after the touch at 80 Hz; one frame could be a glitch.
RIM_MARGIN_MM = 2.0
RIM_MARGIN_FRAC = 0.06
RIM_MIN_FRAMES = 2

_LIMITS = {
    "dome_radius_mm": (20.0, 5000.0),
    "deck_diameter_mm": (150.0, 1200.0),
    "deck_length_mm": (150.0, 1200.0),
    "deck_width_mm": (100.0, 1200.0),
    "rim_height_mm": (5.0, 400.0),
    "max_tilt_deg": (2.0, 45.0),
    "mass_kg": (0.0, 30.0),
    "deck_com_height_mm": (0.0, 600.0),
}
_KEYS = ("name", "description", "kind", "dome_radius_mm", "cylinder_axis", "deck_diameter_mm",
         "deck_length_mm", "deck_width_mm", "rim_height_mm", "max_tilt_deg", "mass_kg",
         "deck_com_height_mm", "source")
TILT_AGREEMENT_DEG = 0.5  # rim height and max tilt both given must agree this well


class BoardProfileError(ValueError):
    """A board profile cannot be used; the message names the board and the field."""


@dataclass(frozen=True)
class WobbleBoard:
    """One wobble board (lengths in mm, mass in kg; see the module docstring for the geometry).

    kind "dome": a spherical dome under a round deck (deck_diameter_mm). kind "rocker": a
    cylinder under a rectangular deck, deck_length_mm across the cylinder (the rocking span)
    and deck_width_mm along it; cylinder_axis "ap" rocks left-right, "ml" front-back.
    deck_com_height_mm: height of the deck's centre of mass above the platform, level.
    """

    name: str
    kind: str
    dome_radius_mm: float
    rim_height_mm: float
    max_tilt_deg: float
    mass_kg: float
    deck_diameter_mm: float | None = None
    deck_length_mm: float | None = None
    deck_width_mm: float | None = None
    cylinder_axis: str | None = None
    deck_com_height_mm: float = 0.0
    description: str = ""
    source: str = field(default="", compare=False)

    @property
    def half_span_mm(self) -> float:
        """Distance from the centre line to the rim in the tilt direction (NaN: not given)."""
        span = self.deck_diameter_mm if self.kind == "dome" else self.deck_length_mm
        return math.nan if span is None else 0.5 * float(span)

    @property
    def max_tilt_rad(self) -> float:
        return math.radians(self.max_tilt_deg)

    @property
    def reach_mm(self) -> float:
        """How far the dome's contact can roll from the level point: R * max tilt."""
        return self.dome_radius_mm * self.max_tilt_rad

    @property
    def rim_margin_mm(self) -> float:
        """Beyond reach + this margin the COP is a rim contact (RIM_MARGIN_* above)."""
        return RIM_MARGIN_MM + RIM_MARGIN_FRAC * self.reach_mm

    @property
    def rim_offset_mm(self) -> float:
        """At the maximum tilt: horizontal distance from the dome's contact to the rim's."""
        a = self.half_span_mm
        th = self.max_tilt_rad
        return a * math.cos(th) - (self.dome_radius_mm - self.rim_height_mm) * math.sin(th)

    @property
    def rocking_axis(self) -> tuple[float, float] | None:
        """Unit vector (x, y) of the direction a rocker tilts in; None for a dome."""
        if self.kind != "rocker":
            return None
        return (1.0, 0.0) if self.cylinder_axis == "ap" else (0.0, 1.0)

    @property
    def mm_per_deg(self) -> float:
        """COP travel per degree of tilt while the dome alone touches."""
        return self.dome_radius_mm * math.pi / 180.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "kind": self.kind, "dome_radius_mm": self.dome_radius_mm,
            "rim_height_mm": self.rim_height_mm, "max_tilt_deg": round(self.max_tilt_deg, 3),
            "mass_kg": self.mass_kg,
        }
        if self.kind == "dome":
            out["deck_diameter_mm"] = self.deck_diameter_mm
        else:
            out.update(cylinder_axis=self.cylinder_axis, deck_length_mm=self.deck_length_mm,
                       deck_width_mm=self.deck_width_mm)
        return out


def max_tilt_from_rim(radius_mm: float, rim_height_mm: float, half_span_mm: float) -> float:
    """Tilt (degrees) at which the rim touches: (R - h) cos t + a sin t = R, smaller root."""
    a_coef = radius_mm - rim_height_mm
    norm = math.hypot(a_coef, half_span_mm)
    if norm < radius_mm:
        raise ValueError("the rim never reaches the platform")
    phi = math.atan2(half_span_mm, a_coef)
    return math.degrees(phi - math.acos(radius_mm / norm))


def rim_height_from_tilt(radius_mm: float, max_tilt_deg: float, half_span_mm: float) -> float:
    """The rim height that makes the board tilt max_tilt_deg: h = R - (R - a sin t) / cos t."""
    th = math.radians(max_tilt_deg)
    return radius_mm - (radius_mm - half_span_mm * math.sin(th)) / math.cos(th)


def board_from_dict(data: dict[str, Any], source: str = "<board>") -> WobbleBoard:
    """A checked board from a table; errors read '<source>: board <name>: <field>: <problem>'."""
    name = data.get("name")
    where = f"{source}: board {name!r}" if isinstance(name, str) and name.strip() else source

    def fail(key: str, problem: str) -> BoardProfileError:
        return BoardProfileError(f"{where}: {key}: {problem}")

    if not isinstance(data, dict):
        raise BoardProfileError(f"{source}: a board must be a table")
    for key in data:
        if key not in _KEYS:
            raise fail(key, f"unknown field (allowed: {', '.join(_KEYS)})")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "missing (a short name, e.g. 'my-board')")
    kind = data.get("kind", "dome")
    if kind not in KINDS:
        raise fail("kind", f"{kind!r} is not one of {', '.join(KINDS)}")

    def number(key: str, required: bool = True) -> float | None:
        if key not in data:
            if required:
                raise fail(key, "missing")
            return None
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            raise fail(key, f"{value!r} is not a number")
        lo, hi = _LIMITS[key]
        if not lo <= value <= hi:
            raise fail(key, f"{value:g} is outside {lo:g}..{hi:g}")
        return float(value)

    radius = number("dome_radius_mm")
    axis = data.get("cylinder_axis")
    if kind == "dome":
        for key in ("deck_length_mm", "deck_width_mm", "cylinder_axis"):
            if key in data:
                raise fail(key, "only a rocker has it (a dome board has deck_diameter_mm)")
        diameter = number("deck_diameter_mm")
        length = width = None
        half = 0.5 * diameter
    else:
        if "deck_diameter_mm" in data:
            raise fail("deck_diameter_mm", "a rocker's deck is deck_length_mm x deck_width_mm")
        if axis not in CYLINDER_AXES:
            raise fail("cylinder_axis", f"{axis!r} is not one of {', '.join(CYLINDER_AXES)} "
                       "(the direction the cylinder runs; 'ap' rocks left-right)")
        diameter = None
        length = number("deck_length_mm")
        width = number("deck_width_mm")
        half = 0.5 * length
    rim = number("rim_height_mm", required=False)
    tilt = number("max_tilt_deg", required=False)
    if rim is None and tilt is None:
        raise fail("rim_height_mm", "give rim_height_mm or max_tilt_deg (or both)")
    if rim is not None and rim > radius:
        raise fail("rim_height_mm", f"{rim:g} mm is above the dome's centre ({radius:g} mm): "
                   "a dome taller than a half sphere cannot roll to its rim")
    if rim is not None:
        try:
            from_rim = max_tilt_from_rim(radius, rim, half)
        except ValueError:
            base = 2.0 * math.sqrt(max(radius * radius - (radius - rim) ** 2, 0.0))
            raise fail("rim_height_mm", f"the dome is {base:.0f} mm across at the deck, not "
                       "narrower than the deck: the rim never touches") from None
        if tilt is not None and abs(from_rim - tilt) > TILT_AGREEMENT_DEG:
            raise fail("max_tilt_deg", f"{tilt:g} deg disagrees with rim_height_mm {rim:g} "
                       f"(which gives {from_rim:.1f} deg): correct one or give only one")
        tilt = from_rim if tilt is None else tilt
    else:
        rim = rim_height_from_tilt(radius, tilt, half)
        if not 0.0 < rim <= radius:
            raise fail("max_tilt_deg", f"{tilt:g} deg is not possible with this dome and deck")
    cap_angle = math.degrees(math.acos((radius - rim) / radius))
    if tilt > cap_angle:
        raise fail("max_tilt_deg", f"{tilt:.1f} deg tilts past the dome's edge "
                   f"({cap_angle:.1f} deg)")
    mass = number("mass_kg")
    com = number("deck_com_height_mm", required=False)
    for key in ("description", "source"):
        if key in data and not isinstance(data[key], str):
            raise fail(key, "must be text")
    return WobbleBoard(
        name=name.strip(), kind=kind, dome_radius_mm=radius, rim_height_mm=rim,
        max_tilt_deg=tilt, mass_kg=mass, deck_diameter_mm=diameter, deck_length_mm=length,
        deck_width_mm=width, cylinder_axis=axis if kind == "rocker" else None,
        deck_com_height_mm=rim + 10.0 if com is None else com,
        description=str(data.get("description", "")).strip(),
        source=str(data.get("source", "")).strip(),
    )


def dome_board(radius_mm: float, max_tilt_deg: float = 20.0, mass_kg: float = 0.0
               ) -> WobbleBoard:
    """A dome known only by its radius and maximum tilt (the CLI's --dome-radius-mm).

    Enough to turn the COP into tilt and to find rim contacts; without a deck the simulator
    cannot place its rim (rim_height_mm and the deck are NaN / None).
    """
    for key, value in (("dome_radius_mm", radius_mm), ("max_tilt_deg", max_tilt_deg),
                       ("mass_kg", mass_kg)):
        lo, hi = _LIMITS[key]
        if not (math.isfinite(value) and lo <= value <= hi):
            raise BoardProfileError(f"{key}: {value:g} is outside {lo:g}..{hi:g}")
    return WobbleBoard(name=f"dome R {radius_mm:g} mm", kind="dome",
                       dome_radius_mm=float(radius_mm), rim_height_mm=math.nan,
                       max_tilt_deg=float(max_tilt_deg), mass_kg=float(mass_kg),
                       description="given by its dome radius and maximum tilt only")


def load_boards(path: str | Path) -> dict[str, WobbleBoard]:
    """Every [[board]] of a TOML file, by name (names must be unique)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BoardProfileError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise BoardProfileError(f"{path.name}: not valid TOML: {exc}") from None
    raw = data.get("board")
    if not isinstance(raw, list) or not raw:
        raise BoardProfileError(f"{path.name}: needs at least one [[board]] table")
    boards: dict[str, WobbleBoard] = {}
    for i, table in enumerate(raw):
        board = board_from_dict(table, f"{path.name} board[{i}]")
        if board.name in boards:
            raise BoardProfileError(f"{path.name}: board name {board.name!r} is used twice")
        boards[board.name] = board
    return boards


_PRESETS: dict[str, WobbleBoard] | None = None


def presets() -> dict[str, WobbleBoard]:
    """The shipped presets (presets.toml), by name; read once."""
    global _PRESETS
    if _PRESETS is None:
        _PRESETS = load_boards(PRESETS_FILE)
    return dict(_PRESETS)


def preset_names() -> list[str]:
    return list(presets())


def preset(name: str) -> WobbleBoard:
    """One preset by name; the error lists the names there are."""
    boards = presets()
    try:
        return boards[name]
    except KeyError:
        raise BoardProfileError(f"no board preset {name!r}; presets: {', '.join(boards)} "
                                "(or give a TOML file with a [[board]] table)") from None


def resolve_board(name_or_path: str) -> WobbleBoard:
    """A preset by name, or the only (or named) board of a TOML file: 'file.toml[:name]'."""
    if name_or_path in presets():
        return preset(name_or_path)
    path_text, _, wanted = name_or_path.partition(":")
    path = Path(path_text)
    if path.suffix != ".toml" or not path.exists():
        return preset(name_or_path)  # raises with the preset names
    boards = load_boards(path)
    if wanted:
        if wanted not in boards:
            raise BoardProfileError(f"{path}: no board {wanted!r} (has {', '.join(boards)})")
        return boards[wanted]
    if len(boards) > 1:
        raise BoardProfileError(f"{path}: holds {len(boards)} boards; name one as "
                                f"{path}:NAME ({', '.join(boards)})")
    return next(iter(boards.values()))
