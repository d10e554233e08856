"""Real COP traces (../shared/reference-data) for the simulated athlete to follow.

Two formats are read:
- `t_s,ml_m,ap_m` CSV (time in s, COP in metres), e.g. the 100 Hz quiet-stance recordings;
- an AMTI force-plate export from Motive: metadata lines, then the header
  `MocapFrame, MocapTime, DeviceFrame, Fx, Fy, Fz, Mx, My, Mz, Cx, Cy, Cz`;
  COP ML = My / Fz, AP = Mx / Fz (m). Rows with Fz below 20 % of the median (the zero frames
  of a dropped sample) are left out.
The trace is resampled to the board rate by linear interpolation and its mean removed, so
it sways around whatever base position the athlete stands on (the board centre for a
double-leg stance).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

AMTI_HEADER_START = "MocapFrame"


class CopTraceError(ValueError):
    """A COP trace file could not be used; the message says why."""


@dataclass(frozen=True)
class CopTrace:
    """A COP trajectory in mm (ML right+, AP forward+) with its sample times."""

    t_s: np.ndarray
    ml_mm: np.ndarray
    ap_mm: np.ndarray
    source: str = ""

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self.t_s) else 0.0

    def resampled(self, rate_hz: float) -> np.ndarray:
        """(n, 2) mean-removed COP [ML, AP] in mm on a uniform grid at `rate_hz`."""
        t = self.t_s - self.t_s[0]
        grid = np.arange(0.0, t[-1] + 1e-9, 1.0 / rate_hz)
        out = np.column_stack([np.interp(grid, t, self.ml_mm), np.interp(grid, t, self.ap_mm)])
        return out - out.mean(axis=0)


def load_cop_trace(path: str | Path) -> CopTrace:
    """Read a COP trace in either supported format (see module docstring)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise CopTraceError(f"cannot read COP trace {path}: {exc.strerror}") from exc
    if not lines:
        raise CopTraceError(f"{path}: empty file")
    head = lines[0].replace(" ", "")
    if head == "t_s,ml_m,ap_m":
        data = _numbers(path, lines[1:], 3, first_line=2)
        t, ml, ap = data[:, 0], data[:, 1], data[:, 2]
    else:
        start = next(
            (i for i, line in enumerate(lines) if line.startswith(AMTI_HEADER_START)), None
        )
        if start is None:
            raise CopTraceError(
                f"{path}: header must be 't_s,ml_m,ap_m' or an AMTI export with a "
                f"'{AMTI_HEADER_START}, ...' header line"
            )
        data = _numbers(path, lines[start + 1 :], 12, first_line=start + 2)
        fz = data[:, 5]
        keep = fz > 0.2 * np.median(fz)
        t = data[keep, 1]
        ml = data[keep, 7] / fz[keep]
        ap = data[keep, 6] / fz[keep]
    if len(t) < 2 or np.any(np.diff(t) <= 0):
        raise CopTraceError(f"{path}: needs at least 2 samples with increasing time")
    return CopTrace(t - t[0], ml * 1000.0, ap * 1000.0, source=str(path))


def _numbers(path: Path, lines: list[str], ncols: int, first_line: int) -> np.ndarray:
    rows = [line for line in lines if line.strip()]
    try:
        data = np.loadtxt(rows, delimiter=",", ndmin=2)
    except ValueError as exc:
        raise CopTraceError(f"{path}: non-numeric data after line {first_line - 1}: {exc}") from exc
    if data.shape[1] != ncols or not np.isfinite(data).all():
        raise CopTraceError(f"{path}: expected {ncols} finite numbers per row")
    return data
