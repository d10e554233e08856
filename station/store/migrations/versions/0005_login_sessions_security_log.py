"""Sessions the server can end, and a security log that cannot be rewritten.

- login_sessions: one row per browser login (user or kiosk). The cookie carries a secret;
  only its SHA-256 is stored. Logout, a password, role or active change and the admin end
  sessions by deleting their rows; `expires_at` is the lifetime the server enforces.
- security_log: failed logins, lock-outs, account and token changes, session ends,
  imports. Append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
  A later batch migration of this table on SQLite would rebuild it without them: recreate
  them there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
APPEND_ONLY = "the security log is append-only"


def upgrade() -> None:
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("address", sa.String(64)),
        sa.Column("user_agent", sa.String(200)),
        sa.CheckConstraint("kind IN ('user', 'kiosk')", name="ck_login_sessions_kind"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_login_sessions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_login_sessions"),
        sa.UniqueConstraint("uid", name="uq_login_sessions_uid"),
        sa.UniqueConstraint("secret_hash", name="uq_login_sessions_secret_hash"),
    )
    op.create_index("ix_login_sessions_user_id", "login_sessions", ["user_id"])
    op.create_table(
        "security_log",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("subject", sa.String(200)),
        sa.Column("address", sa.String(64)),
        sa.Column("detail", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_security_log"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION security_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER security_log_no_change BEFORE UPDATE OR DELETE ON security_log "
            "FOR EACH ROW EXECUTE FUNCTION security_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER security_log_no_truncate BEFORE TRUNCATE ON security_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION security_log_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER security_log_no_{action.lower()} BEFORE {action} ON "
                f"security_log BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    op.drop_table("security_log")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION security_log_append_only()")
    op.drop_index("ix_login_sessions_user_id", table_name="login_sessions")
    op.drop_table("login_sessions")
