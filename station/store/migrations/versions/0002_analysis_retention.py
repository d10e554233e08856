"""Re-analysis and retention bookkeeping; faster athlete history; deletion tombstones.

- trials.analysis_version / analyzed_at: which code computed a trial's metrics and score
  (`balance-station reanalyze` updates them). Existing trials get 'legacy' so they are
  recognisably older than any re-analysis.
- trials.raw_purged_at: when retention removed the raw frames (metrics kept).
- index (athlete_id, started_at): an athlete's history is one range scan.
- tombstones: uids of deleted athletes, so an import of an older archive cannot revive them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("analysis_version", sa.String(50)))
        batch.add_column(sa.Column("analyzed_at", TS))
        batch.add_column(sa.Column("raw_purged_at", TS))
    op.execute("UPDATE trials SET analysis_version = 'legacy' WHERE metrics IS NOT NULL")
    op.create_index("ix_trials_athlete_started", "trials", ["athlete_id", "started_at"])
    op.create_table(
        "tombstones",
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("deleted_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("uid", name="pk_tombstones"),
    )


def downgrade() -> None:
    op.drop_table("tombstones")
    op.drop_index("ix_trials_athlete_started", table_name="trials")
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("raw_purged_at")
        batch.drop_column("analyzed_at")
        batch.drop_column("analysis_version")
