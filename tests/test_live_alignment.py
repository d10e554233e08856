"""The live path aligns the four cells: emulated chips 3 % apart through the driver and the
estimator give a COP closer to the simulator's truth than the raw frames do; the offsets
reach the estimator from the acquisition ring; invalid frames restart the alignment."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest

from station.acquisition.process import RealtimeOptions
from station.board.cell_model import CellModel
from station.board.oscillator import ChipClocks
from station.board.recording import write_raw_csv
from station.board.sim import SimulatedBoard
from station.board.spec import BoardOptions
from station.calibration.estimator import Estimator
from station.calibration.file import Calibration
from station.frames import Frame, FrameFlag
from station.geometry import DEFAULT_LAYOUT
from station.live.runtime import StationConfig, StationRuntime

CELLS = CellModel()  # ideal cells: the errors left are the timing's


def ideal_calibration() -> Calibration:
    return Calibration(
        board="ideal", created=datetime(2026, 1, 1, tzinfo=UTC),
        positions_mm=DEFAULT_LAYOUT.positions, offsets_counts=np.zeros(4),
        newtons_per_count=np.asarray(CELLS.newtons_per_count, dtype=float), min_load_n=20.0,
    )


def cop_errors(scenario: str, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray]:
    """COP errors (mm) of the live estimator with alignment and without (the same frames,
    offsets dropped), each against the truth at the instant it describes: the oldest
    conversion aligned, the mean of the four raw (the best a raw frame can claim)."""
    board = SimulatedBoard(
        realtime=False, through_gpio=True, seed=1, scenario=scenario, cells=CELLS,
        history_s=None, chips=ChipClocks.internal(spread=0.03, seed=1),
    )
    aligned, raw = Estimator(ideal_calibration()), Estimator(ideal_calibration())
    err_aligned, err_raw = [], []
    with board:
        while (frame := board.read()).t_ns <= t1_s * 1e9:
            a, r = aligned.update(frame), raw.update(frame._replace(cell_dt_ns=None))
            if not frame.valid or frame.cell_dt_ns is None or frame.t_ns < t0_s * 1e9:
                continue
            instants = [frame.t_ns + d for d in frame.cell_dt_ns]
            truth_a = board.engine.state_at(min(instants) / 1e9)
            truth_r = board.engine.state_at(float(np.mean(instants)) / 1e9)
            if truth_a.total_force_n[0] < 100.0:
                continue  # in flight: no COP
            err_aligned.append(np.hypot(a.cop_x_mm - truth_a.true_cop_mm[0, 0],
                                        a.cop_y_mm - truth_a.true_cop_mm[0, 1]))
            err_raw.append(np.hypot(r.cop_x_mm - truth_r.true_cop_mm[0, 0],
                                    r.cop_y_mm - truth_r.true_cop_mm[0, 1]))
    return np.array(err_aligned), np.array(err_raw)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x)))


@pytest.mark.parametrize(
    ("scenario", "t0_s", "t1_s", "aligned_rms_mm"),
    [("single_leg_hold", 6.2, 8.5, 0.03), ("hop_landing", 8.0, 9.0, 4.0)],
)
def test_live_alignment_brings_the_cop_closer_to_the_truth(scenario, t0_s, t1_s,
                                                           aligned_rms_mm):
    aligned, raw = cop_errors(scenario, t0_s, t1_s)
    assert len(aligned) > 50
    assert rms(aligned) < aligned_rms_mm
    assert rms(aligned) < rms(raw) / 3  # 0.013 vs 0.076 mm sway, 1.9 vs 13 mm landing
    assert aligned.max() < raw.max() / 3


def test_an_invalid_frame_restarts_the_alignment():
    est = Estimator(ideal_calibration())
    dt = (0, -10_000_000, -10_000_000, -10_000_000)  # cell 0 converted 10 ms after the rest
    est.update(Frame(0, (1000, 1000, 1000, 1000), 0, 0, dt))
    moved = est.update(Frame(12_500_000, (3000, 1000, 1000, 1000), 0, 0, dt))
    # cell 0 at the others' instant, 2.5 ms into its 12.5 ms from 1000 to 3000 counts
    assert moved.cell_forces_n[0] == pytest.approx(1400 * CELLS.newtons_per_count[0])
    est.update(Frame(25_000_000, (0, 0, 0, 0), FrameFlag.TIMEOUT, 1))
    fresh = est.update(Frame(37_500_000, (5000, 1000, 1000, 1000), 0, 0, dt))
    assert fresh.cell_forces_n[0] == pytest.approx(5000 * CELLS.newtons_per_count[0])
    plain = est.update(Frame(50_000_000, (7000, 1000, 1000, 1000)))  # no offsets: as read
    assert plain.cell_forces_n[0] == pytest.approx(7000 * CELLS.newtons_per_count[0])


class Keeper:
    """A frame listener that keeps what the runtime hands it."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.samples: list = []

    def on_frame(self, frame: Frame, sample) -> None:
        self.frames.append(frame)
        self.samples.append(sample)

    def live_part(self) -> dict:
        return {}


def test_offsets_travel_from_the_acquisition_ring_to_the_estimator(tmp_path):
    n = 60
    dt_ns = np.tile([-9_000_000, -3_000, -12_000_000, -6_000_000], (n, 1))
    dt_ns[:5] = 0  # not known yet
    path = tmp_path / "v2.csv"
    ramps = 2000 + np.outer(np.arange(n), [100, 200, 300, 400])  # every cell loading up
    write_raw_csv(path, np.arange(n) / 80.0, ramps, dt_ns)
    runtime = StationRuntime(
        StationConfig(board=BoardOptions(spec=f"replay:{path}", realtime=True),
                      realtime=RealtimeOptions(sched_fifo_priority=0)),
        estimator=Estimator(ideal_calibration()),
    )
    keeper = Keeper()
    runtime.subscribe(keeper)
    runtime.start()
    try:
        deadline = time.monotonic() + 20.0
        while len(keeper.frames) < n and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runtime.stop()
    assert len(keeper.frames) == n
    assert [f.cell_dt_ns for f in keeper.frames[:5]] == [None] * 5
    assert {f.cell_dt_ns for f in keeper.frames[5:]} == {tuple(dt_ns[-1].tolist())}
    # the runtime's estimate is the aligned one, not the raw frame's
    offline, unaligned = Estimator(ideal_calibration()), Estimator(ideal_calibration())
    for frame, sample in zip(keeper.frames, keeper.samples, strict=True):
        assert sample.cell_forces_n == offline.update(frame).cell_forces_n
        raw = unaligned.update(frame._replace(cell_dt_ns=None)).cell_forces_n
        assert (sample.cell_forces_n == raw) == (frame.cell_dt_ns is None)
