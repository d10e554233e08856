"""Is the wall clock right? A Raspberry Pi has no real-time clock.

At boot a Pi's clock starts from the last time saved on the SD card (or 1970) and is only
right once NTP has synchronised it, which needs the network. Durations never depend on
this (everything timed uses the monotonic clock); only the *dates* of sessions do, so a
session records whether the clock was synchronised and the pages show a warning when not.

The kernel knows: NTP clients (systemd-timesyncd on Raspberry Pi OS, chrony) clear the
STA_UNSYNC flag once they discipline the clock, and `adjtimex()` (modes = 0, a read that
needs no privilege) returns TIME_ERROR while it is set. This is exactly what
`timedatectl show -p NTPSynchronized` reports, without D-Bus or a subprocess. When the call
is unavailable we fall back to timedatectl, then report "unknown".
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import shutil
import subprocess
import sys
from dataclasses import dataclass

SYNCED, UNSYNCED, UNKNOWN = "synced", "unsynced", "unknown"

# <sys/timex.h>
TIME_ERROR = 5
STA_UNSYNC = 0x0040
STA_CLOCKERR = 0x1000
EARLIEST_PLAUSIBLE_YEAR = 2025  # a clock before this year was never set


class _Timex(ctypes.Structure):
    """glibc's struct timex (legacy `adjtimex` symbol: fields are C longs on every ABI)."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long),
        ("time_usec", ctypes.c_long),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 32),  # glibc pads with 11 ints; spare room costs nothing
    ]


@dataclass(frozen=True)
class ClockStatus:
    state: str  # SYNCED, UNSYNCED or UNKNOWN
    detail: str  # how we know, for doctor and the logs

    @property
    def synced(self) -> bool | None:
        """True / False / None (unknown): what a session stores next to its date."""
        return {SYNCED: True, UNSYNCED: False}.get(self.state)


def read_adjtimex() -> tuple[int, int, int] | None:
    """(return code, status flags, max error in µs) from the kernel, or None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        adjtimex = libc.adjtimex
    except (OSError, AttributeError):
        return None
    adjtimex.argtypes = [ctypes.POINTER(_Timex)]
    adjtimex.restype = ctypes.c_int
    timex = _Timex()  # modes = 0: read only
    rc = adjtimex(ctypes.byref(timex))
    if rc < 0:
        return None
    return rc, timex.status, timex.maxerror


def interpret_adjtimex(rc: int, status: int, maxerror_us: int) -> ClockStatus:
    if rc == TIME_ERROR or status & (STA_UNSYNC | STA_CLOCKERR):
        return ClockStatus(UNSYNCED, "kernel clock not synchronised by NTP (STA_UNSYNC)")
    return ClockStatus(SYNCED, f"kernel clock synchronised by NTP (max error {maxerror_us} µs)")


def _timedatectl() -> ClockStatus | None:
    exe = shutil.which("timedatectl")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if out == "yes":
        return ClockStatus(SYNCED, "timedatectl: NTPSynchronized=yes")
    if out == "no":
        return ClockStatus(UNSYNCED, "timedatectl: NTPSynchronized=no")
    return None


def wall_clock_status(now: dt.datetime | None = None) -> ClockStatus:
    """Synced, unsynced or unknown; a date before 2025 is unsynced whatever NTP says."""
    now = now or dt.datetime.now(dt.UTC)
    if now.year < EARLIEST_PLAUSIBLE_YEAR:
        return ClockStatus(UNSYNCED, f"wall clock reads {now:%Y-%m-%d}: it was never set")
    kernel = read_adjtimex()
    if kernel is not None:
        return interpret_adjtimex(*kernel)
    return _timedatectl() or ClockStatus(UNKNOWN, "cannot ask the kernel or timedatectl")


def date_warning(synced: bool | None) -> str | None:
    """The note a page shows next to a session date recorded with this clock state."""
    if synced is True:
        return None
    if synced is False:
        return (
            "The station's clock was not synchronised when this was recorded: the date may be "
            "wrong (durations are not affected)."
        )
    return "The station could not tell whether its clock was right: check the date."
