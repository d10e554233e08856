"""The station's tables (SQLAlchemy Core): the single description of the current schema.

Why Core and not an ORM: the station writes one trial at a time and reads summaries; plain
tables keep the SQL visible and identical on SQLite and PostgreSQL. Alembic migrations under
station/store/migrations move old databases to this schema; a test checks that upgrading to
head yields exactly these tables.

Every row that can travel between stations (athletes, sessions, trials, calibrations, targets,
users, tokens) has a `uid` (UUID text): import merges by uid, so nothing is duplicated.
Integer `id`s are local surrogate keys only. Times are UTC (`UTCDateTime`). Login sessions
and the security log are this station's own and never travel.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from station.wire import json_safe

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text: we convert)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store: pass an aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> Any:
        """On SQLite, parse SQLAlchemy's stored text ('YYYY-MM-DD HH:MM:SS.ffffff') with the
        C-coded fromisoformat (much faster than the default regex): an athlete's history parses
        thousands of these."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            # appending the offset is ~10x faster than .replace(tzinfo=UTC) on 3.11
            return None if value is None else parse(value + "+00:00")

        return process


def json_text(value: Any) -> str:
    """The text a JSONText column stores for `value`: sorted keys, NaN and inf as null."""
    return json.dumps(json_safe(value), sort_keys=True, allow_nan=False)


class JSONText(TypeDecorator):
    """JSON stored as text (same bytes on both backends; NaN -> null)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else json_text(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else json.loads(value)


# The values a few columns may hold: the CHECK constraints below, the store's own checks and
# the import's row rules all read them here.
DOMINANT_LEGS = ("left", "right", "both")
SEXES = ("F", "M")  # as the norms' reference groups record it
HEIGHT_CM = (50, 250)
BODY_MASS_KG = (20, 250)
OUTCOMES = ("complete", "failed", "aborted")
EYES = ("open", "closed")
DIRECTIONS = ("<=", ">=")
TOMBSTONE_KINDS = ("athlete",)
LOGIN_SESSION_KINDS = ("user", "kiosk")
LOG_SCALE = (0, 10)  # stiffness, soreness, sleep quality, relief
SESSION_KINDS = ("assessment", "training")
INTENSITIES = ("hard", "light")
STAGE_CHANGES = ("start", "set", "up", "down")
SLEEP_HOURS = (0, 24)


def _uid() -> sa.Column:
    return sa.Column("uid", sa.String(36), nullable=False, unique=True)


def _one_of(column: str, choices: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{c}'" for c in choices)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=column)


def _between(column: str, bounds: tuple[int, int]) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} BETWEEN {bounds[0]} AND {bounds[1]}", name=column)


station_settings = sa.Table(
    "station_settings",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

athletes = sa.Table(
    "athletes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("team", sa.String(200)),
    sa.Column("dominant_leg", sa.String(10)),
    sa.Column("birth_year", sa.Integer),
    sa.Column("notes", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # migration 0006: the simulated demo athletes (removable in one step), and archiving
    # (hidden from the kiosk picker and the team, history kept)
    sa.Column("demo", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("archived_at", UTCDateTime),
    # migration 0009: what norms need (all optional; birth_year and dominant_leg above)
    sa.Column("sex", sa.String(1)),
    sa.Column("height_cm", sa.Float),
    sa.Column("body_mass_kg", sa.Float),
    sa.Column("sport", sa.String(100)),
    sa.Column("level", sa.String(100)),
    _one_of("dominant_leg", DOMINANT_LEGS),
    _one_of("sex", SEXES),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column(
        "athlete_id",
        sa.Integer,
        sa.ForeignKey("athletes.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("operator", sa.String(200)),
    sa.Column("protocol", sa.String(100)),
    sa.Column("stiffness", sa.Integer),
    sa.Column("soreness", sa.Integer),
    sa.Column("sleep_hours", sa.Float),
    sa.Column("sleep_quality", sa.Integer),
    sa.Column("notes", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # migration 0007: a battery run's skipped and current steps (station.trials.battery)
    sa.Column("battery", JSONText),
    # migration 0008: a training session is distinct from an assessment in history and
    # trends; it is hard or light; the log gains the athlete's relief (0-10)
    sa.Column("kind", sa.String(20), nullable=False, server_default="assessment"),
    sa.Column("intensity", sa.String(10)),
    sa.Column("relief", sa.Integer),
    _between("stiffness", LOG_SCALE),
    _between("soreness", LOG_SCALE),
    _between("sleep_quality", LOG_SCALE),
    _between("sleep_hours", SLEEP_HOURS),
    _one_of("kind", SESSION_KINDS),
    _one_of("intensity", INTENSITIES),
    _between("relief", LOG_SCALE),
)

calibrations = sa.Table(
    "calibrations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column("content_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("board_id", sa.String(100)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("data", JSONText, nullable=False),
)

trials = sa.Table(
    "trials",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # Denormalized from the session so an athlete's history is one indexed range scan.
    sa.Column(
        "athlete_id",
        sa.Integer,
        sa.ForeignKey("athletes.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("clock_synced", sa.Boolean, nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("protocol", sa.String(100)),
    sa.Column("task", sa.String(20), nullable=False, server_default="hold"),
    sa.Column("spec", JSONText),  # the protocol's whole trial spec
    sa.Column("stance", sa.String(30), nullable=False),
    sa.Column("eyes", sa.String(10), nullable=False),
    sa.Column("surface", sa.String(30), nullable=False),
    sa.Column("planned_duration_s", sa.Float, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("time_to_failure_s", sa.Float),
    sa.Column("failure_reason", sa.String(200)),
    sa.Column("score", sa.Float),
    # analysis inputs measured during the trial (re-analysis reproduces the live result)
    sa.Column("body_weight_n", sa.Float),
    sa.Column("perturbation_onsets_s", JSONText),  # seconds from the first stored frame
    sa.Column("calibration_id", sa.Integer, sa.ForeignKey("calibrations.id")),
    sa.Column("analysis_version", sa.String(50)),
    sa.Column("analyzed_at", UTCDateTime),
    sa.Column("raw_purged_at", UTCDateTime),
    # migration 0006: a bad trial is kept but marked, with why and by whom; baselines,
    # trends and scores leave it out
    sa.Column("invalid", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("invalid_reason", sa.Text),
    sa.Column("invalidated_at", UTCDateTime),
    sa.Column("invalidated_by", sa.String(200)),
    _one_of("outcome", OUTCOMES),
    _one_of("eyes", EYES),
    sa.Index("ix_trials_athlete_started_seq", "athlete_id", "started_at", "seq"),
)

# Raw frames in their own table: history queries never touch the blobs, retention deletes rows.
trial_raw = sa.Table(
    "trial_raw",
    metadata,
    sa.Column(
        "trial_id", sa.Integer, sa.ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("n_frames", sa.Integer, nullable=False),
    sa.Column("n_discarded", sa.Integer, nullable=False),
    sa.Column("rate_hz", sa.Float),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# Metrics in their own table too: they are ~1.5 KB of JSON a trial, and an athlete's history
# (dates, outcomes, scores of thousands of trials) should scan narrow rows (migration 0003).
trial_metrics = sa.Table(
    "trial_metrics",
    metadata,
    sa.Column(
        "trial_id", sa.Integer, sa.ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("metrics", JSONText, nullable=False),
)

targets = sa.Table(
    "targets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column(
        "athlete_id",
        sa.Integer,
        sa.ForeignKey("athletes.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("measure", sa.String(100), nullable=False),
    sa.Column("condition", sa.String(200)),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("direction", sa.String(2), nullable=False, server_default="<="),
    sa.Column("due_date", sa.Date),
    sa.Column("set_by", sa.String(200)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("achieved_at", UTCDateTime),
    sa.Column("notes", sa.Text),
    _one_of("direction", DIRECTIONS),
)

# An athlete's place on the training ladder (station/training/ladder.toml), migration 0008:
# one row per athlete with a plan; `pinned` when the physio set the stage and the automatic
# progression is paused.
training_plans = sa.Table(
    "training_plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column(
        "athlete_id",
        sa.Integer,
        sa.ForeignKey("athletes.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    sa.Column("stage", sa.String(100), nullable=False),
    sa.Column("since", UTCDateTime, nullable=False),
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Every change of an athlete's stage with its reason, who and when (the rule's or a
# physio's): the plan page shows them; nothing changes or deletes a row but the athlete's
# deletion.
training_stage_changes = sa.Table(
    "training_stage_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column(
        "athlete_id",
        sa.Integer,
        sa.ForeignKey("athletes.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("from_stage", sa.String(100)),
    sa.Column("to_stage", sa.String(100), nullable=False),
    sa.Column("change", sa.String(10), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("by", sa.String(200), nullable=False),
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    _one_of("change", STAGE_CHANGES),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column("token_hash", sa.String(200), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
)

# Uids of deleted athletes, so importing an older archive does not bring them back.
tombstones = sa.Table(
    "tombstones",
    metadata,
    sa.Column("uid", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("deleted_at", UTCDateTime, nullable=False),
)

# A browser's login, kept by the server (migration 0005): the cookie carries only a secret
# whose SHA-256 is here, so a session can be ended (logout, password/role/active change, an
# admin) and lasts no longer than its `expires_at`, whatever the cookie says. A row is
# deleted when its session ends; the security log keeps that it did.
login_sessions = sa.Table(
    "login_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _uid(),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("address", sa.String(64)),
    sa.Column("user_agent", sa.String(200)),
    _one_of("kind", LOGIN_SESSION_KINDS),
)

# Append-only (the store has no method that changes or deletes a row, and triggers refuse
# UPDATE and DELETE, migration 0005): failed logins, lock-outs, account, role, password and
# token changes, session ends, imports. Names are text, not references: a line outlives the
# account it names.
security_log = sa.Table(
    "security_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200)),
    sa.Column("subject", sa.String(200)),
    sa.Column("address", sa.String(64)),
    sa.Column("detail", sa.Text),
)
