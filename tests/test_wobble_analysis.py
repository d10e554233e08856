"""Tilt and rim contacts from the COP of simulated wobble holds; the trial pipeline's block."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from wobble_fixtures import SIM_CAL, STEP_ON_S, session

from station.analysis.pipeline import analyze_frames
from station.analysis.wobble import analyze_wobble
from station.analysis.wobble.contacts import find_rim_contacts, side_of
from station.analysis.wobble.tilt import contact_from_cop, gravity_line_com
from station.wobble import WobbleSetup, preset


def dome_errors(s, result) -> np.ndarray:
    k = np.searchsorted(s.sim.t_s, result.t_s[0] - 1e-9)
    truth = s.sim.wobble
    sl = slice(k, k + len(result.t_s))
    keep = ~truth.rim[sl] & (result.t_s > STEP_ON_S + 2.0)
    return np.hypot(*(result.tilt_deg - truth.tilt_deg[sl])[keep].T)


@pytest.mark.parametrize("board", ["round-40-hemisphere", "round-40-low-dome", "rocker-50x40"])
def test_tilt_from_the_cop_follows_the_truth_and_finds_every_rim_contact(board: str):
    s = session(board, stance="right", skill=0.2, eyes="closed", seed=3, duration_s=40.0)
    sel = s.sim.t_s >= STEP_ON_S
    result = analyze_wobble(s.sim.t_s[sel], s.total_n[sel], s.cop_mm[sel], s.setup)
    err = dome_errors(s, result)
    assert np.sqrt(np.mean(err**2)) < 0.1 and err.max() < 0.5
    truth = [c for c in s.true_contacts() if c[0] > STEP_ON_S + 0.5 and c[0] < 39.9]
    assert len(truth) >= 3
    for onset, _end in truth:  # each true contact found, dated within a frame of its onset
        assert any(abs(c.start_s - onset) <= 0.0125 + 1e-9 or c.start_s <= onset <= c.end_s
                   for c in result.contacts), onset
    for c in result.contacts:  # and nothing else
        assert any(a - 0.05 <= c.start_s <= b + 0.05 for a, b in s.true_contacts())
    assert result.measures["rim_contacts"]["count"] == len(result.contacts)


def test_a_controlled_hold_has_no_rim_contact_and_the_friction_correction_helps():
    s = session("round-40-hemisphere", stance="right", skill=0.8, seed=5, duration_s=60.0)
    sel = s.sim.t_s >= STEP_ON_S
    args = (s.sim.t_s[sel], s.total_n[sel], s.cop_mm[sel])
    corrected = analyze_wobble(*args, s.setup)
    raw = analyze_wobble(*args, dataclasses.replace(s.setup, surface_height_mm=0.0))
    assert corrected.contacts == () and not corrected.rim.any()
    rms = [float(np.sqrt(np.mean(dome_errors(s, r) ** 2))) for r in (corrected, raw)]
    assert rms[0] < 0.5 * rms[1]
    assert corrected.measures["friction_correction"]["applied"]


def test_rim_contacts_of_a_made_up_trace_and_their_side():
    board = preset("round-40-hemisphere")
    t = np.arange(40) / 80.0
    offset = np.zeros((40, 2))
    offset[10:14] = (0.0, board.reach_mm + 2 * board.rim_margin_mm)  # 4 frames, in front
    offset[20] = (board.reach_mm + 2 * board.rim_margin_mm, 0.0)  # one frame: a glitch
    offset[30:33] = (-(board.reach_mm + 0.7 * board.rim_margin_mm), 0.0)  # never past the margin
    mask, contacts = find_rim_contacts(t, offset, board)
    assert [(c.start_s, c.side) for c in contacts] == [(10 / 80, "front")]
    assert contacts[0].duration_s == pytest.approx(4 / 80) and mask.sum() == 4
    assert [side_of(a) for a in (0, 22, 23, 180, -90, -135)] == [
        "right", "right", "front-right", "left", "back", "back-left"]


def test_a_deck_tared_with_the_board_on_is_added_back_at_the_level_point():
    setup = WobbleSetup(preset("round-40-hemisphere"), level_mm=(10.0, 0.0), deck_tared=True)
    w = setup.deck_weight_n
    contact, load = contact_from_cop(np.array([[30.0, 0.0]]), np.array([700.0]), setup)
    assert load[0] == pytest.approx(700.0 + w)
    assert contact[0, 0] == pytest.approx((700.0 * 30.0 + w * 10.0) / (700.0 + w))


def test_the_gravity_line_com_lags_the_cop_like_an_inverted_pendulum():
    rate, h = 80.0, 1050.0
    t = np.arange(0, 60, 1 / rate)
    omega = 2 * np.pi * 1.0
    p = np.column_stack([np.sin(omega * t), np.zeros_like(t)])
    c = gravity_line_com(p, rate, h)
    w2 = 9806.65 / h
    mid = slice(800, -800)  # away from the ends
    np.testing.assert_allclose(c[mid, 0], p[mid, 0] * w2 / (w2 + omega**2), atol=2e-3)


def test_the_pipeline_adds_wobble_measures_to_wobble_trials_only():
    s = session("round-40-hemisphere", stance="double", skill=0.6, seed=6, duration_s=14.0)
    sel = s.sim.t_s >= 3.0
    t_ns = np.round(s.sim.t_s[sel] * 1e9).astype(np.int64)
    common = dict(stance="double", eyes="open", completed=True, time_to_failure_s=None,
                  planned_duration_s=11.0)
    cal = SIM_CAL.to_dict()
    metrics, _, _ = analyze_frames(t_ns, s.sim.counts[sel], cal, surface="wobble", **common)
    wobble = metrics["wobble"]
    assert wobble["setup"] == "default" and wobble["board"]["name"] == "round-40-hemisphere"
    assert set(wobble["stability_index_deg"]) == {"overall", "ap", "ml"}
    assert wobble["stability_index_deg"]["overall"] > 0.5
    given, _, _ = analyze_frames(t_ns, s.sim.counts[sel], cal, surface="wobble",
                                 wobble_setup=s.setup, **common)
    assert given["wobble"]["setup"] == "given" and given["wobble"]["level_mm"] == [6.0, -4.0]
    firm, _, _ = analyze_frames(t_ns, s.sim.counts[sel], cal, surface="firm", **common)
    assert "wobble" not in firm
