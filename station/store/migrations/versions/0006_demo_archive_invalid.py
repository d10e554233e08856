"""Demo data that can be removed, athletes that can be archived, trials that can be invalidated.

- athletes.demo: the simulated demo athletes (and so everything recorded about them), so
  `balance-station demo remove` and the Settings page's button delete exactly the demo.
- athletes.archived_at: an archived athlete is hidden from the kiosk picker and the team
  but keeps their history (and can be restored); `active` stays what it was.
- trials.invalid, invalid_reason, invalidated_at, invalidated_by: a bad trial is kept, with
  why and by whom, and drops out of baselines, trends and scores (the read-model filters).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("athletes") as batch:
        batch.add_column(sa.Column("demo", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("archived_at", TS))
    # the demo loop's athletes of earlier versions are demo data too
    op.execute(
        "UPDATE athletes SET demo = true WHERE notes = 'simulated demo athlete' "
        "AND name LIKE 'Demo %'"
    )
    with op.batch_alter_table("trials") as batch:
        batch.add_column(
            sa.Column("invalid", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("invalid_reason", sa.Text))
        batch.add_column(sa.Column("invalidated_at", TS))
        batch.add_column(sa.Column("invalidated_by", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        for name in ("invalidated_by", "invalidated_at", "invalid_reason", "invalid"):
            batch.drop_column(name)
    with op.batch_alter_table("athletes") as batch:
        batch.drop_column("archived_at")
        batch.drop_column("demo")
