"""What re-analysis needs besides frames and calibration: task, spec, body weight, onsets.

The live analysis (station.analysis.pipeline.analyze_frames) treats a hop landing and a push
perturbation differently from a hold and uses the body weight measured before the trial;
without these a re-analysis could not reproduce it. `spec` keeps the protocol's whole trial
spec (id, instructions, target radius...) as JSON. Existing trials were holds.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("task", sa.String(20), nullable=False, server_default="hold"))
        batch.add_column(sa.Column("spec", sa.Text))
        batch.add_column(sa.Column("body_weight_n", sa.Float))
        batch.add_column(sa.Column("perturbation_onsets_s", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("perturbation_onsets_s")
        batch.drop_column("body_weight_n")
        batch.drop_column("spec")
        batch.drop_column("task")
