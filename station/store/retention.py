"""Retention: drop raw frames older than N months (metrics and scores are kept).

Raw frames are ~95 % of the database; the summary of a trial is a few hundred bytes. The
policy is stored in the database (`retention.raw_months`) so every tool applies the same one.
SQLite does not shrink its file when rows go (freed pages are reused by new trials);
`vacuum=True` rewrites the file to give the space back to the card (needs free space of about
the database's size, and minutes on a large database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from station.store.records import utcnow
from station.store.repository import Store, StoreError
from station.store.schema import trial_raw, trials

SETTING = "retention.raw_months"
DAYS_PER_MONTH = 30.44


@dataclass
class RetentionResult:
    cutoff: datetime
    trials: int
    raw_bytes: int
    file_bytes_before: int
    file_bytes_after: int
    dry_run: bool


def get_policy(store: Store) -> int | None:
    value = store.get_setting(SETTING)
    return int(value) if value else None


def set_policy(store: Store, months: int | None) -> None:
    if months is not None and months < 1:
        raise StoreError("retention needs at least 1 month")
    store.set_setting(SETTING, "" if months is None else str(months))


def apply_retention(
    store: Store,
    months: int | None = None,
    dry_run: bool = False,
    vacuum: bool = False,
    now: datetime | None = None,
) -> RetentionResult:
    """Delete raw frames of trials started more than `months` ago (default: the policy)."""
    months = months if months is not None else get_policy(store)
    if months is None:
        raise StoreError("no retention policy: give --older-than-months or set one with --set")
    if months < 1:
        raise StoreError("retention needs at least 1 month")
    cutoff = (now or utcnow()) - timedelta(days=months * DAYS_PER_MONTH)
    old = sa.select(trials.c.id).where(trials.c.started_at < cutoff)
    before = store.database_bytes()
    with store.write() as conn:
        n, nbytes = conn.execute(
            sa.select(
                sa.func.count(), sa.func.coalesce(sa.func.sum(sa.func.length(trial_raw.c.data)), 0)
            ).where(trial_raw.c.trial_id.in_(old))
        ).one()
        if not dry_run:
            conn.execute(
                trials.update()
                .where(
                    trials.c.id.in_(
                        sa.select(trial_raw.c.trial_id).where(trial_raw.c.trial_id.in_(old))
                    )
                )
                .values(raw_purged_at=utcnow())
            )
            conn.execute(trial_raw.delete().where(trial_raw.c.trial_id.in_(old)))
    if vacuum and not dry_run:
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
            if store.dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return RetentionResult(cutoff, int(n), int(nbytes), before, store.database_bytes(), dry_run)
