"""Athlete events: step on/off, weight shift, touch-down, hop landing, push, through counts."""

from __future__ import annotations

import numpy as np
import pytest

from station.board.sim import default_cell_model, load_scenario, scenario_names, simulate
from station.board.sim.athlete import FOOT_X_MM, GRAVITY
from station.geometry import DEFAULT_LAYOUT, cop_from_forces


def window(r, t0, t1):
    return (r.t_s >= t0) & (r.t_s < t1)


def test_empty_board_is_offsets_and_noise_only():
    r = simulate([], duration_s=5.0, seed=2)
    cells = default_cell_model()
    assert (r.total_force_n == 0).all()
    assert np.isnan(r.true_cop_mm).all()
    resid = r.counts - cells.offset_counts
    assert np.abs(resid.mean(axis=0)).max() < 10  # offsets, no load
    assert resid.std(axis=0) == pytest.approx([39.0] * 4, rel=0.2)  # HX711 noise at 80 SPS


def test_step_on_reaches_body_weight_and_step_off_drops_to_zero_in_0_3_s():
    r = simulate("step_off", seed=1)
    w = 80.0 * GRAVITY
    (t_on,), (t_off,) = r.phase_times("step_on"), r.phase_times("step_off")
    assert r.total_force_n[window(r, t_on + 1.0, t_off)] == pytest.approx(w, rel=0.01)
    assert r.total_force_n[r.t_s < t_on].max() == 0
    assert r.total_force_n[window(r, t_off + 0.3, t_off + 0.35)].max() < 0.01 * w
    assert r.total_force_n[window(r, t_off, t_off + 0.1)].min() > 0.8 * w
    assert np.isnan(r.true_cop_mm[r.t_s > t_off + 0.31]).all()


def test_lifting_a_foot_shifts_the_cop_over_the_stance_foot_in_half_to_one_second():
    r = simulate("failed_hold_touch_down", seed=4)  # lifts the right foot at 5 s
    (t_lift,) = r.phase_times("lift_foot")
    x = r.true_cop_mm[:, 0]
    assert abs(np.mean(x[window(r, t_lift - 1, t_lift)])) < 10
    assert np.mean(x[window(r, t_lift + 1.0, t_lift + 3)]) == pytest.approx(-FOOT_X_MM, abs=8)
    # time to cover 90 % of the shift
    moved = np.flatnonzero((x < -0.9 * FOOT_X_MM) & (r.t_s > t_lift))[0]
    assert 0.4 <= r.t_s[moved] - t_lift <= 1.0


def test_touch_down_on_board_keeps_weight_and_moves_cop_to_midline():
    r = simulate("failed_hold_touch_down", seed=4)
    (t_td,) = r.phase_times("touch_down")
    w = 64.0 * GRAVITY
    before = window(r, t_td - 1.0, t_td)
    after = window(r, t_td + 0.3, t_td + 0.9)
    assert r.total_force_n[after] == pytest.approx(w, rel=0.02)
    shift = np.mean(r.true_cop_mm[after, 0]) - np.mean(r.true_cop_mm[before, 0])
    assert shift > 40  # toward the midline, from the left foot (x = -90)


def test_touch_down_beside_the_board_drops_force():
    events = [
        (0, "step_on", {"mass_kg": 70}),
        (3, "lift_foot", {"side": "left"}),
        (8, "touch_down", {"on_board": False}),
    ]
    r = simulate(events, duration_s=10, seed=0)
    w = 70 * GRAVITY
    assert np.mean(r.total_force_n[window(r, 8.3, 10)]) == pytest.approx(0.65 * w, rel=0.01)
    assert np.mean(r.true_cop_mm[window(r, 8.3, 10), 0]) == pytest.approx(FOOT_X_MM, abs=10)


def test_hop_flight_landing_peak_and_settling():
    r = simulate("hop_landing", seed=5)
    w = 70.0 * GRAVITY
    (t_fl,), (t_land,) = r.phase_times("flight"), r.phase_times("landing")
    flight = window(r, t_fl + 0.0125, t_land)
    assert 0.2 <= t_land - t_fl <= 0.3
    assert r.total_force_n[flight].max() < 1.0
    landing = window(r, t_land, t_land + 1.5)
    peak = r.total_force_n[landing].max() / w
    assert 2.0 <= peak <= 3.5
    assert r.t_s[landing][np.argmax(r.total_force_n[landing])] - t_land < 0.1
    # damped oscillation: goes below body weight after the peak, then settles within ~1 s
    assert r.total_force_n[window(r, t_land + 0.1, t_land + 0.5)].min() < 0.9 * w
    settled = r.total_force_n[window(r, t_land + 1.0, t_land + 1.5)] / w
    assert np.abs(settled - 1).max() < 0.05


def test_vertical_force_fluctuates_a_little_more_on_one_leg():
    events = [(0, "step_on", {"mass_kg": 70}), (20, "lift_foot", {"side": "left"})]
    r = simulate(events, duration_s=40, seed=3)
    w = 70 * GRAVITY
    double = r.total_force_n[window(r, 5, 20)] / w
    single = r.total_force_n[window(r, 25, 40)] / w
    assert np.mean(double) == pytest.approx(1.0, abs=0.001)
    assert 0.0005 <= np.std(double) <= 0.002  # ~0.1 % BW, under 1 N for 70 kg
    assert 2 * np.std(double) <= np.std(single) <= 0.01


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_push_moves_the_cop_tens_of_mm_and_it_recovers(seed):
    r = simulate("push", seed=seed)
    t_push = r.phase_times("push")[0]  # forward, 6 N s on 75 kg
    pre = np.nanmean(r.true_cop_mm[window(r, t_push - 2, t_push)], axis=0)
    excursion = r.true_cop_mm[window(r, t_push, t_push + 1.5)] - pre
    assert 20 <= excursion[:, 1].max() <= 80  # visible over the sway
    # Same seed without the pushes: identical noise, so the difference is the push response.
    quiet = simulate(
        [e for e in load_scenario("push").events if e.action != "push"],
        seed=seed,
        duration_s=r.t_s[-1] + 1 / 80,
    )
    response = r.true_cop_mm - quiet.true_cop_mm
    during = window(r, t_push, t_push + 1.5)
    peak = np.argmax(response[during, 1])
    assert 30 <= response[during, 1][peak] <= 60
    assert 0.2 <= r.t_s[during][peak] - t_push <= 0.8
    assert np.abs(response[window(r, t_push - 1, t_push)]).max() < 1e-9  # nothing before
    assert np.abs(response[window(r, t_push + 3, t_push + 4.5)]).max() < 5  # recovered


def test_counts_carry_forces_and_cop():
    r = simulate("single_leg_hold", seed=7)
    cells = default_cell_model()
    ideal = (
        r.cell_forces_n
        / cells.newtons_per_count
        * (1 + cells.nonlinearity * r.cell_forces_n / cells.full_scale_n)
    )
    forces_back = (r.counts - cells.offset_counts) * cells.newtons_per_count
    assert np.abs(r.counts - cells.offset_counts - ideal).std() < 50
    on = r.total_force_n > 100
    _, cop = cop_from_forces(forces_back[on], DEFAULT_LAYOUT.positions)
    err = np.abs(cop - r.true_cop_mm[on])
    assert np.percentile(err, 99) < 6  # non-linearity and noise only (no calibration applied)


def test_same_seed_same_numbers_and_seeds_differ():
    a, b = simulate("push", seed=3), simulate("push", seed=3)
    c = simulate("push", seed=4)
    assert np.array_equal(a.counts, b.counts)
    assert not np.array_equal(a.counts, c.counts)


def test_shipped_scenarios_run_without_skipped_actions():
    assert {"single_leg_hold", "failed_hold_touch_down", "step_off", "hop_landing", "push"} <= set(
        scenario_names()
    )
    for name in scenario_names():
        sc = load_scenario(name)
        r = simulate(sc, seed=0)
        assert r.skipped == []
        assert len(r.t_s) == round(sc.end_s * 80)
        assert r.counts.dtype == np.int64 and r.counts.shape == (len(r.t_s), 4)


def test_labels_follow_phase_marks():
    r = simulate("single_leg_hold", seed=0)
    labels = r.labels()
    assert labels[0] == ""
    assert labels[np.searchsorted(r.t_s, 10.0)] == "hold"
    assert labels[-1] == "off"


def test_actions_on_an_empty_board_are_skipped_not_fatal():
    r = simulate([(1, "lift_foot", {"side": "left"}), (2, "hop", {})], duration_s=3)
    assert [s[1] for s in r.skipped] == ["lift_foot", "hop"]
    assert (r.total_force_n == 0).all()
