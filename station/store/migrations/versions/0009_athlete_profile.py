"""The athlete's profile for norms: sex, height, body mass, sport and level.

All optional, so existing athletes migrate as they are (birth_year and dominant_leg were
there already): a norm needs an age (from the birth year) and, where its data support it,
the sex; nothing is required to run a test.

Revision ID: 0009_athlete_profile
Revises: 0008_training_plan
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_athlete_profile"
down_revision = "0008_training_plan"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("athletes") as batch:
        batch.add_column(sa.Column("sex", sa.String(1)))
        batch.add_column(sa.Column("height_cm", sa.Float))
        batch.add_column(sa.Column("body_mass_kg", sa.Float))
        batch.add_column(sa.Column("sport", sa.String(100)))
        batch.add_column(sa.Column("level", sa.String(100)))
        batch.create_check_constraint("ck_athletes_sex", "sex IN ('F', 'M')")


def downgrade() -> None:
    with op.batch_alter_table("athletes") as batch:
        batch.drop_constraint("ck_athletes_sex", type_="check")
        for name in ("level", "sport", "body_mass_kg", "height_cm", "sex"):
            batch.drop_column(name)
