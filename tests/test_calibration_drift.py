"""Auto-zero: follows an empty board's drift, never moves under load; drift/age warnings."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from station.analysis.trace_files import load_trace
from station.board.cell_model import CellModel
from station.calibration.drift import AutoZero, AutoZeroSettings, calibration_warnings
from station.calibration.estimator import Estimator
from station.calibration.file import Calibration
from station.calibration.procedure import G
from station.calibration.simulate import simulated_calibration
from station.frames import Frame
from station.geometry import DEFAULT_LAYOUT, forces_from_cop

RATE = 80.0


def calibrated(seed: int = 0) -> tuple[CellModel, Calibration, np.random.Generator]:
    rng = np.random.default_rng(seed)
    model = CellModel.randomized(rng)
    return model, simulated_calibration(model, rng), rng


def run(est: Estimator, model: CellModel, forces: np.ndarray, t: np.ndarray,
        rng: np.random.Generator) -> list[tuple[float, ...]]:
    """Feed frames; return the estimator's offsets after every frame."""
    counts = model.counts(forces, t, rng)
    history = []
    for ti, c in zip(t, counts, strict=True):
        est.update(Frame(int(ti * 1e9), tuple(int(v) for v in c)))
        history.append(est.offsets_counts)
    return history


def sway_forces(n: int, body_kg: float = 70.0) -> np.ndarray:
    from tests.conftest import REFERENCE_DATA

    path = REFERENCE_DATA / "quiet-stance-eyes-open-100hz.csv"
    if not path.is_file():
        pytest.skip("reference data not present")
    tr = load_trace(path)
    cop = np.column_stack([tr.x_mm, tr.y_mm])[:n]
    return forces_from_cop(body_kg * G, cop, DEFAULT_LAYOUT.positions)


def test_never_moves_while_someone_stands_on_it() -> None:
    model, cal, rng = calibrated(1)
    model.drift_counts_per_s = np.array([20.0, -15.0, 10.0, 5.0])
    est = Estimator(cal, auto_zero=True)
    forces = sway_forces(3200)
    t = np.arange(len(forces)) / RATE
    history = run(est, model, forces, t, rng)
    assert est.auto_zero is not None and est.auto_zero.updates == 0
    assert set(history) == {tuple(cal.offsets_counts)}


@pytest.mark.parametrize("mass_kg", [30.0, 1.0])
def test_never_moves_under_a_perfectly_still_load(mass_kg: float) -> None:
    # A still mass (no sway at all): only the load threshold protects it. 1 kg = 9.8 N is
    # above the 5 N empty limit.
    model, cal, rng = calibrated(2)
    est = Estimator(cal, auto_zero=True)
    n = int(60 * RATE)
    forces = np.broadcast_to(
        forces_from_cop(mass_kg * G, np.array([40.0, -20.0]), DEFAULT_LAYOUT.positions), (n, 4))
    history = run(est, model, forces, np.arange(n) / RATE, rng)
    assert est.auto_zero.updates == 0
    assert set(history) == {tuple(cal.offsets_counts)}


def test_follows_drift_of_an_empty_board() -> None:
    model, cal, rng = calibrated(3)
    model.drift_counts_per_s = np.array([20.0, 15.0, 10.0, 20.0])
    n = int(300 * RATE)
    t = np.arange(n) / RATE
    tracked = Estimator(cal, auto_zero=True)
    fixed = Estimator(cal)
    run(tracked, model, np.zeros((n, 4)), t, rng)
    run(fixed, model, np.zeros((n, 4)), t, rng)
    end = model.counts(np.zeros((80, 4)), t[-1] + np.arange(80) / RATE, rng)
    _, total_tracked, _ = tracked.estimate_block(None, end)
    _, total_fixed, _ = fixed.estimate_block(None, end)
    # 65 counts/s in all (~0.016 N/s): ~4.9 N after 5 min without auto-zero. The 30 s
    # time constant lags by rate * tau = 1950 counts (~0.49 N) in steady state.
    assert total_fixed.mean() > 4.5
    lag_n = float(model.drift_counts_per_s @ cal.newtons_per_count) * 30.0
    assert total_tracked.mean() == pytest.approx(lag_n, rel=0.2)
    status = tracked.auto_zero.status()
    assert status.drift_counts[0] == pytest.approx(6000, rel=0.15)


def test_stepping_on_and_off_does_not_pull_the_zero() -> None:
    model, cal, rng = calibrated(4)
    est = Estimator(cal, auto_zero=True)
    empty = np.zeros((int(10 * RATE), 4))
    person = sway_forces(int(20 * RATE))
    # Stepping on over 0.3 s: load ramps through the empty threshold.
    ramp = person[0] * np.linspace(0, 1, 24)[:, None]
    forces = np.vstack([empty, ramp, person, ramp[::-1], empty])
    t = np.arange(len(forces)) / RATE
    history = np.array(run(est, model, forces, t, rng))
    assert est.auto_zero.updates > 0  # it did track while empty
    # Never further than noise from the true zero (a 70 kg person is ~700000 counts).
    assert np.abs(history - model.offset_counts).max() < 30


def test_drift_warning_and_age_warning() -> None:
    _, cal, _ = calibrated(5)
    az = AutoZero(cal, AutoZeroSettings(drift_warn_n=1.0))
    assert az.status().warnings == []
    az.offsets = tuple(cal.offsets_counts + np.array([8000.0, 0, 0, 0]))  # ~2 N on cell 0
    status = az.status()
    assert status.drift_cell_n[0] == pytest.approx(8000 * cal.newtons_per_count[0])
    assert len(status.warnings) == 1
    assert "cell 0 (front_left)" in status.warnings[0]
    now = cal.created + timedelta(days=200)
    warnings = calibration_warnings(cal, now=now, max_age_days=180, auto_zero=az)
    assert any("200 days old" in w for w in warnings)
    assert len(warnings) == 2
    assert calibration_warnings(cal, now=cal.created + timedelta(days=10)) == []
