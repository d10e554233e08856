"""Where the history lives and how the database connection is set up.

`make_engine(location)` takes either a SQLAlchemy URL (PostgreSQL for a club whose stations
share one history: ``postgresql+psycopg://user@host/db``) or a data directory, which holds the
embedded SQLite database ``station.db``.

SQLite settings, chosen for a Raspberry Pi on an SD card that may lose power at any moment
(applied on every new connection):

- ``journal_mode=WAL``: a commit appends to the write-ahead log instead of rewriting pages in
  place, readers (the web app) never block the writer (the station), and a torn write at
  power loss can only cut the log's tail, never corrupt the main file.
- ``synchronous=FULL``: the WAL is fsynced at every commit, so a trial the station reported
  as saved survives a power cut. NORMAL would skip that fsync (still never corrupt, but the
  last commits could vanish). One fsync per trial (one per 20-60 s) costs nothing here.
- ``foreign_keys=ON`` (SQLite leaves them off by default), ``busy_timeout=10000`` (a writer
  waits up to 10 s for another instead of failing at once).
- ``page_size=4096`` (matches the SD card's and ext4's 4 KiB blocks; only applies when the
  file is created), ``cache_size=-8192`` (8 MiB of page cache: the history indexes stay in
  memory on a 1 GB Pi), ``temp_store=MEMORY`` (no temp files on the card),
  ``wal_autocheckpoint=1000`` pages (~4 MB of WAL before it is folded back).

Transactions: pysqlite's own implicit BEGIN handling is switched off and SQLAlchemy's begin
emits ``BEGIN`` (or ``BEGIN IMMEDIATE`` for connections marked ``sqlite_immediate=True``, used
by every write so two writers queue on busy_timeout instead of failing mid-transaction).
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from station.store.files import private_database, private_dir

DB_FILENAME = "station.db"
ENV_DB_URL = "BALANCE_STATION_DB"
ENV_DATA_DIR = "BALANCE_STATION_DATA"
DEFAULT_DATA_DIR = "data"

SQLITE_PRAGMAS: tuple[tuple[str, str], ...] = (
    ("page_size", "4096"),
    ("journal_mode", "WAL"),
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    ("busy_timeout", "10000"),
    ("cache_size", "-8192"),
    ("temp_store", "MEMORY"),
    ("wal_autocheckpoint", "1000"),
)


def is_url(location: str | os.PathLike[str]) -> bool:
    return "://" in str(location)


def resolve_url(location: str | os.PathLike[str]) -> str:
    """A database URL from a URL or a data directory (created 0700 if missing)."""
    if is_url(location):
        return str(location)
    data_dir = private_dir(Path(location).expanduser())
    return f"sqlite:///{(data_dir / DB_FILENAME).resolve()}"


def default_location() -> str:
    """$BALANCE_STATION_DB (a URL), else $BALANCE_STATION_DATA (a directory), else ./data."""
    return os.environ.get(ENV_DB_URL) or os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR


def make_engine(location: str | os.PathLike[str], **kwargs: object) -> sa.Engine:
    """An Engine for a URL or data directory, with the SQLite settings above applied and the
    database file private to this user (0600, see files.py)."""
    url = resolve_url(location)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
        path = sqlite_path(engine)
        if path is not None:
            private_database(path)
    return engine


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module doc)
        cursor = dbapi_conn.cursor()
        for name, value in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {name}={value}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":  # VACUUM and friends
            return
        immediate = options.get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def sqlite_path(engine: sa.Engine) -> Path | None:
    """The database file of a SQLite engine (None for other backends or in-memory)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    return Path(db) if db and db != ":memory:" else None
