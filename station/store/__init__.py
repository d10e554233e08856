"""History that lasts: athletes, sessions, trials and raw frames in SQLite or PostgreSQL.

Start here: `open_store(data_dir_or_url)` returns a `Store` (see repository.py); records are
in records.py, the raw-frame codec in rawframes.py, docs/storage.md explains the choices.
"""

from __future__ import annotations

from station.store.rawframes import RawFrames, RawFramesError
from station.store.records import (
    ApiToken,
    Athlete,
    IntegrityReport,
    LoginSession,
    SecurityEvent,
    SessionRecord,
    Target,
    TrialRecord,
    User,
)
from station.store.repository import (
    LastAdminError,
    SchemaMismatchError,
    Store,
    StoreError,
    open_store,
)

__all__ = [
    "ApiToken",
    "Athlete",
    "IntegrityReport",
    "LastAdminError",
    "LoginSession",
    "RawFrames",
    "RawFramesError",
    "SchemaMismatchError",
    "SecurityEvent",
    "SessionRecord",
    "Store",
    "StoreError",
    "Target",
    "TrialRecord",
    "User",
    "open_store",
]
