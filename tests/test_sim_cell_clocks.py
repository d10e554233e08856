"""The simulated board with each chip on its own clock: values at each cell's own instant."""

from __future__ import annotations

import numpy as np
import pytest

from station.board.cell_model import CellModel
from station.board.oscillator import ChipClocks, ReadSchedule
from station.board.sim import SimEngine, SimulatedBoard, simulate
from station.board.sim.scenario import load_scenario

CLOCKS = ChipClocks.internal(spread=0.03, drift_amplitude=0.002, seed=3)


def quiet_engine(seed: int = 1, **kwargs) -> SimEngine:
    """Ideal cells without noise: counts are exactly force / 0.00025 N."""
    return SimEngine(seed=seed, cells=CellModel(noise_counts_rms=0.0), history_s=None, **kwargs)


def test_the_trajectory_between_samples_meets_the_samples_and_follows_the_landing():
    engine = quiet_engine()
    engine.schedule_events(load_scenario("hop_landing"), t0_s=0.0)
    chunk = engine.advance(1200)
    at_samples = engine.state_at(chunk.t_s[:-3])
    np.testing.assert_array_equal(at_samples.cell_forces_n, chunk.cell_forces_n[:-3])
    np.testing.assert_array_equal(at_samples.total_force_n, chunk.total_force_n[:-3])
    # Between samples the landing is its analytic shape (the sway's vertical part is tiny),
    # not a chord between samples 12.5 ms apart.
    t_land = 8.0 + 0.40 + 0.25
    t = t_land + np.arange(0.002, 0.2, 0.0031)
    state = engine.state_at(t)
    exact = engine.athlete.force_fraction(t) * engine.athlete.weight_n
    np.testing.assert_allclose(state.total_force_n, exact, rtol=0.01)
    chord = np.interp(t, chunk.t_s, chunk.total_force_n)
    assert np.abs(chord - exact).max() > 10 * np.abs(state.total_force_n - exact).max()


def test_engine_with_history_still_equals_simulate():
    res = simulate("push", seed=4, duration_s=5.0)
    engine = SimEngine(seed=4, history_s=None)
    engine.schedule_events(load_scenario("push"), t0_s=0.0)
    np.testing.assert_array_equal(engine.advance(400).counts, res.counts)


def test_counts_at_gives_each_cell_its_own_instant_during_a_landing():
    engine = quiet_engine()
    engine.schedule_events(load_scenario("hop_landing"), t0_s=0.0)
    t_land = 8.0 + 0.40 + 0.25  # hop at 8 s: push-off 0.4 s, flight 0.25 s
    instants = np.array([[t_land + 0.020, t_land + 0.025, t_land + 0.030, t_land + 0.035]])
    counts = engine.counts_at(instants)[0]
    truth = engine.state_at(instants[0]).cell_forces_n  # row r: every cell at instant r
    expected = np.rint(np.diag(truth) / 0.00025)
    np.testing.assert_allclose(counts, expected, atol=1)
    same_instant = np.rint(truth[0] / 0.00025)
    assert np.abs(counts - same_instant).max() > 10_000  # the skew matters while landing


def test_board_on_chip_clocks_forms_frames_like_the_driver_and_knows_the_offsets():
    board = SimulatedBoard(realtime=False, seed=2, scenario="single_leg_hold", chips=CLOCKS,
                           cells=CellModel(noise_counts_rms=0.0), history_s=None)
    frames = [board.read() for _ in range(800)]
    reads = ReadSchedule(CLOCKS)
    for frame in frames[:50]:
        t_read, cells = reads.next()
        assert frame.t_ns == t_read
        assert frame.cell_dt_ns == tuple(c - t_read for c in cells)
    t = np.array([f.t_ns for f in frames]) / 1e9
    assert np.diff(t).mean() == pytest.approx(1 / min(CLOCKS.rates_hz), rel=0.01)  # slowest
    last = frames[-1]
    instants = (last.t_ns + np.array(last.cell_dt_ns)) / 1e9
    forces = board.engine.state_at(instants).cell_forces_n
    np.testing.assert_allclose(last.counts, np.rint(np.diag(forces) / 0.00025), atol=1)


def test_board_on_a_shared_clock_reads_simultaneous_conversions():
    board = SimulatedBoard(realtime=False, seed=2, chips=ChipClocks.shared_clock(seed=1))
    frames = [board.read() for _ in range(100)]
    assert all(f.cell_dt_ns == (0, 0, 0, 0) for f in frames)


def test_gpio_path_on_chip_clocks_runs_the_driver_on_each_chips_schedule():
    board = SimulatedBoard(realtime=False, seed=5, scenario="push", chips=CLOCKS,
                           through_gpio=True, cells=CellModel(noise_counts_rms=0.0))
    assert board.kind == "emulator"
    frames = [board.read() for _ in range(400)]
    emulator = board._gpio.emulator
    assert [c.rate_hz for c in emulator.chips] == list(CLOCKS.rates_hz)
    assert all(f.valid for f in frames)
    last = frames[-1]
    truth = emulator.latched_conversions_ns()
    assert [last.t_ns + d for d in last.cell_dt_ns] == pytest.approx(truth, abs=300_000)
    forces = board.engine.state_at(np.array(truth) / 1e9).cell_forces_n
    np.testing.assert_allclose(last.counts, np.rint(np.diag(forces) / 0.00025), atol=1)
    assert board.dropped_frames == 0


def test_gpio_path_on_chip_clocks_in_real_time():
    """Real clock: values for each chip's next conversions are ready before it is clocked.
    (Host load may stretch a pulse and cost a few frames; the test only needs some timed.)"""
    board = SimulatedBoard(realtime=True, seed=5, chips=CLOCKS, through_gpio=True)
    timed = reads = 0
    while timed < 10 and reads < 200:
        frame = board.read()
        reads += 1
        timed += frame.valid and frame.cell_dt_ns is not None
    board.close()
    assert timed == 10
    assert board._gpio.late_samples <= reads // 10
