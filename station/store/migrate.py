"""Alembic configured in code, so migrations run from an installed package (no alembic.ini)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions: it costs ~0.3 s at start-up on a Pi, and most
# runs only need to read the current revision once.

SCRIPT_LOCATION = "station.store:migrations"


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
