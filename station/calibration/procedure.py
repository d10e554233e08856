"""Calibration procedure as pure functions on arrays of raw counts.

Tare (empty board -> offsets), gain fit (known mass at marked spots -> newtons
per count, optional quadratic term, optional refined cell positions) and
verification. The CLI and, later, the web page collect frames and call these;
the logic lives here so both behave the same and tests need no hardware.

The fit uses only what a vertical-force board guarantees, static equilibrium
for every placement p of weight W_p at r_p:

    sum_i F_i = W_p        sum_i F_i r_i = W_p r_p

with F_i = k_i d_i + q_i d_i^2 and d = counts - offset. That is linear in
(k, q), so one weighted least-squares solve gives the gains; it does not assume
how a (statically indeterminate) four-support plate shares the load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from station.calibration.conversion import force_and_cop
from station.calibration.file import DEFAULT_MIN_LOAD_N, Calibration
from station.frames import N_CELLS
from station.geometry import CELL_NAMES, DEFAULT_LAYOUT, CellLayout, cop_from_forces

G = 9.80665  # standard gravity, m/s^2: kg -> N

# A still board's counts vary by the HX711 noise (~39 counts rms at 80 SPS); a
# person stepping on or off moves them by 10^5. 200 counts rms (~0.05 N per cell)
# separates the two with a wide margin.
DEFAULT_MAX_STD_COUNTS = 200.0
DEFAULT_TARE_MAX_LOAD_KG = 2.0
MIN_FRAMES = 20
# Expected errors of the fit's inputs (weights of the least squares, see _solve_gains).
MASS_SIGMA = 0.001  # a known mass: 0.1 % of its weight
MARK_SIGMA_MM = 2.0  # a mass placed on a mark: 2 mm


class MeasurementRefused(Exception):
    """The frames cannot be used for this step; `reason` says why, for the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TareRefused(MeasurementRefused):
    """The empty-board average cannot be taken (moving, or something on the board)."""


class CalibrationFitRefused(Exception):
    """The placements do not give a believable calibration; the message says why."""


def _as_counts(counts: np.ndarray) -> np.ndarray:
    arr = np.asarray(counts, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != N_CELLS:
        raise ValueError(f"counts must have shape (n, {N_CELLS}), got {arr.shape}")
    return arr


def _check_still(arr: np.ndarray, max_std_counts: float, refuse: type[MeasurementRefused]) -> None:
    if len(arr) < MIN_FRAMES:
        raise refuse(f"too few frames: {len(arr)} < {MIN_FRAMES}; hold the step longer")
    if not np.isfinite(arr).all():
        raise refuse("frames contain invalid values")
    std = arr.std(axis=0)
    worst = int(np.argmax(std))
    if std[worst] > max_std_counts:
        raise refuse(
            f"load is moving: std {std[worst]:.0f} counts > {max_std_counts:.0f} "
            f"(cell {worst} {CELL_NAMES[worst]}); keep the board still"
        )


@dataclass(frozen=True)
class TareResult:
    offsets_counts: np.ndarray  # (4,) mean counts of the empty board
    std_counts: np.ndarray  # (4,) noise seen while taring
    n_frames: int
    load_n: float | None  # load seen relative to the reference calibration, if any


def tare(
    counts: np.ndarray,
    *,
    reference: Calibration | None = None,
    max_std_counts: float = DEFAULT_MAX_STD_COUNTS,
    max_load_kg: float = DEFAULT_TARE_MAX_LOAD_KG,
) -> TareResult:
    """Average an empty, still board into per-cell offsets.

    Refuses while the counts move. "Near zero" needs a scale: with a `reference`
    calibration (the previous one) the load it reads must be below `max_load_kg`;
    without one only stillness can be checked, and the gain fit's residuals catch
    a loaded tare later.
    """
    arr = _as_counts(counts)
    _check_still(arr, max_std_counts, TareRefused)
    mean = arr.mean(axis=0)
    load_n = None
    if reference is not None:
        load_n = float(reference.cell_forces(mean).sum())
        if abs(load_n) > max_load_kg * G:
            raise TareRefused(
                f"board not empty: {load_n / G:.1f} kg on it (limit {max_load_kg:g} kg); "
                "remove everything from the board"
            )
    return TareResult(mean, arr.std(axis=0), len(arr), load_n)


@dataclass(frozen=True)
class Placement:
    """A known mass resting still at a marked spot, and the mean counts it produced."""

    mass_kg: float
    x_mm: float
    y_mm: float
    counts_mean: np.ndarray  # (4,)
    n_frames: int = 0


def measure_placement(
    mass_kg: float,
    x_mm: float,
    y_mm: float,
    counts: np.ndarray,
    *,
    max_std_counts: float = DEFAULT_MAX_STD_COUNTS,
) -> Placement:
    """Average the frames of one placement; refuses a moving load."""
    if not (np.isfinite(mass_kg) and mass_kg > 0):
        raise MeasurementRefused(f"mass must be a positive number of kg (got {mass_kg})")
    arr = _as_counts(counts)
    _check_still(arr, max_std_counts, MeasurementRefused)
    return Placement(float(mass_kg), float(x_mm), float(y_mm), arr.mean(axis=0), len(arr))


@dataclass(frozen=True)
class FitLimits:
    """When a fit is "clearly wrong". Defaults are far outside what a sound board gives."""

    min_response_ratio: float = 0.1  # a cell's largest change vs the median cell's
    max_gain_ratio: float = 2.0  # k_i vs median k (and its inverse)
    max_force_error_pct: float = 2.0
    max_cop_error_mm: float = 10.0
    max_nonlinearity: float = 0.1  # |q d^2| / |k d| at the largest load seen


@dataclass
class GainFit:
    newtons_per_count: np.ndarray
    quadratic_n_per_count2: np.ndarray
    positions_mm: np.ndarray
    offsets_counts: np.ndarray
    per_position: list[dict[str, float]]
    summary: dict[str, Any]

    def residuals(self) -> dict[str, Any]:
        """The file's `residuals` object."""
        return {**self.summary, "positions": self.per_position}

    def to_calibration(
        self,
        board: str,
        *,
        min_load_n: float = DEFAULT_MIN_LOAD_N,
        created: datetime | None = None,
        names: Sequence[str] = CELL_NAMES,
    ) -> Calibration:
        return Calibration(
            board=board,
            created=created or datetime.now(UTC).replace(microsecond=0),
            positions_mm=self.positions_mm.copy(),
            offsets_counts=self.offsets_counts.copy(),
            newtons_per_count=self.newtons_per_count.copy(),
            quadratic_n_per_count2=self.quadratic_n_per_count2.copy(),
            names=tuple(names),
            min_load_n=min_load_n,
            residuals=self.residuals(),
        )


def _solve_gains(
    d: np.ndarray, weights_n: np.ndarray, targets: np.ndarray, positions: np.ndarray,
    quadratic: bool, mass_sigma: float, mark_sigma_mm: float,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Weighted least-squares k (and q) from the equilibrium equations; (k, q, rank, n).

    Each equation is divided by its expected error: the force sum by
    mass_sigma * W (a known mass is good to ~0.1 %), a moment by
    mark_sigma_mm * W (a mass lands within ~2 mm of its mark). The gains then
    rest mostly on the masses, which are known far better than the spots.
    """
    n_p = len(d)
    basis = [d, d * d] if quadratic else [d]
    rows, rhs = [], []
    for lever, target, sigma in (
        (np.ones(N_CELLS), np.ones(n_p), mass_sigma),
        (positions[:, 0], targets[:, 0], mark_sigma_mm),
        (positions[:, 1], targets[:, 1], mark_sigma_mm),
    ):
        rows.append(np.hstack([b * lever / (sigma * weights_n[:, None]) for b in basis]))
        rhs.append(target / sigma)
    a = np.vstack(rows)
    y = np.concatenate(rhs)
    scale = np.linalg.norm(a, axis=0)
    scale[scale == 0] = 1.0
    sol, _, rank, _ = np.linalg.lstsq(a / scale, y, rcond=1e-10)
    sol = sol / scale
    k = sol[:N_CELLS]
    q = sol[N_CELLS:] if quadratic else np.zeros(N_CELLS)
    return k, q, int(rank), a.shape[1]


def _solve_positions(forces: np.ndarray, weights_n: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Cell positions that best satisfy sum_i F_i r_i = W r_p for fixed forces."""
    a = forces / weights_n[:, None]
    pos, _, rank, _ = np.linalg.lstsq(a, targets, rcond=None)
    if rank < N_CELLS:
        raise CalibrationFitRefused(
            "placements do not determine the cell positions: use more marked spots"
        )
    return pos


def _position_residuals(
    placements: Sequence[Placement], forces: np.ndarray, positions: np.ndarray
) -> tuple[list[dict[str, float]], dict[str, Any]]:
    total, cop = cop_from_forces(forces, positions)
    out = []
    for p, f, c in zip(placements, total, cop, strict=True):
        w = p.mass_kg * G
        ex, ey = float(c[0] - p.x_mm), float(c[1] - p.y_mm)
        out.append({
            "mass_kg": p.mass_kg, "x_mm": p.x_mm, "y_mm": p.y_mm,
            "force_error_n": round(float(f - w), 4),
            "force_error_pct": round(float(100 * (f - w) / w), 4),
            "cop_error_x_mm": round(ex, 3), "cop_error_y_mm": round(ey, 3),
            "cop_error_mm": round(float(np.hypot(ex, ey)), 3),
        })
    fe = np.array([r["force_error_pct"] for r in out])
    ce = np.array([r["cop_error_mm"] for r in out])
    summary = {
        "n_placements": len(out),
        "force_error_pct_rms": round(float(np.sqrt(np.mean(fe**2))), 4),
        "force_error_pct_max": round(float(np.abs(fe).max()), 4),
        "cop_error_mm_rms": round(float(np.sqrt(np.mean(ce**2))), 3),
        "cop_error_mm_max": round(float(ce.max()), 3),
    }
    return out, summary


def _check_responses(d: np.ndarray, limits: FitLimits) -> None:
    response = np.abs(d).max(axis=0)
    median = float(np.median(response))
    for i in range(N_CELLS):
        if response[i] < limits.min_response_ratio * median:
            raise CalibrationFitRefused(
                f"cell {i} ({CELL_NAMES[i]}) barely responds: largest change "
                f"{response[i]:.0f} counts vs {median:.0f} for the others; "
                "check the cell, its wiring and that it carries load"
            )
    # Sign: a loaded cell's counts move the same way on every cell of a sound board.
    signs = np.sign(d.sum(axis=0))
    majority = 1.0 if (signs > 0).sum() >= 2 else -1.0
    for i in range(N_CELLS):
        if signs[i] != majority:
            raise CalibrationFitRefused(
                f"cell {i} ({CELL_NAMES[i]}) responds with the opposite sign to the "
                "others: its signal wires (A+/A-) are probably swapped"
            )


def fit_gains(
    placements: Sequence[Placement],
    offsets_counts: np.ndarray,
    layout: CellLayout = DEFAULT_LAYOUT,
    *,
    quadratic: bool | None = None,
    refine_geometry: bool = False,
    limits: FitLimits | None = None,
) -> GainFit:
    """Fit each cell's newtons-per-count (and quadratic term) from known placements.

    The quadratic term needs placements at two masses or more (with one mass
    it rests on the less certain positions and extrapolates badly):
    `quadratic=None` fits it when there are, True refuses when there are not.

    `refine_geometry` also fits the cell positions (alternating gain and
    position solves); it needs more placements and is off by default because
    a measured layout is usually better than one inferred from a few marks.
    Raises CalibrationFitRefused for a fit that is clearly wrong.
    """
    limits = limits or FitLimits()
    if not placements:
        raise CalibrationFitRefused("no placements: place the known mass on the marks first")
    n_masses = len({round(p.mass_kg, 3) for p in placements})
    if quadratic is None:
        quadratic = n_masses >= 2
    elif quadratic and n_masses < 2:
        raise CalibrationFitRefused(
            "the quadratic (non-linearity) term needs placements at two masses at least "
            "(e.g. 20 and 80 kg); use a linear fit or add a second mass"
        )
    offsets = np.asarray(offsets_counts, dtype=float)
    positions = layout.positions.copy()
    d = np.array([p.counts_mean for p in placements], dtype=float) - offsets
    weights = np.array([p.mass_kg * G for p in placements])
    targets = np.array([[p.x_mm, p.y_mm] for p in placements])
    n_unknowns = N_CELLS * (2 if quadratic else 1) + (2 * N_CELLS if refine_geometry else 0)
    if 3 * len(placements) < n_unknowns + 2:
        raise CalibrationFitRefused(
            f"{len(placements)} placements are too few for {n_unknowns} unknowns: "
            f"use at least {(n_unknowns + 2 + 2) // 3} (centre and the corners, at two masses)"
        )
    marks = np.unique(targets.round(1), axis=0)
    if len(marks) < 3 or np.linalg.matrix_rank(marks - marks.mean(axis=0), tol=1.0) < 2:
        raise CalibrationFitRefused(
            "the marked spots must span the board: place the mass at the centre and the "
            "corners, not only at one spot or along one line"
        )
    _check_responses(d, limits)
    sig = (MASS_SIGMA, MARK_SIGMA_MM)
    k, q, rank, n = _solve_gains(d, weights, targets, positions, quadratic, *sig)
    if rank < n:
        raise CalibrationFitRefused(
            f"placements do not determine the gains (rank {rank} of {n}): "
            "place the mass at the corners, not only the centre"
        )
    if refine_geometry:
        for _ in range(20):
            forces = (k + q * d) * d
            new_positions = _solve_positions(forces, weights, targets)
            k, q, _, _ = _solve_gains(d, weights, targets, new_positions, quadratic, *sig)
            moved = float(np.abs(new_positions - positions).max())
            positions = new_positions
            if moved < 1e-4:
                break
    median = float(np.median(np.abs(k)))
    for i in range(N_CELLS):
        if np.sign(k[i]) != np.sign(np.median(k)):
            raise CalibrationFitRefused(
                f"cell {i} ({CELL_NAMES[i]}) fitted with the wrong sign "
                f"({k[i]:.3g} N/count): check its wiring"
            )
        ratio = abs(k[i]) / median
        if not 1 / limits.max_gain_ratio <= ratio <= limits.max_gain_ratio:
            raise CalibrationFitRefused(
                f"cell {i} ({CELL_NAMES[i]}) gain is {ratio:.2f} times the others': "
                "a cell that barely responds, or a wrong mass/position entered"
            )
        dmax = float(np.abs(d[:, i]).max())
        if abs(q[i]) * dmax > limits.max_nonlinearity * abs(k[i]):
            raise CalibrationFitRefused(
                f"cell {i} ({CELL_NAMES[i]}) looks {100 * abs(q[i]) * dmax / abs(k[i]):.0f} % "
                "non-linear over the loads used: a wrong mass entered, "
                "or a moving or misplaced mass?"
            )
    forces = (k + q * d) * d
    per_position, summary = _position_residuals(placements, forces, positions)
    if summary["force_error_pct_max"] > limits.max_force_error_pct:
        raise CalibrationFitRefused(
            f"force residual {summary['force_error_pct_max']:.2f} % > "
            f"{limits.max_force_error_pct} %: wrong mass entered, something else on the "
            "board, or the board was not empty when tared"
        )
    if summary["cop_error_mm_max"] > limits.max_cop_error_mm:
        raise CalibrationFitRefused(
            f"position residual {summary['cop_error_mm_max']:.1f} mm > "
            f"{limits.max_cop_error_mm} mm: a mass off its mark, or positions entered wrongly"
        )
    summary["quadratic"] = quadratic
    summary["refined_geometry"] = refine_geometry
    return GainFit(k, q, positions, offsets.copy(), per_position, summary)


@dataclass(frozen=True)
class Verification:
    mass_kg: float
    x_mm: float
    y_mm: float
    measured_mass_kg: float
    measured_x_mm: float
    measured_y_mm: float
    created: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @property
    def mass_error_kg(self) -> float:
        return self.measured_mass_kg - self.mass_kg

    @property
    def mass_error_pct(self) -> float:
        return 100.0 * self.mass_error_kg / self.mass_kg

    @property
    def cop_error_mm(self) -> float:
        return float(np.hypot(self.measured_x_mm - self.x_mm, self.measured_y_mm - self.y_mm))

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created.isoformat(),
            "mass_kg": self.mass_kg, "x_mm": self.x_mm, "y_mm": self.y_mm,
            "measured_mass_kg": round(self.measured_mass_kg, 4),
            "measured_x_mm": round(self.measured_x_mm, 3),
            "measured_y_mm": round(self.measured_y_mm, 3),
            "mass_error_kg": round(self.mass_error_kg, 4),
            "mass_error_pct": round(self.mass_error_pct, 4),
            "cop_error_mm": round(self.cop_error_mm, 3),
        }


def verify(
    calibration: Calibration,
    counts: np.ndarray,
    mass_kg: float,
    x_mm: float,
    y_mm: float,
    *,
    max_std_counts: float = DEFAULT_MAX_STD_COUNTS,
) -> Verification:
    """Measure a known mass at a marked spot with the calibration; store with `record`."""
    p = measure_placement(mass_kg, x_mm, y_mm, counts, max_std_counts=max_std_counts)
    _, total, cop = force_and_cop(calibration, p.counts_mean, min_load_n=0.0)
    return Verification(
        float(mass_kg), float(x_mm), float(y_mm),
        float(total) / G, float(cop[0]), float(cop[1]),
    )


def record_verification(calibration: Calibration, result: Verification) -> None:
    """Put a verification into the calibration (saved with the file)."""
    calibration.verification = result.to_dict()
