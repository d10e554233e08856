"""Load recorded traces for analysis: raw counts, cell forces or a COP trace, by header.

Accepted CSV headers (columns found by name; extra columns are ignored; lines
starting with '#' before the header are skipped):

- ``t_s,c0,c1,c2,c3``          raw HX711 counts (needs a calibration)
- ``t_s,f0_n,f1_n,f2_n,f3_n``  cell forces in N (cell positions from a calibration)
- ``t_s,x_mm,y_mm``            COP in millimetres
- ``t_s,ml_m,ap_m``            COP in metres (the reference-data files)

Whatever the input, the result is a `Trace` with the COP in mm. Bad files raise
`TraceError` naming the line and column.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from station.board.recording import HEADER_V2 as RAW_HEADER_V2
from station.board.recording import RecordingFormatError, read_raw_recording
from station.calibration.alignment import align_frames
from station.calibration.conversion import force_and_cop
from station.calibration.file import Calibration
from station.calibration.procedure import G
from station.geometry import cop_from_forces

FILTERS = ("none", "butter10")
# Stored/offline trials: 4th-order Butterworth, 10 Hz, zero lag (Q21 in docs/references.md).
BUTTER10_ORDER = 4
BUTTER10_CUTOFF_HZ = 10.0


class TraceError(ValueError):
    """A trace file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class TraceFormat:
    name: str
    columns: tuple[str, ...]
    needs_calibration: bool
    allow_nan: bool  # data columns may hold 'nan' (an undefined COP)


FORMATS = (
    TraceFormat("raw_counts", ("t_s", "c0", "c1", "c2", "c3"), True, False),
    TraceFormat("cell_forces", ("t_s", "f0_n", "f1_n", "f2_n", "f3_n"), True, False),
    TraceFormat("cop_mm", ("t_s", "x_mm", "y_mm"), False, True),
    TraceFormat("cop_m", ("t_s", "ml_m", "ap_m"), False, True),
)


@dataclass(frozen=True)
class Trace:
    t_s: np.ndarray
    x_mm: np.ndarray
    y_mm: np.ndarray
    force_n: np.ndarray | None = None
    cell_forces_n: np.ndarray | None = None
    source_format: str = "cop_mm"
    filter: str = "none"

    @property
    def rate_hz(self) -> float:
        """Sample rate from the median time step (robust to a few dropped frames)."""
        if len(self.t_s) < 2:
            return math.nan
        return float(1.0 / np.median(np.diff(self.t_s)))


def detect_format(header: Sequence[str]) -> tuple[TraceFormat, list[int]]:
    """The format a header names, and the indices of its columns."""
    names = [h.strip().lower() for h in header]
    for fmt in FORMATS:
        if all(c in names for c in fmt.columns):
            return fmt, [names.index(c) for c in fmt.columns]
    expected = "; ".join(",".join(f.columns) for f in FORMATS)
    raise TraceError(f"unknown header {','.join(header)!r}: expected one of {expected}")


def _read_table(path: Path) -> tuple[TraceFormat, np.ndarray]:
    try:
        fh = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise TraceError(f"{path}: file not found") from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        reader = csv.reader(fh)
        header: list[str] | None = None
        rows: list[list[float]] = []
        try:
            for row in reader:
                line = reader.line_num
                if header is None:
                    if not row or row[0].lstrip().startswith("#"):
                        continue
                    header = row
                    try:
                        fmt, idx = detect_format(row)
                    except TraceError as exc:
                        raise TraceError(f"{path}: line {line}: {exc}") from None
                    width = max(idx) + 1
                    continue
                if not row or not "".join(row).strip():
                    continue
                if len(row) < width:
                    raise TraceError(
                        f"{path}: line {line}: {len(row)} fields, expected {len(header)}"
                    )
                values = []
                for name, i in zip(fmt.columns, idx, strict=True):
                    text = row[i].strip()
                    try:
                        v = float(text)
                    except ValueError:
                        raise TraceError(
                            f"{path}: line {line}, column {name!r}: not a number ({text!r})"
                        ) from None
                    if not math.isfinite(v) and not (fmt.allow_nan and name != "t_s"):
                        raise TraceError(
                            f"{path}: line {line}, column {name!r}: must be finite ({text!r})"
                        )
                    values.append(v)
                rows.append(values)
        except UnicodeDecodeError:
            raise TraceError(f"{path}: not a UTF-8 text file") from None
        except csv.Error as exc:
            raise TraceError(f"{path}: line {reader.line_num}: {exc}") from None
    if header is None:
        raise TraceError(f"{path}: empty file (no header)")
    if len(rows) < 2:
        raise TraceError(f"{path}: needs at least 2 data rows, found {len(rows)}")
    data = np.array(rows, dtype=float)
    steps = np.diff(data[:, 0])
    if (steps <= 0).any():
        bad = int(np.argmax(steps <= 0))
        raise TraceError(
            f"{path}: data row {bad + 2}: t_s does not increase "
            f"({data[bad, 0]:g} then {data[bad + 1, 0]:g})"
        )
    return fmt, data


def load_trace(path: str | os.PathLike[str], calibration: Calibration | None = None) -> Trace:
    """Read any accepted trace file into a COP trace (mm), with forces when known."""
    p = Path(path)
    fmt, data = _read_table(p)
    t = data[:, 0]
    if fmt.needs_calibration and calibration is None:
        what = "raw counts" if fmt.name == "raw_counts" else "cell forces (for the cell positions)"
        raise TraceError(f"{p}: {what} need --calibration FILE")
    if fmt.name in ("raw_counts", "cell_forces"):
        assert calibration is not None
        cells = data[:, 1:5]
        if fmt.name == "raw_counts":
            cell_dt_ns = _recorded_cell_offsets(p)
            if cell_dt_ns is not None and np.any(cell_dt_ns):  # the cells at one instant
                t_ns = np.rint(t * 1e9).astype(np.int64)
                cells = align_frames(t_ns, cells, cell_dt_ns)
            forces, total, cop = force_and_cop(calibration, cells)
        else:
            forces = cells
            total, cop = cop_from_forces(forces, calibration.positions_mm, calibration.min_load_n)
        return Trace(t, cop[:, 0], cop[:, 1], total, forces, fmt.name)
    scale = 1000.0 if fmt.name == "cop_m" else 1.0
    return Trace(t, data[:, 1] * scale, data[:, 2] * scale, source_format=fmt.name)


def _recorded_cell_offsets(path: Path) -> np.ndarray | None:
    """Each cell's conversion offset (n, 4) ns from a version 2 raw recording (zero rows: not
    known), or None for any other raw-counts file (the cells are taken as simultaneous)."""
    with path.open(encoding="utf-8-sig") as fh:
        first = fh.readline().strip().replace(" ", "")
    if first != RAW_HEADER_V2:
        return None
    try:
        return read_raw_recording(path).cell_dt_ns
    except (RecordingFormatError, OSError) as exc:
        raise TraceError(f"{path}: {exc}") from None


def _finite_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def filter_trace(trace: Trace, kind: str) -> Trace:
    """`none`, or `butter10`: 4th-order 10 Hz Butterworth, zero lag (sosfiltfilt).

    Applied to each stretch of defined COP separately (a step off the board
    leaves NaNs); stretches too short to filter become NaN rather than raw.
    """
    if kind == "none":
        return trace
    if kind != "butter10":
        raise TraceError(f"unknown filter {kind!r}: use one of {', '.join(FILTERS)}")
    fs = trace.rate_hz
    if not fs > 2.5 * BUTTER10_CUTOFF_HZ:
        raise TraceError(
            f"butter10 needs a sample rate above {2.5 * BUTTER10_CUTOFF_HZ:g} Hz "
            f"(this trace: {fs:.1f} Hz); use --filter none"
        )
    from scipy.signal import butter, sosfiltfilt  # when used: the station starts without scipy

    sos = butter(BUTTER10_ORDER, BUTTER10_CUTOFF_HZ, fs=fs, output="sos")
    min_len = 3 * (2 * len(sos) + 1) + 1  # sosfiltfilt's default pad length + 1

    def run(sig: np.ndarray | None) -> np.ndarray | None:
        if sig is None:
            return None
        out = np.full_like(sig, np.nan)
        for a, b in _finite_runs(np.isfinite(sig)):
            if b - a >= min_len:
                out[a:b] = sosfiltfilt(sos, sig[a:b])
        return out

    return replace(
        trace,
        x_mm=run(trace.x_mm),
        y_mm=run(trace.y_mm),
        force_n=run(trace.force_n),
        filter=kind,
    )


def _axis_summary(v: np.ndarray) -> dict[str, float] | None:
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    mean = float(v.mean())
    return {
        "mean_mm": round(mean, 3),
        "min_mm": round(float(v.min()), 3),
        "max_mm": round(float(v.max()), 3),
        "range_mm": round(float(np.ptp(v)), 3),
        "rms_mm": round(float(np.sqrt(np.mean((v - mean) ** 2))), 3),
    }


def summarize_trace(trace: Trace) -> dict[str, Any]:
    """Force and COP summary (the sway metrics are added by station.analysis.metrics)."""
    defined = np.isfinite(trace.x_mm) & np.isfinite(trace.y_mm)
    out: dict[str, Any] = {
        "source_format": trace.source_format,
        "n_samples": len(trace.t_s),
        "rate_hz": round(trace.rate_hz, 3),
        "duration_s": round(float(trace.t_s[-1] - trace.t_s[0]), 4),
        "filter": trace.filter,
        "force": None,
        "cop": {
            "n_defined": int(defined.sum()),
            "x": _axis_summary(trace.x_mm[defined]),
            "y": _axis_summary(trace.y_mm[defined]),
        },
    }
    if trace.force_n is not None:
        f = trace.force_n[np.isfinite(trace.force_n)]
        if len(f):
            out["force"] = {
                "mean_n": round(float(f.mean()), 3),
                "min_n": round(float(f.min()), 3),
                "max_n": round(float(f.max()), 3),
                "mean_kg": round(float(f.mean()) / G, 3),
            }
    return out


def write_cop(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write `t_s,x_mm,y_mm` (undefined COP as 'nan'); readable by load_trace."""
    data = np.column_stack([trace.t_s, trace.x_mm, trace.y_mm])
    np.savetxt(path, data, delimiter=",", header="t_s,x_mm,y_mm", comments="",
               fmt=["%.6f", "%.4f", "%.4f"])
