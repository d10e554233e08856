"""Health data on disk is private to the station's user: files 0600, directories 0700, whatever
the umask of whoever runs the command."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_fixtures import populate, station_cli

from station.store import open_store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_command_line_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    done = station_cli("athlete", "add", "Ana", "--data-dir", data, cwd=tmp_path, umask=0)
    assert done.returncode == 0, done.stderr
    store = open_store(data)
    populate(store, n_athletes=1, n_sessions=1, n_trials=1)
    trial = store.trial_uids()[0]
    store.close()
    out = tmp_path / "out"
    out.mkdir()
    for argv in (
        ("backup", out / "copy.db"),
        ("export", "archive", "--out", out / "all.zip"),
        ("export", "athlete", "Ana", "--out", out / "ana.csv"),
        ("export", "anonymised", "--out", out / "anon.zip"),
        ("export", "trial", trial, "--out", out / "trial" / "files"),
    ):
        done = station_cli(*argv, "--data-dir", data, cwd=tmp_path, umask=0)
        assert done.returncode == 0, (argv, done.stderr)
    assert mode(data) == 0o700 and mode(data.parent) == 0o700
    assert mode(data / "station.db") == 0o600
    for name in ("copy.db", "all.zip", "ana.csv", "anon.zip"):
        assert mode(out / name) == 0o600, name
    assert mode(out / "trial") == 0o700 and mode(out / "trial" / "files") == 0o700
    written = list((out / "trial" / "files").iterdir())
    assert len(written) == 2 and all(mode(p) == 0o600 for p in written)
    assert not any(p.name.endswith((".partial", ".tmp")) for p in out.iterdir())


def test_wal_and_shm_files_are_private_too(tmp_path: Path, open_umask: None) -> None:
    store = open_store(tmp_path / "d")
    populate(store, n_athletes=1, n_sessions=1, n_trials=1)
    with store.read() as conn:  # an open connection keeps -wal and -shm on disk
        conn.exec_driver_sql("SELECT count(*) FROM trials").scalar()
        db = tmp_path / "d" / "station.db"
        for path in (db, db.with_name("station.db-wal"), db.with_name("station.db-shm")):
            assert path.exists() and mode(path) == 0o600, path
    store.close()
    assert mode(tmp_path / "d") == 0o700


def test_an_older_readable_database_is_made_private_when_opened(tmp_path: Path) -> None:
    store = open_store(tmp_path / "d")
    store.close()
    db = tmp_path / "d" / "station.db"
    db.chmod(0o644)
    open_store(tmp_path / "d").close()
    assert mode(db) == 0o600
