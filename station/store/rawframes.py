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

Layout (little-endian). Header:
  u8 codec version (1) | u8 method (1 zlib, 2 lzma, 3 rice) | u32 n frames | u32 k flagged
  | u32 time quantum ns | u8 time order | 4 x u8 cell orders
  | warm-up values: time (order x i64), then per cell (order x i64)
  | k flag records (u32 index, u8 flags, u8 bad_cells, 4 x i32 counts)
then the residual streams (time, cells 0..3 after their warm-up values), packed by `method`.
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
DEFAULT_METHOD = RICE
DEFAULT_TIME_QUANTUM_NS = 1000

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
    flags, bad_cells: (n,) uint8, zero for valid frames (see station.frames.FrameFlag).
    """

    t_ns: np.ndarray
    counts: np.ndarray
    flags: np.ndarray
    bad_cells: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.t_ns)
        if self.counts.shape != (n, N_CELLS):
            raise ValueError(f"counts must be ({n}, {N_CELLS}), got {self.counts.shape}")
        if len(self.flags) != n or len(self.bad_cells) != n:
            raise ValueError("flags and bad_cells need one entry per frame")

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
    ) -> RawFrames:
        n = len(t_ns)
        return cls(
            t_ns=np.asarray(t_ns, dtype=np.int64),
            counts=np.asarray(counts, dtype=np.int32).reshape(n, N_CELLS),
            flags=np.zeros(n, np.uint8) if flags is None else np.asarray(flags, np.uint8),
            bad_cells=(
                np.zeros(n, np.uint8) if bad_cells is None else np.asarray(bad_cells, np.uint8)
            ),
        )

    @classmethod
    def from_frames(cls, frames: Sequence[Frame]) -> RawFrames:
        """Collect `Frame`s as the acquisition path produces them."""
        n = len(frames)
        t = np.fromiter((f.t_ns for f in frames), dtype=np.int64, count=n)
        counts = np.array([f.counts for f in frames], dtype=np.int32).reshape(n, N_CELLS)
        flags = np.fromiter((f.flags for f in frames), dtype=np.uint8, count=n)
        bad = np.fromiter((f.bad_cells for f in frames), dtype=np.uint8, count=n)
        return cls(t, counts, flags, bad)

    def to_frames(self) -> list[Frame]:
        return [
            Frame(int(t), (int(c[0]), int(c[1]), int(c[2]), int(c[3])), int(f), int(b))
            for t, c, f, b in zip(self.t_ns, self.counts, self.flags, self.bad_cells, strict=True)
        ]

    def equals(self, other: RawFrames) -> bool:
        return (
            np.array_equal(self.t_ns, other.t_ns)
            and np.array_equal(self.counts, other.counts)
            and np.array_equal(self.flags, other.flags)
            and np.array_equal(self.bad_cells, other.bad_cells)
        )


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


def encode(
    frames: RawFrames,
    method: int = DEFAULT_METHOD,
    time_quantum_ns: int = DEFAULT_TIME_QUANTUM_NS,
) -> bytes:
    """Encode frames; exact for counts and flags, timestamps rounded to `time_quantum_ns`."""
    if method not in METHOD_NAMES:
        raise ValueError(f"unknown compression method {method}")
    if not 1 <= time_quantum_ns < 2**32:
        raise ValueError("time_quantum_ns must be a positive 32-bit integer")
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
    warmups: list[np.ndarray] = []
    streams: list[np.ndarray] = []
    for s, order in zip([t_q, *series], orders, strict=True):
        r = _grid_residuals(s) if order == _GRID else _residuals(s, order)
        head = min(_warmup_len(order), n)
        warmups.append(r[:head])
        streams.append(r[head:])
    header = _HEADER.pack(
        CODEC_VERSION, method, n, len(flagged), time_quantum_ns, orders[0], *orders[1:]
    )
    fixed = b"".join(w.astype("<i8").tobytes() for w in warmups) + flag_rec.tobytes()
    if method == RICE:
        body = b"".join(_rice_encode(s) for s in streams)
    else:
        planes = b"".join(_planes(s) for s in streams)
        body = (
            zlib.compress(planes, 9)
            if method == ZLIB
            else lzma.compress(planes, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
        )
    return header + fixed + body


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
    if (
        method not in METHOD_NAMES
        or quantum == 0
        or max(orders[1:]) > _MAX_ORDER
        or orders[0] not in (*range(_MAX_ORDER + 1), _GRID)
    ):
        raise RawFramesError("raw frames header is corrupt")
    pos = _HEADER.size
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
    streams: list[np.ndarray] = []
    if method == RICE:
        for m in lengths:
            r, used = _rice_decode(view[pos:], m)
            streams.append(r)
            pos += used
        if pos != len(view):
            raise RawFramesError("raw frames data has trailing bytes (corrupt)")
    else:
        expected = 8 * sum(lengths)
        try:  # never more than the header's frames need, plus one byte to see an excess
            planes = (
                zlib.decompressobj().decompress(view[pos:], expected + 1)
                if method == ZLIB
                else lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=_LZMA_FILTERS).decompress(
                    view[pos:], max_length=expected + 1
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
    series = [
        _grid_integrate(np.concatenate([w, s]))
        if o == _GRID
        else _integrate(np.concatenate([w, s]), o)
        for w, s, o in zip(warmups, streams, orders, strict=True)
    ]
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
    return RawFrames(t_ns, counts, flags, bad)
