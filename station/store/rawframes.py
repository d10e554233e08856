"""Compact, lossless encoding of a trial's raw frames (timestamps, counts, discard flags).

Why its own codec: a 30 s trial at 80 Hz is 2400 frames x (8 B time + 4 x 4 B counts) = 58 KB
as plain arrays, and a station keeps tens of thousands of trials. Each cell's counts are body
sway (slow, but tens of thousands of counts: the HX711 resolves ~0.25 mN) plus ~39 counts rms
of HX711 noise. A per-cell linear predictor (differences of order 0, 1 or 2, the cheapest
kept) leaves residuals of ~100-200 counts; those are Rice-coded with a parameter per block of
128 samples (an entropy coder matched to this roughly Laplacian residual, ~0.5 bit/sample
above its zeroth-order entropy). Measured on simulated single-leg trials: Rice 12.1-12.6 KB,
lzma on byte planes 13.4-13.8 KB, zlib 14.8-15.2 KB (bench/store_scale.py --codec-only).

Timestamps are stored in units of `time_quantum_ns` (default 1 us: finer than the Linux
scheduling jitter of the acquisition loop, while ns digits of that jitter would cost ~5 KB a
trial); pass time_quantum_ns=1 for bit-exact nanoseconds. Discarded frames (flags set) carry
their own counts in a side table and are bridged by holding the previous value, so a dropout
does not cost a burst of large residuals.

Each cell's conversion instant (`Frame.cell_dt_ns`, docs/cell-timing.md), when the frames
carry it, is coded as the clock it is: the instants of one chip advance by one conversion
period between frames (two when it converted twice while the driver waited for a slower
chip), so each cell stores its first instant and period, the number of periods between
frames minus one (almost always 0) and the delta of what remains (the clock's drift and
jitter), in units of `cell_dt_quantum_ns` (10 us: the driver knows the instants to tens of
us on a Pi). The offsets themselves are recovered against the stored frame times. A 30 s
single-leg trial of emulated chips 3 % apart costs ~3.9 KB more with them (rice; lzma 3.1 KB),
a quarter of what its counts take (bench/store_scale.py measures the counts). An all-zero
row means not known (the same as simultaneous); runs of such frames are listed, not coded;
a trial whose frames carry no offsets is stored exactly as before.

Layout (little-endian). Header:
  u8 codec version (1) | u8 method (1 zlib, 2 lzma, 3 rice; bit 7 `CELL_TIMING`: the cell
  timing section follows the header) | u32 n frames | u32 k flagged
  | u32 time quantum ns | u8 time order | 4 x u8 cell orders
  [cell timing section: u8 its format version (1) | u32 length L, then L bytes: u32 quantum
   ns | u32 r | r x (u32 start, u32 length) runs of frames not known | per cell, of the K
   known frames, warm-up values (first instant; with K > 1 also period, first remainder;
   i64) | per cell two streams, packed by `method`: periods between frames - 1 (K - 1
   values), delta of the remainder (K - 2 values)]
  | warm-up values: time (order x i64), then per cell (order x i64)
  | k flag records (u32 index, u8 flags, u8 bad_cells, 4 x i32 counts)
then the residual streams (time, cells 0..3 after their warm-up values), packed by `method`.
The flag bit, not a new codec version, marks the section, so every blob keeps the first
byte the store's integrity check knows; old blobs (no bit) decode with cell_dt_ns None.
"""

from __future__ import annotations

import lzma
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from station.frames import N_CELLS, Frame

CODEC_VERSION = 1
ZLIB = 1
LZMA = 2
RICE = 3
METHOD_NAMES = {ZLIB: "zlib", LZMA: "lzma", RICE: "rice"}
CELL_TIMING = 0x80  # method byte bit: a cell timing section follows the header
CELL_TIMING_VERSION = 1
_CELL_TIMING_HEAD = struct.Struct("<BI4B")
DEFAULT_METHOD = RICE
DEFAULT_TIME_QUANTUM_NS = 1000
DEFAULT_CELL_DT_QUANTUM_NS = 10_000  # 10 us: the driver measures to tens of us on a Pi

_HEADER = struct.Struct("<BBIIIB4B")
_FLAG_DTYPE = np.dtype(
    [("index", "<u4"), ("flags", "u1"), ("bad_cells", "u1"), ("counts", "<i4", (N_CELLS,))]
)
_MAX_ORDER = 2
_RICE_BLOCK = 128
_RICE_MAX_K = 60
_RICE_MAX_UNARY_PER_VALUE = 2  # bytes of unary code a value can need at most (16 bits)
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 6}]


class RawFramesError(ValueError):
    """A raw-frames blob cannot be decoded (wrong codec version, truncated, corrupt)."""


@dataclass(frozen=True)
class RawFrames:
    """A trial's frames as arrays: the form metrics and exports want.

    t_ns: (n,) int64 monotonic timestamps; counts: (n, 4) int32 raw counts;
    flags, bad_cells: (n,) uint8, zero for valid frames (see station.frames.FrameFlag);
    cell_dt_ns: (n, 4) int32 each cell's conversion instant minus t_ns (an all-zero row: not
    known, i.e. simultaneous), or None when no frame knew (older trials).
    """

    t_ns: np.ndarray
    counts: np.ndarray
    flags: np.ndarray
    bad_cells: np.ndarray
    cell_dt_ns: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.t_ns)
        if self.counts.shape != (n, N_CELLS):
            raise ValueError(f"counts must be ({n}, {N_CELLS}), got {self.counts.shape}")
        if len(self.flags) != n or len(self.bad_cells) != n:
            raise ValueError("flags and bad_cells need one entry per frame")
        if self.cell_dt_ns is not None and self.cell_dt_ns.shape != (n, N_CELLS):
            raise ValueError(f"cell_dt_ns must be ({n}, {N_CELLS}), got {self.cell_dt_ns.shape}")

    @property
    def n(self) -> int:
        return len(self.t_ns)

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of frames that were not discarded."""
        return self.flags == 0

    @property
    def duration_s(self) -> float:
        return float(self.t_ns[-1] - self.t_ns[0]) / 1e9 if self.n > 1 else 0.0

    @classmethod
    def from_arrays(
        cls,
        t_ns: np.ndarray,
        counts: np.ndarray,
        flags: np.ndarray | None = None,
        bad_cells: np.ndarray | None = None,
        cell_dt_ns: np.ndarray | None = None,
    ) -> RawFrames:
        n = len(t_ns)
        dt = None
        if cell_dt_ns is not None:
            dt64 = np.asarray(cell_dt_ns, dtype=np.int64).reshape(n, N_CELLS)
            if dt64.size and np.abs(dt64).max() >= 2**31:
                raise ValueError("cell_dt_ns beyond int32 (2.1 s): not a conversion of the frame")
            dt = dt64.astype(np.int32)
        return cls(
            t_ns=np.asarray(t_ns, dtype=np.int64),
            counts=np.asarray(counts, dtype=np.int32).reshape(n, N_CELLS),
            flags=np.zeros(n, np.uint8) if flags is None else np.asarray(flags, np.uint8),
            bad_cells=(
                np.zeros(n, np.uint8) if bad_cells is None else np.asarray(bad_cells, np.uint8)
            ),
            cell_dt_ns=dt,
        )

    @classmethod
    def from_frames(cls, frames: Sequence[Frame]) -> RawFrames:
        """Collect `Frame`s as the acquisition path produces them."""
        n = len(frames)
        t = np.fromiter((f.t_ns for f in frames), dtype=np.int64, count=n)
        counts = np.array([f.counts for f in frames], dtype=np.int32).reshape(n, N_CELLS)
        flags = np.fromiter((f.flags for f in frames), dtype=np.uint8, count=n)
        bad = np.fromiter((f.bad_cells for f in frames), dtype=np.uint8, count=n)
        dt = None
        if any(f.cell_dt_ns is not None for f in frames):
            dt = np.array([f.cell_dt_ns or (0, 0, 0, 0) for f in frames], dtype=np.int64)
        return cls.from_arrays(t, counts, flags, bad, dt)

    @property
    def has_cell_timing(self) -> bool:
        """Some frame knows when its cells converted (a row of cell_dt_ns is not all zero)."""
        return self.cell_dt_ns is not None and bool(self.cell_dt_ns.any())

    def to_frames(self) -> list[Frame]:
        dts: list = [None] * self.n
        if self.cell_dt_ns is not None:
            dts = [tuple(row) if any(row) else None for row in self.cell_dt_ns.tolist()]
        return [
            Frame(int(t), (int(c[0]), int(c[1]), int(c[2]), int(c[3])), int(f), int(b), dt)
            for t, c, f, b, dt in zip(
                self.t_ns, self.counts, self.flags, self.bad_cells, dts, strict=True
            )
        ]

    def equals(self, other: RawFrames) -> bool:
        """Same frames; cell offsets not known (None) equal all-zero offsets (simultaneous)."""
        return (
            np.array_equal(self.t_ns, other.t_ns)
            and np.array_equal(self.counts, other.counts)
            and np.array_equal(self.flags, other.flags)
            and np.array_equal(self.bad_cells, other.bad_cells)
            and np.array_equal(_offsets_or_zeros(self), _offsets_or_zeros(other))
        )


def _offsets_or_zeros(frames: RawFrames) -> np.ndarray:
    if frames.cell_dt_ns is None:
        return np.zeros((frames.n, N_CELLS), np.int32)
    return frames.cell_dt_ns


# -- prediction ---------------------------------------------------------------------------


def _residuals(x: np.ndarray, order: int) -> np.ndarray:
    """Order-k differences that keep the length (the first k values are the warm-up)."""
    r = x.astype(np.int64)
    for _ in range(order):
        r = np.diff(r, prepend=np.int64(0))
    return r


def _integrate(r: np.ndarray, order: int) -> np.ndarray:
    x = r.astype(np.int64)
    for _ in range(order):
        x = np.cumsum(x)
    return x


def _best_order(x: np.ndarray) -> int:
    """The predictor order with the smallest mean log-magnitude residual: a cheap proxy for
    the coded size that tracks it closely."""
    costs = []
    for order in range(_MAX_ORDER + 1):
        r = _residuals(x, order)[order:]
        costs.append(float(np.mean(np.log2(np.abs(r) + 1.0))) if len(r) else 0.0)
    return int(np.argmin(costs))


_GRID = 3  # time predictor: a fitted sample clock (t0 + k * period), see _grid_residuals
_GRID_FRACTION_BITS = 16


def _warmup_len(order: int) -> int:
    return 2 if order == _GRID else order


def _grid_period(t: np.ndarray) -> int:
    """Sample period in 1/65536 time quanta, least-squares over the trial."""
    k = np.arange(len(t), dtype=np.float64)
    slope = np.polyfit(k, (t - t[0]).astype(np.float64), 1)[0]
    return round(slope * (1 << _GRID_FRACTION_BITS))


def _grid_line(t0: int, period_fp: int, n: int) -> np.ndarray:
    k = np.arange(n, dtype=np.int64)
    return t0 + ((k * period_fp + (1 << (_GRID_FRACTION_BITS - 1))) >> _GRID_FRACTION_BITS)


def _grid_residuals(t: np.ndarray) -> np.ndarray:
    """Timestamps minus a steady clock: what remains is the acquisition loop's jitter itself
    (differencing would double its variance). Warm-up: t0 and the period."""
    if len(t) < 2:
        return t.astype(np.int64)
    period_fp = _grid_period(t)
    r = t - _grid_line(int(t[0]), period_fp, len(t))
    return np.concatenate([[t[0], period_fp], r[1:]]).astype(np.int64)


def _grid_integrate(r: np.ndarray) -> np.ndarray:
    if len(r) < 2:
        return r.astype(np.int64)
    t0, period_fp = int(r[0]), int(r[1])
    line = _grid_line(t0, period_fp, len(r) - 1)
    return np.concatenate([[t0], line[1:] + r[2:]]).astype(np.int64)


def _time_order(t: np.ndarray) -> int:
    """Difference order for the timestamps, or the fitted clock when that is cheaper."""
    order = _best_order(t)
    if len(t) < 3:
        return order
    span = abs(int(t[-1]) - int(t[0]))
    if span >= 2**40:  # keep k * period in fixed point far from int64 overflow
        return order
    grid = _grid_residuals(t)[2:]
    diff = _residuals(t, order)[order:]
    grid_cost = float(np.mean(np.log2(np.abs(grid) + 1.0)))
    diff_cost = float(np.mean(np.log2(np.abs(diff) + 1.0)))
    return _GRID if grid_cost < diff_cost else order


# -- Rice coding (vectorized: unary quotients and fixed-width remainders in two streams) -----


def _rice_encode(r: np.ndarray) -> bytes:
    n = len(r)
    if n == 0:
        return b""
    u = ((r.astype(np.int64) << 1) ^ (r.astype(np.int64) >> 63)).view(np.uint64)  # zigzag
    n_blocks = -(-n // _RICE_BLOCK)
    padded = np.zeros(n_blocks * _RICE_BLOCK)
    padded[:n] = u.astype(np.float64)
    mean = padded.reshape(n_blocks, _RICE_BLOCK).mean(axis=1)
    k_block = np.clip(np.floor(np.log2(np.maximum(mean, 1.0))), 0, _RICE_MAX_K).astype(np.uint8)
    k = np.repeat(k_block.astype(np.uint64), _RICE_BLOCK)[:n]
    q = (u >> k).astype(np.int64)
    rem = u & ((np.uint64(1) << k) - np.uint64(1))
    unary = np.zeros(int(q.sum()) + n, np.uint8)
    unary[np.cumsum(q + 1) - 1] = 1
    k_int = k.astype(np.int64)
    starts = np.cumsum(k_int) - k_int
    rem_bits = np.zeros(int(k_int.sum()), np.uint8)
    for b in range(int(k_block.max())):
        sel = k_int > b
        shift = (k_int[sel] - 1 - b).astype(np.uint64)
        rem_bits[starts[sel] + b] = ((rem[sel] >> shift) & np.uint64(1)).astype(np.uint8)
    unary_bytes = np.packbits(unary).tobytes()
    return b"".join(
        [
            struct.pack("<I", len(unary_bytes)),
            k_block.tobytes(),
            unary_bytes,
            np.packbits(rem_bits).tobytes(),
        ]
    )


def _rice_decode(buf: memoryview, n: int) -> tuple[np.ndarray, int]:
    """Decode n values from the front of buf; returns (values, bytes consumed)."""
    if n == 0:
        return np.zeros(0, np.int64), 0
    n_blocks = -(-n // _RICE_BLOCK)
    if len(buf) < 4 + n_blocks:
        raise RawFramesError("raw frames data is truncated")
    (n_unary,) = struct.unpack_from("<I", buf)
    k_block = np.frombuffer(buf, np.uint8, n_blocks, 4)
    # The encoder's bounds (k <= 60; a block's quotients sum to under 2 x 128, or to 16 a
    # value when k is clipped): beyond them the blob is corrupt, and decoding it anyway would
    # unpack 8 bits and an index per byte of it.
    if int(k_block.max()) > _RICE_MAX_K or n_unary > _RICE_MAX_UNARY_PER_VALUE * n + 64:
        raise RawFramesError("raw frames data is corrupt (Rice parameters out of range)")
    pos = 4 + n_blocks
    if len(buf) < pos + n_unary:
        raise RawFramesError("raw frames data is truncated")
    unary = np.unpackbits(np.frombuffer(buf, np.uint8, n_unary, pos))
    pos += n_unary
    ends = np.flatnonzero(unary)
    if len(ends) < n:
        raise RawFramesError("raw frames data is corrupt (unary stream too short)")
    q = np.diff(ends[:n], prepend=-1) - 1
    k = np.repeat(k_block.astype(np.int64), _RICE_BLOCK)[:n]
    n_rem = -(-int(k.sum()) // 8)
    if len(buf) < pos + n_rem:
        raise RawFramesError("raw frames data is truncated")
    rem_bits = np.unpackbits(np.frombuffer(buf, np.uint8, n_rem, pos))
    pos += n_rem
    starts = np.cumsum(k) - k
    rem = np.zeros(n, np.uint64)
    for b in range(int(k_block.max())):
        sel = k > b
        rem[sel] = (rem[sel] << np.uint64(1)) | rem_bits[starts[sel] + b].astype(np.uint64)
    u = (q.astype(np.uint64) << k.astype(np.uint64)) | rem
    r = (u >> np.uint64(1)).view(np.int64) ^ -(u & np.uint64(1)).view(np.int64)
    return r, pos


# -- byte planes for the general-purpose compressors ----------------------------------------


def _planes(a: np.ndarray) -> bytes:
    le = a.astype("<i8")
    return np.ascontiguousarray(le.view(np.uint8).reshape(len(a), 8).T).tobytes()


def _unplanes(buf: bytes, n: int) -> np.ndarray:
    planes = np.frombuffer(buf, dtype=np.uint8).reshape(8, n)
    return np.ascontiguousarray(planes.T).view("<i8").reshape(n)


# -- public API -----------------------------------------------------------------------------


def _pack(streams: Sequence[np.ndarray], method: int) -> bytes:
    """Residual streams, one after the other, packed by `method`."""
    if method == RICE:
        return b"".join(_rice_encode(r) for r in streams)
    planes = b"".join(_planes(r) for r in streams)
    if method == ZLIB:
        return zlib.compress(planes, 9)
    return lzma.compress(planes, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)


def _predict(series: Sequence[np.ndarray], orders: Sequence[int], n: int) -> tuple[
    list[np.ndarray], list[np.ndarray]
]:
    """(warm-up values, residual streams) of each series by its predictor order."""
    warmups: list[np.ndarray] = []
    streams: list[np.ndarray] = []
    for x, order in zip(series, orders, strict=True):
        r = _grid_residuals(x) if order == _GRID else _residuals(x, order)
        head = min(_warmup_len(order), n)
        warmups.append(r[:head])
        streams.append(r[head:])
    return warmups, streams


def _unknown_runs(known: np.ndarray) -> np.ndarray:
    """(start, length) of each run of frames whose offsets are not known, as (r, 2)."""
    edges = np.diff(np.concatenate([[1], known.astype(np.int8), [1]]))
    starts, ends = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
    return np.column_stack([starts, ends - starts]).astype("<u4")


def _cell_timing_section(
    t_ns: np.ndarray, cell_dt_ns: np.ndarray, method: int, quantum: int
) -> bytes:
    """The frames' cell conversion instants, coded as the clocks they are (see _CELL_...)."""
    known = cell_dt_ns.any(axis=1)
    runs = _unknown_runs(known)
    instants = (t_ns[known, None] + cell_dt_ns[known].astype(np.int64) + quantum // 2) // quantum
    warmups: list[np.ndarray] = []
    streams: list[np.ndarray] = []
    for c in range(N_CELLS):
        u = instants[:, c]
        d = np.diff(u)  # one period, or two when the chip converted twice between reads
        period = max(int(np.median(d)), 1) if d.size else 1
        m = (d + period // 2) // period  # conversions between reads
        e = d - m * period  # the clock's slow drift and the instants' jitter
        warmups.append(np.concatenate([u[:1], [period] if d.size else [], e[:1]]).astype("<i8"))
        streams += [m - 1, np.diff(e)]
    head = struct.pack("<II", quantum, len(runs)) + runs.tobytes()
    rest = head + b"".join(w.tobytes() for w in warmups) + _pack(streams, method)
    return struct.pack("<BI", CELL_TIMING_VERSION, len(rest)) + rest


def encode(
    frames: RawFrames,
    method: int = DEFAULT_METHOD,
    time_quantum_ns: int = DEFAULT_TIME_QUANTUM_NS,
    cell_dt_quantum_ns: int = DEFAULT_CELL_DT_QUANTUM_NS,
) -> bytes:
    """Encode frames; exact for counts and flags, timestamps rounded to `time_quantum_ns`,
    each cell's conversion instant to `cell_dt_quantum_ns` (pass 1 and 1 for exact ns)."""
    if method not in METHOD_NAMES:
        raise ValueError(f"unknown compression method {method}")
    for name, q in (("time_quantum_ns", time_quantum_ns), ("cell_dt_quantum_ns",
                                                          cell_dt_quantum_ns)):
        if not 1 <= q < 2**32:
            raise ValueError(f"{name} must be a positive 32-bit integer")
    n = frames.n
    if np.any(frames.bad_cells[frames.flags == 0]):
        raise ValueError("bad_cells set on a frame without flags (it would be lost)")
    t_q = (frames.t_ns + time_quantum_ns // 2) // time_quantum_ns
    flagged = np.flatnonzero(frames.flags)
    flag_rec = np.zeros(len(flagged), dtype=_FLAG_DTYPE)
    flag_rec["index"] = flagged
    flag_rec["flags"] = frames.flags[flagged]
    flag_rec["bad_cells"] = frames.bad_cells[flagged]
    flag_rec["counts"] = frames.counts[flagged]
    series = [_bridge(frames.counts[:, c].astype(np.int64), frames.flags) for c in range(N_CELLS)]
    orders = [_time_order(t_q)] + [_best_order(s) for s in series]
    warmups, streams = _predict([t_q, *series], orders, n)
    timing = b""
    if frames.has_cell_timing:
        assert frames.cell_dt_ns is not None
        timing = _cell_timing_section(frames.t_ns, frames.cell_dt_ns, method, cell_dt_quantum_ns)
    header = _HEADER.pack(
        CODEC_VERSION, method | (CELL_TIMING if timing else 0), n, len(flagged),
        time_quantum_ns, orders[0], *orders[1:],
    )
    fixed = b"".join(w.astype("<i8").tobytes() for w in warmups) + flag_rec.tobytes()
    return header + timing + fixed + _pack(streams, method)


def _bridge(x: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Replace discarded frames' counts by the previous valid value (for prediction only)."""
    bad = flags != 0
    if not bad.any():
        return x
    idx = np.where(bad, 0, np.arange(len(x)))
    np.maximum.accumulate(idx, out=idx)
    out = x[idx]
    first_valid = np.flatnonzero(~bad)
    out[: first_valid[0] if len(first_valid) else len(x)] = 0
    return out


def _unpack(view: memoryview, lengths: Sequence[int], method: int) -> list[np.ndarray]:
    """The residual streams of `lengths` values packed by `method`, filling all of view."""
    streams: list[np.ndarray] = []
    if method == RICE:
        pos = 0
        for m in lengths:
            r, used = _rice_decode(view[pos:], m)
            streams.append(r)
            pos += used
        if pos != len(view):
            raise RawFramesError("raw frames data has trailing bytes (corrupt)")
        return streams
    expected = 8 * sum(lengths)
    try:  # never more than the header's frames need, plus one byte to see an excess
        planes = (
            zlib.decompressobj().decompress(view, expected + 1)
            if method == ZLIB
            else lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=_LZMA_FILTERS).decompress(
                view, max_length=expected + 1
            )
        )
    except (zlib.error, lzma.LZMAError, EOFError) as exc:
        raise RawFramesError(f"raw frames data is corrupt or truncated: {exc}") from exc
    if len(planes) != expected:
        raise RawFramesError("raw frames data is truncated or corrupt (wrong length)")
    off = 0
    for m in lengths:
        streams.append(_unplanes(planes[off : off + 8 * m], m))
        off += 8 * m
    return streams


def _integrate_series(
    warmups: Sequence[np.ndarray], streams: Sequence[np.ndarray], orders: Sequence[int]
) -> list[np.ndarray]:
    return [
        _grid_integrate(np.concatenate([w, r]))
        if o == _GRID
        else _integrate(np.concatenate([w, r]), o)
        for w, r, o in zip(warmups, streams, orders, strict=True)
    ]


def _decode_cell_timing(
    view: memoryview, pos: int, n: int, t_ns: np.ndarray | None, method: int
) -> tuple[np.ndarray, int]:
    """(cell_dt_ns (n, 4) int32, position after the section); t_ns None: only skip it."""
    if len(view) < pos + 5:
        raise RawFramesError("raw frames cell timing is truncated")
    version, length = struct.unpack_from("<BI", view, pos)
    if version != CELL_TIMING_VERSION:
        raise RawFramesError(
            f"raw frames cell timing version {version} is not known (expected "
            f"{CELL_TIMING_VERSION})"
        )
    pos += 5
    end = pos + length
    if len(view) < end or length < 8:
        raise RawFramesError("raw frames cell timing is truncated")
    if t_ns is None:
        return np.zeros((0, N_CELLS), np.int32), end
    quantum, r = struct.unpack_from("<II", view, pos)
    pos += 8
    if quantum == 0 or r > n or pos + 8 * r > end:
        raise RawFramesError("raw frames cell timing is corrupt")
    runs = np.frombuffer(view, "<u4", 2 * r, pos).reshape(r, 2).astype(np.int64)
    pos += 8 * r
    known = np.ones(n, bool)
    for start, size in runs.tolist():
        if start + size > n:
            raise RawFramesError("raw frames cell timing is corrupt (run beyond the frames)")
        known[start : start + size] = False
    k = int(known.sum())
    w = min(k, 1) + (2 if k > 1 else 0)
    if pos + 8 * w * N_CELLS > end:
        raise RawFramesError("raw frames cell timing is truncated")
    warmups = []
    for _ in range(N_CELLS):
        warmups.append(np.frombuffer(view, "<i8", w, pos).astype(np.int64))
        pos += 8 * w
    lengths = [max(k - 1, 0), max(k - 2, 0)] * N_CELLS
    streams = _unpack(view[pos:end], lengths, method)
    dt = np.zeros((n, N_CELLS), np.int64)
    for c in range(N_CELLS):
        warm, m, e_diff = warmups[c], streams[2 * c] + 1, streams[2 * c + 1]
        if k == 0:
            continue
        d = np.zeros(0, np.int64)
        if k > 1:
            e = np.cumsum(np.concatenate([warm[2:3], e_diff]))
            d = m * warm[1] + e
        u = np.cumsum(np.concatenate([warm[:1], d]))
        dt[known, c] = u * quantum - t_ns[known]
    if np.abs(dt).max(initial=0) >= 2**31:
        raise RawFramesError("raw frames cell timing is corrupt (offsets beyond int32)")
    return dt.astype(np.int32), end


def decode(blob: bytes, max_frames: int | None = None) -> RawFrames:
    """Decode a blob written by any known codec version; RawFramesError if it cannot.

    Memory stays proportional to the frames the header declares (a damaged or hostile blob
    cannot inflate beyond them); `max_frames` refuses a blob that declares more (untrusted
    input, e.g. an imported archive)."""
    view = memoryview(blob)
    if len(view) < _HEADER.size:
        raise RawFramesError(f"raw frames blob too short ({len(view)} bytes)")
    version, method, n, k, quantum, *orders = _HEADER.unpack_from(view)
    if version != CODEC_VERSION:
        raise RawFramesError(f"raw frames codec version {version} is not known (expected 1)")
    if max_frames is not None and n > max_frames:
        raise RawFramesError(f"raw frames blob declares {n} frames (limit {max_frames})")
    has_timing = bool(method & CELL_TIMING)
    method &= ~CELL_TIMING
    if (
        method not in METHOD_NAMES
        or quantum == 0
        or max(orders[1:]) > _MAX_ORDER
        or orders[0] not in (*range(_MAX_ORDER + 1), _GRID)
    ):
        raise RawFramesError("raw frames header is corrupt")
    pos = _HEADER.size
    timing_at = pos
    if has_timing:  # skipped now, decoded once the frames' times are known
        _, pos = _decode_cell_timing(view, pos, n, None, method)
    heads = [min(_warmup_len(o), n) for o in orders]
    n_fixed = sum(heads) * 8 + k * _FLAG_DTYPE.itemsize
    if len(view) < pos + n_fixed:
        raise RawFramesError("raw frames data is truncated")
    warmups = []
    for h in heads:
        warmups.append(np.frombuffer(view, "<i8", h, pos))
        pos += 8 * h
    flag_rec = np.frombuffer(view, _FLAG_DTYPE, k, pos)
    pos += k * _FLAG_DTYPE.itemsize
    lengths = [n - 1 if o == _GRID else n - h for h, o in zip(heads, orders, strict=True)]
    series = _integrate_series(warmups, _unpack(view[pos:], lengths, method), orders)
    t_ns = series[0] * quantum
    counts = np.column_stack(series[1:]).astype(np.int32) if n else np.zeros((0, N_CELLS), np.int32)
    flags = np.zeros(n, np.uint8)
    bad = np.zeros(n, np.uint8)
    if k:
        idx = flag_rec["index"].astype(np.int64)
        if idx.max() >= n:
            raise RawFramesError("raw frames data is corrupt (flag index out of range)")
        flags[idx] = flag_rec["flags"]
        bad[idx] = flag_rec["bad_cells"]
        counts[idx] = flag_rec["counts"]
    cell_dt_ns = None
    if has_timing:
        cell_dt_ns = _decode_cell_timing(view, timing_at, n, t_ns, method)[0]
    return RawFrames(t_ns, counts, flags, bad, cell_dt_ns)
