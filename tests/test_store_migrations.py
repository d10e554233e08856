"""Migrations from the first schema on: an old database upgrades with all its data."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from store_fixtures import *  # noqa: F403 (pytest fixtures: pg_url, store_location)

from station.store import SchemaMismatchError, migrate, open_store, rawframes
from station.store.engine import make_engine
from station.store.schema import metadata
from station.store.synthetic_frames import simulated_trial_frames

ROOT = Path(__file__).resolve().parents[1]


def _fill_revision_1(engine: sa.Engine) -> bytes:
    """Rows written with the first schema's columns (reflected, not today's tables)."""
    old = sa.MetaData()
    old.reflect(engine)
    t = old.tables
    assert "analysis_version" not in t["trials"].c  # really the old schema
    now = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    blob = rawframes.encode(simulated_trial_frames(np.random.default_rng(0), duration_s=3))
    with engine.begin() as conn:
        conn.execute(
            t["athletes"]
            .insert()
            .values(
                id=1,
                uid="a-1",
                name="Old Athlete",
                team="A",
                dominant_leg="left",
                birth_year=2001,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        conn.execute(
            t["sessions"]
            .insert()
            .values(id=1, uid="s-1", athlete_id=1, started_at=now, stiffness=2, created_at=now)
        )
        conn.execute(
            t["calibrations"]
            .insert()
            .values(id=1, uid="c-1", content_sha256="0" * 64, created_at=now, data='{"g": 1}')
        )
        for i, metrics in enumerate(['{"mvelo_mm_s": 12.0}', None], start=1):
            conn.execute(
                t["trials"]
                .insert()
                .values(
                    id=i,
                    uid=f"t-{i}",
                    session_id=1,
                    athlete_id=1,
                    seq=i,
                    started_at=now,
                    clock_synced=True,
                    duration_s=3.0,
                    stance="double",
                    eyes="closed",
                    surface="foam",
                    planned_duration_s=3.0,
                    outcome="complete",
                    metrics=metrics,
                    score=55.0,
                    calibration_id=1,
                )
            )
            conn.execute(
                t["trial_raw"]
                .insert()
                .values(trial_id=i, n_frames=240, n_discarded=0, rate_hz=80.0, data=blob)
            )
        conn.execute(
            t["targets"]
            .insert()
            .values(
                id=1,
                uid="g-1",
                athlete_id=1,
                measure="score",
                value=60.0,
                direction=">=",
                created_at=now,
            )
        )
        conn.execute(
            t["users"]
            .insert()
            .values(
                id=1,
                uid="u-1",
                username="physio",
                role="admin",
                password_hash="h",
                active=True,
                created_at=now,
            )
        )
    return blob


def test_revision_1_database_upgrades_with_all_its_data(store_location: str) -> None:
    engine = make_engine(store_location)
    migrate.upgrade(engine, "0001")
    assert migrate.current_revision(engine) == "0001"
    blob = _fill_revision_1(engine)
    engine.dispose()

    with pytest.raises(SchemaMismatchError, match="db upgrade"):
        open_store(store_location)
    store = open_store(store_location, upgrade=True)
    try:
        assert store.revision() == migrate.head_revision() == "0009_athlete_profile"
        assert store.counts() == {
            "athletes": 1,
            "sessions": 1,
            "trials": 2,
            "trial_raw": 2,
            "trial_metrics": 1,
            "targets": 1,
            "users": 1,
            "api_tokens": 0,
            "calibrations": 1,
        }
        athlete = store.get_athlete("a-1")
        assert (athlete.name, athlete.dominant_leg, athlete.birth_year) == (
            "Old Athlete",
            "left",
            2001,
        )
        history = store.athlete_history("a-1", metrics=True)
        assert [h["uid"] for h in history] == ["t-1", "t-2"]
        assert history[0]["metrics"] == {"mvelo_mm_s": 12.0}  # moved by revision 0003
        assert history[1]["metrics"] is None
        assert [h["analysis_version"] for h in history] == ["legacy", None]
        trial = store.load_trial("t-1")
        assert trial.raw is not None and trial.raw.equals(rawframes.decode(blob))
        assert trial.calibration == {"g": 1} and trial.eyes == "closed"
        assert trial.task == "hold" and trial.body_weight_n is None  # revision 0004 defaults
        assert store.list_targets("a-1")[0].direction == ">="
        assert store.get_user("physio") is not None
        assert store.integrity_check().ok
        # the upgraded database is exactly today's schema
        with store.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), metadata
            )
        assert diff == []
    finally:
        store.close()


def test_downgrade_and_upgrade_again_keep_the_data(store_location: str) -> None:
    store = open_store(store_location)
    store.engine.dispose()
    migrate.downgrade(store.engine, "0001")
    _fill_revision_1(store.engine)
    store.upgrade()
    assert store.counts()["trials"] == 2
    store.close()


def test_a_database_from_a_newer_version_is_refused(store_location: str) -> None:
    open_store(store_location).close()
    engine = make_engine(store_location)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(SchemaMismatchError, match="unknown to this version"):
        open_store(store_location)


def test_the_revision_a_start_checks_is_alembics_head(store_location: str) -> None:
    # The start-up's shortcut: a new migration must move HEAD_REVISION with it.
    assert migrate.HEAD_REVISION == migrate.head_revision()
    store = open_store(store_location)
    assert migrate.stored_revision(store.engine) == migrate.current_revision(store.engine)
    store.engine.dispose()
    migrate.downgrade(store.engine, "0008_training_plan")  # an older database still upgrades
    assert migrate.stored_revision(store.engine) == "0008_training_plan"
    store.close()
    store = open_store(store_location, upgrade=True)
    assert store.revision() == migrate.HEAD_REVISION
    store.close()


def test_a_database_at_the_head_revision_opens_without_alembic(tmp_path) -> None:
    # Importing Alembic and reading its scripts took 0.3 s of every start here.
    open_store(tmp_path / "d").close()
    code = ("import sys; from station.store import open_store; "
            f"open_store({str(tmp_path / 'd')!r}, upgrade=True).close(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout


def test_a_non_station_database_is_refused(tmp_path) -> None:
    engine = make_engine(tmp_path / "d")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE something (x INTEGER)")
    engine.dispose()
    with pytest.raises(SchemaMismatchError):
        open_store(tmp_path / "d")


def test_metrics_move_back_and_forth_between_revisions_2_and_3(store_location: str) -> None:
    engine = make_engine(store_location)
    migrate.upgrade(engine, "0001")
    _fill_revision_1(engine)
    migrate.upgrade(engine, "0003")
    migrate.downgrade(engine, "0002")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT uid, metrics FROM trials ORDER BY uid").all()
        raw = conn.exec_driver_sql("SELECT count(*) FROM trial_raw").scalar()
    assert rows == [("t-1", '{"mvelo_mm_s": 12.0}'), ("t-2", None)] and raw == 2
    migrate.upgrade(engine)
    engine.dispose()
    store = open_store(store_location)
    assert store.load_trial("t-1").metrics == {"mvelo_mm_s": 12.0}
    assert store.counts()["trial_raw"] == 2 and store.integrity_check().ok
    store.close()


def test_revision_6_flags_earlier_demo_athletes_and_goes_back(store_location: str) -> None:
    """0006: the demo loop's athletes of earlier versions become demo data (removable in one
    step); a real athlete, even one named "Demo ...", does not; downgrade drops the columns."""
    engine = make_engine(store_location)
    migrate.upgrade(engine, "0005")
    now = datetime(2026, 1, 5, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        for uid, name, notes in (
            ("a-demo", "Demo · Alex Rivera", "simulated demo athlete"),
            ("a-real", "Demo Person", "a real athlete"),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO athletes (uid, name, notes, active, created_at, updated_at) "
                    "VALUES (:uid, :name, :notes, true, :now, :now)"
                ),
                {"uid": uid, "name": name, "notes": notes, "now": now},
            )
    migrate.upgrade(engine)
    engine.dispose()
    store = open_store(store_location)
    assert {a.uid: a.demo for a in store.list_athletes()} == {"a-demo": True, "a-real": False}
    assert all(a.archived_at is None for a in store.list_athletes())
    store.close()
    engine = make_engine(store_location)
    migrate.downgrade(engine, "0005")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("trials")}
    assert "invalid" not in columns and "invalid_reason" not in columns
    engine.dispose()
