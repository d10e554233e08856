"""Run the calibration procedure on a simulated board (a CellModel).

A rigid plate carries a point load (the known mass) at a marked spot; the
cell model turns the plate's corner forces into noisy raw counts. Tests, the
accuracy benchmark, `balance-station calibrate --simulate` and the shipped
calibration/sim-board.json all calibrate through this one path, so the shipped
file is the procedure's output, never a copy of the model's true constants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from station.board.cell_model import CellModel
from station.calibration.file import DEFAULT_MIN_LOAD_N, Calibration
from station.calibration.procedure import (
    G,
    GainFit,
    Placement,
    fit_gains,
    measure_placement,
    record_verification,
    tare,
    verify,
)
from station.geometry import DEFAULT_LAYOUT, CellLayout, forces_from_cop

# Marked spots: the centre and the corners of the foot area (mm).
DEFAULT_MARKS: tuple[tuple[float, float], ...] = (
    (0.0, 0.0), (-150.0, 100.0), (150.0, 100.0), (-150.0, -100.0), (150.0, -100.0),
)
# Two masses: a light one and one near a heavy athlete's weight, so the fit sees
# each cell over the range it will carry (the quadratic term needs the spread).
DEFAULT_MASSES_KG: tuple[float, ...] = (20.0, 80.0)
DEFAULT_STEP_S = 2.0
RATE_HZ = 80.0
VERIFY_MASS_KG = 50.0
VERIFY_AT_MM = (50.0, -30.0)


@dataclass(frozen=True)
class CalibrationPlan:
    masses_kg: Sequence[float] = DEFAULT_MASSES_KG
    marks_mm: Sequence[tuple[float, float]] = DEFAULT_MARKS
    step_s: float = DEFAULT_STEP_S

    def steps(self) -> list[tuple[float, float, float]]:
        """(mass_kg, x_mm, y_mm) in the order an operator would place them."""
        return [(m, x, y) for m in self.masses_kg for (x, y) in self.marks_mm]


def simulate_counts(
    model: CellModel,
    mass_kg: float,
    x_mm: float,
    y_mm: float,
    n_frames: int,
    rng: np.random.Generator,
    *,
    t0_s: float = 0.0,
    layout: CellLayout = DEFAULT_LAYOUT,
) -> np.ndarray:
    """Raw counts (n, 4) of a still point mass on a rigid plate (0 kg: empty board)."""
    forces = forces_from_cop(mass_kg * G, np.array([x_mm, y_mm]), layout.positions)
    t = t0_s + np.arange(n_frames) / RATE_HZ
    return model.counts(np.broadcast_to(forces, (n_frames, 4)), t, rng)


def simulate_procedure(
    model: CellModel,
    rng: np.random.Generator,
    plan: CalibrationPlan | None = None,
    *,
    layout: CellLayout = DEFAULT_LAYOUT,
    fit_layout: CellLayout | None = None,
    quadratic: bool | None = None,
    refine_geometry: bool = False,
    placement_error_mm: float = 0.0,
) -> tuple[GainFit, list[Placement]]:
    """Tare, then every placement of the plan, then the fit: as an operator would.

    `layout` is where the cells really are; `fit_layout` what the fit is told
    (default: the same). `placement_error_mm` puts each mass up to that far off
    its mark (uniform in a square), to see how an imperfect operator limits the result.
    """
    plan = plan or CalibrationPlan()
    n = round(plan.step_s * RATE_HZ)
    t = 0.0
    tared = tare(simulate_counts(model, 0.0, 0.0, 0.0, n, rng, t0_s=t, layout=layout))
    placements = []
    for mass, x, y in plan.steps():
        t += plan.step_s + 3.0  # time to place the mass
        ex, ey = rng.uniform(-placement_error_mm, placement_error_mm, 2)
        counts = simulate_counts(model, mass, x + ex, y + ey, n, rng, t0_s=t, layout=layout)
        placements.append(measure_placement(mass, x, y, counts))
    fit = fit_gains(
        placements, tared.offsets_counts, fit_layout or layout,
        quadratic=quadratic, refine_geometry=refine_geometry,
    )
    return fit, placements


def calibrate_simulated(
    model: CellModel,
    board_name: str,
    *,
    rng: np.random.Generator,
    plan: CalibrationPlan | None = None,
    quadratic: bool | None = None,
    refine_geometry: bool = False,
    min_load_n: float = DEFAULT_MIN_LOAD_N,
    verify_mass_kg: float = VERIFY_MASS_KG,
    verify_at: Sequence[float] = VERIFY_AT_MM,
) -> Calibration:
    """The full procedure on a simulated board: tare, placements, fit, verification."""
    fit, _ = simulate_procedure(model, rng, plan, quadratic=quadratic,
                                refine_geometry=refine_geometry)
    cal = fit.to_calibration(board_name, min_load_n=min_load_n)
    n = round((plan or CalibrationPlan()).step_s * RATE_HZ)
    counts = simulate_counts(model, verify_mass_kg, verify_at[0], verify_at[1], n, rng)
    record_verification(cal, verify(cal, counts, verify_mass_kg, verify_at[0], verify_at[1]))
    return cal


def simulated_calibration(
    model: CellModel, rng: np.random.Generator, board: str = "sim", **kwargs: object
) -> Calibration:
    """A calibration file's content for a simulated board, produced by the procedure."""
    fit, _ = simulate_procedure(model, rng, **kwargs)  # type: ignore[arg-type]
    return fit.to_calibration(board)
