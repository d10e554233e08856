"""Fixtures for the store tests: one SQLite and one PostgreSQL database per test.

PostgreSQL: $BALANCE_STATION_TEST_PG_URL when set (CI sets it with scripts/ci-postgres.sh);
otherwise a throwaway cluster is started from Debian's binaries (/usr/lib/postgresql/*/bin)
in a temp dir, as the `postgres` user when we are root. Skipped, with the reason, only when no
PostgreSQL binaries exist. Import the fixtures into a test module with
`from store_fixtures import store, store_location, pg_url  # noqa: F401`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from station.store import Athlete, SessionRecord, Store, TrialRecord, open_store
from station.store.synthetic_frames import simulated_trial_frames

PG_ENV = "BALANCE_STATION_TEST_PG_URL"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float  # the process's own peak resident memory (getrusage of that child)


def station_cli(*argv: object, cwd: Path, umask: int | None = None, timeout: float = 120) -> CliRun:
    """The real command line in its own process: `python -m station ...` (no BALANCE_STATION_*
    variables of the test run; `umask` as another user's shell would have it). os.wait4
    returns the resource usage of that one child, so its peak memory is measured exactly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_STATION")}
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "station", *map(str, argv)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            text=True,
            preexec_fn=None if umask is None else (lambda: os.umask(umask)),
        )
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.02)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return CliRun(child.returncode, out.read(), err.read(), usage.ru_maxrss / 1024)


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a PostgreSQL server for this test session (see module doc)."""
    if os.environ.get(PG_ENV):
        yield os.environ[PG_ENV]
        return
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(f"no PostgreSQL: set {PG_ENV} or install Debian's postgresql package")
    root = Path(tempfile.mkdtemp(prefix="bs-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
        **run,
    )
    opts = f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-w",
            "-l",
            str(root / "log"),
            "start",
        ],
        **run,
    )
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def fresh_pg_database(server_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    name = f"bs_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = sa.make_url(server_url).set(database=name)
    return url.render_as_string(hide_password=False)


def drop_pg_database(server_url: str, db_url: str) -> None:
    name = sa.make_url(db_url).database
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite data directory or a fresh PostgreSQL database URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "data")
        return
    server = request.getfixturevalue("pg_url")
    url = fresh_pg_database(server)
    try:
        yield url
    finally:
        drop_pg_database(server, url)


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    yield s
    s.close()


def make_trial(
    session_uid: str,
    seq: int,
    rng: np.random.Generator,
    started_at: datetime | None = None,
    with_raw: bool = True,
    duration_s: float = 30.0,
    **overrides: object,
) -> TrialRecord:
    raw = (
        simulated_trial_frames(rng, duration_s=duration_s, discard_fraction=0.002)
        if with_raw
        else None
    )
    fields: dict[str, object] = dict(
        session_uid=session_uid,
        seq=seq,
        stance="single_left",
        eyes="open",
        surface="firm",
        planned_duration_s=duration_s,
        outcome="complete",
        duration_s=duration_s,
        started_at=started_at or datetime(2025, 3, 1, 10, 0, tzinfo=UTC) + timedelta(minutes=seq),
        metrics={"mvelo_mm_s": 20.0 + seq, "rdist_mm": 5.5, "f95_hz": float("nan")},
        score=70.0 + seq,
        calibration={"gains": [1.0, 1.0, 1.0, 1.0], "offsets": [0, 0, 0, 0]},
        board_id="board-1",
        raw=raw,
        rate_hz=80.0,
        analysis_version="test-1",
    )
    fields.update(overrides)
    return TrialRecord(**fields)  # type: ignore[arg-type]


def populate(
    store: Store,
    n_athletes: int = 2,
    n_sessions: int = 2,
    n_trials: int = 2,
    seed: int = 0,
    duration_s: float = 5.0,
) -> dict[str, list[str]]:
    """A small history; returns the uids created."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[str]] = {"athletes": [], "sessions": [], "trials": []}
    base = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    for a in range(n_athletes):
        au = store.add_athlete(
            Athlete(name=f"Athlete {seed}-{a}", team="U18", dominant_leg="left", birth_year=2008)
        )
        out["athletes"].append(au)
        for s in range(n_sessions):
            when = base + timedelta(days=7 * s, hours=a)
            su = store.create_session(
                SessionRecord(
                    athlete_uid=au,
                    started_at=when,
                    stiffness=3,
                    soreness=2,
                    sleep_hours=7.5,
                    notes="ok",
                )
            )
            out["sessions"].append(su)
            for t in range(n_trials):
                tu = store.save_trial(
                    make_trial(
                        su, t, rng, started_at=when + timedelta(minutes=t), duration_s=duration_s
                    )
                )
                out["trials"].append(tu)
    return out
