"""Raw recording format: the four cells' HX711 counts over time, as CSV.

Written by `balance-station record` (and `write_raw_csv` / `RawCsvWriter`), read back by
`read_raw_csv` and by `--board replay:FILE` (station.board.replay.ReplaySource).

Format
------
- UTF-8 text, one header line, exactly: ``t_s,c0,c1,c2,c3``
- one line per valid frame: ``t_s`` = seconds since the first frame of the recording
  (decimal, 6 digits after the point = microseconds), then the four raw counts as signed
  decimal integers in cell order c0..c3 (the order of the calibration file; by default
  c0 front_left, c1 front_right, c2 back_left, c3 back_right).
- counts are 24-bit two's-complement HX711 values: -8388608 .. 8388607.
- t_s strictly increases from line to line. Invalid frames (timeouts, integrity failures)
  are not written, so a gap in t_s marks them.
- Counts are raw: no tare, no gain. Replaying a file through the station with the board's
  calibration file gives forces and COP again.

Example::

    t_s,c0,c1,c2,c3
    0.000000,-10233,4410,18876,-6005
    0.012500,-10212,4398,18890,-6017

Reading checks every value and reports the first problem as a `RecordingFormatError` naming
the line (1-based, the header is line 1) and the column.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TextIO

import numpy as np

from station.frames import COUNTS_MAX, COUNTS_MIN, N_CELLS

HEADER = "t_s,c0,c1,c2,c3"
COLUMNS = tuple(HEADER.split(","))


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


def _format_rows(t_s: np.ndarray, counts: np.ndarray) -> str:
    buf = io.StringIO()  # counts up to 2^23 are exact in float64
    np.savetxt(buf, np.column_stack([t_s, counts]), fmt=["%.6f"] + ["%d"] * N_CELLS, delimiter=",")
    return buf.getvalue()


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


def write_raw_csv(path: str | Path, t_s: np.ndarray, counts: np.ndarray) -> None:
    """Write a whole recording (t_s (n,), counts (n, 4) integers) in the raw format."""
    t, c = _check_arrays(t_s, counts)
    with open(path, "w", newline="") as fh:
        fh.write(HEADER + "\n")
        if t.size:
            fh.write(_format_rows(t, c))


class RawCsvWriter:
    """Streaming writer for `record`: rows are buffered and flushed every `flush_every` rows,
    so a crash loses at most that many; t_s is made relative to the first frame."""

    def __init__(self, path: str | Path, flush_every: int = 80) -> None:
        self.path = Path(path)
        self._fh: TextIO = open(self.path, "w", newline="")  # noqa: SIM115 - closed in close()
        self._fh.write(HEADER + "\n")
        self._t0_ns: int | None = None
        self._last_us = -1
        self._rows: list[str] = []
        self.flush_every = max(1, flush_every)
        self.rows_written = 0

    def write_frame(self, t_ns: int, counts: tuple[int, int, int, int] | np.ndarray) -> None:
        """Append one frame (monotonic t_ns, four counts)."""
        if self._t0_ns is None:
            self._t0_ns = t_ns
        t_us = (t_ns - self._t0_ns) // 1000
        if t_us <= self._last_us:
            raise ValueError(f"frame time {t_ns} ns does not increase")
        c = [int(x) for x in counts]
        if len(c) != N_CELLS or min(c) < COUNTS_MIN or max(c) > COUNTS_MAX:
            raise ValueError(f"frame counts {c} are not four 24-bit values")
        self._last_us = t_us
        self._rows.append(
            f"{t_us // 1_000_000}.{t_us % 1_000_000:06d},{c[0]},{c[1]},{c[2]},{c[3]}\n"
        )
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
    """Read a raw recording: (t_s float64 (n,), counts int64 (n, 4)).

    Raises RecordingFormatError (line and column named) for a missing or wrong header, a
    wrong number of columns, a non-numeric or non-integer value, counts outside the 24-bit
    range, or time that does not strictly increase; OSError if the file cannot be read.
    """
    path = Path(path)
    with open(path, newline="") as fh:
        text = fh.read()
    lines = text.splitlines()
    if not lines or lines[0].strip().replace(" ", "") != HEADER:
        got = lines[0][:60] if lines else "an empty file"
        raise RecordingFormatError(path, f"header must be '{HEADER}', got {got!r}", line=1)
    body = lines[1:]
    while body and not body[-1].strip():  # tolerate trailing blank lines
        body.pop()
    if not body:
        return np.zeros(0), np.zeros((0, N_CELLS), dtype=np.int64)
    try:
        data = np.loadtxt(body, delimiter=",", dtype=float, ndmin=2)
        if data.shape[1] != len(COLUMNS):
            raise ValueError
    except ValueError:
        _raise_first_bad_row(path, body)
        raise  # pragma: no cover - _raise_first_bad_row always raises here
    t, raw = data[:, 0], data[:, 1:]
    bad = ~np.isfinite(data)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise RecordingFormatError(path, "value is not a finite number", row + 2, COLUMNS[col])
    frac = raw != np.round(raw)
    if frac.any():
        row, col = np.argwhere(frac)[0]
        raise RecordingFormatError(
            path, f"count {raw[row, col]!r} is not an integer", row + 2, COLUMNS[col + 1]
        )
    out = (raw < COUNTS_MIN) | (raw > COUNTS_MAX)
    if out.any():
        row, col = np.argwhere(out)[0]
        raise RecordingFormatError(
            path,
            f"count {int(raw[row, col])} is outside the 24-bit range {COUNTS_MIN}..{COUNTS_MAX}",
            row + 2,
            COLUMNS[col + 1],
        )
    nonincreasing = np.flatnonzero(np.diff(t) <= 0)
    if nonincreasing.size:
        row = nonincreasing[0] + 1
        raise RecordingFormatError(
            path, f"time {t[row]:g} s does not increase (previous {t[row - 1]:g} s)", row + 2, "t_s"
        )
    return t.copy(), raw.astype(np.int64)


def _raise_first_bad_row(path: Path, body: list[str]) -> None:
    """Slow path, only for broken files: find and report the first bad line."""
    for i, line in enumerate(body):
        fields = line.split(",")
        if len(fields) != len(COLUMNS):
            raise RecordingFormatError(
                path,
                f"expected {len(COLUMNS)} comma-separated values ({HEADER}), found {len(fields)}",
                i + 2,
            )
        for name, field in zip(COLUMNS, fields, strict=True):
            try:
                float(field)
            except ValueError:
                raise RecordingFormatError(
                    path, f"{field.strip()!r} is not a number", i + 2, name
                ) from None
    raise RecordingFormatError(path, "unreadable data")
