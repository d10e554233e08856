"""Training: the plan per athlete, its stage changes, and training sessions.

- sessions.kind (assessment | training, default assessment): training sessions are distinct
  from assessments in history and trends; sessions.intensity (hard | light); sessions.relief
  (0-10), the athlete's log gains how much relief they feel.
- training_plans: the athlete's stage on the ladder (station/training/ladder.toml), since
  when, and whether a physio pinned it.
- training_stage_changes: every stage change with its reason, who and when.

Revision ID: 0008_training_plan
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_training_plan"
down_revision = "0007_battery_progress"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _athlete_fk(unique: bool = False, index: bool = False) -> sa.Column:
    return sa.Column("athlete_id", sa.Integer, sa.ForeignKey("athletes.id", ondelete="CASCADE"),
                     nullable=False, unique=unique, index=index)


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False,
                                   server_default="assessment"))
        batch.add_column(sa.Column("intensity", sa.String(10)))
        batch.add_column(sa.Column("relief", sa.Integer))
        batch.create_check_constraint("kind", "kind IN ('assessment', 'training')")
        batch.create_check_constraint("intensity", "intensity IN ('hard', 'light')")
        batch.create_check_constraint("relief", "relief BETWEEN 0 AND 10")
    op.create_table(
        "training_plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        _athlete_fk(unique=True),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("since", TS, nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "training_stage_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        _athlete_fk(index=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("from_stage", sa.String(100)),
        sa.Column("to_stage", sa.String(100), nullable=False),
        sa.Column("change", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("change IN ('start', 'set', 'up', 'down')", name="change"),
    )


def downgrade() -> None:
    op.drop_table("training_stage_changes")
    op.drop_table("training_plans")
    with op.batch_alter_table("sessions") as batch:
        for name in ("kind", "intensity", "relief"):
            batch.drop_constraint(name, type_="check")
        for name in ("relief", "intensity", "kind"):
            batch.drop_column(name)
