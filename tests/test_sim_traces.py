"""The simulated athlete following real COP traces from ../shared/reference-data."""

from __future__ import annotations

import numpy as np
import pytest

from station.board.sim import (
    CopTraceError,
    SimulatedBoard,
    default_cell_model,
    load_cop_trace,
    simulate,
)
from station.geometry import DEFAULT_LAYOUT, cop_from_forces


def stats(cop: np.ndarray, fs: float) -> np.ndarray:
    c = cop - cop.mean(axis=0)
    return np.array(
        [c[:, 0].std(), c[:, 1].std(), np.hypot(*np.diff(c, axis=0).T).sum() / (len(c) / fs)]
    )


def test_loads_both_reference_formats(reference_data):
    qs = load_cop_trace(reference_data / "quiet-stance-eyes-open-100hz.csv")
    assert len(qs.t_s) == 3200 and qs.duration_s == pytest.approx(31.99)
    amti = load_cop_trace(reference_data / "amti-force-plate-100hz.csv")
    assert len(amti.t_s) >= 15_000  # the all-zero frames are dropped
    raw = np.genfromtxt(
        reference_data / "amti-force-plate-100hz.csv", delimiter=",", skip_header=35
    )
    row = raw[3]  # a valid frame: COP ML = My / Fz, AP = Mx / Fz
    assert amti.ml_mm[1] == pytest.approx(row[7] / row[5] * 1000)
    assert amti.ap_mm[1] == pytest.approx(row[6] / row[5] * 1000)
    res = qs.resampled(80.0)
    assert np.abs(res.mean(axis=0)).max() < 1e-9  # mean removed: sways around the base


def test_athlete_following_a_real_trace_reproduces_its_sway(reference_data):
    path = reference_data / "quiet-stance-eyes-open-100hz.csv"
    trace = load_cop_trace(path)
    events = [(0.0, "step_on", {"mass_kg": 70}), (2.0, "follow_trace", {"path": str(path)})]
    r = simulate(events, duration_s=2.0 + trace.duration_s, seed=1)
    window = r.t_s >= 2.0
    expected = trace.resampled(80.0)
    assert np.allclose(r.true_cop_mm[window][: len(expected)], expected, atol=1e-9)
    # through the counts: the sway statistics of the trace survive the cell model
    cells = default_cell_model()
    forces = (r.counts[window] - cells.offset_counts) * cells.newtons_per_count
    _, cop = cop_from_forces(forces, DEFAULT_LAYOUT.positions)
    assert stats(cop, 80.0) == pytest.approx(stats(expected, 80.0), rel=0.01)
    lab = stats(np.column_stack([trace.ml_mm, trace.ap_mm]), 100.0)
    assert stats(cop, 80.0)[:2] == pytest.approx(lab[:2], rel=0.02)
    # path length shrinks a little at 80 Hz (interpolation drops the fastest wiggles)
    assert stats(cop, 80.0)[2] == pytest.approx(lab[2], rel=0.1)


def test_trace_follow_on_the_live_board_and_ends_at_step_off(reference_data):
    path = reference_data / "quiet-stance-eyes-closed-100hz.csv"
    board = SimulatedBoard(realtime=False, seed=2)
    board.perform("step_on", mass_kg=60)
    for _ in range(80):
        board.read()
    board.perform("follow_trace", path=str(path), loop=True)
    for _ in range(80 * 40):  # longer than the trace: it loops
        board.read()
    assert board.athlete.traces
    board.perform("step_off")
    for _ in range(80 * 4):  # windows are forgotten 2-3 s after they end
        board.read()
    assert board.athlete.traces == []


def test_bad_trace_files(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("time,x,y\n0,1,2\n")
    with pytest.raises(CopTraceError, match="header"):
        load_cop_trace(p)
    p.write_text("t_s,ml_m,ap_m\n0,0.1,0.2\n0.01,oops,0.2\n")
    with pytest.raises(CopTraceError, match="non-numeric"):
        load_cop_trace(p)
    with pytest.raises(CopTraceError, match="cannot read"):
        load_cop_trace(tmp_path / "missing.csv")
