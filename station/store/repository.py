"""The store's API: everything the station, the web app and the commands do with history.

One `Store` wraps one SQLAlchemy Engine (SQLite file or PostgreSQL URL). Public methods take
and return plain records (station.store.records) keyed by uid strings, never SQL rows, so the
callers do not depend on the schema. Every write is one transaction: `save_trial` commits the
trial and its raw frames together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from station.store import migrate, rawframes
from station.store.engine import default_location, make_engine, sqlite_path
from station.store.records import (
    ApiToken,
    Athlete,
    IntegrityReport,
    LoginSession,
    SecurityEvent,
    SessionRecord,
    Target,
    TrialRecord,
    User,
    new_uid,
    utcnow,
)
from station.store.schema import (
    DIRECTIONS,
    DOMINANT_LEGS,
    EYES,
    INTENSITIES,
    LOG_SCALE,
    OUTCOMES,
    SESSION_KINDS,
    SEXES,
    SLEEP_HOURS,
    api_tokens,
    athletes,
    calibrations,
    json_text,
    login_sessions,
    security_log,
    sessions,
    station_settings,
    targets,
    tombstones,
    training_plans,
    training_stage_changes,
    trial_metrics,
    trial_raw,
    trials,
    users,
)
from station.store.usernames import username_key

STATION_UID_KEY = "station.uid"
DEMO_HISTORY_KEY = "demo.history"  # when the demo's weeks of history were made (JSON)
OVERRIDE_PREFIX = "config."  # Settings-page values of config keys: config.station.name
PSEUDONYM_KEY = "anonymise.key"
# the athlete profile's optional fields of migration 0009 (what norms need)
PROFILE_FIELDS = ("sex", "height_cm", "body_mass_kg", "sport", "level")

# A trial's fields are written once, in the trials table (schema.py) and TrialRecord
# (records.py); everything else derives from those two. The table's columns that the record
# holds as they are; the others are local keys and a time the store fills in.
# Invalidation is a later correction (Store.invalidate_trial), never part of saving a trial.
INVALIDATION_FIELDS = ("invalid", "invalid_reason", "invalidated_at", "invalidated_by")
TRIAL_COLUMNS = tuple(
    c.name
    for c in trials.c
    if c.name in TrialRecord.__dataclass_fields__
    and c.name != "analyzed_at"
    and c.name not in INVALIDATION_FIELDS
)
# What an athlete's history lists of each trial (and the athlete CSV, in this order),
# besides the trial's and its session's uid and whether raw frames are kept.
HISTORY_FIELDS = (
    "started_at",
    "clock_synced",
    "seq",
    "protocol",
    "task",
    "stance",
    "eyes",
    "surface",
    "planned_duration_s",
    "duration_s",
    "outcome",
    "time_to_failure_s",
    "score",
    "analysis_version",
    "invalid",  # an invalidated trial stays in history, out of baselines, trends and scores
    "invalid_reason",
)


class StoreError(Exception):
    """A store operation cannot be done; the message says why (unknown id, bad value...)."""


class SchemaMismatchError(StoreError):
    """The database is at a different schema revision than this code."""


class LastAdminError(StoreError):
    """The change would leave the station without an active admin."""


LAST_ADMIN = "the station needs at least one active admin: add or activate another first"


def open_store(location: str | os.PathLike[str] | None = None, upgrade: bool = False) -> Store:
    """Open (and create if new) the store at a data directory or database URL.

    A new, empty database is created at the current schema. An existing database at an older
    revision is upgraded only when `upgrade=True` (the station backs it up first); otherwise
    SchemaMismatchError says to run `balance-station db upgrade`.
    """
    store = Store(make_engine(location or default_location()))
    try:
        store.prepare(upgrade=upgrade)
    except Exception:
        store.close()
        raise
    return store


class Store:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, upgrade: bool = False) -> None:
        if migrate.stored_revision(self.engine) != migrate.HEAD_REVISION:  # not the usual start
            self._migrate(upgrade)
        self._ensure_settings()

    def _migrate(self, upgrade: bool) -> None:
        """Make an empty database, upgrade an older one when asked, refuse the rest (Alembic
        reads the revision: the database may be from a newer version, or not the station's)."""
        current = migrate.current_revision(self.engine)
        head = migrate.head_revision()
        if current is None and not sa.inspect(self.engine).get_table_names():
            migrate.upgrade(self.engine)
        elif current != head:
            if current not in migrate.known_revisions():
                raise SchemaMismatchError(
                    f"database schema revision {current!r} is unknown to this version of "
                    "balance-station (made by a newer version, or not a station database)"
                )
            if not upgrade:
                raise SchemaMismatchError(
                    f"database is at schema revision {current}, this version needs {head}: "
                    "run `balance-station db upgrade` (back it up first)"
                )
            migrate.upgrade(self.engine)

    def upgrade(self) -> str:
        """Upgrade the schema to the newest revision; returns it."""
        migrate.upgrade(self.engine)
        return migrate.head_revision()

    def revision(self) -> str | None:
        return migrate.current_revision(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    # -- settings --------------------------------------------------------------------------

    def _ensure_settings(self) -> None:
        with self.write() as conn:
            have = {r[0] for r in conn.execute(sa.select(station_settings.c.key))}
            for key, value in (
                (STATION_UID_KEY, new_uid()),
                (PSEUDONYM_KEY, secrets.token_hex(32)),
            ):
                if key not in have:
                    conn.execute(station_settings.insert().values(key=key, value=value))

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            value = conn.scalar(
                sa.select(station_settings.c.value).where(station_settings.c.key == key)
            )
        return default if value is None else value

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as conn:
            done = conn.execute(
                station_settings.update().where(station_settings.c.key == key).values(value=value)
            )
            if done.rowcount == 0:
                conn.execute(station_settings.insert().values(key=key, value=value))

    @property
    def station_uid(self) -> str:
        value = self.get_setting(STATION_UID_KEY)
        assert value is not None
        return value

    # -- athletes --------------------------------------------------------------------------

    def add_athlete(self, athlete: Athlete) -> str:
        _check_choice("dominant_leg", athlete.dominant_leg, {None, *DOMINANT_LEGS})
        _check_choice("sex", athlete.sex, {None, *SEXES})
        now = utcnow()
        with self.write() as conn:
            conn.execute(
                athletes.insert().values(
                    uid=athlete.uid,
                    name=athlete.name,
                    team=athlete.team,
                    dominant_leg=athlete.dominant_leg,
                    birth_year=athlete.birth_year,
                    notes=athlete.notes,
                    active=athlete.active,
                    demo=athlete.demo,
                    archived_at=athlete.archived_at,
                    **{name: getattr(athlete, name) for name in PROFILE_FIELDS},
                    created_at=athlete.created_at or now,
                    updated_at=now,
                )
            )
        return athlete.uid

    def update_athlete(self, uid: str, **changes: Any) -> None:
        allowed = {"name", "team", "dominant_leg", "birth_year", "notes", "active",
                   *PROFILE_FIELDS}
        unknown = set(changes) - allowed
        if unknown:
            raise StoreError(f"cannot change {sorted(unknown)} of an athlete")
        if "dominant_leg" in changes:
            _check_choice("dominant_leg", changes["dominant_leg"], {None, *DOMINANT_LEGS})
        if "sex" in changes:
            _check_choice("sex", changes["sex"], {None, *SEXES})
        with self.write() as conn:
            done = conn.execute(
                athletes.update()
                .where(athletes.c.uid == uid)
                .values(**changes, updated_at=utcnow())
            )
        if done.rowcount == 0:
            raise StoreError(f"no athlete with id {uid}")

    def get_athlete(self, uid: str) -> Athlete:
        with self.read() as conn:
            row = conn.execute(sa.select(athletes).where(athletes.c.uid == uid)).mappings().first()
        if row is None:
            raise StoreError(f"no athlete with id {uid}")
        return _athlete(row)

    def list_athletes(
        self, active_only: bool = False, team: str | None = None, name_contains: str | None = None
    ) -> list[Athlete]:
        """Athletes by name; `active_only`: the ones to pick and show on the team (active and
        not archived). Archived athletes are listed otherwise: their history is kept."""
        query = sa.select(athletes).order_by(athletes.c.name, athletes.c.id)
        if active_only:
            query = query.where(athletes.c.active.is_(True), athletes.c.archived_at.is_(None))
        if team is not None:
            query = query.where(athletes.c.team == team)
        if name_contains:
            query = query.where(athletes.c.name.ilike(f"%{name_contains}%"))
        with self.read() as conn:
            return [_athlete(r) for r in conn.execute(query).mappings()]

    def find_athlete(self, ref: str) -> Athlete:
        """An athlete by uid, uid prefix (>= 6 chars) or exact name; StoreError if none or
        ambiguous (the CLI's way of naming an athlete)."""
        with self.read() as conn:
            rows = (
                conn.execute(
                    sa.select(athletes).where(
                        sa.or_(
                            athletes.c.uid == ref,
                            athletes.c.name == ref,
                            athletes.c.uid.like(f"{ref}%") if len(ref) >= 6 else sa.false(),
                        )
                    )
                )
                .mappings()
                .all()
            )
        if not rows:
            raise StoreError(f"no athlete named or with id {ref!r}")
        if len(rows) > 1:
            listed = ", ".join(f"{r['name']} ({r['uid']})" for r in rows)
            raise StoreError(f"{ref!r} matches several athletes: {listed}; use the id")
        return _athlete(rows[0])

    def delete_athlete(self, uid: str, tombstone: bool = True) -> dict[str, int]:
        """Delete an athlete and everything recorded about them; returns what was deleted.

        A tombstone keeps the uid (no personal data) so importing an older archive does not
        bring the athlete back.
        """
        with self.write() as conn:
            aid = conn.scalar(sa.select(athletes.c.id).where(athletes.c.uid == uid))
            if aid is None:
                raise StoreError(f"no athlete with id {uid}")
            trial_ids = sa.select(trials.c.id).where(trials.c.athlete_id == aid)
            raw_count, raw_bytes = conn.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(_blob_len()), 0)).where(
                    trial_raw.c.trial_id.in_(trial_ids)
                )
            ).one()
            # children first, explicitly: correct even where ON DELETE CASCADE is not enforced
            conn.execute(trial_raw.delete().where(trial_raw.c.trial_id.in_(trial_ids)))
            conn.execute(trial_metrics.delete().where(trial_metrics.c.trial_id.in_(trial_ids)))
            for table in (training_plans, training_stage_changes):
                conn.execute(table.delete().where(table.c.athlete_id == aid))
            counts = {
                "raw_frames": int(raw_count),
                "raw_bytes": int(raw_bytes),
                "trials": conn.execute(trials.delete().where(trials.c.athlete_id == aid)).rowcount,
                "sessions": conn.execute(
                    sessions.delete().where(sessions.c.athlete_id == aid)
                ).rowcount,
                "targets": conn.execute(
                    targets.delete().where(targets.c.athlete_id == aid)
                ).rowcount,
                "athletes": conn.execute(athletes.delete().where(athletes.c.id == aid)).rowcount,
            }
            if tombstone:
                conn.execute(
                    tombstones.insert().values(uid=uid, kind="athlete", deleted_at=utcnow())
                )
        return counts

    def archive_athlete(
        self, uid: str, archived: bool = True, actor: str | None = None,
        address: str | None = None,
    ) -> Athlete:
        """Archive (or restore) an athlete: hidden from the kiosk picker and the team, their
        history kept. Logged in the security log; archiving twice keeps the first date."""
        with self.write() as conn:
            row = conn.execute(sa.select(athletes).where(athletes.c.uid == uid)).mappings().first()
            if row is None:
                raise StoreError(f"no athlete with id {uid}")
            if archived != (row["archived_at"] is not None):
                conn.execute(
                    athletes.update()
                    .where(athletes.c.id == row["id"])
                    .values(archived_at=utcnow() if archived else None, updated_at=utcnow())
                )
                _log(conn, "athlete_archived" if archived else "athlete_restored", actor,
                     row["name"], f"athlete {uid}", address)
            row = conn.execute(sa.select(athletes).where(athletes.c.uid == uid)).mappings().one()
        return _athlete(row)

    def remove_demo_data(self, actor: str | None = None) -> dict[str, int]:
        """Delete every demo athlete and all that is recorded about them (no tombstones:
        demo people are not to be kept out of an import); what was deleted, summed."""
        with self.read() as conn:
            uids = list(conn.scalars(sa.select(athletes.c.uid).where(athletes.c.demo.is_(True))))
        total: dict[str, int] = {"athletes": 0, "sessions": 0, "trials": 0}
        for uid in uids:
            for key, value in self.delete_athlete(uid, tombstone=False).items():
                total[key] = total.get(key, 0) + value
        with self.write() as conn:
            conn.execute(
                station_settings.delete().where(station_settings.c.key == DEMO_HISTORY_KEY)
            )
            _log(conn, "demo_removed", actor, None,
                 f"{total['athletes']} athletes, {total['sessions']} sessions, "
                 f"{total['trials']} trials")
        return total

    def has_demo_data(self) -> bool:
        with self.read() as conn:
            return bool(conn.scalar(
                sa.select(sa.func.count()).select_from(athletes).where(athletes.c.demo.is_(True))
            ))

    # -- sessions --------------------------------------------------------------------------

    def create_session(self, session: SessionRecord) -> str:
        _check_choice("kind", session.kind, set(SESSION_KINDS))
        if session.intensity is not None:
            _check_choice("intensity", session.intensity, set(INTENSITIES))
        for name, (low, high) in (
            ("relief", LOG_SCALE),
            ("stiffness", LOG_SCALE),
            ("soreness", LOG_SCALE),
            ("sleep_quality", LOG_SCALE),
            ("sleep_hours", SLEEP_HOURS),
        ):
            value = getattr(session, name)
            if value is not None and not low <= value <= high:
                raise StoreError(f"{name} must be {low}-{high}, got {value}")
        values = asdict(session)
        athlete_uid = values.pop("athlete_uid")
        with self.write() as conn:
            aid = self._athlete_id(conn, athlete_uid)
            conn.execute(sessions.insert().values(**values, athlete_id=aid, created_at=utcnow()))
        return session.uid

    def update_session_log(self, uid: str, **log: Any) -> None:
        allowed = {"stiffness", "soreness", "sleep_hours", "sleep_quality", "notes", "operator",
                   "relief"}
        if set(log) - allowed:
            raise StoreError(f"cannot change {sorted(set(log) - allowed)} of a session")
        with self.write() as conn:
            if (
                conn.execute(sessions.update().where(sessions.c.uid == uid).values(**log)).rowcount
                == 0
            ):
                raise StoreError(f"no session with id {uid}")

    def list_sessions(self, athlete_uid: str) -> list[SessionRecord]:
        query = (
            sa.select(sessions, athletes.c.uid.label("athlete_uid"))
            .join(athletes, athletes.c.id == sessions.c.athlete_id)
            .where(athletes.c.uid == athlete_uid)
            .order_by(sessions.c.started_at)
        )
        fields = set(SessionRecord.__dataclass_fields__)
        with self.read() as conn:
            return [
                SessionRecord(**{k: v for k, v in r.items() if k in fields})
                for r in conn.execute(query).mappings()
            ]

    def get_session(self, uid: str) -> SessionRecord:
        """One session with its log and battery state; StoreError when there is none."""
        query = (
            sa.select(sessions, athletes.c.uid.label("athlete_uid"))
            .join(athletes, athletes.c.id == sessions.c.athlete_id)
            .where(sessions.c.uid == uid)
        )
        with self.read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise StoreError(f"no session with id {uid}")
        fields = set(SessionRecord.__dataclass_fields__)
        return SessionRecord(**{k: v for k, v in row.items() if k in fields})

    def set_session_battery(self, uid: str, battery: dict[str, Any] | None) -> None:
        """Replace a session's battery state (skipped and current steps: station.trials.battery)."""
        with self.write() as conn:
            changed = conn.execute(
                sessions.update().where(sessions.c.uid == uid).values(battery=battery)
            ).rowcount
            if changed == 0:
                raise StoreError(f"no session with id {uid}")

    def session_trials(self, uid: str) -> list[dict[str, Any]]:
        """The summaries of a session's trials in the order they were run (seq, the protocol's
        trial spec, outcome, why it failed, score, invalid): what a battery's progress needs."""
        query = (
            sa.select(
                trials.c.uid, trials.c.seq, trials.c.spec, trials.c.protocol, trials.c.task,
                trials.c.outcome, trials.c.failure_reason, trials.c.time_to_failure_s,
                trials.c.planned_duration_s, trials.c.duration_s, trials.c.score,
                trials.c.started_at, trials.c.invalid, trials.c.invalid_reason,
            )
            .join(sessions, sessions.c.id == trials.c.session_id)
            .where(sessions.c.uid == uid)
            .order_by(trials.c.started_at, trials.c.id)
        )
        with self.read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # -- trials ----------------------------------------------------------------------------

    def save_trial(self, trial: TrialRecord) -> str:
        """Commit a finished trial with its raw frames in one transaction; returns its uid."""
        _check_choice("outcome", trial.outcome, set(OUTCOMES))
        _check_choice("eyes", trial.eyes, set(EYES))
        blob = rawframes.encode(trial.raw) if trial.raw is not None else None
        cal = (  # plain JSON, whatever the snapshot held
            json.loads(json.dumps(trial.calibration, default=str))
            if trial.calibration is not None
            else None
        )
        with self.write() as conn:
            row = conn.execute(
                sa.select(sessions.c.id, sessions.c.athlete_id).where(
                    sessions.c.uid == trial.session_uid
                )
            ).first()
            if row is None:
                raise StoreError(f"no session with id {trial.session_uid}")
            cal_id = self._calibration_id(conn, cal, trial.board_id) if cal is not None else None
            trial_id = conn.execute(
                trials.insert().values(
                    **{name: getattr(trial, name) for name in TRIAL_COLUMNS},
                    session_id=row.id,
                    athlete_id=row.athlete_id,
                    calibration_id=cal_id,
                    analyzed_at=utcnow() if trial.analysis_version else None,
                )
            ).inserted_primary_key[0]
            if trial.metrics is not None:
                conn.execute(
                    trial_metrics.insert().values(trial_id=trial_id, metrics=trial.metrics)
                )
            if blob is not None and trial.raw is not None:
                conn.execute(
                    trial_raw.insert().values(
                        trial_id=trial_id,
                        n_frames=trial.raw.n,
                        n_discarded=int((trial.raw.flags != 0).sum()),
                        rate_hz=trial.rate_hz,
                        data=blob,
                    )
                )
        return trial.uid

    def _calibration_id(self, conn: sa.Connection, cal: Any, board_id: str | None) -> int:
        digest = calibration_hash(cal)
        cid = conn.scalar(
            sa.select(calibrations.c.id).where(calibrations.c.content_sha256 == digest)
        )
        if cid is None:
            cid = conn.execute(
                calibrations.insert().values(
                    uid=new_uid(),
                    content_sha256=digest,
                    board_id=board_id,
                    created_at=utcnow(),
                    data=cal,
                )
            ).inserted_primary_key[0]
        return int(cid)

    def athlete_history(
        self, athlete_uid: str, metrics: bool = False, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Every trial of an athlete (from `since`), oldest first: the summary (dates,
        conditions, outcome, time to failure, score, whether raw frames exist); with
        `metrics=True` also each trial's metrics dict (a separate table: several times the
        reading and JSON decoding, see docs/storage.md)."""
        joined = trials.join(sessions, sessions.c.id == trials.c.session_id).outerjoin(
            trial_raw, trial_raw.c.trial_id == trials.c.id
        )
        extra: list[Any] = []
        if metrics:
            joined = joined.outerjoin(trial_metrics, trial_metrics.c.trial_id == trials.c.id)
            extra.append(trial_metrics.c.metrics)
        query = (
            sa.select(
                trials.c.uid,
                sessions.c.uid.label("session_uid"),
                sessions.c.kind.label("session_kind"),
                *(trials.c[name] for name in HISTORY_FIELDS),
                trials.c.invalidated_at,  # who and when, for the history's "invalidated by"
                trials.c.invalidated_by,  # (not in HISTORY_FIELDS: the CSV keeps its columns)
                trial_raw.c.trial_id.is_not(None).label("has_raw"),
                *extra,
            )
            .select_from(joined)
            .where(
                trials.c.athlete_id
                == sa.select(athletes.c.id).where(athletes.c.uid == athlete_uid).scalar_subquery()
            )
            .order_by(trials.c.started_at, trials.c.seq)
        )
        if since is not None:
            query = query.where(trials.c.started_at >= since)
        with self.read() as conn:
            result = conn.execute(query)
            keys = list(result.keys())
            # strict=False: every row has len(keys) by construction, and strict costs 40 %
            return [dict(zip(keys, row, strict=False)) for row in result.all()]

    def load_trial(self, uid: str, with_raw: bool = True) -> TrialRecord:
        """A trial with its metrics, calibration snapshot and (optionally) decoded frames."""
        query = (
            sa.select(
                trials,
                sessions.c.uid.label("session_uid"),
                athletes.c.uid.label("athlete_uid"),
                calibrations.c.data.label("calibration"),
                calibrations.c.board_id,
                trial_raw.c.rate_hz,
                trial_metrics.c.metrics,
                *([trial_raw.c.data.label("raw_blob")] if with_raw else []),
            )
            .select_from(
                trials.join(sessions, sessions.c.id == trials.c.session_id)
                .join(athletes, athletes.c.id == trials.c.athlete_id)
                .outerjoin(calibrations, calibrations.c.id == trials.c.calibration_id)
                .outerjoin(trial_raw, trial_raw.c.trial_id == trials.c.id)
                .outerjoin(trial_metrics, trial_metrics.c.trial_id == trials.c.id)
            )
            .where(trials.c.uid == uid)
        )
        with self.read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise StoreError(f"no trial with id {uid}")
        fields = set(TrialRecord.__dataclass_fields__) - {"raw"}
        record = TrialRecord(**{k: v for k, v in row.items() if k in fields})
        blob = row.get("raw_blob")
        if blob is not None:
            record.raw = rawframes.decode(bytes(blob))
        return record

    def trial_uids(
        self,
        athlete_uid: str | None = None,
        since: datetime | None = None,
        with_raw_only: bool = False,
    ) -> list[str]:
        query = sa.select(trials.c.uid).order_by(trials.c.started_at, trials.c.id)
        if athlete_uid is not None:
            query = query.join(athletes, athletes.c.id == trials.c.athlete_id).where(
                athletes.c.uid == athlete_uid
            )
        if since is not None:
            query = query.where(trials.c.started_at >= since)
        if with_raw_only:
            query = query.where(trials.c.id.in_(sa.select(trial_raw.c.trial_id)))
        with self.read() as conn:
            return list(conn.scalars(query))

    def update_analysis(
        self, uid: str, metrics: dict[str, Any] | None, score: float | None, analysis_version: str
    ) -> None:
        with self.write() as conn:
            trial_id = conn.scalar(sa.select(trials.c.id).where(trials.c.uid == uid))
            if trial_id is None:
                raise StoreError(f"no trial with id {uid}")
            conn.execute(
                trials.update()
                .where(trials.c.id == trial_id)
                .values(score=score, analysis_version=analysis_version, analyzed_at=utcnow())
            )
            conn.execute(trial_metrics.delete().where(trial_metrics.c.trial_id == trial_id))
            if metrics is not None:
                conn.execute(trial_metrics.insert().values(trial_id=trial_id, metrics=metrics))

    def invalidate_trial(
        self, uid: str, reason: str | None, *, invalid: bool = True, actor: str | None = None,
        address: str | None = None,
    ) -> TrialRecord:
        """Mark a bad trial invalid (with the reason, who and when) or restore it (the last
        reason is kept, so history can say it was once invalidated and why). Logged."""
        if invalid and not (reason or "").strip():
            raise StoreError("reason: say why the trial is invalid (e.g. 'stepped off early')")
        with self.write() as conn:
            row = conn.execute(
                sa.select(trials.c.id, trials.c.invalid, athletes.c.name)
                .join(athletes, athletes.c.id == trials.c.athlete_id)
                .where(trials.c.uid == uid)
            ).first()
            if row is None:
                raise StoreError(f"no trial with id {uid}")
            values: dict[str, Any] = {"invalid": invalid}
            if invalid:
                values |= {"invalid_reason": _clip(reason.strip() if reason else None, 500),
                           "invalidated_at": utcnow(), "invalidated_by": _clip(actor, 200)}
            conn.execute(trials.update().where(trials.c.id == row.id).values(**values))
            if bool(row.invalid) != invalid:
                _log(conn, "trial_invalidated" if invalid else "trial_restored", actor,
                     row.name, f"trial {uid}" + (f": {values['invalid_reason']}" if invalid
                                                 else ""), address)
        return self.load_trial(uid, with_raw=False)

    # -- settings the Settings page changes (they override the config file) ----------------

    def config_overrides(self) -> dict[str, Any]:
        """{"section.key": value} the Settings page stored (values as JSON gave them)."""
        with self.read() as conn:
            rows = conn.execute(
                sa.select(station_settings.c.key, station_settings.c.value).where(
                    station_settings.c.key.like(f"{OVERRIDE_PREFIX}%")
                )
            ).all()
        return {key[len(OVERRIDE_PREFIX):]: json.loads(value) for key, value in rows}

    def set_config_override(
        self, name: str, value: Any, *, before: Any = None, actor: str | None = None,
        address: str | None = None,
    ) -> None:
        """Store a checked setting (`name` = "section.key"; None clears it back to the
        config file's value) and log the change with the old and new value."""
        key = OVERRIDE_PREFIX + name
        with self.write() as conn:
            conn.execute(station_settings.delete().where(station_settings.c.key == key))
            if value is not None:
                conn.execute(station_settings.insert().values(key=key, value=json_text(value)))
            shown = "the config file's value" if value is None else json_text(value)
            _log(conn, "setting_changed", actor, name,
                 f"{json_text(before)} -> {shown}", address)

    # -- targets ---------------------------------------------------------------------------

    def add_target(self, target: Target) -> str:
        _check_choice("direction", target.direction, set(DIRECTIONS))
        values = asdict(target)
        athlete_uid = values.pop("athlete_uid")
        values["created_at"] = target.created_at or utcnow()
        with self.write() as conn:
            aid = self._athlete_id(conn, athlete_uid)
            conn.execute(targets.insert().values(**values, athlete_id=aid))
        return target.uid

    def list_targets(self, athlete_uid: str) -> list[Target]:
        query = (
            sa.select(targets, athletes.c.uid.label("athlete_uid"))
            .join(athletes, athletes.c.id == targets.c.athlete_id)
            .where(athletes.c.uid == athlete_uid)
            .order_by(targets.c.due_date, targets.c.id)
        )
        fields = set(Target.__dataclass_fields__)
        with self.read() as conn:
            return [
                Target(**{k: v for k, v in r.items() if k in fields})
                for r in conn.execute(query).mappings()
            ]

    def update_target(self, uid: str, **changes: Any) -> None:
        allowed = {
            "measure",
            "condition",
            "value",
            "direction",
            "due_date",
            "set_by",
            "notes",
            "achieved_at",
        }
        if set(changes) - allowed:
            raise StoreError(f"cannot change {sorted(set(changes) - allowed)} of a target")
        if "direction" in changes:
            _check_choice("direction", changes["direction"], set(DIRECTIONS))
        with self.write() as conn:
            if (
                conn.execute(
                    targets.update().where(targets.c.uid == uid).values(**changes)
                ).rowcount
                == 0
            ):
                raise StoreError(f"no target with id {uid}")

    def delete_target(self, uid: str) -> None:
        with self.write() as conn:
            if conn.execute(targets.delete().where(targets.c.uid == uid)).rowcount == 0:
                raise StoreError(f"no target with id {uid}")

    # -- users and API tokens (hashing is station.access's job; we store, and keep the rules
    # that must hold whoever writes: one account per name as people read it, at least one
    # active admin, every change in the security log, a changed account's sessions ended) ---

    def add_user(self, user: User, actor: str | None = None) -> str:
        """Add `user`; StoreError when a user of the same or a lookalike name exists
        (usernames.username_key)."""
        with self.write() as conn:
            check_new_username(conn, user.username)
            conn.execute(
                users.insert().values(**asdict(user) | {"created_at": user.created_at or utcnow()})
            )
            _log(conn, "user_added", actor, user.username, f"role {user.role}")
        return user.uid

    def get_user(self, username: str) -> User | None:
        with self.read() as conn:
            row = (
                conn.execute(sa.select(users).where(users.c.username == username))
                .mappings()
                .first()
            )
        return None if row is None else User(**{k: row[k] for k in User.__dataclass_fields__})

    def list_users(self) -> list[User]:
        with self.read() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.username)).mappings().all()
        return [User(**{k: r[k] for k in User.__dataclass_fields__}) for r in rows]

    def update_user(
        self,
        username: str,
        actor: str | None = None,
        keep_session: str | None = None,
        **changes: Any,
    ) -> None:
        """Change a user's role, password hash or active flag in one transaction: refused
        (LastAdminError) when no active admin would be left; each change is logged, and a
        real change ends the user's login sessions (kiosks included) but `keep_session`
        (the uid of the session making the change, when it is the user's own)."""
        if set(changes) - {"role", "password_hash", "active"}:
            raise StoreError("only role, password_hash and active can change")
        with self.write() as conn:
            admins = _lock_admins(conn)
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
            if row is None:
                raise StoreError(f"no user {username!r}")
            role, active = changes.get("role", row.role), bool(changes.get("active", row.active))
            _keep_an_admin(admins, row, role=role, active=active)
            conn.execute(users.update().where(users.c.id == row.id).values(**changes))
            events = []
            if role != row.role:
                events.append(("role_changed", f"role {row.role} -> {role}"))
            if changes.get("password_hash", row.password_hash) != row.password_hash:
                events.append(("password_changed", "password changed"))
            if active != bool(row.active):
                events.append(("activated", "activated") if active else ("deactivated",
                                                                         "deactivated"))
            for kind, detail in events:
                _log(conn, kind, actor, username, detail)
            if events:
                reason = ", ".join(detail for _, detail in events)
                _end_sessions(
                    conn, login_sessions.c.user_id == row.id, reason, actor, keep=keep_session
                )

    def delete_user(self, username: str, actor: str | None = None) -> None:
        """Delete a user, their sessions and tokens (LastAdminError for the last active
        admin)."""
        with self.write() as conn:
            admins = _lock_admins(conn)
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
            if row is None:
                raise StoreError(f"no user {username!r}")
            _keep_an_admin(admins, row, role=None, active=False)
            _end_sessions(conn, login_sessions.c.user_id == row.id, "user deleted", actor)
            conn.execute(api_tokens.delete().where(api_tokens.c.user_id == row.id))
            conn.execute(users.delete().where(users.c.id == row.id))
            _log(conn, "user_deleted", actor, username, f"role {row.role}")

    def add_api_token(self, token: ApiToken, actor: str | None = None) -> str:
        with self.write() as conn:
            user_id = None
            if token.username is not None:
                user_id = conn.scalar(
                    sa.select(users.c.id).where(users.c.username == token.username)
                )
                if user_id is None:
                    raise StoreError(f"no user {token.username!r}")
            conn.execute(
                api_tokens.insert().values(
                    uid=token.uid,
                    token_hash=token.token_hash,
                    role=token.role,
                    name=token.name,
                    user_id=user_id,
                    created_at=token.created_at or utcnow(),
                    last_used_at=token.last_used_at,
                )
            )
            _log(conn, "token_created", actor, f"API token {token.name}",
                 f"role {token.role}, id {token.uid}")
        return token.uid

    def find_api_token(self, token_hash: str, touch: bool = True) -> ApiToken | None:
        """The token with this hash (recording its use), or None."""
        query = (
            sa.select(api_tokens, users.c.username)
            .outerjoin(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == token_hash)
        )
        with self.read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        if touch:
            with self.write() as conn:
                conn.execute(
                    api_tokens.update()
                    .where(api_tokens.c.id == row["id"])
                    .values(last_used_at=utcnow())
                )
        return ApiToken(**{k: row[k] for k in ApiToken.__dataclass_fields__})

    def list_api_tokens(self) -> list[ApiToken]:
        query = (
            sa.select(api_tokens, users.c.username)
            .outerjoin(users, users.c.id == api_tokens.c.user_id)
            .order_by(api_tokens.c.created_at)
        )
        with self.read() as conn:
            return [
                ApiToken(**{k: r[k] for k in ApiToken.__dataclass_fields__})
                for r in conn.execute(query).mappings()
            ]

    def revoke_api_token(self, uid: str, actor: str | None = None) -> None:
        with self.write() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.uid == uid)).first()
            if row is None:
                raise StoreError(f"no API token with id {uid}")
            conn.execute(api_tokens.delete().where(api_tokens.c.id == row.id))
            _log(conn, "token_revoked", actor, f"API token {row.name}",
                 f"role {row.role}, id {uid}")

    # -- login sessions (the web's; the secret's hash is made by station.web.auth) ---------

    def start_login_session(self, login: LoginSession) -> str:
        """Record a new login of `login.username` (who must exist); forgets sessions that
        expired (a cheap indexed delete at each login instead of a timer)."""
        now = utcnow()
        with self.write() as conn:
            user_id = conn.scalar(sa.select(users.c.id).where(users.c.username == login.username))
            if user_id is None:
                raise StoreError(f"no user {login.username!r}")
            conn.execute(login_sessions.delete().where(login_sessions.c.expires_at <= now))
            conn.execute(
                login_sessions.insert().values(
                    uid=login.uid,
                    secret_hash=login.secret_hash,
                    user_id=user_id,
                    kind=login.kind,
                    created_at=login.created_at or now,
                    expires_at=login.expires_at,
                    last_seen_at=login.last_seen_at or now,
                    address=_clip(login.address, 64),
                    user_agent=_clip(login.user_agent, 200),
                )
            )
        return login.uid

    def find_login_session(self, secret_hash: str) -> LoginSession | None:
        """The open session with this secret's hash, as its user is now, or None when it
        ended, expired, or its user is inactive (one indexed query: runs per request)."""
        query = _login_session_query().where(
            login_sessions.c.secret_hash == secret_hash,
            login_sessions.c.expires_at > utcnow(),
            users.c.active.is_(True),
        )
        with self.read() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _login_session(row)

    def touch_login_session(self, uid: str) -> None:
        with self.write() as conn:
            conn.execute(
                login_sessions.update()
                .where(login_sessions.c.uid == uid)
                .values(last_seen_at=utcnow())
            )

    def list_login_sessions(self, username: str | None = None) -> list[LoginSession]:
        """Open sessions (not expired), by user then age."""
        query = (
            _login_session_query()
            .where(login_sessions.c.expires_at > utcnow())
            .order_by(users.c.username, login_sessions.c.created_at)
        )
        if username is not None:
            query = query.where(users.c.username == username)
        with self.read() as conn:
            return [_login_session(r) for r in conn.execute(query).mappings()]

    def end_login_session(
        self, uid: str, reason: str, actor: str | None = None, address: str | None = None
    ) -> None:
        """End one session (logout, the admin); StoreError when there is none open."""
        with self.write() as conn:
            if not _end_sessions(conn, login_sessions.c.uid == uid, reason, actor, address):
                raise StoreError(f"no open session with id {uid}")

    def end_user_sessions(
        self, username: str, reason: str, actor: str | None = None, keep: str | None = None
    ) -> int:
        """End every session of `username` but `keep` (a session uid); returns how many."""
        user_ids = sa.select(users.c.id).where(users.c.username == username).scalar_subquery()
        with self.write() as conn:
            return _end_sessions(conn, login_sessions.c.user_id == user_ids, reason, actor,
                                 keep=keep)

    # -- the security log (append-only) ----------------------------------------------------

    def log_security_event(self, event: SecurityEvent) -> None:
        with self.write() as conn:
            _log(conn, event.kind, event.actor, event.subject, event.detail, event.address,
                 at=event.at)

    def security_log(
        self, limit: int = 200, before_id: int | None = None
    ) -> list[SecurityEvent]:
        """The newest `limit` events (older than event `before_id`), newest first."""
        query = sa.select(security_log).order_by(security_log.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(security_log.c.id < before_id)
        fields = SecurityEvent.__dataclass_fields__
        with self.read() as conn:
            return [
                SecurityEvent(**{k: r[k] for k in fields})
                for r in conn.execute(query).mappings()
            ]

    # -- checks and statistics -------------------------------------------------------------

    def integrity_check(self) -> IntegrityReport:
        """SQLite's own page-level check plus consistency queries that hold on any backend
        (anti-joins written as NOT EXISTS: PostgreSQL runs NOT IN (subquery) row by row once
        the ids outgrow work_mem, which took 18 minutes in the scale bench):
        no orphan rows, each trial's athlete matches its session's, every trial has its raw
        frames unless retention removed them, and every raw blob's header is readable."""
        problems: list[str] = []
        with self.read() as conn:
            if self.dialect == "sqlite":
                result = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                if result != ["ok"]:
                    problems.extend(f"sqlite: {line}" for line in result[:20])
                fk = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if fk:
                    problems.append(f"{len(fk)} rows violate foreign keys")
            checks = {
                "trials whose athlete differs from their session's": sa.select(sa.func.count())
                .select_from(trials.join(sessions, sessions.c.id == trials.c.session_id))
                .where(sessions.c.athlete_id != trials.c.athlete_id),
                "trials without raw frames (not removed by retention)": sa.select(sa.func.count())
                .select_from(trials.outerjoin(trial_raw, trial_raw.c.trial_id == trials.c.id))
                .where(trial_raw.c.trial_id.is_(None), trials.c.raw_purged_at.is_(None)),
                "raw frames without a trial": sa.select(sa.func.count())
                .select_from(trial_raw)
                .where(~sa.exists().where(trials.c.id == trial_raw.c.trial_id)),
                "metrics without a trial": sa.select(sa.func.count())
                .select_from(trial_metrics)
                .where(~sa.exists().where(trials.c.id == trial_metrics.c.trial_id)),
                "sessions without an athlete": sa.select(sa.func.count())
                .select_from(sessions)
                .where(~sa.exists().where(athletes.c.id == sessions.c.athlete_id)),
                "raw frames with an unreadable header": sa.select(sa.func.count()).where(
                    sa.func.substr(trial_raw.c.data, 1, 1) != bytes([rawframes.CODEC_VERSION])
                ),
            }
            for label, query in checks.items():
                n = int(conn.scalar(query) or 0)
                if n:
                    problems.append(f"{n} {label}")
        return IntegrityReport(ok=not problems, problems=problems, counts=self.counts())

    def counts(self) -> dict[str, int]:
        tables = {
            "athletes": athletes,
            "sessions": sessions,
            "trials": trials,
            "trial_raw": trial_raw,
            "trial_metrics": trial_metrics,
            "targets": targets,
            "users": users,
            "api_tokens": api_tokens,
            "calibrations": calibrations,
        }
        with self.read() as conn:
            return {
                name: int(conn.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
                for name, t in tables.items()
            }

    def raw_bytes(self) -> int:
        with self.read() as conn:
            return int(conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(_blob_len()), 0))) or 0)

    def database_bytes(self) -> int:
        """Size on disk: file + WAL on SQLite, pg_database_size on PostgreSQL."""
        path = sqlite_path(self.engine)
        if path is not None:
            return sum(
                p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists()
            )
        if self.dialect == "postgresql":
            with self.read() as conn:
                return int(conn.scalar(sa.text("SELECT pg_database_size(current_database())")))
        return 0

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _athlete_id(conn: sa.Connection, uid: str) -> int:
        aid = conn.scalar(sa.select(athletes.c.id).where(athletes.c.uid == uid))
        if aid is None:
            raise StoreError(f"no athlete with id {uid}")
        return int(aid)


def calibration_hash(data: Any) -> str:
    """A calibration snapshot's identity (one row per content): the SHA-256 of the JSON text
    its row stores."""
    return hashlib.sha256(json_text(data).encode()).hexdigest()


def _blob_len() -> sa.ColumnElement[int]:
    return sa.func.length(trial_raw.c.data)


def _check_choice(name: str, value: object, allowed: set[object]) -> None:
    if value not in allowed:
        shown = ", ".join(sorted(repr(a) for a in allowed if a is not None))
        raise StoreError(f"{name} must be one of {shown}, got {value!r}")


def _athlete(row: Any) -> Athlete:
    return Athlete(**{k: row[k] for k in Athlete.__dataclass_fields__})


# -- accounts: the rules every writer keeps ---------------------------------------------------


def check_new_username(conn: sa.Connection, username: str) -> None:
    """StoreError when a user of this name, or one that reads the same, exists. All names
    are compared (the users table is small); on SQLite the write lock makes check and
    insert one step."""
    key = username_key(username)
    for existing in conn.scalars(sa.select(users.c.username)):
        if existing == username:
            raise StoreError(f"user {username!r} already exists")
        if username_key(existing) == key:
            raise StoreError(
                f"username {username!r} looks like the existing user {existing!r}: "
                "choose a name that reads differently"
            )


def _lock_admins(conn: sa.Connection) -> list[int]:
    """The ids of the active admins, locked until the transaction ends (FOR UPDATE in id
    order on PostgreSQL, taken before any other row so two changes never wait on each
    other; SQLite's write lock serialises writers anyway). A change that waited sees the
    admins as the other change left them: three deletes of the last three admins at once
    leave one."""
    return list(
        conn.scalars(
            sa.select(users.c.id)
            .where(users.c.role == "admin", users.c.active.is_(True))
            .order_by(users.c.id)
            .with_for_update()
        )
    )


def _keep_an_admin(admins: list[int], row: Any, role: str | None, active: bool) -> None:
    """LastAdminError when changing `row` to `role`/`active` (role None: deleting it) leaves
    none of the active `admins`."""
    if row.id not in admins or (role == "admin" and active):
        return
    if not [a for a in admins if a != row.id]:
        raise LastAdminError(LAST_ADMIN)


def _log(
    conn: sa.Connection,
    kind: str,
    actor: str | None,
    subject: str | None,
    detail: str | None = None,
    address: str | None = None,
    at: datetime | None = None,
) -> None:
    conn.execute(
        security_log.insert().values(
            at=at or utcnow(),
            kind=kind[:40],
            actor=_clip(actor, 200),
            subject=_clip(subject, 200),
            address=_clip(address, 64),
            detail=detail,
        )
    )


def _end_sessions(
    conn: sa.Connection,
    where: sa.ColumnElement[bool],
    reason: str,
    actor: str | None,
    address: str | None = None,
    keep: str | None = None,
) -> int:
    """Delete the sessions matching `where` (but `keep`), one security-log line each."""
    if keep is not None:
        where = sa.and_(where, login_sessions.c.uid != keep)
    ended = conn.execute(
        sa.select(login_sessions.c.uid, login_sessions.c.kind, users.c.username)
        .join(users, users.c.id == login_sessions.c.user_id)
        .where(where)
    ).all()
    if ended:
        uids = [e.uid for e in ended]
        conn.execute(login_sessions.delete().where(login_sessions.c.uid.in_(uids)))
    for e in ended:
        what = "kiosk session" if e.kind == "kiosk" else "session"
        _log(conn, "session_ended", actor, e.username, f"{what} {e.uid}: {reason}", address)
    return len(ended)


def _login_session_query() -> sa.Select:
    return sa.select(
        login_sessions,
        users.c.username,
        users.c.role,
        users.c.uid.label("user_uid"),
    ).join(users, users.c.id == login_sessions.c.user_id)


def _login_session(row: Any) -> LoginSession:
    return LoginSession(**{k: row[k] for k in LoginSession.__dataclass_fields__})


def _clip(text: str | None, length: int) -> str | None:
    return None if text is None else text[:length]
