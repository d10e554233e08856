"""The biofeedback games' measures on hand-made COP traces with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from station.analysis.metrics.maze import maze_metrics
from station.analysis.metrics.stability_limits import ONSET_FRACTION, los_metrics
from station.analysis.metrics.toe_taps import toe_tap_metrics
from station.analysis.metrics.weight_shift import weight_shift_metrics
from station.analysis.scoring import score_trial
from station.protocols.games import (
    DIRECTIONS,
    THEORETICAL_LIMITS_MM,
    GameSpec,
    los_cue_times,
    maze_targets_mm,
    unit_vector,
    weight_shift_at,
    weight_shift_path,
)

RATE = 100.0
DOUBLE = {"stance": "double", "eyes": "open", "surface": "firm"}


def times(duration_s: float) -> np.ndarray:
    return np.arange(int(duration_s * RATE)) / RATE


# ------------------------------------------------------------------------ weight shift
def test_the_live_and_the_vectorized_target_are_the_same_formula() -> None:
    game = GameSpec(axis="ap", envelope_mm=(100, 90, 80, 70, 60, 70, 80, 90))
    t = np.linspace(0, 25, 777)
    path = weight_shift_path(t, game)
    live = np.array([weight_shift_at(float(v), game) for v in t])
    assert np.allclose(path, live)
    # out to half the envelope forward and half of it backward
    assert path[:, 1].max() == pytest.approx(50.0, abs=0.1)
    assert path[:, 1].min() == pytest.approx(-30.0, abs=0.1)
    assert np.all(path[:, 0] == 0)


def test_a_perfect_follower_has_no_error_and_is_always_in_the_band() -> None:
    game = GameSpec(axis="ml")
    t = times(30)
    target = weight_shift_path(t, game)
    m = weight_shift_metrics(t, target[:, 0], target[:, 1], game)
    assert m["rms_error_mm"] == pytest.approx(0.0, abs=1e-9)
    assert m["time_in_band_pct"] == pytest.approx(100.0)
    assert m["lag_s"] == pytest.approx(0.0)


def test_a_constant_offset_is_the_rms_error_and_decides_the_band() -> None:
    game = GameSpec(axis="ap", band_mm=15.0)
    t = times(20)
    target = weight_shift_path(t, game)
    near = weight_shift_metrics(t, target[:, 0] + 6.0, target[:, 1] + 8.0, game)
    assert near["rms_error_mm"] == pytest.approx(10.0)  # a 6-8-10 triangle
    assert near["rms_error_axis_mm"] == pytest.approx(8.0)
    assert near["rms_error_off_axis_mm"] == pytest.approx(6.0)
    assert near["time_in_band_pct"] == pytest.approx(100.0)
    far = weight_shift_metrics(t, target[:, 0] + 20.0, target[:, 1], game)
    assert far["time_in_band_pct"] == pytest.approx(0.0)


def test_half_the_time_out_of_the_band_and_a_known_lag() -> None:
    game = GameSpec(axis="ap", band_mm=15.0)
    t = times(20)
    target = weight_shift_path(t, game)
    x = np.where(t < 10.0, 0.0, 30.0)  # off by 30 mm sideways for the second half
    m = weight_shift_metrics(t, x, target[:, 1], game)
    assert m["time_in_band_pct"] == pytest.approx(50.0, abs=0.1)
    lagged = weight_shift_path(t - 0.6, game)  # 0.6 s behind the target
    assert weight_shift_metrics(t, lagged[:, 0], lagged[:, 1], game)["lag_s"] == (
        pytest.approx(0.6, abs=0.011))


def test_weight_shift_scores_higher_when_tracking_is_closer() -> None:
    game = GameSpec()
    t = times(30)
    target = weight_shift_path(t, game)
    scores = []
    for offset in (0.0, 12.0, 40.0):
        m = {"weight_shift": weight_shift_metrics(t, target[:, 0] + offset, target[:, 1], game)}
        scores.append(score_trial(m, DOUBLE, True, None, 30.0, task="weight_shift").total)
    assert scores[0] == pytest.approx(100.0)
    assert scores[0] > scores[1] > scores[2] == pytest.approx(0.0)


# -------------------------------------------------------------------- limits of stability
GAME_LOS = GameSpec(lead_s=1.0, lean_s=4.0, return_s=2.0)
REACT_S, SPEED, REACH, CREEP = 0.4, 100.0, 80.0, 10.0


def los_trace(off_axis_mm: float = 0.0, skip: int | None = None) -> tuple[np.ndarray, ...]:
    """Each direction: still for REACT_S after the cue, a straight ramp at SPEED mm/s to REACH
    mm, 0.5 s still, a slow creep (5 mm/s) CREEP mm further, back to the centre at the return
    cue. off_axis_mm: a sideways step halfway along the ramp (extraneous movement)."""
    t = times(GAME_LOS.duration_needed_s("limits_of_stability") + 0.5)
    centre = np.array([3.0, -4.0])
    cop = np.tile(centre, (t.size, 1))
    for k, cue in enumerate(los_cue_times(GAME_LOS)):
        if k == skip:
            continue
        ux, uy = unit_vector(k)
        tau = t - cue - REACT_S
        ramp_s = REACH / SPEED
        along = np.clip(tau, 0.0, ramp_s) * SPEED
        along += np.clip(tau - ramp_s - 0.5, 0.0, CREEP / 5.0) * 5.0
        across = np.where(tau > ramp_s / 2, off_axis_mm, 0.0)
        active = (t >= cue) & (t < cue + GAME_LOS.lean_s)
        cop[active, 0] += along[active] * ux + across[active] * uy
        cop[active, 1] += along[active] * uy - across[active] * ux
    return t, cop[:, 0], cop[:, 1]


def test_los_measures_of_a_straight_lean_in_every_direction() -> None:
    t, x, y = los_trace()
    m = los_metrics(t, x, y, GAME_LOS)
    assert m["centre_mm"] == pytest.approx([3.0, -4.0])
    assert m["directions_reached"] == 8
    for k, name in enumerate(DIRECTIONS):
        d = m["by_direction"][name]
        limit = THEORETICAL_LIMITS_MM[k]
        onset = REACT_S + ONSET_FRACTION * limit / SPEED
        assert d["reaction_time_s"] == pytest.approx(onset, abs=0.011), name
        assert d["movement_velocity_mm_s"] == pytest.approx(SPEED, rel=0.01), name
        assert d["endpoint_excursion_pct"] == pytest.approx(100 * REACH / limit, rel=0.01), name
        assert d["max_excursion_mm"] == pytest.approx(REACH + CREEP, abs=0.01), name
        assert d["max_excursion_pct"] == pytest.approx(100 * (REACH + CREEP) / limit), name
        assert d["directional_control_pct"] == pytest.approx(100.0), name
    assert m["envelope_mm"] == pytest.approx([REACH + CREEP] * 8, abs=0.01)


def test_los_directional_control_counts_the_extraneous_movement() -> None:
    t, x, y = los_trace(off_axis_mm=8.0)
    m = los_metrics(t, x, y, GAME_LOS)
    # on-axis progress from the onset to the endpoint, 8 mm sideways: (on - 8) / on
    for k, name in enumerate(DIRECTIONS):
        on = REACH - ONSET_FRACTION * THEORETICAL_LIMITS_MM[k]
        got = m["by_direction"][name]["directional_control_pct"]
        assert got == pytest.approx(100 * (on - 8.0) / on, abs=1.5), name


def test_a_direction_never_leaned_in_gives_no_envelope() -> None:
    t, x, y = los_trace(skip=3)
    m = los_metrics(t, x, y, GAME_LOS)
    assert m["directions_reached"] == 7
    assert m["by_direction"]["back-right"]["reaction_time_s"] is None
    assert m["envelope_mm"] is None
    # the composite is the mean over the directions reached
    assert m["movement_velocity_mm_s"] == pytest.approx(SPEED, rel=0.01)


# ---------------------------------------------------------------------------- maze
def visit(targets: np.ndarray, stay_s: float, move_s: float, start_s: float = 0.5,
          back: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """The COP jumps into each target in turn (move_s apart) and stays there until the next
    jump, or (back=True) only stay_s before going back to the centre."""
    t = times(start_s + len(targets) * (move_s + stay_s) + 1.0)
    cop = np.zeros((t.size, 2))
    arrivals = []
    for i, p in enumerate(targets):
        t_in = start_s + i * (move_s + stay_s) + move_s
        arrivals.append(t_in)
        cop[t >= t_in] = p
        if back:
            cop[t >= t_in + stay_s] = 0.0
    return t, cop[:, 0], cop[:, 1], arrivals


def test_maze_targets_sit_inside_the_envelope() -> None:
    envelope = (60.0, 50.0, 70.0, 40.0, 45.0, 40.0, 70.0, 50.0)
    targets = maze_targets_mm(GameSpec(envelope_mm=envelope, targets=12))
    assert targets.shape == (12, 2)
    angle = np.degrees(np.arctan2(targets[:, 1], targets[:, 0]))
    r = np.hypot(targets[:, 0], targets[:, 1])
    reach = [envelope[int(np.argmin(np.abs((a - np.array([90, 45, 0, -45, -90, -135, 180, 135])
                                            + 180) % 360 - 180)))] for a in angle]
    assert np.all(r <= 0.9 * np.array(reach) + 1e-9)


def test_maze_collects_each_target_after_its_dwell() -> None:
    game = GameSpec(targets=4, dwell_s=0.5, target_radius_mm=10.0)
    targets = maze_targets_mm(game)
    t, x, y, arrivals = visit(targets, stay_s=1.0, move_s=1.5)
    m = maze_metrics(t, x, y, game)
    assert m["targets_reached"] == 4 and m["targets_reached_pct"] == 100.0
    collected = np.array(arrivals) + 0.5
    want = np.diff(np.r_[0.0, collected])
    assert m["target_times_s"] == pytest.approx(want, abs=0.011)
    assert m["completion_time_s"] == pytest.approx(collected[-1], abs=0.011)
    assert m["time_per_target_s"] == pytest.approx(collected[-1] / 4, abs=0.011)
    assert m["path_efficiency_pct"] == pytest.approx(100.0)  # straight jumps


def test_a_pass_through_a_target_is_not_a_collection() -> None:
    game = GameSpec(targets=3, dwell_s=0.5, target_radius_mm=10.0)
    targets = maze_targets_mm(game)
    t, x, y, _ = visit(targets, stay_s=0.3, move_s=1.0, back=True)  # too short a stay
    m = maze_metrics(t, x, y, game)
    assert m["targets_reached"] == 0 and m["time_per_target_s"] is None
    assert m["completion_time_s"] is None and m["path_efficiency_pct"] is None


# ------------------------------------------------------------------------- toe taps
BW = 700.0


def taps_trace(tap_times: list[float], tap_s: float = 0.25, dip_frac: float = 0.08,
               down_at: float | None = None, sway_out: tuple[float, float] | None = None
               ) -> tuple[np.ndarray, ...]:
    t = times(20)
    f = np.full(t.size, BW)
    for tt in tap_times:
        f[(t >= tt) & (t < tt + tap_s)] = BW * (1 - dip_frac)
    if down_at is not None:
        f[(t >= down_at) & (t < down_at + 2.0)] = BW * 0.65
    x = np.full(t.size, 90.0)
    y = np.zeros(t.size)
    if sway_out is not None:
        lo, hi = sway_out
        x[(t >= lo) & (t < hi)] = 90.0 + 50.0
    return t, f, x, y


def test_steady_taps_are_counted_with_their_rhythm() -> None:
    game = GameSpec(tap_interval_s=1.5)
    beats = [1.5 * k for k in range(1, 13)]  # 12 taps in 20 s, one every 1.5 s
    m = toe_tap_metrics(*taps_trace(beats), BW, game)
    assert m["taps"] == 12 and m["expected_taps"] == 13
    assert m["taps_pct"] == pytest.approx(100 * 12 / 13)
    assert m["tap_times_s"] == pytest.approx(beats, abs=0.011)
    assert m["mean_interval_s"] == pytest.approx(1.5, abs=0.011)
    assert m["interval_cv"] == pytest.approx(0.0, abs=0.01)
    assert m["lost_control"] == 0 and m["foot_downs"] == 0
    assert m["between_taps_velocity_mm_s"] == pytest.approx(0.0)


def test_uneven_taps_have_a_known_interval_cv() -> None:
    beats = [1.0, 2.0, 4.0, 5.0, 7.0]  # intervals 1, 2, 1, 2: mean 1.5, std 0.5
    m = toe_tap_metrics(*taps_trace(beats), BW, GameSpec(tap_interval_s=1.5))
    assert m["taps"] == 5
    assert m["interval_cv"] == pytest.approx(0.5 / 1.5, abs=0.01)
    assert m["rhythm_error_s"] == pytest.approx(0.5, abs=0.011)


def test_a_foot_put_down_and_a_sway_out_are_lost_control_not_taps() -> None:
    beats = [1.5, 3.0, 4.5]
    m = toe_tap_metrics(*taps_trace(beats, down_at=8.0, sway_out=(12.0, 13.0)), BW, GameSpec())
    assert m["taps"] == 3
    assert m["foot_downs"] == 1
    assert m["lost_control"] == 2
    # too light or too short a dip is no tap
    assert toe_tap_metrics(*taps_trace(beats, dip_frac=0.01), BW, GameSpec())["taps"] == 0
    assert toe_tap_metrics(*taps_trace(beats, tap_s=0.03), BW, GameSpec())["taps"] == 0


def test_toe_tap_scores_fall_with_lost_control() -> None:
    beats = [1.5 * k for k in range(1, 13)]
    steady = {"toe_taps": toe_tap_metrics(*taps_trace(beats), BW, GameSpec())}
    shaky = {"toe_taps": toe_tap_metrics(*taps_trace(beats[:6], down_at=10.0,
                                                      sway_out=(15.0, 16.0)), BW, GameSpec())}
    single = {"stance": "single-left", "eyes": "open", "surface": "firm"}
    a = score_trial(steady, single, True, None, 20.0, task="toe_taps").total
    b = score_trial(shaky, single, True, None, 20.0, task="toe_taps").total
    assert a > 90.0 > b
    assert math.isfinite(b)
