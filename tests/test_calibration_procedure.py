"""Tare, gain fit and verification on simulated placements of known masses."""

from __future__ import annotations

import numpy as np
import pytest

from station.board.cell_model import CellModel
from station.calibration.procedure import (
    CalibrationFitRefused,
    G,
    MeasurementRefused,
    Placement,
    TareRefused,
    fit_gains,
    measure_placement,
    record_verification,
    tare,
    verify,
)
from station.calibration.simulate import (
    CalibrationPlan,
    simulate_counts,
    simulate_procedure,
    simulated_calibration,
)
from station.geometry import DEFAULT_LAYOUT, CellLayout, cop_from_forces, forces_from_cop

N = 160  # 2 s at 80 Hz


def board(seed: int = 0, **kwargs: float) -> tuple[CellModel, np.random.Generator]:
    rng = np.random.default_rng(seed)
    return CellModel.randomized(rng, **kwargs), rng


def placements_for(model: CellModel, rng: np.random.Generator, plan: CalibrationPlan,
                   layout: CellLayout = DEFAULT_LAYOUT) -> list[Placement]:
    return [
        measure_placement(m, x, y, simulate_counts(model, m, x, y, N, rng, layout=layout))
        for m, x, y in plan.steps()
    ]


# --- tare ---------------------------------------------------------------------------------

def test_tare_averages_the_empty_board() -> None:
    model, rng = board(1)
    result = tare(simulate_counts(model, 0.0, 0, 0, N, rng))
    # Mean of 160 frames of 39-count noise: within ~4 sigma of 3 counts.
    np.testing.assert_allclose(result.offsets_counts, model.offset_counts, atol=15)
    assert result.n_frames == N and result.load_n is None
    assert (result.std_counts < 60).all()


def test_tare_refuses_a_moving_load() -> None:
    model, rng = board(2)
    counts = simulate_counts(model, 0.0, 0, 0, N, rng).astype(float)
    counts[80:, 1] += 5000  # someone touched the board halfway
    with pytest.raises(TareRefused, match=r"load is moving: std \d+ counts > 200 \(cell 1"):
        tare(counts)


def test_tare_refuses_a_loaded_board_given_a_reference() -> None:
    model, rng = board(3)
    reference = simulated_calibration(model, rng)
    loaded = simulate_counts(model, 35.0, 20, -10, N, rng)
    with pytest.raises(TareRefused, match=r"board not empty: 35\.0 kg on it"):
        tare(loaded, reference=reference)
    # A small drift within the limit is fine and reported.
    ok = tare(simulate_counts(model, 0.5, 0, 0, N, rng), reference=reference)
    assert ok.load_n == pytest.approx(0.5 * G, abs=0.1)


def test_tare_refuses_too_few_frames_and_bad_shape() -> None:
    with pytest.raises(TareRefused, match="too few frames"):
        tare(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="shape"):
        tare(np.zeros((50, 3)))


def test_measure_placement_refuses_moving_load_and_bad_mass() -> None:
    model, rng = board(4)
    counts = simulate_counts(model, 20.0, 0, 0, N, rng).astype(float)
    with pytest.raises(MeasurementRefused, match="mass must be a positive"):
        measure_placement(0.0, 0, 0, counts)
    counts[::2, 3] += 1000
    with pytest.raises(MeasurementRefused, match="load is moving"):
        measure_placement(20.0, 0, 0, counts)


# --- gain fit -----------------------------------------------------------------------------

def test_fit_recovers_known_gains_and_nonlinearity() -> None:
    model, rng = board(5)
    fit, placements = simulate_procedure(model, rng)
    # dF/dcount at zero load is exactly the model's newtons_per_count.
    np.testing.assert_allclose(fit.newtons_per_count, model.newtons_per_count, rtol=2e-4)
    # F = k d (1 - a F) ~ k d - a k^2 d^2 with a = nonlinearity / full_scale.
    expected_q = -model.nonlinearity / model.full_scale_n * model.newtons_per_count**2
    np.testing.assert_allclose(fit.quadratic_n_per_count2, expected_q, rtol=0.05)
    assert fit.summary["quadratic"] is True
    assert fit.summary["force_error_pct_max"] < 0.02
    assert fit.summary["cop_error_mm_max"] < 0.05
    assert len(fit.per_position) == len(placements) == 10
    row = fit.per_position[0]
    assert set(row) >= {"force_error_n", "force_error_pct", "cop_error_mm", "mass_kg"}


def test_fit_linear_model_exactly_without_nonlinearity() -> None:
    model, rng = board(6, nonlinearity=0.0)
    fit, _ = simulate_procedure(model, rng, CalibrationPlan(masses_kg=(20.0,)))
    assert fit.summary["quadratic"] is False  # one mass: linear fit chosen automatically
    np.testing.assert_allclose(fit.newtons_per_count, model.newtons_per_count, rtol=3e-4)


def test_calibrated_board_measures_unseen_loads_accurately() -> None:
    model, rng = board(7)
    cal = simulated_calibration(model, rng)
    for mass, x, y in [(120.0, 140.0, -120.0), (25.0, -90.0, 60.0), (70.0, 0.0, 124.0)]:
        counts = simulate_counts(model, mass, x, y, 80, rng).mean(axis=0)
        total, cop = cop_from_forces(cal.cell_forces(counts), cal.positions_mm)
        assert total / G == pytest.approx(mass, rel=0.002)
        assert np.hypot(cop[0] - x, cop[1] - y) < 0.1


def test_fit_refuses_sign_flip() -> None:
    model, rng = board(8)
    model.newtons_per_count[2] *= -1  # back_left wired A+/A- reversed
    offsets = tare(simulate_counts(model, 0.0, 0, 0, N, rng)).offsets_counts
    with pytest.raises(CalibrationFitRefused, match=r"cell 2 \(back_left\) .*opposite sign"):
        fit_gains(placements_for(model, rng, CalibrationPlan()), offsets)


def test_fit_refuses_cell_that_barely_responds() -> None:
    model, rng = board(9)
    model.newtons_per_count[1] *= 50  # 50x fewer counts per newton: a nearly dead cell
    offsets = tare(simulate_counts(model, 0.0, 0, 0, N, rng)).offsets_counts
    with pytest.raises(CalibrationFitRefused, match=r"cell 1 \(front_right\) barely responds"):
        fit_gains(placements_for(model, rng, CalibrationPlan()), offsets)


def test_fit_refuses_gain_far_from_the_others() -> None:
    model, rng = board(10)
    model.newtons_per_count[3] *= 3  # responds, but 3x less than its neighbours
    offsets = tare(simulate_counts(model, 0.0, 0, 0, N, rng)).offsets_counts
    with pytest.raises(CalibrationFitRefused, match=r"cell 3 \(back_right\) gain is 2\.\d+ times"):
        fit_gains(placements_for(model, rng, CalibrationPlan()), offsets)


def test_fit_refuses_centre_only_placements() -> None:
    model, rng = board(11)
    offsets = tare(simulate_counts(model, 0.0, 0, 0, N, rng)).offsets_counts
    plan = CalibrationPlan(masses_kg=(20.0, 40.0, 60.0, 80.0), marks_mm=((0.0, 0.0),))
    with pytest.raises(CalibrationFitRefused, match="must span the board"):
        fit_gains(placements_for(model, rng, plan), offsets, quadratic=False)


def test_fit_refuses_wrong_mass_entered() -> None:
    model, rng = board(12)
    offsets = tare(simulate_counts(model, 0.0, 0, 0, N, rng)).offsets_counts
    placements = placements_for(model, rng, CalibrationPlan())
    p = placements[3]
    placements[3] = Placement(p.mass_kg * 1.2, p.x_mm, p.y_mm, p.counts_mean)
    with pytest.raises(CalibrationFitRefused, match=r"residual|wrong mass entered"):
        fit_gains(placements, offsets)


def test_fit_refuses_too_few_placements_and_unsupported_quadratic() -> None:
    model, rng = board(13)
    offsets = tare(simulate_counts(model, 0.0, 0, 0, N, rng)).offsets_counts
    with pytest.raises(CalibrationFitRefused, match="no placements"):
        fit_gains([], offsets)
    two = placements_for(model, rng, CalibrationPlan(marks_mm=((0.0, 0.0), (100.0, 50.0))))
    with pytest.raises(CalibrationFitRefused, match="too few"):
        fit_gains(two[:1], offsets, quadratic=False)
    with pytest.raises(CalibrationFitRefused, match="must span the board"):
        fit_gains(two, offsets, quadratic=False)
    one_mass = placements_for(model, rng, CalibrationPlan(masses_kg=(20.0,)))
    with pytest.raises(CalibrationFitRefused, match="two masses"):
        fit_gains(one_mass, offsets, quadratic=True)


def test_refine_geometry_recovers_true_cell_positions() -> None:
    # The real board's cells sit at +-205 x +-145 mm; the fit starts from the nominal layout.
    true_layout = CellLayout(DEFAULT_LAYOUT.names, (-205.0, 205.0, -205.0, 205.0),
                             (145.0, 145.0, -145.0, -145.0))
    model, rng = board(14)
    marks = tuple((x, y) for x in (-150.0, 0.0, 150.0) for y in (-100.0, 0.0, 100.0))
    plan = CalibrationPlan(masses_kg=(20.0, 80.0), marks_mm=marks)
    offsets = tare(simulate_counts(model, 0.0, 0, 0, N, rng, layout=true_layout)).offsets_counts
    placements = placements_for(model, rng, plan, layout=true_layout)
    plain = fit_gains(placements, offsets)
    refined = fit_gains(placements, offsets, refine_geometry=True)
    np.testing.assert_allclose(refined.positions_mm, true_layout.positions, atol=0.5)
    assert refined.summary["cop_error_mm_max"] < 0.2
    assert refined.summary["cop_error_mm_max"] < plain.summary["cop_error_mm_max"] / 5


# --- verification -------------------------------------------------------------------------

def test_verify_reports_measured_mass_and_position() -> None:
    model, rng = board(15)
    cal = simulated_calibration(model, rng)
    result = verify(cal, simulate_counts(model, 50.0, 50.0, -30.0, N, rng), 50.0, 50.0, -30.0)
    assert result.measured_mass_kg == pytest.approx(50.0, rel=1e-3)
    assert abs(result.mass_error_pct) < 0.1
    assert result.cop_error_mm < 0.1
    # A calibration that is 2 % off shows up in the verification.
    cal.newtons_per_count = cal.newtons_per_count * 1.02
    off = verify(cal, simulate_counts(model, 50.0, 50.0, -30.0, N, rng), 50.0, 50.0, -30.0)
    assert off.mass_error_pct == pytest.approx(2.0, abs=0.1)
    record_verification(cal, off)
    assert cal.verification is not None
    assert cal.verification["mass_error_pct"] == pytest.approx(2.0, abs=0.1)
    assert cal.to_dict()["verification"] == cal.verification


def test_rigid_plate_helper_matches_geometry() -> None:
    """The simulated placement puts the load where asked (guards the test harness)."""
    model = CellModel(noise_counts_rms=0.0)
    counts = simulate_counts(model, 30.0, 80.0, -40.0, 3, np.random.default_rng(0))
    forces = counts[0] * model.newtons_per_count
    total, cop = cop_from_forces(forces, DEFAULT_LAYOUT.positions)
    assert total == pytest.approx(30.0 * G, rel=1e-5)
    assert cop == pytest.approx([80.0, -40.0], abs=0.01)
    np.testing.assert_allclose(
        forces, forces_from_cop(30.0 * G, np.array([80.0, -40.0]), DEFAULT_LAYOUT.positions),
        atol=0.001)
