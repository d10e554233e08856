"""The frame ring's shared block, laid out and written without numpy.

The acquisition process only writes frames; numpy (and the ~200 MB that `mlockall` would pin
with it) stays on the station's side, which reads the ring in batches (`ring.FrameRing`).
Both sides lay out the block with `ring_layout()`, so it is described once.

Layout of the shared block: a header of int64 counters, then per-slot arrays (t_ns int64,
seq int64, counts int32 x4, flags uint8, bad_cells uint8, cell_dt_ns int32 x4 and its "known"
byte), each starting on an 8-byte boundary. See `ring.FrameRing` for the protocol.
"""

from __future__ import annotations

from station.board.shared_block import SharedBlock
from station.frames import N_CELLS, Frame

HEADER_WORDS = 64  # int64 words; [0] = frames written, the rest is the stats block
STATS_OFFSET = 1
CELL_DT_LIMIT_NS = 1 << 31  # offsets beyond int32 (2.1 s: no real chip) are stored as unknown

_ITEM_SIZE = {"q": 8, "i": 4, "B": 1}
# name, per-slot shape after the capacity (None: the header), struct format, item size
_ARRAYS: tuple[tuple[str, int | None, str, int], ...] = (
    ("header", None, "q", 8),
    ("t_ns", 1, "q", 8),
    ("seq", 1, "q", 8),
    ("counts", N_CELLS, "i", 4),
    ("flags", 1, "B", 1),
    ("bad_cells", 1, "B", 1),
    ("cell_dt_ns", N_CELLS, "i", 4),
    ("cell_dt_known", 1, "B", 1),
)


def ring_layout(capacity: int) -> tuple[dict[str, tuple[int, int, str]], int]:
    """Each array's (byte offset, number of items, struct format), and the block's size."""
    out: dict[str, tuple[int, int, str]] = {}
    offset = 0
    for name, per_slot, fmt, size in _ARRAYS:
        offset = (offset + 7) // 8 * 8
        items = HEADER_WORDS if per_slot is None else capacity * per_slot
        out[name] = (offset, items, fmt)
        offset += items * size
    return out, offset


class RingWriter:
    """The acquisition process's side of a `FrameRing`: map it by its descriptor, append frames.

    Plain memoryviews over the shared block (`cast` to the arrays' item types): a frame is a
    dozen item stores, in the order the reader relies on (the slot, then its sequence
    number, then the write counter)."""

    def __init__(self, capacity: int, fd: int) -> None:
        self.capacity = int(capacity)
        layout, size = ring_layout(self.capacity)
        self.shm = SharedBlock(fd, size)  # mmap only: no multiprocessing.shared_memory here
        buf = self.shm.buf
        self._slices = {
            key: buf[offset:offset + items * _ITEM_SIZE[fmt]]
            for key, (offset, items, fmt) in layout.items()
        }
        views = {key: view.cast(layout[key][2]) for key, view in self._slices.items()}
        self._views = views
        self.header = views["header"]
        self._t_ns, self._seq, self._counts = views["t_ns"], views["seq"], views["counts"]
        self._flags, self._bad = views["flags"], views["bad_cells"]
        self._cell_dt, self._dt_known = views["cell_dt_ns"], views["cell_dt_known"]
        self._stats = self.header[STATS_OFFSET:]

    @property
    def stats_words(self) -> memoryview:
        """The int64 words after the write counter, for the acquisition statistics."""
        return self._stats

    @property
    def written(self) -> int:
        return self.header[0]

    def write(self, frame: Frame) -> None:
        """Append one frame (never blocks)."""
        pos = self.header[0]
        slot = pos % self.capacity
        self._t_ns[slot] = frame.t_ns
        base = slot * N_CELLS
        counts = self._counts
        for i, value in enumerate(frame.counts):
            counts[base + i] = value
        self._flags[slot] = frame.flags
        self._bad[slot] = frame.bad_cells
        dt = frame.cell_dt_ns
        known = 0
        if dt is not None and -CELL_DT_LIMIT_NS < min(dt) and max(dt) < CELL_DT_LIMIT_NS:
            cell_dt = self._cell_dt
            for i, value in enumerate(dt):
                cell_dt[base + i] = value
            known = 1
        self._dt_known[slot] = known
        self._seq[slot] = pos
        self.header[0] = pos + 1

    def close(self) -> None:
        """Detach (the station owns the block and frees it)."""
        self._stats.release()
        self.header = self._t_ns = self._seq = self._counts = None  # type: ignore[assignment]
        self._flags = self._bad = self._cell_dt = self._dt_known = None  # type: ignore[assignment]
        for views in (self._views, self._slices):
            for view in views.values():
                view.release()
            views.clear()
        self.shm.close()

