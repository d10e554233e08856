"""Raw recording format: the four cells' HX711 counts over time, as CSV.

Written by `balance-station record` (and `write_raw_csv` / `RawCsvWriter`), read back by
`read_raw_csv` and by `--board replay:FILE` (station.board.replay.ReplaySource).

Format
------
- UTF-8 text, one header line, exactly one of:

  - version 2 (written since the cells' conversion instants are known, docs/cell-timing.md):
    ``t_s,c0,c1,c2,c3,dt0_us,dt1_us,dt2_us,dt3_us``
  - version 1 (older recordings; still read): ``t_s,c0,c1,c2,c3``

- one line per valid frame: ``t_s`` = seconds since the first frame of the recording
  (decimal, 6 digits after the point = microseconds), then the four raw counts as signed
  decimal integers in cell order c0..c3 (the order of the calibration file; by default
  c0 front_left, c1 front_right, c2 back_left, c3 back_right).
- version 2 only: ``dt0_us..dt3_us`` = when each cell's conversion completed, minus ``t_s``,
  in whole microseconds (usually <= 0: the chips converted before the frame was read), at
  most one second either way; all four empty when the board did not know (the first tenth
  of a second after the chips start, boards that cannot tell). Empty, like all zero, means
  "the four are simultaneous" (`Frame.cell_dt_ns` None).
- counts are 24-bit two's-complement HX711 values: -8388608 .. 8388607.
- t_s strictly increases from line to line. Invalid frames (timeouts, integrity failures)
  are not written, so a gap in t_s marks them.
- Counts are raw: no tare, no gain. Replaying a file through the station with the board's
  calibration file gives forces and COP again (and the cells aligned on their offsets).

Example (version 2)::

    t_s,c0,c1,c2,c3,dt0_us,dt1_us,dt2_us,dt3_us
    0.000000,-10233,4410,18876,-6005,,,,
    0.012500,-10212,4398,18890,-6017,-8112,-61,-11870,-3904

Reading checks every value and reports the first problem as a `RecordingFormatError` naming
the line (1-based, the header is line 1) and the column.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from station.frames import COUNTS_MAX, COUNTS_MIN, N_CELLS

HEADER = "t_s,c0,c1,c2,c3"  # version 1
HEADER_V2 = HEADER + ",dt0_us,dt1_us,dt2_us,dt3_us"
COLUMNS = tuple(HEADER.split(","))
COLUMNS_V2 = tuple(HEADER_V2.split(","))
MAX_CELL_DT_US = 1_000_000  # an offset beyond a second is no conversion of this frame


class RecordingFormatError(ValueError):
    """A raw recording file is not in the format above; names the line and column."""

    def __init__(
        self, path: str | Path, message: str, line: int | None = None, column: str | None = None
    ) -> None:
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.column = str(path), line, column


@dataclass(frozen=True)
class RawRecording:
    """A raw recording read back: t_s (n,) float64 s, counts (n, 4) int64, and cell_dt_ns
    (n, 4) int64 ns, each cell's conversion offset from t_s (zero rows: not known), or None
    for a version 1 file."""

    t_s: np.ndarray
    counts: np.ndarray
    cell_dt_ns: np.ndarray | None
    version: int

    def frame_offsets(self) -> list[tuple[int, int, int, int] | None]:
        """Each row's `Frame.cell_dt_ns` (None where not known)."""
        if self.cell_dt_ns is None:
            return [None] * len(self.t_s)
        return [
            (row[0], row[1], row[2], row[3]) if any(row) else None
            for row in self.cell_dt_ns.tolist()
        ]


def _format_rows(t_s: np.ndarray, counts: np.ndarray, dt_us: np.ndarray | None) -> str:
    buf = io.StringIO()  # counts up to 2^23 are exact in float64
    np.savetxt(buf, np.column_stack([t_s, counts]), fmt=["%.6f"] + ["%d"] * N_CELLS, delimiter=",")
    if dt_us is None:
        return buf.getvalue()
    tails = [
        f",{d[0]},{d[1]},{d[2]},{d[3]}\n" if any(d) else ",,,,\n" for d in dt_us.tolist()
    ]
    return "".join(
        line + tail for line, tail in zip(buf.getvalue().splitlines(), tails, strict=True)
    )


def _dt_us(cell_dt_ns: np.ndarray) -> np.ndarray:
    """Offsets in ns as whole microseconds, to nearest (a row that rounds to all zeros is
    written empty: simultaneous, which it then is to the file's resolution)."""
    return np.rint(np.asarray(cell_dt_ns, dtype=np.float64) / 1000.0).astype(np.int64)


def _check_offsets(cell_dt_ns: object, n: int) -> np.ndarray:
    dt = np.asarray(cell_dt_ns)
    if dt.shape != (n, N_CELLS) or not np.issubdtype(dt.dtype, np.integer):
        raise ValueError(f"cell_dt_ns must be integers of shape ({n}, {N_CELLS}), not {dt.shape}")
    if dt.size and np.abs(dt).max() > MAX_CELL_DT_US * 1000:
        raise ValueError("cell offsets beyond one second")
    return dt


def _check_arrays(t_s: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(t_s, dtype=float).reshape(-1)
    c = np.asarray(counts)
    if c.ndim != 2 or c.shape != (t.size, N_CELLS):
        raise ValueError(f"counts must have shape ({t.size}, {N_CELLS}), not {c.shape}")
    if not np.issubdtype(c.dtype, np.integer):
        raise ValueError("counts must be integers")
    if c.size and (c.min() < COUNTS_MIN or c.max() > COUNTS_MAX):
        raise ValueError("counts outside the 24-bit range")
    if t.size > 1 and not (np.diff(np.round(t, 6)) > 0).all():
        raise ValueError("t_s must strictly increase (at microsecond resolution)")
    return t, c.astype(np.int64)


def write_raw_csv(
    path: str | Path, t_s: np.ndarray, counts: np.ndarray, cell_dt_ns: np.ndarray | None = None
) -> None:
    """Write a whole recording (t_s (n,), counts (n, 4) integers) in the raw format: version
    2 with cell_dt_ns ((n, 4) integer ns, zero rows not known), version 1 without."""
    t, c = _check_arrays(t_s, counts)
    dt_us = None if cell_dt_ns is None else _dt_us(_check_offsets(cell_dt_ns, t.size))
    with open(path, "w", newline="") as fh:
        fh.write((HEADER if dt_us is None else HEADER_V2) + "\n")
        if t.size:
            fh.write(_format_rows(t, c, dt_us))


class RawCsvWriter:
    """Streaming writer for `record`: rows are buffered and flushed every `flush_every` rows,
    so a crash loses at most that many; t_s is made relative to the first frame. Version 2
    (each cell's conversion offset) unless `cell_timing=False`."""

    def __init__(
        self, path: str | Path, flush_every: int = 80, *, cell_timing: bool = True
    ) -> None:
        self.path = Path(path)
        self.cell_timing = cell_timing
        self._fh: TextIO = open(self.path, "w", newline="")  # noqa: SIM115 - closed in close()
        self._fh.write((HEADER_V2 if cell_timing else HEADER) + "\n")
        self._t0_ns: int | None = None
        self._last_us = -1
        self._rows: list[str] = []
        self.flush_every = max(1, flush_every)
        self.rows_written = 0

    def write_frame(
        self,
        t_ns: int,
        counts: tuple[int, int, int, int] | np.ndarray,
        cell_dt_ns: tuple[int, ...] | None = None,
    ) -> None:
        """Append one frame (monotonic t_ns, four counts, its `Frame.cell_dt_ns`)."""
        if self._t0_ns is None:
            self._t0_ns = t_ns
        t_us = (t_ns - self._t0_ns) // 1000
        if t_us <= self._last_us:
            raise ValueError(f"frame time {t_ns} ns does not increase")
        c = [int(x) for x in counts]
        if len(c) != N_CELLS or min(c) < COUNTS_MIN or max(c) > COUNTS_MAX:
            raise ValueError(f"frame counts {c} are not four 24-bit values")
        tail = "\n"
        if self.cell_timing:
            tail = ",,,,\n"
            if cell_dt_ns is not None:
                d = [round(x / 1000) for x in cell_dt_ns]
                if len(d) != N_CELLS or max(abs(x) for x in d) > MAX_CELL_DT_US:
                    raise ValueError(f"cell offsets {tuple(cell_dt_ns)} ns are not four "
                                     "offsets within a second")
                if any(d):
                    tail = f",{d[0]},{d[1]},{d[2]},{d[3]}\n"
        self._last_us = t_us
        self._rows.append(f"{t_us // 1_000_000}.{t_us % 1_000_000:06d},{c[0]},{c[1]},{c[2]},{c[3]}"
                          + tail)
        if len(self._rows) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            self._fh.write("".join(self._rows))
            self.rows_written += len(self._rows)
            self._rows.clear()
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> RawCsvWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_raw_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a raw recording of either version: (t_s float64 (n,), counts int64 (n, 4)).
    `read_raw_recording` gives the cells' offsets too."""
    recording = read_raw_recording(path)
    return recording.t_s, recording.counts


def _empty_is_nan(text: str) -> float:
    text = text.strip()
    return float(text) if text else float("nan")


def read_raw_recording(path: str | Path) -> RawRecording:
    """Read a raw recording, version 1 or 2 (by its header).

    Raises RecordingFormatError (line and column named) for a missing or wrong header, a
    wrong number of columns, a non-numeric or non-integer value, counts outside the 24-bit
    range, offsets beyond a second or given for only some cells, or time that does not
    strictly increase; OSError if the file cannot be read.
    """
    path = Path(path)
    try:  # utf-8-sig: a spreadsheet's byte-order mark is not part of the header
        with open(path, newline="", encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        raise RecordingFormatError(
            path, "not a text file: a raw recording is CSV text (balance-station record)", line=1
        ) from None
    lines = text.splitlines()
    header = lines[0].strip().replace(" ", "") if lines else ""
    if header not in (HEADER, HEADER_V2):
        got = lines[0][:60] if lines else "an empty file"
        raise RecordingFormatError(
            path, f"header must be '{HEADER_V2}' or '{HEADER}', got {got!r}", line=1
        )
    version = 2 if header == HEADER_V2 else 1
    columns = COLUMNS_V2 if version == 2 else COLUMNS
    body = lines[1:]
    while body and not body[-1].strip():  # tolerate trailing blank lines
        body.pop()
    empty_dt = np.zeros((0, N_CELLS), dtype=np.int64) if version == 2 else None
    if not body:
        return RawRecording(np.zeros(0), np.zeros((0, N_CELLS), dtype=np.int64), empty_dt, version)
    converters = {i: _empty_is_nan for i in range(len(COLUMNS), len(columns))}
    try:
        data = np.loadtxt(body, delimiter=",", dtype=float, ndmin=2, converters=converters or None)
        if data.shape[1] != len(columns):
            raise ValueError
    except ValueError:
        _raise_first_bad_row(path, body, columns)
        raise  # pragma: no cover - _raise_first_bad_row always raises here
    t, raw = data[:, 0], data[:, 1 : 1 + N_CELLS]
    bad = ~np.isfinite(data[:, : len(COLUMNS)])
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise RecordingFormatError(path, "value is not a finite number", row + 2, columns[col])
    frac = raw != np.round(raw)
    if frac.any():
        row, col = np.argwhere(frac)[0]
        raise RecordingFormatError(
            path, f"count {raw[row, col]!r} is not an integer", row + 2, columns[col + 1]
        )
    out = (raw < COUNTS_MIN) | (raw > COUNTS_MAX)
    if out.any():
        row, col = np.argwhere(out)[0]
        raise RecordingFormatError(
            path,
            f"count {int(raw[row, col])} is outside the 24-bit range {COUNTS_MIN}..{COUNTS_MAX}",
            row + 2,
            columns[col + 1],
        )
    nonincreasing = np.flatnonzero(np.diff(t) <= 0)
    if nonincreasing.size:
        row = nonincreasing[0] + 1
        raise RecordingFormatError(
            path, f"time {t[row]:g} s does not increase (previous {t[row - 1]:g} s)", row + 2, "t_s"
        )
    cell_dt_ns = None if version == 1 else _offsets_ns(path, data[:, 1 + N_CELLS :])
    return RawRecording(t.copy(), raw.astype(np.int64), cell_dt_ns, version)


def _offsets_ns(path: Path, dt_us: np.ndarray) -> np.ndarray:
    """The dt columns (NaN = empty) as ns offsets, zero rows where not known; checked."""
    unknown = np.isnan(dt_us)
    partial = unknown.any(axis=1) & ~unknown.all(axis=1)
    if partial.any():
        row = int(np.flatnonzero(partial)[0])
        col = int(np.flatnonzero(unknown[row])[0])
        raise RecordingFormatError(
            path, "give all four cell offsets or none", row + 2, COLUMNS_V2[len(COLUMNS) + col]
        )
    values = np.where(unknown, 0.0, dt_us)
    problems = (
        ("is not a finite number", ~np.isfinite(values)),
        ("is not a whole number of microseconds", values != np.round(values)),
        (f"is beyond {MAX_CELL_DT_US} us (one second)", np.abs(values) > MAX_CELL_DT_US),
    )
    for message, bad in problems:
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise RecordingFormatError(
                path, f"cell offset {values[row, col]!r} {message}", row + 2,
                COLUMNS_V2[len(COLUMNS) + col],
            )
    return values.astype(np.int64) * 1000


def _raise_first_bad_row(path: Path, body: list[str], columns: tuple[str, ...]) -> None:
    """Slow path, only for broken files: find and report the first bad line."""
    header = ",".join(columns)
    for i, line in enumerate(body):
        fields = line.split(",")
        if len(fields) != len(columns):
            raise RecordingFormatError(
                path,
                f"expected {len(columns)} comma-separated values ({header}), found {len(fields)}",
                i + 2,
            )
        for j, (name, field) in enumerate(zip(columns, fields, strict=True)):
            if j >= len(COLUMNS) and not field.strip():
                continue  # an offset not known
            try:
                float(field)
            except ValueError:
                raise RecordingFormatError(
                    path, f"{field.strip()!r} is not a number", i + 2, name
                ) from None
    raise RecordingFormatError(path, "unreadable data")
