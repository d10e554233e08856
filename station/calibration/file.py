"""The calibration file: one JSON per board that turns raw counts into newtons.

Loading validates every field and refuses a bad file with a message naming the
field (e.g. ``cells[2].newtons_per_count: must be a finite non-zero number
(got 0)``), so the station can fall back to "not calibrated" instead of showing
wrong numbers. Numbers must also lie within what a board can be (`BOUNDS`: a gain of
1e300 N per count or a minimum load of 1e9 N is a broken file, not a board), and the
free objects (residuals, verification) may not nest deeper than `MAX_DEPTH`. Saving is
atomic (temp file + os.replace): a crash mid-write never leaves a half file behind.
Format: calibration/README.md.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from station.calibration.conversion import cell_forces_from_counts
from station.frames import N_CELLS
from station.geometry import CELL_NAMES, CellLayout
from station.wire import json_depth

SCHEMA_VERSION = 1
DEFAULT_MIN_LOAD_N = 50.0
HX711_FULL_SCALE = 1 << 23  # counts: the chip's 24-bit signed range is +-2^23
# What a board's numbers can be: beyond these a file is broken, whatever it says.
MAX_POSITION_MM = 2000.0  # a cell 2 m from the centre
GAIN_RANGE = (1e-7, 0.1)  # |N per count|: a cell's full range 0.8 N .. 840 kN
MAX_MIN_LOAD_N = 2000.0  # the COP is shown from this load on (default 50 N)
MAX_DEPTH = 16  # objects and lists inside residuals / verification


class CalibrationError(ValueError):
    """A calibration file cannot be used; the message names the file field at fault."""


@dataclass
class Calibration:
    """Per-board constants: cell force F_i = k_i d + q_i d^2 with d = counts - offset_i.

    q_i (``quadratic_n_per_count2``) is optional in the file and zero when absent;
    it absorbs the load cells' small non-linearity.
    """

    board: str
    created: datetime
    positions_mm: np.ndarray  # (4, 2) [x, y]
    offsets_counts: np.ndarray  # (4,)
    newtons_per_count: np.ndarray  # (4,)
    quadratic_n_per_count2: np.ndarray = field(default_factory=lambda: np.zeros(N_CELLS))
    names: tuple[str, ...] = CELL_NAMES
    min_load_n: float = DEFAULT_MIN_LOAD_N
    residuals: dict[str, Any] = field(default_factory=dict)
    verification: dict[str, Any] | None = None

    @property
    def layout(self) -> CellLayout:
        return CellLayout(
            names=tuple(self.names),
            x_mm=tuple(float(v) for v in self.positions_mm[:, 0]),
            y_mm=tuple(float(v) for v in self.positions_mm[:, 1]),
        )

    def cell_forces(self, counts: np.ndarray) -> np.ndarray:
        """Per-cell forces (..., 4) in N for raw counts (..., 4) (with the COP too:
        station.calibration.conversion.force_and_cop)."""
        return cell_forces_from_counts(
            counts, self.offsets_counts, self.newtons_per_count, self.quadratic_n_per_count2
        )

    def counts_for_forces(self, cell_forces_n: np.ndarray) -> np.ndarray:
        """Inverse of `cell_forces` (float counts): solves q d^2 + k d - F = 0 per cell."""
        f = np.asarray(cell_forces_n, dtype=float)
        k, q = self.newtons_per_count, self.quadratic_n_per_count2
        with np.errstate(invalid="ignore", divide="ignore"):
            # Numerically stable root of the quadratic that tends to F/k as q -> 0.
            disc = np.sqrt(k * k + 4.0 * q * f)
            d = np.where(q == 0.0, f / k, 2.0 * f / (k + np.sign(k) * disc))
        return d + self.offsets_counts

    def age_days(self, now: datetime | None = None) -> float:
        now = now or datetime.now(UTC)
        created = self.created if self.created.tzinfo else self.created.replace(tzinfo=UTC)
        return (now - created).total_seconds() / 86400.0

    def to_dict(self) -> dict[str, Any]:
        cells = []
        for i in range(N_CELLS):
            cell: dict[str, Any] = {
                "name": self.names[i],
                "x_mm": float(self.positions_mm[i, 0]),
                "y_mm": float(self.positions_mm[i, 1]),
                "offset_counts": float(self.offsets_counts[i]),
                "newtons_per_count": float(self.newtons_per_count[i]),
            }
            if self.quadratic_n_per_count2[i] != 0.0:
                cell["quadratic_n_per_count2"] = float(self.quadratic_n_per_count2[i])
            cells.append(cell)
        out: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "board": self.board,
            "created": self.created.isoformat(),
            "cells": cells,
            "min_load_n": float(self.min_load_n),
            "residuals": self.residuals,
        }
        if self.verification is not None:
            out["verification"] = self.verification
        return out


def _finite(value: Any, where: str, *, nonzero: bool = False, positive: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and nonzero and value == 0:
        ok = False
    if ok and positive and value <= 0:
        ok = False
    if not ok:
        what = "positive" if positive else "non-zero" if nonzero else ""
        kind = f"a finite {what} number".replace("  ", " ")
        raise CalibrationError(f"{where}: must be {kind} (got {value!r})")
    return float(value)


def _within(value: float, where: str, low: float, high: float, unit: str) -> float:
    """`value` (already finite) with |value| from `low` to `high`, else the field named."""
    if not low <= abs(value) <= high:
        top = str(int(high)) if float(high).is_integer() else f"{high:g}"
        size = f"from {low:g} to {top}" if low > 0 else f"at most {top}"
        raise CalibrationError(f"{where}: must be {size} {unit} in size (got {value:g})")
    return value


def _free_object(data: dict[str, Any], key: str, default: Any) -> Any:
    value = data.get(key, default)
    if value is not None and json_depth(value) > MAX_DEPTH:
        raise CalibrationError(f"{key}: nested too deeply (limit {MAX_DEPTH} levels)")
    return value


def calibration_from_dict(data: Any) -> Calibration:
    """Validate a parsed calibration document; raise CalibrationError naming the field."""
    if not isinstance(data, dict):
        raise CalibrationError("top level: must be a JSON object")
    if data.get("schema") != SCHEMA_VERSION:
        raise CalibrationError(
            f"schema: must be {SCHEMA_VERSION} (got {data.get('schema')!r}); "
            "this station reads schema 1 files only"
        )
    board = data.get("board")
    if not isinstance(board, str) or not board.strip():
        raise CalibrationError(f"board: must be a non-empty string (got {board!r})")
    created_raw = data.get("created")
    try:
        created = datetime.fromisoformat(str(created_raw))
    except ValueError:
        created = None
    if not isinstance(created_raw, str) or created is None:
        raise CalibrationError(f"created: must be an ISO 8601 date-time (got {created_raw!r})")
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    cells = data.get("cells")
    if not isinstance(cells, list) or len(cells) != N_CELLS:
        got = len(cells) if isinstance(cells, list) else type(cells).__name__
        raise CalibrationError(
            f"cells: must list {N_CELLS} cells in raw column order c0..c3 (got {got})"
        )
    names, pos, offsets, gains, quad = [], [], [], [], []
    for i, cell in enumerate(cells):
        where = f"cells[{i}]"
        if not isinstance(cell, dict):
            raise CalibrationError(f"{where}: must be an object")
        name = cell.get("name")
        if not isinstance(name, str) or not name:
            raise CalibrationError(f"{where}.name: must be a non-empty string (got {name!r})")
        names.append(name)
        x, y = (
            _within(_finite(cell.get(k), f"{where}.{k}"), f"{where}.{k}", 0, MAX_POSITION_MM, "mm")
            for k in ("x_mm", "y_mm")
        )
        pos.append((x, y))
        offset = _finite(cell.get("offset_counts"), f"{where}.offset_counts")
        range_name = "counts (the HX711's range)"
        offsets.append(_within(offset, f"{where}.offset_counts", 0, HX711_FULL_SCALE, range_name))
        gain = _finite(cell.get("newtons_per_count"), f"{where}.newtons_per_count", nonzero=True)
        gains.append(_within(gain, f"{where}.newtons_per_count", *GAIN_RANGE, "N per count"))
        q = _finite(cell.get("quadratic_n_per_count2", 0.0), f"{where}.quadratic_n_per_count2")
        if abs(q) * HX711_FULL_SCALE > abs(gain):
            raise CalibrationError(
                f"{where}.quadratic_n_per_count2: {q:g} would outweigh the linear term "
                f"({gain:g} N per count) within the HX711's range; at most "
                f"{abs(gain) / HX711_FULL_SCALE:g} in size"
            )
        quad.append(q)
    if len(set(names)) != N_CELLS:
        raise CalibrationError(f"cells[].name: names must be distinct (got {names})")
    positions = np.array(pos, dtype=float)
    centred = positions - positions.mean(axis=0)
    if np.linalg.matrix_rank(centred, tol=1.0) < 2:
        raise CalibrationError(
            "cells[].x_mm/y_mm: the four cell positions lie on one line or one point; "
            "the centre of pressure needs a 2-D layout"
        )
    min_load = _finite(data.get("min_load_n", DEFAULT_MIN_LOAD_N), "min_load_n", positive=True)
    _within(min_load, "min_load_n", 0, MAX_MIN_LOAD_N, "N")
    residuals = _free_object(data, "residuals", {})
    if not isinstance(residuals, dict):
        raise CalibrationError("residuals: must be an object")
    verification = _free_object(data, "verification", None)
    if verification is not None and not isinstance(verification, dict):
        raise CalibrationError("verification: must be an object or null")
    return Calibration(
        board=board,
        created=created,
        positions_mm=positions,
        offsets_counts=np.array(offsets),
        newtons_per_count=np.array(gains),
        quadratic_n_per_count2=np.array(quad),
        names=tuple(names),
        min_load_n=min_load,
        residuals=residuals,
        verification=verification,
    )


def load_calibration(path: str | os.PathLike[str]) -> Calibration:
    """Read and validate a calibration file; CalibrationError says what is wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalibrationError(f"{p}: calibration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"{p}: cannot read calibration file ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalibrationError(
            f"{p}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:  # deeper than the parser's recursion
        raise CalibrationError(f"{p}: nested too deeply to be a calibration file") from None
    try:
        return calibration_from_dict(data)
    except CalibrationError as exc:
        raise CalibrationError(f"{p}: {exc}") from None


def try_load_calibration(
    path: str | os.PathLike[str] | None,
) -> tuple[Calibration | None, str | None]:
    """(calibration, None) or (None, reason): for the station, which runs uncalibrated on error."""
    if path is None:
        return None, "no calibration file configured"
    try:
        return load_calibration(path), None
    except CalibrationError as exc:
        return None, str(exc)


def save_calibration(cal: Calibration, path: str | os.PathLike[str]) -> None:
    """Write atomically: a temp file in the same folder, fsync, then os.replace."""
    p = Path(path)
    # Validate what we write, so a saved file always loads.
    calibration_from_dict(json.loads(json.dumps(cal.to_dict())))
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(cal.to_dict(), fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
