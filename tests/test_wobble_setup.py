"""The guided wobble set-up (station.wobble.setup) and the stored boards (wobble.stored)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from station.wobble import BoardProfileError, preset, stored
from station.wobble.setup import (
    SETUP_SIDES,
    CopCapture,
    SetupRefused,
    level_capture,
    rim_check,
    setup_report,
)
from tests.wobble_fixtures import session

BOARD = preset("round-40-hemisphere")


def test_the_empty_deck_held_level_gives_the_level_point_within_a_tenth_of_a_degree():
    """The simulator's empty deck rests level on its dome: its weight alone (2.5 kg) puts the
    COP on the contact, read through the cells with no minimum load (as the page does)."""
    from station.calibration.conversion import force_and_cop
    from tests.wobble_fixtures import SIM_CAL

    run = session(stance="double", skill=0.5, duration_s=3.0, level_mm=(6.0, -4.0))
    t = run.sim.t_s
    quiet = (t > 0.3) & (t < 0.95)  # before the step-on at 1 s
    got = force_and_cop(SIM_CAL, run.sim.counts[quiet], min_load_n=0.0)
    level = level_capture(BOARD, t[quiet], got.force_n, got.cop_mm)
    assert 20.0 < level.force_n < 30.0
    assert math.dist(level.mean_mm, (6.0, -4.0)) < 0.1 * BOARD.mm_per_deg


def test_the_level_point_of_a_simulated_board_is_found_within_two_degrees():
    run = session(stance="double", skill=0.8, duration_s=10.0, level_mm=(6.0, -4.0))
    t = run.sim.t_s
    keep = (t > 4.0) & (t < 7.0)
    got = level_capture(BOARD, t[keep], run.total_n[keep], run.cop_mm[keep])
    assert math.dist(got.mean_mm, (6.0, -4.0)) < 2.0  # ~1.05 mm per degree on this board
    assert got.force_n > 600


def test_the_level_needs_someone_on_the_deck_and_the_deck_still():
    t = np.arange(200) / 80.0
    with pytest.raises(SetupRefused, match="put the board on the platform"):
        level_capture(BOARD, t, np.full(200, 4.0), np.zeros((200, 2)))
    wobbling = np.column_stack([8.0 * np.sin(2 * np.pi * t), np.zeros(200)])
    with pytest.raises(SetupRefused, match="the deck moved"):
        level_capture(BOARD, t, np.full(200, 700.0), wobbling)


def roll_to_rim(side: str, reach_mm: float, level=(0.0, 0.0), n: int = 240) -> np.ndarray:
    """A slow roll from level to the reach, then the rim's jump and its rest there."""
    ux, uy = SETUP_SIDES[side]
    d = np.concatenate([np.linspace(0.0, reach_mm, n // 2), reach_mm + 40.0 + np.zeros(n // 2)])
    return np.column_stack([level[0] + d * ux, level[1] + d * uy])


def check(side: str, reach_mm: float, level=(0.0, 0.0)) -> dict:
    cop = roll_to_rim(side, reach_mm, level)
    t = np.arange(len(cop)) / 80.0
    return rim_check(BOARD, (0.0, 0.0), side, t, np.full(len(t), 700.0), cop)


LEVEL = CopCapture((0.0, 0.0), 0.5, 700.0, 240, 3.0)


def test_a_board_that_matches_its_profile_passes_with_residuals_near_zero():
    rims = {side: check(side, BOARD.reach_mm) for side in SETUP_SIDES}
    assert all(r["rim_seen"] for r in rims.values())
    report = setup_report(BOARD, LEVEL, rims, CopCapture((0.2, 0.1), 0.5, 700.0, 240, 3.0))
    assert max(abs(v) for v in report["residuals_deg"].values()) < 0.1
    assert report["effective_radius_mm"] == pytest.approx(BOARD.dome_radius_mm, rel=0.01)
    assert report["ok"], report["findings"]
    assert set(report["fault_signs"]) == {"slipping", "soft", "non_spherical", "level_off"}


def test_a_soft_dome_reads_short_on_every_side():
    rims = {side: check(side, 0.8 * BOARD.reach_mm) for side in SETUP_SIDES}
    report = setup_report(BOARD, LEVEL, rims)
    # 20 % short of a 17.5 deg maximum: -3.5 deg everywhere
    assert all(v == pytest.approx(-0.2 * BOARD.max_tilt_deg, abs=0.05)
               for v in report["residuals_deg"].values())
    assert not report["ok"]
    assert any("reads short" in f for f in report["findings"])


def test_a_level_point_off_to_the_front_shows_as_opposite_residuals():
    # the true level is 4 mm to the front of the recorded one
    rims = {side: check(side, BOARD.reach_mm, level=(0.0, 4.0)) for side in ("front", "back")}
    report = setup_report(BOARD, LEVEL, rims)
    assert report["residuals_deg"]["front"] > 3 and report["residuals_deg"]["back"] < -3
    assert any("level point is off" in f for f in report["findings"])


def test_a_dome_that_slipped_does_not_come_back_to_its_level_point():
    report = setup_report(BOARD, LEVEL, {}, CopCapture((3.0, 0.0), 0.5, 700.0, 240, 3.0))
    assert report["relevel_deg"] == pytest.approx(3.0 / BOARD.mm_per_deg, abs=0.01)
    assert any("slipping" in f for f in report["findings"]) and not report["ok"]


def test_a_rocker_is_checked_on_its_rocking_sides_only():
    rocker = preset("rocker-50x40")
    with pytest.raises(SetupRefused, match="check one of left, right"):
        rim_check(rocker, (0.0, 0.0), "front", np.arange(40) / 80, np.full(40, 700.0),
                  np.zeros((40, 2)))


class FakeStore:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get_setting(self, key, default=None):
        return self.values.get(key, default)

    def set_setting(self, key, value):
        self.values[key] = value


MINE = {"name": "clinic-board", "kind": "dome", "dome_radius_mm": 120.0,
        "deck_diameter_mm": 450.0, "rim_height_mm": 70.0, "mass_kg": 3.0}


def test_the_station_keeps_its_boards_the_active_one_and_its_set_up():
    store = FakeStore()
    assert stored.active_setup(store).board.name == "round-40-hemisphere"
    assert stored.active_setup(store).source == "default"
    stored.add_board(store, MINE)
    stored.select_board(store, "clinic-board")
    report = {"level_mm": [5.0, -3.0], "ok": True}
    stored.record_setup(store, "clinic-board", report)
    setup = stored.active_setup(store)
    assert (setup.board.name, setup.level_mm, setup.source) == ("clinic-board", (5.0, -3.0),
                                                                 "set-up")
    view = stored.load(store).to_json()
    mine = next(b for b in view["boards"] if b["name"] == "clinic-board")
    assert not mine["preset"] and mine["set_up"]
    # a new geometry under the same name drops its old set-up
    stored.add_board(store, {**MINE, "dome_radius_mm": 100.0})
    assert stored.active_setup(store).source == "default"
    stored.remove_board(store, "clinic-board")
    assert stored.active_setup(store).board.name == "round-40-hemisphere"


def test_stored_boards_are_checked_by_field():
    store = FakeStore()
    with pytest.raises(BoardProfileError, match="dome_radius_mm: 5 is outside"):
        stored.add_board(store, {**MINE, "dome_radius_mm": 5})
    with pytest.raises(BoardProfileError, match="is a preset's name"):
        stored.add_board(store, {**MINE, "name": "round-40-hemisphere"})
    with pytest.raises(BoardProfileError, match="no board 'nope'"):
        stored.select_board(store, "nope")
    store.values[stored.SETTING_KEY] = '{"boards": [{"name": "x", "dome_radius_mm": 1}]}'
    with pytest.raises(BoardProfileError, match="board 'x'"):
        stored.load(store)
