"""What the estimator hands to the hold engine and the live view for each frame."""

from __future__ import annotations

from typing import NamedTuple


class Sample(NamedTuple):
    """One calibrated frame.

    t_s: station monotonic time of the frame (s).
    force_n: total vertical force (N); NaN when the board is not calibrated.
    cop_x_mm, cop_y_mm: centre of pressure (mm, x = ML right+, y = AP forward+);
        NaN when the force is below the calibration's min_load_n or uncalibrated.
    cell_forces_n: per-cell force (N) in cell order c0..c3.
    """

    t_s: float
    force_n: float
    cop_x_mm: float
    cop_y_mm: float
    cell_forces_n: tuple[float, float, float, float]
