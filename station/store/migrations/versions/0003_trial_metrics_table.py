"""Move metrics out of the trials table into trial_metrics; history index covers the order.

Why: the metrics JSON (~1.5 KB a trial) made every trials row span most of a page, so an
athlete's history (thousands of trials) read megabytes just to list dates, outcomes and
scores; bench/store_scale.py measured 40 ms in SQLite alone for 5,200 trials. With metrics in
their own table the summary scan reads narrow rows, and metrics are fetched only when asked.
The history index gains `seq`, so the history comes out in order without a sort.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trial_metrics",
        sa.Column("trial_id", sa.Integer, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trials.id"],
            name="fk_trial_metrics_trial_id_trials",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trial_id", name="pk_trial_metrics"),
    )
    op.execute(
        "INSERT INTO trial_metrics (trial_id, metrics) "
        "SELECT id, metrics FROM trials WHERE metrics IS NOT NULL"
    )
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("metrics")
    op.drop_index("ix_trials_athlete_started", table_name="trials")
    op.create_index("ix_trials_athlete_started_seq", "trials", ["athlete_id", "started_at", "seq"])


def downgrade() -> None:
    op.drop_index("ix_trials_athlete_started_seq", table_name="trials")
    op.create_index("ix_trials_athlete_started", "trials", ["athlete_id", "started_at"])
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("metrics", sa.Text))
    op.execute(
        "UPDATE trials SET metrics = "
        "(SELECT m.metrics FROM trial_metrics m WHERE m.trial_id = trials.id)"
    )
    op.drop_table("trial_metrics")
