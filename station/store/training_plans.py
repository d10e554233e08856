"""An athlete's training plan in the store: the stage, and every change of it with its reason,
who and when (migration 0008). Functions over a Store, in their own module so the repository
stays the store of tests and history; the rules that decide a change are station.training.

A change is one transaction: the plan row and its line in the change history are written
together, so the shown history always explains the current stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from station.store.records import new_uid, utcnow
from station.store.repository import StoreError
from station.store.schema import STAGE_CHANGES, athletes, training_plans, training_stage_changes

if TYPE_CHECKING:
    from station.store.repository import Store

MAX_REASON = 2000


@dataclass(frozen=True)
class PlanRecord:
    athlete_uid: str
    stage: str
    since: datetime
    pinned: bool
    updated_at: datetime


@dataclass(frozen=True)
class StageChange:
    at: datetime
    from_stage: str | None
    to_stage: str
    change: str  # start | set | up | down
    reason: str
    by: str
    pinned: bool
    uid: str

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "from_stage": self.from_stage, "to_stage": self.to_stage,
                "change": self.change, "reason": self.reason, "by": self.by,
                "pinned": self.pinned, "uid": self.uid}


def _athlete_id(conn: sa.Connection, uid: str) -> int:
    aid = conn.scalar(sa.select(athletes.c.id).where(athletes.c.uid == uid))
    if aid is None:
        raise StoreError(f"no athlete with id {uid}")
    return int(aid)


def get_plan(store: Store, athlete_uid: str) -> PlanRecord | None:
    """The athlete's plan, None when they have none yet (StoreError: no such athlete)."""
    with store.read() as conn:
        aid = _athlete_id(conn, athlete_uid)
        row = conn.execute(sa.select(training_plans).where(
            training_plans.c.athlete_id == aid)).mappings().first()
    if row is None:
        return None
    return PlanRecord(athlete_uid, row["stage"], row["since"], bool(row["pinned"]),
                      row["updated_at"])


def change_stage(store: Store, athlete_uid: str, to_stage: str, *, change: str, reason: str,
                 by: str, pinned: bool = False, at: datetime | None = None) -> StageChange:
    """Put the athlete on `to_stage` (creating the plan), recording why, who and when."""
    if change not in STAGE_CHANGES:
        raise StoreError(f"change must be one of {', '.join(STAGE_CHANGES)}, got {change!r}")
    reason = (reason or "").strip()
    if not reason:
        raise StoreError("a stage change needs its reason")
    at = at or utcnow()
    with store.write() as conn:
        aid = _athlete_id(conn, athlete_uid)
        old = conn.scalar(sa.select(training_plans.c.stage).where(
            training_plans.c.athlete_id == aid))
        values = {"stage": to_stage, "since": at, "pinned": pinned, "updated_at": at}
        if old is None:
            conn.execute(training_plans.insert().values(uid=new_uid(), athlete_id=aid, **values))
        else:
            conn.execute(training_plans.update().where(
                training_plans.c.athlete_id == aid).values(**values))
        record = StageChange(at, old, to_stage, change, reason[:MAX_REASON], by[:200], pinned,
                             new_uid())
        conn.execute(training_stage_changes.insert().values(
            uid=record.uid, athlete_id=aid, at=at, from_stage=old, to_stage=to_stage,
            change=change, reason=record.reason, by=record.by, pinned=pinned))
    return record


def stage_changes(store: Store, athlete_uid: str) -> list[StageChange]:
    """Every stage change of the athlete, oldest first."""
    with store.read() as conn:
        aid = _athlete_id(conn, athlete_uid)
        rows = conn.execute(sa.select(training_stage_changes).where(
            training_stage_changes.c.athlete_id == aid).order_by(
            training_stage_changes.c.at, training_stage_changes.c.id)).mappings().all()
    return [StageChange(r["at"], r["from_stage"], r["to_stage"], r["change"], r["reason"],
                        r["by"], bool(r["pinned"]), r["uid"]) for r in rows]
