"""The station's reader sleeps on the acquisition's semaphore, not on a poll timer, and wakes
once per live message, not once per frame.

The reader writes the frame count it waits for (`wake_at_frame`) and the acquisition process
posts the semaphore once the ring holds it (`child.ReaderWake`). These tests write frames
into the ring by hand with the process's rule, then check, with the real acquisition
process on the simulated board, that every frame still reaches the reader and that its
thread wakes about 20 times a second at 80 Hz (it woke at every frame, and before that
200 times a second on a 5 ms poll).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from station.acquisition.child import ReaderWake
from station.acquisition.process import Acquisition, RealtimeOptions
from station.board.spec import BoardOptions
from station.calibration import load_calibration
from station.calibration.estimator import make_estimator
from station.commands._common import SIM_CALIBRATION
from station.frames import Frame, FrameFlag
from station.live.runtime import (
    EMPTY_BOARD_FRAMES_PER_MESSAGE,
    EMPTY_BOARD_MESSAGE_DELAY_S,
    FRAMES_PER_MESSAGE,
    IDLE_AFTER_FRAMES,
    IDLE_WAKE_S,
    MAX_MESSAGE_DELAY_S,
    StationConfig,
    StationRuntime,
    load_wake_n,
)


class CountingSemaphore:
    def __init__(self, semaphore) -> None:
        self.semaphore, self.posts = semaphore, 0

    def release(self) -> None:
        self.posts += 1
        self.semaphore.release()


@pytest.fixture
def acquisition():
    acq = Acquisition(BoardOptions(spec="sim", realtime=True, seed=1), capacity=256)
    yield acq
    acq.ring.close()


def write_frames(acq: Acquisition, wake: ReaderWake, n: int, every_s: float) -> threading.Thread:
    """The acquisition process's side, by hand: a frame every `every_s`, then its rule."""
    def run() -> None:
        for _ in range(n):
            time.sleep(every_s)
            acq.ring.write(Frame(time.monotonic_ns(), (1, 2, 3, 4), 0))
            wake.after_frame(acq.ring.written)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_one_post_wakes_the_reader_for_a_messages_worth(acquisition):
    posts = CountingSemaphore(acquisition.frame_posted)
    wake = ReaderWake(posts, acquisition.stats)
    wake.after_frame(acquisition.ring.written)  # before any request: the first frame posts
    acquisition.wait_for_frames(0.0)  # that post is taken (stale posts only end a wait early)
    posts.posts = 0
    writer = write_frames(acquisition, wake, 8, 0.0125)
    got = acquisition.wait_for_frames(2.0, frames=4)
    assert 4 <= got <= 5, got  # woken at the 4th frame (the 5th may land while it returns)
    assert posts.posts == 1  # not one per frame
    rest = acquisition.wait_for_frames(2.0, frames=8 - acquisition.ring.written)
    writer.join()
    assert got + rest == 8 and posts.posts == 2  # the rest: one more wake


def test_a_load_on_the_board_wakes_the_reader_at_the_frame_it_comes(acquisition):
    posts = CountingSemaphore(acquisition.frame_posted)
    wake = ReaderWake(posts, acquisition.stats)
    stats = acquisition.stats
    # Cells of 0.5 mN per count around offsets of 1000 counts; wake at 10 N (20,000 counts).
    stats.arm_load_wake((5e-4, 5e-4, 5e-4, 5e-4), (1000.0, 1000.0, 1000.0, 1000.0), 10.0)
    stats["wake_at_frame"] = acquisition.ring.written + 20

    def frame(per_cell: int, flags: int = 0) -> None:
        written = Frame(time.monotonic_ns(), (1000 + per_cell,) * 4, flags)
        acquisition.ring.write(written)
        wake.after_frame(acquisition.ring.written, written)

    for per_cell in (0, 300, -200, 4000):  # noise, and 8 N: under the load asked for
        frame(per_cell)
    assert posts.posts == 0
    frame(5000, FrameFlag.SATURATED)  # a discarded frame carries no load
    assert posts.posts == 0
    frame(5000)  # 10 N: the reader wakes now, 14 frames early
    assert posts.posts == 1
    frame(6000)
    assert posts.posts == 1  # once per request
    stats.disarm_load_wake()
    stats["wake_at_frame"] = acquisition.ring.written + 20
    frame(9000)
    assert posts.posts == 1  # disarmed: a load is just a frame


def test_frames_already_there_need_no_wait(acquisition):
    for _ in range(3):
        acquisition.ring.write(Frame(time.monotonic_ns(), (0, 0, 0, 0), 0))
    acquisition.ring.read_new()
    t0 = time.monotonic()
    assert acquisition.wait_for_frames(0.05, frames=1) == 0  # none came: the time runs out
    assert time.monotonic() - t0 >= 0.045


def test_wait_returns_short_when_time_runs_out(acquisition):
    wake = ReaderWake(acquisition.frame_posted, acquisition.stats)
    # The frame comes 20 ms into the wait (at once, it could land before the wait begins:
    # then it is not a frame that came meanwhile).
    writer = write_frames(acquisition, wake, 1, 0.02)
    t0 = time.monotonic()
    got = acquisition.wait_for_frames(0.2, frames=4)
    writer.join()
    assert got == 1
    assert 0.19 <= time.monotonic() - t0 < 1.0


def test_wake_reader_ends_a_wait_at_once(acquisition):
    acquisition.wake_reader()
    t0 = time.monotonic()
    assert acquisition.wait_for_frames(5.0) == 0
    assert time.monotonic() - t0 < 1.0


def test_wait_plan():
    runtime = StationRuntime(StationConfig(board=BoardOptions(spec="sim", seed=1)))
    try:
        now = 1000.0
        runtime._last_publish = now - 1.0  # a message overdue: wake at the next frame
        assert runtime._wait_plan(now) == (IDLE_WAKE_S, 1)
        runtime._last_publish = now - 0.01  # just published: a message's worth, until due
        timeout, frames = runtime._wait_plan(now)
        assert frames == FRAMES_PER_MESSAGE
        assert timeout == pytest.approx(MAX_MESSAGE_DELAY_S - 0.01)
        runtime._pending = [None] * (FRAMES_PER_MESSAGE - 1)  # type: ignore[list-item]
        assert runtime._wait_plan(now)[1] == 1
        # Nobody on the board and nothing from the listeners: a quarter second of frames,
        # and no wake-up in between (the acquisition wakes the reader when someone steps on).
        runtime._pending = []
        runtime._empty_frames = IDLE_AFTER_FRAMES  # a quarter second of an empty board
        runtime._listeners_quiet = True
        timeout, frames = runtime._wait_plan(now)
        assert frames == EMPTY_BOARD_FRAMES_PER_MESSAGE
        assert timeout == pytest.approx(EMPTY_BOARD_MESSAGE_DELAY_S - 0.01)
        runtime._listeners_quiet = False  # e.g. a trial waiting for its athlete
        assert runtime._wait_plan(now)[1] == FRAMES_PER_MESSAGE
    finally:
        runtime.acquisition.ring.close()


def test_a_load_flickering_round_the_wake_level_keeps_the_full_rate():
    # Below the wake level the reader arms the load wake and waits a quarter second; a
    # frame over it wakes the reader at once. A load that crossed it at every other frame
    # (a tiny calibrated minimum load, a hand trembling on the board) would have woken the
    # reader at every frame, more often than the full rate does: idle needs a quarter
    # second below it first.
    calibration = load_calibration(SIM_CALIBRATION)
    runtime = StationRuntime(StationConfig(board=BoardOptions(spec="sim", seed=1)),
                             estimator=make_estimator(calibration, auto_zero=False))
    try:
        wake_n = load_wake_n(calibration)

        def frame(i: int, load_n: float) -> Frame:
            counts = tuple(round(o + load_n / 4 / k) for o, k in
                           zip(calibration.offsets_counts, calibration.newtons_per_count,
                               strict=True))
            return Frame(i * 12_500_000, counts, 0)

        runtime._listeners_quiet = True
        for i in range(200):
            runtime._process(frame(i, 2 * wake_n if i % 2 else 0.5 * wake_n))
            assert not runtime._idle(), i
        for i in range(200, 200 + EMPTY_BOARD_FRAMES_PER_MESSAGE - 1):
            runtime._process(frame(i, 0.0))
        assert not runtime._idle()  # empty, but not for a quarter second yet
        runtime._process(frame(300, 0.0))
        assert runtime._idle()
    finally:
        runtime.acquisition.ring.close()


def thread_wakeups(native_id: int) -> int:
    """The kernel's count of times a thread of this process went to sleep and woke (Linux)."""
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return sum(int(line.split()[1]) for line in status.splitlines()
               if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))


def test_reader_wakes_per_message_not_per_frame():
    runtime = StationRuntime(StationConfig(
        board=BoardOptions(spec="sim", realtime=True, seed=3),
        realtime=RealtimeOptions(sched_fifo_priority=0, mlock=False),
    ))
    runtime.start()
    try:
        deadline = time.monotonic() + 30
        while runtime.hub.last_id < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runtime.hub.last_id >= 5, "no live messages from the simulated board"
        reader = runtime._thread.native_id
        loops0, frames0, t0 = runtime.reader_loops, runtime.acquisition.written, time.monotonic()
        wakes0 = thread_wakeups(reader)
        time.sleep(2.0)
        loops = runtime.reader_loops - loops0
        wakes = thread_wakeups(reader) - wakes0
        frames = runtime.acquisition.written - frames0
        elapsed = time.monotonic() - t0
        assert frames > 0
        # The old 5 ms poll turned ~200 times a second whatever the frames; now about one
        # pass per message (80 Hz / 4 = 20 a second), a few more for timing.
        assert loops <= frames / 2 + 2 * elapsed / IDLE_WAKE_S
        assert loops >= 1
        # and one wake-up per pass: it used to wake at every frame (a post per frame)
        assert wakes <= frames / 2 + 2 * elapsed / IDLE_WAKE_S, (wakes, frames)
    finally:
        runtime.stop()
