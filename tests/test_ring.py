import subprocess
import sys
from pathlib import Path

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


def test_ring_attached_by_its_descriptor_sees_writer_frames():
    owner = FrameRing(capacity=32)
    other = FrameRing(capacity=32, fd=owner.fd)
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


def test_ring_carries_each_cells_conversion_offsets_and_says_when_unknown():
    ring = FrameRing(capacity=8)
    try:
        ring.write(make_frame(0)._replace(cell_dt_ns=(-12_000_000, -3, 0, -2_500_000)))
        ring.write(make_frame(1))  # no offsets: the slot's old values must not come back
        for i in range(2, 9):  # wrap around: slot 0 again, now without offsets
            ring.write(make_frame(i))
        ring.write(make_frame(9)._replace(cell_dt_ns=(-1, -2, -3, -4)))
        batch = ring.read_new()
        assert batch.lost == 2
        assert batch.cell_dt_known.tolist() == [False] * 7 + [True]
        assert batch.cell_offsets()[-1] == (-1, -2, -3, -4)
        assert batch.t_ns[6] == make_frame(8).t_ns  # frame 8 reused frame 0's slot ...
        assert batch.cell_offsets()[6] is None  # ... whose stale offsets "known" hides
        assert batch.cell_dt_ns.dtype == np.int32 and batch.cell_dt_ns.shape == (8, 4)
    finally:
        ring.close()


def test_ring_first_frame_offsets_and_out_of_range_offsets():
    ring = FrameRing(capacity=8)
    try:
        ring.write(make_frame(0)._replace(cell_dt_ns=(-12_000_000, -3, 0, -2_500_000)))
        ring.write(make_frame(1)._replace(cell_dt_ns=(-(2**31), 0, 0, 0)))  # beyond int32
        assert ring.read_new().cell_offsets() == [(-12_000_000, -3, 0, -2_500_000), None]
    finally:
        ring.close()


def test_loop_keeps_the_skew_between_the_cells_and_finds_lockstep_from_the_frames():
    ring = FrameRing(capacity=1024)
    try:
        loop = _Loop(ring, conn=None)
        for i in range(100):  # chips apart: skews of 2, 4, ... ms
            loop.record(make_frame(i)._replace(cell_dt_ns=(0, -1_000_000 * (i % 5 + 1), 0, 0)))
        timing = loop.stats.snapshot()["cell_timing"]
        assert timing["frames_timed"] == 100
        assert timing["skew_mean_ms"] == 3.0 and timing["skew_max_ms"] == 5.0
        assert not timing["lockstep"] and timing["rates_hz"] == [None] * 4
        loop.reset_timing()
        for i in range(100, 160):  # one shared clock: the four within 0.1 ms
            loop.record(make_frame(i)._replace(cell_dt_ns=(-50_000, -60_000, -40_000, -50_000)))
        timing = loop.stats.snapshot()["cell_timing"]
        assert timing["frames_timed"] == 60 and timing["skew_max_ms"] == 0.02
        assert timing["lockstep"] and timing["lockstep_frames"] == 60 - 40 + 1
        loop.record(make_frame(160))  # offsets unknown again (the chips were reset)
        assert not loop.stats.snapshot()["cell_timing"]["lockstep"]
    finally:
        ring.close()


def test_loop_reports_each_chips_rate_from_the_drivers_clock_models():
    from station.acquisition.process import board_cell_timer
    from station.board.oscillator import ChipClocks
    from station.board.sim import SimulatedBoard

    chips = ChipClocks.internal(spread=0.03, seed=2)
    board = SimulatedBoard(realtime=False, through_gpio=True, chips=chips)
    ring = FrameRing(capacity=1024)
    try:
        loop = _Loop(ring, conn=None, cell_timer=board_cell_timer(board))
        assert loop.cell_timer is not None
        for _ in range(250):  # ~3 s of emulated time
            loop.record(board.read())
        timing = loop.stats.snapshot()["cell_timing"]
        assert np.allclose(timing["rates_hz"], chips.rates_hz, rtol=1e-3)
        spread = max(chips.rates_hz) - min(chips.rates_hz)
        assert timing["beat_period_s"] == round(1 / spread, 2)
        assert 2.0 < timing["skew_mean_ms"] < timing["skew_max_ms"] <= 12.6
        assert not timing["lockstep"]
    finally:
        board.close()
        ring.close()
    assert board_cell_timer(SimulatedBoard(realtime=False, chips=chips)) is None


# numpy keeps no buffer export on the block it views, so a ring that unmapped on close left
# the statistics' view pointing at freed pages: the next read killed the process (SIGSEGV).
# A fresh Python, because that failure takes the interpreter with it.
_READ_AFTER_CLOSE = """
import gc
from station.acquisition.ring import FrameRing
from station.acquisition.stats import AcquisitionStats

def ring_mapped():
    with open("/proc/self/maps") as maps:
        return "balance-station-ring" in maps.read()

ring = FrameRing(256)
stats = AcquisitionStats(ring.stats_words)
stats.add("frames_total", 7)
ring.close()
print(stats["frames_total"], ring_mapped())
del stats
gc.collect()
print(ring_mapped())
"""


def test_statistics_read_after_the_ring_closes_keep_their_values_and_the_block_goes_with_them():
    done = subprocess.run(
        [sys.executable, "-c", _READ_AFTER_CLOSE], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-400:]}"
    assert done.stdout.split() == ["7", "True", "False"]
