"""The simulated wobble board: it rolls, skill and eyes change it, the rim touches, truth known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from wobble_fixtures import STEP_ON_S, session

from station.board.sim import SimActionError, SimulatedBoard, normalize_action, simulate
from station.board.sim.athlete import GRAVITY
from station.wobble import preset
from station.wobble.rolling import qmul, roll, rolled_tilt_deg, straight_roll, tilt_deg


def tilt_rms(s, from_s: float = 3.0) -> float:
    sel = s.sim.t_s >= from_s
    return float(np.sqrt(np.mean(np.sum(s.sim.wobble.tilt_deg[sel] ** 2, axis=1))))


def test_rolling_straight_is_r_theta_and_loops_leave_the_deck_tilted():
    path = np.linspace([0.0, 0.0], [12.0, -5.0], 50)
    np.testing.assert_allclose(rolled_tilt_deg(path, 60.0)[-1],
                               np.degrees(np.array([12.0, -5.0]) / 60.0), atol=1e-9)
    # the scan is the running product of the steps
    steps = np.random.default_rng(1).normal(size=(37, 2))
    q = straight_roll((2.0, 1.0), 60.0)
    ref = []
    for step in steps:
        q = qmul(roll(step[None, :], 60.0, np.array([1.0, 0, 0, 0]))[0], q)
        ref.append(q)
    np.testing.assert_allclose(roll(steps, 60.0, straight_roll((2.0, 1.0), 60.0)), ref,
                               atol=1e-12)
    # a 5 mm circle through the level point: back at the level point, but not level any more
    th = np.linspace(0.0, 2.0 * np.pi, 400)
    loop = np.column_stack([5.0 * np.cos(th) - 5.0, 5.0 * np.sin(th)])
    end = rolled_tilt_deg(loop, 60.0)[-1]
    assert np.hypot(*loop[-1]) < 1e-9 and 0.05 < np.hypot(*end) < 0.2
    assert tilt_deg(np.array([[1.0, 0, 0, 0]]))[0] == pytest.approx([0.0, 0.0])


def test_the_deck_is_weighed_and_the_cop_is_its_contact():
    s = session(duration_s=8.0)
    board = preset("round-40-hemisphere")
    empty = s.sim.t_s < STEP_ON_S
    assert s.sim.total_force_n[empty] == pytest.approx(board.mass_kg * GRAVITY)
    on = s.sim.t_s > 3.0
    assert s.sim.total_force_n[on].mean() == pytest.approx((70 + board.mass_kg) * GRAVITY,
                                                           rel=0.01)
    w = s.sim.wobble
    # the COP the cells see is the dome's contact plus the friction shift (tenths of a mm)
    gap = np.hypot(*(s.sim.true_cop_mm[on] - w.contact_mm[on]).T)
    assert gap.max() < 1.0 and np.allclose(gap, np.hypot(*w.friction_shift_mm[on].T))
    # the contact stays within the dome's reach of the level point
    assert np.hypot(*(w.contact_mm - (6.0, -4.0)).T).max() <= board.reach_mm + 1e-9


def test_skill_eyes_and_stance_change_the_wobble_and_failing_control_hits_the_rim():
    expert = session(skill=0.9, seed=1, duration_s=60.0)
    middle = session(skill=0.5, seed=1, duration_s=60.0)
    closed = session(skill=0.5, eyes="closed", seed=1, duration_s=60.0)
    novice_one_leg = session(skill=0.2, eyes="closed", stance="right", seed=1, duration_s=60.0)
    assert tilt_rms(expert) < tilt_rms(middle) < tilt_rms(closed) < tilt_rms(novice_one_leg)
    assert not expert.sim.wobble.rim.any()
    contacts = novice_one_leg.true_contacts()
    assert len(contacts) >= 10
    w = novice_one_leg.sim.wobble
    assert (w.rim_share[w.rim] >= 0.15).all()  # a rim impact carries a real share at once
    durations = np.array([b - a for a, b in contacts])
    assert np.median(durations) >= 0.02  # the rim stays down a moment (RIM_RELEASE_DEG)


def test_a_rocker_tilts_one_way_and_its_line_contact_carries_the_athletes_sway():
    s = session("rocker-50x40", stance="right", seed=2, duration_s=20.0)
    w = s.sim.wobble
    on = s.sim.t_s > 3.0
    assert np.abs(w.tilt_deg[on, 1]).max() == 0.0 and np.abs(w.tilt_deg[on, 0]).max() > 3.0
    board = preset("rocker-50x40")
    np.testing.assert_allclose(w.tilt_deg[on, 0],
                               np.degrees((w.contact_mm[on, 0] - 6.0) / board.dome_radius_mm))
    ap = s.sim.true_cop_mm[on, 1] - (-4.0)
    assert ap.std() > 1.0  # the athlete's own AP sway along the cylinder


def test_frame_by_frame_and_vectorized_give_the_same_counts():
    events = [(0.2, "place_wobble_board", {"board": "round-50-trainer"}),
              (0.5, "step_on", {"skill": 0.2, "eyes": "closed", "stance": "left"}),
              (9.0, "step_off", {}), (10.0, "remove_wobble_board", {})]
    whole = simulate(events, duration_s=11.0, seed=4)
    board = SimulatedBoard(realtime=False, seed=4, scenario=events)
    frames = np.array([board.read().counts for _ in range(len(whole.t_s))])
    np.testing.assert_array_equal(frames, whole.counts)
    assert whole.wobble.rim.any()
    assert not whole.wobble.active[whole.t_s >= 10.0].any()


def test_the_wobble_actions_are_checked_and_the_others_unchanged():
    with pytest.raises(SimActionError, match="board: no board preset 'plank'"):
        normalize_action("place_wobble_board", {"board": "plank"})
    with pytest.raises(SimActionError, match=r"level_x_mm must be within -100\.\.100"):
        normalize_action("place_wobble_board", {"level_x_mm": 500})
    assert normalize_action("step_on", {}) == {"mass_kg": 70.0, "stance": "double",
                                               "surface": "firm", "eyes": "open", "skill": 0.5,
                                               "lapses": False}
    sim = simulate([(0.5, "step_on", {}), (1.0, "place_wobble_board", {})], duration_s=2.0)
    assert sim.wobble is None
    assert [(a, why) for _, a, why in sim.skipped] == [
        ("place_wobble_board", "someone is on the board: step off first")]
    assert math.isfinite(sim.total_force_n[-1])
