"""The last minutes of frames in the station process, as preallocated numpy arrays.

Kept so the guided calibration on the web page (station.calibration.guided's
`capture_counts`, behind /api/calibration) can average the raw counts of the frames
that arrive after a request, from memory and without a second reader on the
acquisition ring; bench/acquisition_load.py reads its frame times. (Trials keep
their own frames in the trial runner, a reconnecting client resumes from the live
hub, and the status page measures noise from the live stream.) Total force and COP
are kept beside the counts, but nothing reads them yet.
"""

from __future__ import annotations

import numpy as np

from station.frames import N_CELLS


class FrameHistory:
    """Ring buffer of valid frames: time, raw counts, total force and COP."""

    def __init__(self, seconds: float = 300.0, rate_hz: float = 80.0) -> None:
        self.capacity = int(seconds * rate_hz * 1.25)  # headroom for ~93 Hz chips
        self.t_s = np.zeros(self.capacity)
        self.counts = np.zeros((self.capacity, N_CELLS), dtype=np.int32)
        self.force_n = np.full(self.capacity, np.nan)
        self.cop_mm = np.full((self.capacity, 2), np.nan)
        self.written = 0

    def append(self, t_s: float, counts: tuple[int, ...], force_n: float, cop: tuple) -> None:
        i = self.written % self.capacity
        self.t_s[i] = t_s
        self.counts[i] = counts
        self.force_n[i] = force_n
        self.cop_mm[i] = cop
        self.written += 1

    def __len__(self) -> int:
        return min(self.written, self.capacity)

    def _order(self, last: int | None) -> np.ndarray:
        n = len(self) if last is None else min(last, len(self))
        return np.arange(self.written - n, self.written) % self.capacity

    def latest(self, n: int | None = None) -> dict[str, np.ndarray]:
        """The newest `n` frames (all kept ones when None), oldest first."""
        idx = self._order(n)
        return {
            "t_s": self.t_s[idx],
            "counts": self.counts[idx],
            "force_n": self.force_n[idx],
            "cop_mm": self.cop_mm[idx],
        }
