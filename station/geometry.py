"""Board geometry: where the four cells sit, and the centre-of-pressure formula.

Frame: x = medio-lateral (right positive), y = antero-posterior (forward
positive), origin at the platform centre, millimetres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CELL_NAMES: tuple[str, str, str, str] = ("front_left", "front_right", "back_left", "back_right")


@dataclass(frozen=True)
class CellLayout:
    """Positions of the four cells, in raw column order c0..c3 (mm)."""

    names: tuple[str, ...]
    x_mm: tuple[float, ...]
    y_mm: tuple[float, ...]

    @property
    def positions(self) -> np.ndarray:
        """(4, 2) array of cell positions [x, y] in mm."""
        return np.column_stack([self.x_mm, self.y_mm]).astype(float)


# The default board: cells at the corners of a 400 mm (ML) x 300 mm (AP) rectangle.
DEFAULT_LAYOUT = CellLayout(
    names=CELL_NAMES,
    x_mm=(-200.0, 200.0, -200.0, 200.0),
    y_mm=(150.0, 150.0, -150.0, -150.0),
)


def cop_from_forces(
    cell_forces_n: np.ndarray, positions_mm: np.ndarray, min_load_n: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Total force and COP from per-cell forces: COP = sum(F_i r_i) / sum(F_i).

    cell_forces_n: (..., 4). Returns (total (...), cop (..., 2)); the COP is NaN
    where the total force is below `min_load_n` (nobody on the board).
    """
    forces = np.asarray(cell_forces_n, dtype=float)
    total = forces.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cop = (forces @ positions_mm) / total[..., None]
    cop[total < max(min_load_n, 1e-12)] = np.nan
    return total, cop


def forces_from_cop(
    total_n: np.ndarray | float, cop_mm: np.ndarray, positions_mm: np.ndarray
) -> np.ndarray:
    """Per-cell forces of a rigid rectangular plate carrying `total_n` at `cop_mm`.

    Bilinear weights of the COP inside the cell rectangle; exact inverse of
    `cop_from_forces` for a rectangle of cells. Returns (..., 4).
    """
    cop = np.asarray(cop_mm, dtype=float)
    x0, x1 = positions_mm[:, 0].min(), positions_mm[:, 0].max()
    y0, y1 = positions_mm[:, 1].min(), positions_mm[:, 1].max()
    u = (cop[..., 0] - x0) / (x1 - x0)  # 0 at left cells, 1 at right cells
    v = (cop[..., 1] - y0) / (y1 - y0)  # 0 at back cells, 1 at front cells
    cell_u = (positions_mm[:, 0] - x0) / (x1 - x0)
    cell_v = (positions_mm[:, 1] - y0) / (y1 - y0)
    wu = np.where(cell_u > 0.5, u[..., None], 1.0 - u[..., None])
    wv = np.where(cell_v > 0.5, v[..., None], 1.0 - v[..., None])
    return np.asarray(total_n, dtype=float)[..., None] * wu * wv
