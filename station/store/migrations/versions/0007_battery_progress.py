"""A battery's own progress on its session: which steps were skipped, which is current.

sessions.battery (JSON, null for a session that is no battery run): {"skipped": [step...],
"current": step, "current_since": time, "finished_at": time}. What was done or failed is
not kept here: the session's saved trials (seq, trial id, outcome) say it
(station.trials.battery derives the progress from both).

Revision ID: 0007_battery_progress
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_battery_progress"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("battery", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("battery")
