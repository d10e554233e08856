"""The emulator's counts feed: the station's simulator writes ahead, the emulated chips read.

The acquisition process on `--board emulator` takes each conversion's counts from a shared
`CountsFeed` that `SimFeeder` (the simulated athlete, in the station) keeps filled a few
conversions ahead of the newest one the chips latched.
"""

from __future__ import annotations

import threading
import time

import pytest

from station.board import fed_emulator
from station.board.counts_feed import CountsFeed
from station.board.fed_emulator import FedEmulatorBoard
from station.board.sim.athlete import SimActionError
from station.board.sim.feeder import SimFeeder


@pytest.fixture
def feed():
    block = CountsFeed(capacity=32)
    yield block
    block.close()


def test_a_slot_holds_one_conversion_and_the_other_side_sees_it(feed):
    feed.write(5, (1, -2, 3, 8_000_000))
    other = CountsFeed(capacity=32, fd=feed.fd)  # the acquisition process's side
    try:
        assert other.read_all(5) == (1, -2, 3, 8_000_000)
        assert other.read(5, 3) == 8_000_000
        assert other.read_all(4) is None and other.read_all(37) is None  # 37 % 32 == 5
        assert other.written == 6 and other.wanted == -1
        other.wanted = 5
        assert feed.wanted == 5
        feed.write(37, (9, 9, 9, 9))  # the slot is reused: conversion 5 is gone
        assert other.read_all(5) is None and other.read_all(37) == (9, 9, 9, 9)
    finally:
        other.close()


def test_the_simulator_stays_lead_conversions_ahead_of_the_chips(feed):
    feeder = SimFeeder(feed, seed=1, lead=10)  # fills once when made
    assert feed.written == 10 - 1 + 1  # conversions 0..9 for a chip that has latched none
    assert all(feed.read_all(k) is not None for k in range(10))
    assert feeder.fill() == 0  # nothing new until the chips move on
    feed.wanted = 7
    assert feeder.fill() == 8 and feed.written == 18
    feed.wanted = 500  # far behind (the station was paused): skips, never overruns the block
    assert feeder.fill() == feed.capacity and feed.read_all(510) is not None


def test_actions_are_checked_when_asked_and_change_the_counts(feed):
    feeder = SimFeeder(feed, seed=1, lead=4)
    with pytest.raises(SimActionError):
        feeder.perform("step_on", mass_kg=-5)
    empty = sum(feed.read_all(3))
    feeder.perform("step_on", mass_kg=80.0)
    for k in range(4, 400, 4):  # the athlete steps on over the next seconds
        feed.wanted = k
        feeder.fill()
    assert sum(feed.read_all(feed.written - 1)) - empty > 500_000  # ~785 N on the cells


def test_a_restarted_acquisition_goes_on_from_the_conversions_not_given_out():
    feed = CountsFeed()  # the station's default size, which the acquisition process maps
    SimFeeder(feed, seed=1, lead=4)
    feed.wanted = 41  # the chips of the process that died had latched conversion 41
    board = FedEmulatorBoard(feed.fd)
    try:
        assert board._base == 42
        values = board.emulator.chips[0].value_source
        assert values is not None
        feed.write(42, (11, 12, 13, 14))
        assert values(100.0) == 11  # its first conversion is the feed's conversion 42
        assert board.feed.wanted == 41  # said at the end of the frame, by read()
    finally:
        board.close()
        feed.close()


def test_a_deferred_simulator_starts_in_its_thread_and_keeps_what_was_asked_meanwhile(feed):
    feeder = SimFeeder(feed, seed=1, lead=4, deferred=True)
    assert feeder.engine is None and feed.written == 0  # nothing made, nothing written
    assert feeder.fill() == 0
    feeder.perform("step_on", mass_kg=80.0)  # asked before the athlete exists: queued
    feeder.start()
    try:
        deadline = time.monotonic() + 30
        while feed.written < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        feeder.stop()  # the rest is driven from here
    assert feeder.engine is not None and feed.written == 4  # conversions 0..3, by the thread
    empty = sum(feed.read_all(0))  # the step on starts there and takes a second or two
    for k in range(4, 400, 4):
        feed.wanted = k
        feeder.fill()
    assert sum(feed.read_all(feed.written - 1)) - empty > 500_000


def test_the_emulated_board_waits_for_the_simulators_first_counts(feed, monkeypatch):
    shared = CountsFeed()
    threading.Timer(0.3, lambda: shared.write(0, (5, 6, 7, 8))).start()
    t0 = time.monotonic()
    board = FedEmulatorBoard(shared.fd)  # opens once the counts are there, not before
    try:
        assert time.monotonic() - t0 >= 0.29
        assert board.emulator.chips[0].value_source(0.0) == 5
    finally:
        board.close()
    monkeypatch.setattr(fed_emulator, "FIRST_COUNTS_TIMEOUT_S", 0.1)
    silent = CountsFeed()
    try:
        with pytest.raises(RuntimeError, match="gave no counts in 0 s"):
            FedEmulatorBoard(silent.fd)  # a board that cannot open: retried, reported
    finally:
        silent.close()
        shared.close()
