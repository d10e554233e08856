"""The emulator's counts feed: the station's simulator writes ahead, the emulated chips read.

The acquisition process on `--board emulator` takes each conversion's counts from a shared
`CountsFeed` that `SimFeeder` (the simulated athlete, in the station) keeps filled a few
conversions ahead of the newest one the chips latched.
"""

from __future__ import annotations

import pytest

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
