"""A single-producer, single-consumer frame ring in shared memory.

The acquisition process must never block on the station process: if the web
server is busy the frames wait in the ring (minutes of capacity), and a reader
that falls more than a ring behind learns exactly how many frames it lost.

Layout of the shared block: a header of int64 counters, then per-slot arrays
(t_ns int64, counts int32 x4, flags uint8, bad_cells uint8, seq int64, cell_dt_ns int32 x4
and its "known" byte: each cell's conversion instant as an offset from t_ns,
docs/cell-timing.md; a frame without them leaves the slot's offsets as they were and
clears "known"). The
writer fills a slot, then stores the slot's sequence number, then bumps the
write counter; the reader re-checks the slot's sequence after copying, so a
slot overwritten during the copy is detected and counted as lost, never used.

This is the station's side (numpy, batches); the acquisition process writes the same block
with `ring_layout.RingWriter`, which needs no numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from station.acquisition.ring_layout import (
    CELL_DT_LIMIT_NS,
    HEADER_WORDS,
    STATS_OFFSET,
    ring_layout,
)
from station.board.shared_block import SharedBlock
from station.frames import N_CELLS, Frame

__all__ = ["CELL_DT_LIMIT_NS", "HEADER_WORDS", "STATS_OFFSET", "FrameRing", "RingBatch"]
_DTYPES = {"q": np.dtype(np.int64), "i": np.dtype(np.int32), "B": np.dtype(np.uint8)}


@dataclass
class RingBatch:
    """Frames read from the ring in one go (valid and flagged), oldest first."""

    t_ns: np.ndarray  # (n,) int64
    counts: np.ndarray  # (n, 4) int32
    flags: np.ndarray  # (n,) uint8
    bad_cells: np.ndarray  # (n,) uint8
    lost: int  # frames overwritten before this reader saw them
    cell_dt_ns: np.ndarray | None = None  # (n, 4) int32 per-cell conversion offsets from t_ns
    cell_dt_known: np.ndarray | None = None  # (n,) bool: the row of cell_dt_ns holds offsets

    def cell_offsets(self) -> list[tuple[int, ...] | None]:
        """Each frame's `Frame.cell_dt_ns`: four offsets, or None where they are unknown."""
        n = len(self.t_ns)
        if self.cell_dt_ns is None or self.cell_dt_known is None:
            return [None] * n
        rows = self.cell_dt_ns.tolist()
        return [tuple(row) if known else None
                for row, known in zip(rows, self.cell_dt_known.tolist(), strict=True)]

    def __len__(self) -> int:
        return len(self.t_ns)


def _layout(capacity: int) -> tuple[dict[str, tuple[int, tuple[int, ...], np.dtype]], int]:
    """Byte offsets, shapes and dtypes of the arrays inside the shared block (the one
    layout of `ring_layout`, which the acquisition process writes without numpy)."""
    layout, size = ring_layout(capacity)
    out: dict[str, tuple[int, tuple[int, ...], np.dtype]] = {}
    for name, (offset, items, fmt) in layout.items():
        shape = (items // N_CELLS, N_CELLS) if name in ("counts", "cell_dt_ns") else (items,)
        out[name] = (offset, shape, _DTYPES[fmt])
    return out, size


class FrameRing:
    """Shared-memory ring of frames. Create in the station (fd=None), attach by the block's
    descriptor (the acquisition process writes through `ring_layout.RingWriter`)."""

    def __init__(self, capacity: int = 1 << 16, fd: int | None = None) -> None:
        self.capacity = int(capacity)
        layout, size = _layout(self.capacity)
        self._owner = fd is None
        self.shm = (SharedBlock.create(size, "balance-station-ring") if fd is None
                    else SharedBlock(fd, size))
        buf = self.shm.buf
        arrays = {
            key: np.ndarray(shape, dtype=dtype, buffer=buf, offset=offset)
            for key, (offset, shape, dtype) in layout.items()
        }
        self.header: np.ndarray = arrays["header"]
        self._t_ns = arrays["t_ns"]
        self._seq = arrays["seq"]
        self._counts = arrays["counts"]
        self._flags = arrays["flags"]
        self._bad = arrays["bad_cells"]
        self._cell_dt = arrays["cell_dt_ns"]
        self._dt_known = arrays["cell_dt_known"]
        if self._owner:
            self.header[:] = 0
            self._seq[:] = -1
        self._read_pos = 0
        self._empty = RingBatch(  # copies, not views: a kept batch never pins the block
            self._t_ns[:0].copy(), self._counts[:0].copy(), self._flags[:0].copy(),
            self._bad[:0].copy(), 0, self._cell_dt[:0].copy(), self._dt_known[:0] != 0,
        )

    @property
    def fd(self) -> int:
        """The block's descriptor, for the acquisition process to map."""
        return self.shm.fd

    @property
    def stats_words(self) -> np.ndarray:
        """The int64 words after the write counter, for the acquisition statistics."""
        return self.header[STATS_OFFSET:]

    @property
    def written(self) -> int:
        return int(self.header[0])

    def write(self, frame: Frame) -> None:
        """Append one frame (producer side; never blocks)."""
        pos = int(self.header[0])
        slot = pos % self.capacity
        self._t_ns[slot] = frame.t_ns
        self._counts[slot] = frame.counts
        self._flags[slot] = frame.flags
        self._bad[slot] = frame.bad_cells
        dt = frame.cell_dt_ns
        known = 0
        if dt is not None and -CELL_DT_LIMIT_NS < min(dt) and max(dt) < CELL_DT_LIMIT_NS:
            self._cell_dt[slot] = dt
            known = 1
        self._dt_known[slot] = known
        self._seq[slot] = pos
        self.header[0] = pos + 1

    def read_new(self, max_frames: int | None = None) -> RingBatch:
        """Everything written since the last call (consumer side)."""
        end = int(self.header[0])
        start = self._read_pos
        lost = 0
        if end - start > self.capacity:
            lost = end - start - self.capacity
            start = end - self.capacity
        if max_frames is not None and end - start > max_frames:
            end = start + max_frames
        if end == start:  # nothing new (most polls): no numpy indexing, ~1 us instead of ~50
            return self._empty
        idx = np.arange(start, end) % self.capacity
        batch_t = self._t_ns[idx]
        batch_counts = self._counts[idx]
        batch_flags = self._flags[idx]
        batch_bad = self._bad[idx]
        batch_dt = self._cell_dt[idx]
        batch_known = self._dt_known[idx] != 0
        # A slot rewritten while we copied it no longer carries our sequence number.
        intact = self._seq[idx] == np.arange(start, end)
        if not intact.all():
            lost += int((~intact).sum())
            batch_t, batch_counts = batch_t[intact], batch_counts[intact]
            batch_flags, batch_bad = batch_flags[intact], batch_bad[intact]
            batch_dt, batch_known = batch_dt[intact], batch_known[intact]
        self._read_pos = end
        return RingBatch(batch_t, batch_counts, batch_flags, batch_bad, lost, batch_dt, batch_known)

    def close(self) -> None:
        """Detach; the creating side also closes the block's descriptor (the kernel frees
        it once no process maps it). Views handed out (`stats_words`, the statistics built
        on it) keep the block mapped and their last values until they go."""
        self.header = self._t_ns = self._seq = self._counts = self._flags = self._bad = None  # type: ignore[assignment]
        self._cell_dt = self._dt_known = None  # type: ignore[assignment]
        self.shm.detach()
