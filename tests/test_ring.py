import numpy as np

from station.acquisition.process import _Loop
from station.acquisition.ring import FrameRing
from station.frames import Frame, FrameFlag


def make_frame(i: int, flags: int = 0, bad: int = 0) -> Frame:
    return Frame(1_000_000_000 + i * 12_500_000, (i, -i, 2 * i, -(2**23) + i), flags, bad)


def test_ring_round_trip_in_order():
    ring = FrameRing(capacity=64)
    try:
        for i in range(10):
            ring.write(make_frame(i))
        batch = ring.read_new()
        assert len(batch) == 10 and batch.lost == 0
        assert batch.counts[:, 0].tolist() == list(range(10))
        assert batch.counts[3].tolist() == [3, -3, 6, -(2**23) + 3]
        assert np.all(np.diff(batch.t_ns) == 12_500_000)
        assert len(ring.read_new()) == 0
    finally:
        ring.close()


def test_ring_reader_attached_by_name_sees_writer_frames():
    owner = FrameRing(capacity=32)
    other = FrameRing(capacity=32, name=owner.name)
    try:
        other.write(make_frame(7))
        batch = owner.read_new()
        assert batch.counts[0, 0] == 7
    finally:
        other.close()
        owner.close()


def test_ring_overrun_counts_lost_frames_and_keeps_newest():
    ring = FrameRing(capacity=16)
    try:
        for i in range(40):
            ring.write(make_frame(i))
        batch = ring.read_new()
        assert batch.lost == 24
        assert batch.counts[:, 0].tolist() == list(range(24, 40))
    finally:
        ring.close()


def test_ring_max_frames_leaves_rest_for_next_read():
    ring = FrameRing(capacity=16)
    try:
        for i in range(10):
            ring.write(make_frame(i))
        assert len(ring.read_new(max_frames=4)) == 4
        assert ring.read_new().counts[:, 0].tolist() == list(range(4, 10))
    finally:
        ring.close()


def test_loop_counts_discards_gaps_rate_and_cell_failures():
    ring = FrameRing(capacity=1024)
    try:
        loop = _Loop(ring, conn=None)
        for i in range(200):
            loop.record(make_frame(i))
        # Cell 2 unplugged for 5 frames (timeouts), then one saturated frame on cell 0.
        for i in range(200, 205):
            loop.record(make_frame(i, FrameFlag.TIMEOUT, 1 << 2))
        assert loop.stats.failing_cells() == {2: make_frame(200).t_ns}
        loop.record(make_frame(205, FrameFlag.SATURATED, 1 << 0))
        for i in range(206, 300):
            loop.record(make_frame(i))
        snap = loop.stats.snapshot(now_ns=make_frame(300).t_ns)
        assert snap["frames_total"] == 300
        assert snap["frames_valid"] == 294
        assert snap["discarded_by_check"]["timeout"] == 5
        assert snap["discarded_by_check"]["saturated"] == 1
        assert snap["frames_discarded"] == 6
        assert snap["cell_failures"] == [1, 0, 5, 0]
        assert snap["failing_cells"] == {}  # recovered with the next valid frame
        assert snap["max_gap_ms"] == 7 * 12.5  # 199 -> 206
        assert 70.0 < snap["achieved_rate_hz"] < 80.1
    finally:
        ring.close()
