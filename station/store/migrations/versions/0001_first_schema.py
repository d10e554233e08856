"""First schema: athletes, sessions, calibrations, trials, raw frames, targets, users, tokens.

Frozen copy (migrations never import station.store.schema: that describes the newest schema).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "station_settings",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_station_settings"),
    )
    op.create_table(
        "athletes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("team", sa.String(200)),
        sa.Column("dominant_leg", sa.String(10)),
        sa.Column("birth_year", sa.Integer),
        sa.Column("notes", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "dominant_leg IN ('left', 'right', 'both')", name="ck_athletes_dominant_leg"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_athletes"),
        sa.UniqueConstraint("uid", name="uq_athletes_uid"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("athlete_id", sa.Integer, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("operator", sa.String(200)),
        sa.Column("protocol", sa.String(100)),
        sa.Column("stiffness", sa.Integer),
        sa.Column("soreness", sa.Integer),
        sa.Column("sleep_hours", sa.Float),
        sa.Column("sleep_quality", sa.Integer),
        sa.Column("notes", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("stiffness BETWEEN 0 AND 10", name="ck_sessions_stiffness"),
        sa.CheckConstraint("soreness BETWEEN 0 AND 10", name="ck_sessions_soreness"),
        sa.CheckConstraint("sleep_quality BETWEEN 0 AND 10", name="ck_sessions_sleep_quality"),
        sa.CheckConstraint("sleep_hours BETWEEN 0 AND 24", name="ck_sessions_sleep_hours"),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.id"],
            name="fk_sessions_athlete_id_athletes",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("uid", name="uq_sessions_uid"),
    )
    op.create_index("ix_sessions_athlete_id", "sessions", ["athlete_id"])
    op.create_table(
        "calibrations",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("board_id", sa.String(100)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calibrations"),
        sa.UniqueConstraint("uid", name="uq_calibrations_uid"),
        sa.UniqueConstraint("content_sha256", name="uq_calibrations_content_sha256"),
    )
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("session_id", sa.Integer, nullable=False),
        sa.Column("athlete_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("clock_synced", sa.Boolean, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("protocol", sa.String(100)),
        sa.Column("stance", sa.String(30), nullable=False),
        sa.Column("eyes", sa.String(10), nullable=False),
        sa.Column("surface", sa.String(30), nullable=False),
        sa.Column("planned_duration_s", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("time_to_failure_s", sa.Float),
        sa.Column("failure_reason", sa.String(200)),
        sa.Column("metrics", sa.Text),
        sa.Column("score", sa.Float),
        sa.Column("calibration_id", sa.Integer),
        sa.CheckConstraint(
            "outcome IN ('complete', 'failed', 'aborted')", name="ck_trials_outcome"
        ),
        sa.CheckConstraint("eyes IN ('open', 'closed')", name="ck_trials_eyes"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name="fk_trials_session_id_sessions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.id"],
            name="fk_trials_athlete_id_athletes",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calibration_id"], ["calibrations.id"], name="fk_trials_calibration_id_calibrations"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trials"),
        sa.UniqueConstraint("uid", name="uq_trials_uid"),
    )
    op.create_index("ix_trials_session_id", "trials", ["session_id"])
    op.create_table(
        "trial_raw",
        sa.Column("trial_id", sa.Integer, nullable=False),
        sa.Column("n_frames", sa.Integer, nullable=False),
        sa.Column("n_discarded", sa.Integer, nullable=False),
        sa.Column("rate_hz", sa.Float),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_trial_raw_trial_id_trials", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("trial_id", name="pk_trial_raw"),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("athlete_id", sa.Integer, nullable=False),
        sa.Column("measure", sa.String(100), nullable=False),
        sa.Column("condition", sa.String(200)),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("direction", sa.String(2), nullable=False, server_default="<="),
        sa.Column("due_date", sa.Date),
        sa.Column("set_by", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("achieved_at", TS),
        sa.Column("notes", sa.Text),
        sa.CheckConstraint("direction IN ('<=', '>=')", name="ck_targets_direction"),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.id"],
            name="fk_targets_athlete_id_athletes",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_targets"),
        sa.UniqueConstraint("uid", name="uq_targets_uid"),
    )
    op.create_index("ix_targets_athlete_id", "targets", ["athlete_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("uid", name="uq_users_uid"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("uid", name="uq_api_tokens_uid"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )


def downgrade() -> None:
    for table in (
        "api_tokens",
        "users",
        "targets",
        "trial_raw",
        "trials",
        "calibrations",
        "sessions",
        "athletes",
        "station_settings",
    ):
        op.drop_table(table)
