"""A dead load cell end to end: the real acquisition process reading the emulated HX711s.

Unplugging a chip (DOUT stuck high) must be reported with the cell and since when, the
station must keep running, and it must recover by itself when the chip comes back.
"""

from __future__ import annotations

import time

import pytest

from station.acquisition.process import RealtimeOptions
from station.board.spec import BoardOptions
from station.live.runtime import StationConfig, StationRuntime


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.slow
def test_unplugged_cell_is_reported_then_recovers():
    runtime = StationRuntime(StationConfig(
        board=BoardOptions(spec="emulator", realtime=True, seed=2),
        realtime=RealtimeOptions(sched_fifo_priority=0),
    ))
    runtime.start()
    try:
        wait_for(lambda: runtime.history.written > 40, 60, "frames from the emulated board")
        runtime.acquisition.send("fault", 2, "unplugged")
        failing = wait_for(
            lambda: runtime.health()["acquisition"].get("failing_cells"), 10, "a failing cell"
        )
        assert set(failing) == {"2"}  # which cell, and for how long (seconds)
        acq = runtime.health()["acquisition"]
        assert acq["discarded_by_check"]["timeout"] > 0
        assert acq["cell_failures"][2] > 0 and acq["cell_failures"][0] == 0
        assert runtime.reader_loops and runtime.acquisition.alive  # still serving
        frames_before = runtime.history.written
        runtime.acquisition.send("fault", 2, "none")
        wait_for(lambda: not runtime.health()["acquisition"].get("failing_cells"), 10,
                 "the cell to recover")
        wait_for(lambda: runtime.history.written > frames_before + 40, 10, "frames again")
    finally:
        runtime.stop()


def test_a_failing_frame_consumer_does_not_stop_live_data():
    runtime = StationRuntime(StationConfig(
        board=BoardOptions(spec="sim", realtime=True, seed=3),
        realtime=RealtimeOptions(sched_fifo_priority=0),
    ))

    class Broken:
        def on_frame(self, frame, sample):
            raise ValueError("a bug in a consumer")

        def live_part(self):
            raise ValueError("another bug")

    runtime.subscribe(Broken())
    runtime.start()
    try:
        wait_for(lambda: runtime.processing_errors > 80, 60, "frames through the broken consumer")
        first = runtime.hub.last_id
        wait_for(lambda: runtime.hub.last_id > first + 10, 10, "live messages to keep flowing")
    finally:
        runtime.stop()
