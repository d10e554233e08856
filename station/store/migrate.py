"""Alembic configured in code, so migrations run from an installed package (no alembic.ini)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions, and only when the schema must change or a
# revision is unknown: importing it and reading the migration scripts took 0.3 s of every
# start on the development machine (longer on a Pi; not measured), to learn that the database
# is already at HEAD_REVISION, which this constant says without them
# (tests/test_store_migrations.py holds it to Alembic's own head).

SCRIPT_LOCATION = "station.store:migrations"
HEAD_REVISION = "0009_athlete_profile"
VERSION_TABLE = "alembic_version"  # Alembic's default, where it keeps the revision


def alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in script.walk_revisions()]


def stored_revision(engine: sa.Engine) -> str | None:
    """The revision the database says it is at, read without Alembic (None: no version
    table, or an empty one)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            return None
        versions = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        found = list(versions)
    return found[0] if len(found) == 1 else None


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _run(engine: sa.Engine, action: str, revision: str) -> None:
    """Run an Alembic command on one connection.

    On SQLite, foreign keys are switched off for the migration: a batch migration rebuilds a
    table (create copy, DROP old, rename), and with foreign keys on, that DROP would cascade
    and delete every child row (found by the migration test: raw frames vanished). The
    pragma only works outside a transaction, so it is set on the driver connection before
    Alembic begins; foreign_key_check then proves the result consistent.
    """
    from alembic import command

    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        driver = conn.connection.driver_connection if sqlite else None
        if driver is not None:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            getattr(command, action)(alembic_config(conn), revision)
            conn.commit()
            if driver is not None:
                problems = driver.execute("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"migration left {len(problems)} broken references")
        finally:
            if driver is not None:
                driver.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (each migration in one transaction)."""
    _run(engine, "upgrade", revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    _run(engine, "downgrade", revision)
