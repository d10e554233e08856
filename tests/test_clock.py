from __future__ import annotations

import datetime as dt
import sys

import pytest

from station.service import clock
from station.service.clock import (
    STA_UNSYNC,
    SYNCED,
    TIME_ERROR,
    UNKNOWN,
    UNSYNCED,
    ClockStatus,
    date_warning,
    interpret_adjtimex,
    read_adjtimex,
    wall_clock_status,
)

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="adjtimex is Linux's")
def test_the_kernel_answers_with_a_consistent_struct():
    """rc and the status flags come from different places: they agree only if the layout is
    right (the kernel returns TIME_ERROR exactly when STA_UNSYNC or STA_CLOCKERR is set)."""
    rc, status, maxerror = read_adjtimex()
    assert 0 <= rc <= TIME_ERROR
    assert 0 <= status < 0x10000
    assert (rc == TIME_ERROR) == bool(status & (STA_UNSYNC | clock.STA_CLOCKERR))
    assert 0 <= maxerror <= 16_000_000  # the kernel caps it at NTP_PHASE_LIMIT (16 s)


def test_interpretation_of_kernel_states():
    assert interpret_adjtimex(0, 0x2001, 12_000).state == SYNCED  # TIME_OK, STA_PLL|STA_NANO
    assert interpret_adjtimex(TIME_ERROR, STA_UNSYNC, 16_000_000).state == UNSYNCED
    assert interpret_adjtimex(0, STA_UNSYNC, 0).state == UNSYNCED


def test_a_clock_from_before_2025_was_never_set(monkeypatch):
    monkeypatch.setattr(clock, "read_adjtimex", lambda: (0, 0, 1000))
    status = wall_clock_status(dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    assert status.state == UNSYNCED and "1970-01-01" in status.detail


def test_kernel_answer_is_used(monkeypatch):
    monkeypatch.setattr(clock, "read_adjtimex", lambda: (0, 0x2001, 5000))
    assert wall_clock_status(NOW) == ClockStatus(
        SYNCED, "kernel clock synchronised by NTP (max error 5000 µs)"
    )
    assert wall_clock_status(NOW).synced is True


def test_falls_back_to_timedatectl_then_unknown(monkeypatch):
    monkeypatch.setattr(clock, "read_adjtimex", lambda: None)
    monkeypatch.setattr(clock, "_timedatectl", lambda: ClockStatus(UNSYNCED, "timedatectl"))
    assert wall_clock_status(NOW).synced is False
    monkeypatch.setattr(clock, "_timedatectl", lambda: None)
    assert wall_clock_status(NOW).state == UNKNOWN
    assert wall_clock_status(NOW).synced is None


def test_date_warnings():
    assert date_warning(True) is None
    assert "not synchronised" in date_warning(False)
    assert "could not tell" in date_warning(None)
