"""Wobble-board profiles: the presets, their geometry, user-defined boards checked by field."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from station.wobble import (
    DEFAULT_BOARD,
    BoardProfileError,
    WobbleSetup,
    board_from_dict,
    default_setup,
    dome_board,
    max_tilt_from_rim,
    preset,
    presets,
    resolve_board,
)
from station.wobble.profiles import rim_height_from_tilt

MY_BOARD = {"name": "mine", "kind": "dome", "dome_radius_mm": 200.0,
            "deck_diameter_mm": 450.0, "rim_height_mm": 55.0, "mass_kg": 2.2}


def rim_height_at(board, tilt_deg: float) -> float:
    """Height of the rim above the platform at a tilt (the module docstring's geometry)."""
    r, h, a = board.dome_radius_mm, board.rim_height_mm, board.half_span_mm
    th = math.radians(tilt_deg)
    return r - (r - h) * math.cos(th) - a * math.sin(th)


def test_every_preset_tilts_until_its_rim_touches_and_says_where_its_figures_come_from():
    assert DEFAULT_BOARD in presets()
    kinds = set()
    for board in presets().values():
        kinds.add(board.kind)
        assert rim_height_at(board, board.max_tilt_deg) == pytest.approx(0.0, abs=1e-9)
        assert rim_height_at(board, board.max_tilt_deg - 1.0) > 0.0  # still clear just before
        assert 15.0 <= board.max_tilt_deg <= 20.0
        assert "typical values" in board.source.lower()
        assert board.reach_mm == pytest.approx(board.dome_radius_mm * board.max_tilt_rad)
    assert kinds == {"dome", "rocker"}


def test_a_hemisphere_touches_at_asin_radius_over_half_deck():
    board = preset("round-40-hemisphere")
    assert board.max_tilt_deg == pytest.approx(math.degrees(math.asin(60.0 / 200.0)))


def test_rim_height_and_max_tilt_are_two_ways_to_say_the_same():
    tilt = max_tilt_from_rim(250.0, 50.0, 200.0)
    assert rim_height_from_tilt(250.0, tilt, 200.0) == pytest.approx(50.0)
    without_rim = {k: v for k, v in MY_BOARD.items() if k != "rim_height_mm"}
    from_tilt = board_from_dict(without_rim | {"max_tilt_deg": 15.0})
    assert from_tilt.max_tilt_deg == 15.0
    assert rim_height_at(from_tilt, 15.0) == pytest.approx(0.0, abs=1e-9)


def test_a_user_defined_board_is_checked_field_by_field():
    board = board_from_dict(MY_BOARD, "station.toml")
    assert board.name == "mine" and board.deck_com_height_mm == 65.0  # rim + 10 mm by default
    cases = [
        ({"dome_radius_mm": None}, "dome_radius_mm: None is not a number"),
        ({"dome_radius_mm": 5.0}, "dome_radius_mm: 5 is outside 20..5000"),
        ({"kind": "ball"}, "kind: 'ball' is not one of dome, rocker"),
        ({"colour": "red"}, "colour: unknown field"),
        ({"max_tilt_deg": 25.0}, "max_tilt_deg: 25 deg disagrees with rim_height_mm 55"),
        ({"deck_diameter_mm": 300.0, "rim_height_mm": 120.0},
         "rim_height_mm: the dome is 367 mm across at the deck, not narrower than the deck"),
        ({"cylinder_axis": "ap"}, "cylinder_axis: only a rocker has it"),
        ({"mass_kg": -1.0}, "mass_kg: -1 is outside 0..30"),
    ]
    for change, message in cases:
        table = MY_BOARD | change
        with pytest.raises(BoardProfileError, match=rf"station.toml: board 'mine': {message}"):
            board_from_dict(table, "station.toml")
    with pytest.raises(BoardProfileError, match="rim_height_mm: give rim_height_mm or "
                                                "max_tilt_deg"):
        board_from_dict({k: v for k, v in MY_BOARD.items() if k != "rim_height_mm"})
    rocker = {"name": "r", "kind": "rocker", "dome_radius_mm": 300.0, "deck_length_mm": 500.0,
              "deck_width_mm": 400.0, "rim_height_mm": 60.0, "mass_kg": 3.0}
    with pytest.raises(BoardProfileError, match="cylinder_axis: None is not one of ap, ml"):
        board_from_dict(rocker)
    assert board_from_dict(rocker | {"cylinder_axis": "ml"}).rocking_axis == (0.0, 1.0)


def test_boards_from_a_file_by_name(tmp_path: Path):
    path = tmp_path / "boards.toml"
    path.write_text('[[board]]\nname = "a"\ndome_radius_mm = 100\ndeck_diameter_mm = 400\n'
                    'rim_height_mm = 50\nmass_kg = 2\n\n[[board]]\nname = "b"\n'
                    'dome_radius_mm = 150\ndeck_diameter_mm = 400\nrim_height_mm = 60\n'
                    'mass_kg = 2\n')
    assert resolve_board(f"{path}:b").dome_radius_mm == 150.0
    with pytest.raises(BoardProfileError, match="holds 2 boards; name one"):
        resolve_board(str(path))
    assert resolve_board("round-40-low-dome") == preset("round-40-low-dome")
    with pytest.raises(BoardProfileError, match="no board preset 'wobbly'; presets: round-40"):
        resolve_board("wobbly")


def test_a_dome_known_by_its_radius_and_a_setup_checked_by_field():
    board = dome_board(80.0, 18.0)
    assert board.reach_mm == pytest.approx(80.0 * math.radians(18.0))
    with pytest.raises(BoardProfileError, match=r"max_tilt_deg: 60 is outside 2\.\.45"):
        dome_board(80.0, 60.0)
    with pytest.raises(BoardProfileError, match="surface_height_mm: -1 is outside"):
        WobbleSetup(board, surface_height_mm=-1.0)
    with pytest.raises(BoardProfileError, match="level_mm"):
        WobbleSetup(board, level_mm=(float("nan"), 0.0))
    assert default_setup().source == "default" and default_setup().board.name == DEFAULT_BOARD
