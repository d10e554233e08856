"""`ReplaySource`: a raw recording (station.board.recording format) played back as a board.

realtime=True paces frames by the file's t_s on the monotonic clock (and stamps them with
it); realtime=False returns them at once, stamped with the file's time. At the end it
raises EOFError, or with loop=True starts again (time keeps increasing by one file length
plus one frame period). A version 2 file's per-cell conversion offsets come back as each
frame's `cell_dt_ns` (None where the file says they were not known, and for version 1).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from station.board.recording import read_raw_recording
from station.board.spec import BoardSpecError
from station.frames import BoardSource, Frame


class ReplaySource(BoardSource):
    kind = "replay"

    def __init__(self, path: str | Path, *, realtime: bool = True, loop: bool = False) -> None:
        self.path = Path(path)
        try:
            recording = read_raw_recording(self.path)  # RecordingFormatError names the line
        except OSError as exc:
            raise BoardSpecError(
                f"replay file {self.path} cannot be read: {exc.strerror or exc}"
            ) from None
        if len(recording.t_s) == 0:
            raise BoardSpecError(f"replay file {self.path} has no frames (only a header)")
        self.t_s = recording.t_s
        self.format_version = recording.version
        self._counts = recording.counts.tolist()
        self._cell_dt = recording.frame_offsets()
        self.realtime = realtime
        self.loop = loop
        n = len(self.t_s)
        period = float(np.median(np.diff(self.t_s))) if n > 1 else 1.0 / 80.0
        self.nominal_rate_hz = 1.0 / period
        self._t_ns = np.rint((self.t_s - (self.t_s[0] if n else 0.0)) * 1e9).astype(np.int64)
        self._lap_ns = int(self._t_ns[-1] + round(period * 1e9)) if n else 0
        self._i = 0
        self._lap = 0
        self._start_ns: int | None = None

    def __len__(self) -> int:
        return len(self._counts)

    def read(self) -> Frame:
        if self._i >= len(self._counts):
            if not self.loop or not self._counts:
                raise EOFError(f"end of recording {self.path}")
            self._i, self._lap = 0, self._lap + 1
        i = self._i
        self._i += 1
        t_ns = int(self._t_ns[i]) + self._lap * self._lap_ns
        if self.realtime:
            if self._start_ns is None:
                self._start_ns = time.monotonic_ns() - t_ns
            t_ns += self._start_ns
            wait = t_ns - time.monotonic_ns()
            if wait > 0:
                time.sleep(wait / 1e9)
        c = self._counts[i]
        return Frame(t_ns, (c[0], c[1], c[2], c[3]), 0, 0, self._cell_dt[i])
