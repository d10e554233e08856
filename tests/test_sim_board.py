"""SimulatedBoard: control API, agreement with simulate(), pacing, demo mode, GPIO path."""

from __future__ import annotations

import threading
import time
from collections import Counter

import numpy as np
import pytest

from station.board.factory import open_board
from station.board.sim import (
    SimActionError,
    SimEngine,
    SimulatedBoard,
    default_cell_model,
    simulate,
)
from station.board.sim.athlete import GRAVITY
from station.board.spec import BoardOptions
from station.frames import COUNTS_MAX, COUNTS_MIN, Frame, FrameFlag


def read_n(board, n: int) -> list[Frame]:
    return [board.read() for _ in range(n)]


def load_n(frames: list[Frame]) -> np.ndarray:
    """Approximate total force (N) of frames using the default cells' true gains."""
    cells = default_cell_model()
    counts = np.array([f.counts for f in frames])
    return ((counts - cells.offset_counts) * cells.newtons_per_count).sum(axis=1)


def test_board_without_scenario_is_empty_and_stamped_with_sim_time():
    board = SimulatedBoard(realtime=False, seed=1)
    assert board.kind == "sim"
    frames = read_n(board, 80)
    assert [f.t_ns for f in frames[:3]] == [0, 12_500_000, 25_000_000]
    assert all(f.valid for f in frames)
    assert np.abs(load_n(frames)).max() < 0.2  # nobody on it: noise only
    c = np.array([f.counts for f in frames])
    assert c.min() > COUNTS_MIN and c.max() < COUNTS_MAX


def test_board_frames_equal_simulate_for_the_same_scenario_and_seed():
    r = simulate("hop_landing", seed=11)
    board = SimulatedBoard(realtime=False, seed=11, scenario="hop_landing")
    counts = np.array([f.counts for f in read_n(board, len(r.t_s))])
    assert np.array_equal(counts, r.counts)


def test_perform_applies_at_the_next_frame():
    board = SimulatedBoard(realtime=False, seed=2)
    read_n(board, 40)
    board.perform("step_on", mass_kg=80.0)
    assert load_n(read_n(board, 1))[0] < 60  # ramp starts at this frame: little load yet
    assert load_n(read_n(board, 160))[-1] == pytest.approx(80 * GRAVITY, rel=0.02)
    (mark,) = [p for p in board.phases if p.label == "step_on"]
    assert mark.t_s == pytest.approx(40 / 80)
    board.perform("lift_foot", side="left")
    board.perform("step_off")
    read_n(board, 80)
    assert abs(load_n(read_n(board, 1))[0]) < 1.0


def test_perform_rejects_bad_actions_at_once():
    board = SimulatedBoard(realtime=False)
    with pytest.raises(SimActionError, match="unknown action"):
        board.perform("cartwheel")
    with pytest.raises(SimActionError, match="mass_kg"):
        board.perform("step_on", mass_kg=-5)
    with pytest.raises(SimActionError, match="stance"):
        board.perform("step_on", stance="both")
    with pytest.raises(SimActionError, match="unknown parameter"):
        board.perform("lift_foot", foot="left")
    with pytest.raises(SimActionError, match="direction"):
        board.perform("push", direction="up")


def test_run_scenario_counts_from_the_next_frame():
    board = SimulatedBoard(realtime=False, seed=3)
    read_n(board, 80)
    board.run_scenario([(0.5, "step_on", {"mass_kg": 60})])
    read_n(board, 200)
    assert [p.t_s for p in board.phases if p.label == "step_on"] == [pytest.approx(1.5)]


def test_perform_from_another_thread_while_reading():
    board = SimulatedBoard(realtime=False, seed=4)
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            board.read()

    th = threading.Thread(target=reader)
    th.start()
    try:
        board.perform("step_on", mass_kg=70.0)
        time.sleep(0.2)
    finally:
        stop.set()
        th.join()
    assert board.athlete.on_board


def test_realtime_paces_to_the_monotonic_clock():
    board = SimulatedBoard(realtime=True, seed=5)
    t0 = time.monotonic_ns()
    frames = read_n(board, 16)
    elapsed = time.monotonic_ns() - t0
    assert 0.17e9 <= elapsed <= 0.5e9  # 16 frames at 80 Hz = 0.2 s
    stamps = np.diff([f.t_ns for f in frames])
    assert (stamps > 0).all() and np.median(stamps) == pytest.approx(12.5e6, rel=0.05)
    assert abs(frames[-1].t_ns - time.monotonic_ns()) < 0.1e9


def test_realtime_slow_reader_drops_frames_like_the_hx711():
    board = SimulatedBoard(realtime=True, seed=5)
    board.read()
    time.sleep(0.1)  # eight periods
    board.read()
    assert board.dropped_frames >= 5
    assert board.sim_time_s == pytest.approx(board.dropped_frames / 80 + 2 / 80)


def test_demo_keeps_athletes_coming_deterministically():
    a = SimEngine(seed=9, demo=True)
    a.advance(80 * 600)
    labels = Counter(p.label for p in a.athlete.phases)
    for label in ("step_on", "lift_foot", "hop", "landing", "step_off"):
        assert labels[label] >= 5, labels
    assert labels["step_on"] == labels["step_off"] or labels["step_on"] == labels["step_off"] + 1
    masses = {p.detail["mass_kg"] for p in a.athlete.phases if p.label == "step_on"}
    assert len(masses) >= 5 and min(masses) >= 45 and max(masses) <= 100
    assert a.athlete.skipped == []
    b = SimEngine(seed=9, demo=True)
    b.advance(80 * 600)
    assert [(p.t_s, p.label) for p in b.athlete.phases] == [
        (p.t_s, p.label) for p in a.athlete.phases
    ]


def test_demo_board_and_failed_holds_happen():
    touchdowns = 0
    for seed in range(3):
        e = SimEngine(seed=seed, demo=True)
        e.advance(80 * 300)
        touchdowns += sum(p.label == "touch_down" for p in e.athlete.phases)
    assert touchdowns >= 1
    board = SimulatedBoard(realtime=False, seed=1, demo=True)
    assert load_n(read_n(board, 80 * 4)).max() > 300  # someone stepped on within 4 s


def test_demo_memory_stays_flat():
    e = SimEngine(seed=2, demo=True)
    for _ in range(60):
        e.advance(80 * 60)  # one hour
    ath = e.athlete
    assert len(ath.phases) <= 1000 and len(ath.fraction._start) < 50
    assert len(ath.pushes) < 10 and len(ath.landings) < 5


def test_factory_opens_sim_and_emulator():
    with open_board(BoardOptions(spec="sim", realtime=False, seed=1)) as b:
        assert isinstance(b, SimulatedBoard) and b.kind == "sim"
    with open_board(BoardOptions(spec="emulator", realtime=False, seed=1)) as b:
        assert b.kind == "emulator"


def test_gpio_path_returns_the_same_counts_as_the_fast_path():
    r = simulate("push", seed=6, duration_s=4)
    board = SimulatedBoard(realtime=False, seed=6, scenario="push", through_gpio=True)
    frames = read_n(board, 200)
    board.close()
    assert all(f.valid for f in frames)
    k = np.rint(np.array([f.t_ns for f in frames]) / 12.5e6).astype(int)
    assert (np.diff(k) == 1).all()  # the driver's priming read took sample 0
    assert np.array_equal(np.array([f.counts for f in frames]), r.counts[k])


def test_gpio_path_in_real_time_runs_the_driver_at_80_sps():
    board = SimulatedBoard(realtime=True, seed=7, through_gpio=True)
    board.perform("step_on", mass_kg=70)
    t0 = time.monotonic()
    frames = read_n(board, 40)
    elapsed = time.monotonic() - t0
    board.close()
    valid = [f for f in frames if f.valid]
    # On a loaded 2-core box the OS can stretch an SCK pulse past 50 us: the driver flags
    # (and the chip resets, 50 ms of settling), which costs frames and time
    # (seen on a loaded CI box: 16 of 40 valid) so the bounds leave room for those.
    assert len(valid) >= 10
    flagged = {FrameFlag(f.flags) for f in frames if not f.valid}
    assert flagged <= {FrameFlag.SLOW_PULSE, FrameFlag.TIMEOUT}
    assert 0.4 <= elapsed <= 5.0
    assert (np.diff([f.t_ns for f in frames]) > 0).all()
    assert load_n(valid[-5:]).mean() > 100  # the athlete is stepping on: real data flows
