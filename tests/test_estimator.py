"""Live estimator: COP formula on hand-computed cases, paths agree, filter, uncalibrated,
the protocol the runtime relies on, and the block conversion."""

from __future__ import annotations

import math
import types
import typing
from datetime import UTC, datetime

import numpy as np
import pytest
from scipy.signal import lfilter

from station.board.cell_model import CellModel
from station.calibration.conversion import force_and_cop
from station.calibration.estimator import (
    LIVE_FILTER_CUTOFF_HZ,
    NOT_CALIBRATED,
    Estimator,
    UncalibratedEstimator,
    live_filter_coefficients,
    make_estimator,
)
from station.calibration.file import Calibration
from station.calibration.procedure import G
from station.calibration.simulate import simulate_counts, simulated_calibration
from station.frames import Frame, FrameFlag
from station.geometry import DEFAULT_LAYOUT

OFFSETS = np.array([1000.0, -2000.0, 500.0, 0.0])
K = 0.001  # N per count: 1000 counts = 1 N


def simple_cal(min_load_n: float = 50.0) -> Calibration:
    return Calibration(
        board="hand", created=datetime(2026, 1, 1, tzinfo=UTC),
        positions_mm=DEFAULT_LAYOUT.positions, offsets_counts=OFFSETS.copy(),
        newtons_per_count=np.full(4, K), min_load_n=min_load_n,
    )


def frame_for(forces: list[float], t_s: float = 0.0, flags: int = 0) -> Frame:
    counts = tuple(round(f / K + o) for f, o in zip(forces, OFFSETS, strict=True))
    return Frame(int(t_s * 1e9), counts, flags)


@pytest.mark.parametrize(
    ("forces", "cop"),
    [
        ([0.0, 100.0, 0.0, 0.0], (200.0, 150.0)),  # all on front_right: at the cell
        ([25.0, 25.0, 25.0, 25.0], (0.0, 0.0)),  # equal: centre
        ([12.5, 37.5, 12.5, 37.5], (100.0, 0.0)),  # right 3/4: x = 200 * (75-25)/100
        ([30.0, 30.0, 20.0, 20.0], (0.0, 30.0)),  # front 60 %: y = 150 * (60-40)/100
        ([100.0, 0.0, 0.0, 300.0], (100.0, -75.0)),  # x = 200*(300-100)/400, y = 150*(100-300)/400
    ],
)
def test_cop_hand_computed_cases(forces: list[float], cop: tuple[float, float]) -> None:
    est = Estimator(simple_cal(min_load_n=10.0))
    s = est.update(frame_for(forces, 1.5))
    assert s.t_s == 1.5
    assert s.force_n == pytest.approx(sum(forces))
    assert (s.cop_x_mm, s.cop_y_mm) == pytest.approx(cop)
    assert s.cell_forces_n == pytest.approx(forces)


def test_cop_undefined_below_min_load_but_force_reported() -> None:
    est = Estimator(simple_cal(min_load_n=50.0))
    s = est.update(frame_for([10.0, 10.0, 10.0, 10.0]))
    assert s.force_n == pytest.approx(40.0)
    assert math.isnan(s.cop_x_mm) and math.isnan(s.cop_y_mm)
    assert math.isnan(est.filtered.cop_x_mm)


def test_invalid_frame_gives_nan_and_leaves_state() -> None:
    est = Estimator(simple_cal())
    est.update(frame_for([100.0, 100.0, 100.0, 100.0]))
    before = est.filtered
    s = est.update(Frame(5, (0, 0, 0, 0), FrameFlag.TIMEOUT, 0b10))
    assert math.isnan(s.force_n) and math.isnan(s.cop_x_mm)
    assert all(math.isnan(f) for f in s.cell_forces_n)
    assert est.filtered == before


def test_per_frame_and_block_paths_agree() -> None:
    rng = np.random.default_rng(3)
    model = CellModel.randomized(rng)
    cal = simulated_calibration(model, rng)
    est = Estimator(cal)
    counts = np.vstack([
        simulate_counts(model, 70.0, x, y, 5, rng)
        for x, y in [(0, 0), (120, -80), (-150, 100), (30, 10)]
    ] + [simulate_counts(model, 0.0, 0, 0, 5, rng)])
    t = np.arange(len(counts)) / 80.0
    forces, total, cop = est.estimate_block(t, counts)
    for i, c in enumerate(counts):
        s = est.update(Frame(int(t[i] * 1e9), tuple(int(v) for v in c)))
        assert s.force_n == pytest.approx(total[i], rel=1e-12, abs=1e-9)
        assert s.cell_forces_n == pytest.approx(tuple(forces[i]), rel=1e-12, abs=1e-9)
        if np.isnan(cop[i, 0]):
            assert math.isnan(s.cop_x_mm)
        else:
            assert (s.cop_x_mm, s.cop_y_mm) == pytest.approx(tuple(cop[i]), rel=1e-12, abs=1e-9)
    assert np.isnan(cop[-5:]).all()  # the empty-board frames
    assert total[:5].mean() == pytest.approx(70.0 * G, rel=1e-3)


def test_live_filter_is_the_documented_butterworth() -> None:
    from scipy.signal import butter

    b, a = live_filter_coefficients(80.0)
    for rate in (20.0, 80.0, 100.0):  # the closed form is scipy's design
        ref_b, ref_a = butter(2, LIVE_FILTER_CUTOFF_HZ, fs=rate)
        np.testing.assert_allclose(live_filter_coefficients(rate)[0], ref_b, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(live_filter_coefficients(rate)[1], ref_a, rtol=1e-12, atol=1e-15)
    assert len(b) == 3 and LIVE_FILTER_CUTOFF_HZ == 5.0
    est = Estimator(simple_cal(min_load_n=10.0))
    t = np.arange(400) / 80.0
    x = 100.0 * np.sin(2 * np.pi * 2.0 * t)  # 2 Hz sway, COP x moves +-100 mm
    filtered = []
    for ti, xi in zip(t, x, strict=True):
        w = 400.0  # total weight, split to put the COP at (xi, 0)
        right = w * (0.5 + xi / 400.0)
        est.update(frame_for([(w - right) / 2, right / 2, (w - right) / 2, right / 2], ti))
        filtered.append(est.filtered.cop_x_mm)
    # Same as scipy's lfilter started from steady state at the first value.
    ref = lfilter(b, a, x - x[0]) + x[0]
    np.testing.assert_allclose(filtered, ref, atol=0.02)  # counts rounding only
    # Gain at the cut-off is -3 dB.
    w = np.exp(-2j * np.pi * LIVE_FILTER_CUTOFF_HZ / 80.0)
    gain = abs(np.polyval(b[::-1], w) / np.polyval(a[::-1], w))
    assert gain == pytest.approx(1 / math.sqrt(2), rel=1e-6)


def test_filter_restarts_without_transient_after_stepping_off() -> None:
    est = Estimator(simple_cal(min_load_n=10.0))
    est.update(frame_for([100.0, 100.0, 100.0, 100.0]))
    est.update(frame_for([0.0, 0.0, 0.0, 0.0]))  # off the board: filter reset
    s = est.update(frame_for([0.0, 200.0, 0.0, 200.0]))  # back on, COP at x=200
    assert est.filtered.cop_x_mm == pytest.approx(s.cop_x_mm)
    assert est.filtered.force_n == pytest.approx(400.0)


def test_set_offsets_rezeroes() -> None:
    est = Estimator(simple_cal())
    est.set_offsets(tuple(OFFSETS + 1000))  # 1 N per cell less
    s = est.update(frame_for([100.0, 100.0, 100.0, 100.0]))
    assert s.force_n == pytest.approx(396.0)


def test_uncalibrated_estimator_reports_nothing() -> None:
    est = make_estimator(None, "cells[2].newtons_per_count: must be ...")
    assert isinstance(est, UncalibratedEstimator)
    assert est.calibrated is False and est.status == NOT_CALIBRATED
    assert "newtons_per_count" in est.reason
    s = est.update(Frame(2_000_000_000, (1, 2, 3, 4)))
    assert s.t_s == 2.0
    assert all(math.isnan(v) for v in (s.force_n, s.cop_x_mm, s.cop_y_mm, *s.cell_forces_n))
    forces, total, cop = est.estimate_block(np.zeros(3), np.zeros((3, 4)))
    assert np.isnan(forces).all() and np.isnan(total).all() and cop.shape == (3, 2)
    assert isinstance(make_estimator(simple_cal()), Estimator)


def _runtime_types(hint: object) -> tuple[type, ...]:
    """The classes isinstance can check for a type hint (unions split, generics bare)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(t for arg in typing.get_args(hint) for t in _runtime_types(arg))
    if hint is None or hint is type(None):
        return (type(None),)
    origin = typing.get_origin(hint)
    return (origin if origin is not None else hint,)  # type: ignore[return-value]


@pytest.mark.parametrize(
    "estimator",
    [Estimator(simple_cal(), auto_zero=True), Estimator(simple_cal()), UncalibratedEstimator()],
    ids=["auto-zero", "calibrated", "uncalibrated"],
)
def test_both_estimators_give_everything_the_runtime_uses(estimator) -> None:
    from station.live.runtime import FrameEstimator

    assert isinstance(estimator, FrameEstimator)
    members = [name for name, v in vars(FrameEstimator).items() if isinstance(v, property)]
    assert {"calibrated", "status", "calibration", "auto_zero", "offsets_counts",
            "filtered"} <= set(members)
    for name in members:
        hint = typing.get_type_hints(getattr(FrameEstimator, name).fget)["return"]
        value = getattr(estimator, name)
        assert isinstance(value, _runtime_types(hint)), (name, value, hint)
    assert len(estimator.offsets_counts) == 4
    assert estimator.calibrated == (estimator.calibration is not None)
    sample = estimator.update(frame_for([100.0, 100.0, 100.0, 100.0]))
    assert sample.t_s == 0.0


def test_force_and_cop_is_the_one_conversion() -> None:
    cal = simple_cal(min_load_n=50.0)
    counts = np.array([frame_for(f).counts for f in ([10.0, 10.0, 10.0, 10.0],
                                                      [0.0, 100.0, 0.0, 300.0])], dtype=float)
    forces, total, cop = force_and_cop(cal, counts)
    np.testing.assert_allclose(forces, [[10, 10, 10, 10], [0, 100, 0, 300]], atol=1e-9)
    np.testing.assert_allclose(forces, cal.cell_forces(counts))
    np.testing.assert_allclose(total, [40.0, 400.0])
    assert np.isnan(cop[0]).all()  # 40 N < min_load_n
    np.testing.assert_allclose(cop[1], [200.0 * 400 / 400, 150.0 * (100 - 300) / 400])
    _, _, any_load = force_and_cop(cal, counts, min_load_n=0.0)
    np.testing.assert_allclose(any_load[0], [0.0, 0.0], atol=1e-9)
    rezeroed = force_and_cop(cal, counts, offsets_counts=OFFSETS + 1000)  # 1 N less per cell
    np.testing.assert_allclose(rezeroed.force_n, [36.0, 396.0])
    one = force_and_cop(cal, counts[1])  # one frame: shapes follow the counts
    assert one.cell_forces_n.shape == (4,) and one.force_n.shape == () and one.cop_mm.shape == (2,)
