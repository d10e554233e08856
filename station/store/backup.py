"""Backups of the SQLite database through SQLite's online backup API.

Why the backup API and not a file copy: it copies a consistent snapshot page by page while the
station keeps writing (WAL mode), so a backup taken mid-trial is a valid database. Each copy
is written to a temp file (0600, like every file holding athlete data), checked with
PRAGMA integrity_check, then renamed into place.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

from station.store.engine import sqlite_path
from station.store.files import private_database
from station.store.records import utcnow
from station.store.repository import Store, StoreError

DAILY_PREFIX = "station-"
DAILY_SUFFIX = ".db"


def backup(store: Store, dest: str | os.PathLike[str]) -> Path:
    """Copy the live database to `dest` (a file, or a directory to put a dated file in)."""
    src_path = sqlite_path(store.engine)
    if src_path is None:
        raise StoreError(
            "backup copies the SQLite file; with PostgreSQL use pg_dump, or "
            "`balance-station export archive FILE`"
        )
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"{DAILY_PREFIX}{utcnow():%Y%m%d-%H%M%S}{DAILY_SUFFIX}"
    if not dest.parent.is_dir():
        raise StoreError(f"backup destination folder {dest.parent} does not exist")
    tmp = dest.with_name(f".{dest.name}.partial")
    tmp.unlink(missing_ok=True)
    private_database(tmp)  # 0600 before the first page is copied (sqlite3 would make 0644)
    raw = store.engine.raw_connection()
    try:
        source: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
        target = sqlite3.connect(tmp)
        try:
            source.backup(target, pages=1024)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
    finally:
        raw.close()
    if check != "ok":
        tmp.unlink(missing_ok=True)
        raise StoreError(f"backup copy failed its integrity check: {check}")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    return dest


def daily_backup(
    store: Store, folder: str | os.PathLike[str], keep: int = 7, now: datetime | None = None
) -> Path | None:
    """At most one backup a day into `folder` (e.g. a USB stick), keeping the newest `keep`.

    Returns the new file, or None when today's backup already exists. Meant to be called by
    the station at start and then hourly (cheap when there is nothing to do).
    """
    if keep < 1:
        raise StoreError("keep must be at least 1")
    folder = Path(folder)
    if not folder.is_dir():
        raise StoreError(f"backup folder {folder} does not exist (is the USB stick mounted?)")
    now = now or utcnow()
    today = f"{DAILY_PREFIX}{now:%Y%m%d}"
    if any(p.name.startswith(today) for p in folder.glob(f"{DAILY_PREFIX}*{DAILY_SUFFIX}")):
        return None
    made = backup(store, folder / f"{DAILY_PREFIX}{now:%Y%m%d-%H%M%S}{DAILY_SUFFIX}")
    prune(folder, keep)
    return made


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` dated backups in `folder`; returns what was deleted."""
    dated = sorted(folder.glob(f"{DAILY_PREFIX}*{DAILY_SUFFIX}"))
    old = dated[:-keep] if keep else dated
    for p in old:
        p.unlink()
    return old
