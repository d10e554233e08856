"""The station's reader sleeps on the acquisition's frame semaphore, not on a poll timer.

The acquisition process posts `Acquisition.frame_posted` after every frame it writes; the
reader waits for a message's worth of posts (or until a message is due) and takes every
post already there. These tests drive the semaphore by hand and then check, with the real
acquisition process on the simulated board, that every frame still reaches the ring reader
and that the reader thread no longer turns 200 times a second.
"""

from __future__ import annotations

import time

import pytest

from station.acquisition.process import Acquisition, RealtimeOptions
from station.board.spec import BoardOptions
from station.live.runtime import (
    FRAMES_PER_MESSAGE,
    IDLE_WAKE_S,
    MAX_MESSAGE_DELAY_S,
    StationConfig,
    StationRuntime,
)


@pytest.fixture
def acquisition():
    acq = Acquisition(BoardOptions(spec="sim", realtime=True, seed=1), capacity=256)
    yield acq
    acq.ring.close()


def test_wait_takes_every_post_already_there(acquisition):
    for _ in range(3):
        acquisition.frame_posted.release()
    assert acquisition.wait_for_frames(1.0, frames=1) == 3
    t0 = time.monotonic()
    assert acquisition.wait_for_frames(0.05, frames=1) == 0  # none left: the time runs out
    assert time.monotonic() - t0 >= 0.045


def test_wait_returns_short_when_time_runs_out(acquisition):
    acquisition.frame_posted.release()
    t0 = time.monotonic()
    assert acquisition.wait_for_frames(0.05, frames=4) == 1
    assert 0.045 <= time.monotonic() - t0 < 1.0


def test_wake_reader_ends_a_wait_at_once(acquisition):
    acquisition.wake_reader()
    t0 = time.monotonic()
    assert acquisition.wait_for_frames(5.0) == 1
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
    finally:
        runtime.acquisition.ring.close()


def test_reader_wakes_per_message_not_per_poll():
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
        loops0, frames0, t0 = runtime.reader_loops, runtime.acquisition.written, time.monotonic()
        time.sleep(2.0)
        loops = runtime.reader_loops - loops0
        frames = runtime.acquisition.written - frames0
        elapsed = time.monotonic() - t0
        assert frames > 0
        # The old 5 ms poll turned ~200 times a second whatever the frames; now about one
        # pass per message (80 Hz / 4 = 20 a second), a few more for timing.
        assert loops <= frames / 2 + 2 * elapsed / IDLE_WAKE_S
        assert loops >= 1
    finally:
        runtime.stop()
