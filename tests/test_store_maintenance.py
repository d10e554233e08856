"""Backups (online, while writing), daily rotation, retention of raw frames."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from store_fixtures import *  # noqa: F403 (pytest fixtures: pg_url, store_location, store)
from store_fixtures import make_trial

from station.store import Athlete, SessionRecord, Store, StoreError, open_store
from station.store.backup import backup, daily_backup
from station.store.retention import apply_retention, get_policy, set_policy


def test_backup_while_the_station_writes(tmp_path: Path) -> None:
    store = open_store(tmp_path / "live")
    au = store.add_athlete(Athlete(name="A"))
    su = store.create_session(SessionRecord(athlete_uid=au))
    stop = threading.Event()
    saved: list[str] = []

    def writer() -> None:
        rng = np.random.default_rng(0)
        seq = 0
        while not stop.is_set():
            saved.append(store.save_trial(make_trial(su, seq, rng, duration_s=2.0)))
            seq += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copies = [backup(store, tmp_path / f"copy{i}.db") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    for copy in copies:
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        restored = open_store(f"sqlite:///{copy}")
        assert restored.integrity_check().ok
        assert set(restored.trial_uids()) <= set(saved)
        restored.close()
    store.close()


def test_daily_backup_keeps_the_last_n(tmp_path: Path) -> None:
    store = open_store(tmp_path / "live")
    usb = tmp_path / "usb"
    usb.mkdir()
    day = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    made = [daily_backup(store, usb, keep=3, now=day + timedelta(days=i)) for i in range(5)]
    assert all(made)
    assert daily_backup(store, usb, keep=3, now=day + timedelta(days=4, hours=5)) is None
    assert sorted(p.name for p in usb.iterdir()) == [
        f"station-202601{d:02d}-030000.db" for d in (3, 4, 5)
    ]
    with pytest.raises(StoreError, match="does not exist"):
        daily_backup(store, tmp_path / "not-mounted")
    store.close()


def test_backup_on_postgresql_says_what_to_use(pg_url: str) -> None:
    from store_fixtures import drop_pg_database, fresh_pg_database

    url = fresh_pg_database(pg_url)
    try:
        store = open_store(url)
        with pytest.raises(StoreError, match="pg_dump"):
            backup(store, "/tmp")
        store.close()
    finally:
        drop_pg_database(pg_url, url)


def test_retention_drops_old_raw_frames_and_keeps_metrics(store: Store) -> None:
    rng = np.random.default_rng(4)
    au = store.add_athlete(Athlete(name="R"))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    uids = []
    for months_ago in (30, 14, 2):
        when = now - timedelta(days=30.44 * months_ago)
        su = store.create_session(SessionRecord(athlete_uid=au, started_at=when))
        uids.append(store.save_trial(make_trial(su, 0, rng, started_at=when, duration_s=5)))
    with pytest.raises(StoreError, match="no retention policy"):
        apply_retention(store, now=now)
    set_policy(store, 12)
    assert get_policy(store) == 12
    dry = apply_retention(store, dry_run=True, now=now)
    assert dry.trials == 2 and dry.raw_bytes > 0 and store.counts()["trial_raw"] == 3
    done = apply_retention(store, now=now, vacuum=True)
    assert (done.trials, done.raw_bytes) == (2, dry.raw_bytes)
    history = store.athlete_history(au, metrics=True)
    assert [h["has_raw"] for h in history] == [False, False, True]
    assert all(h["metrics"] for h in history)
    assert store.load_trial(uids[0]).raw is None and store.load_trial(uids[0]).raw_purged_at
    assert store.integrity_check().ok  # purged trials are not "missing raw"
    if store.dialect == "sqlite":
        assert done.file_bytes_after < done.file_bytes_before
