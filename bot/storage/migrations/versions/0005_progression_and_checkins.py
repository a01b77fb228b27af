"""Progression steps per exercise, weekly check-in answers, and the check-in opt-in.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A plain ADD COLUMN (not batch mode: on SQLite that rebuilds `users`, and dropping the old
    # table would cascade-delete every child row), as in 0003.
    op.add_column(
        "users", sa.Column("checkin", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "progression_steps",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("exercise", sa.String(64), nullable=False),
        sa.Column("step", sa.SmallInteger(), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("stepped_up_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_progression_steps_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "exercise", name="pk_progression_steps"),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("pain", sa.SmallInteger(), nullable=True),
        sa.Column("interference", sa.SmallInteger(), nullable=True),
        sa.Column("confidence", sa.SmallInteger(), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.CheckConstraint("pain >= 0 AND pain <= 10", name="ck_checkins_pain_range"),
        sa.CheckConstraint(
            "interference >= 0 AND interference <= 3", name="ck_checkins_interference_range"
        ),
        sa.CheckConstraint(
            "confidence >= 1 AND confidence <= 5", name="ck_checkins_confidence_range"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_checkins_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_checkins"),
        sa.UniqueConstraint("user_id", "week", name="uq_checkins_user_id_week"),
    )


def downgrade() -> None:
    op.drop_table("checkins")
    op.drop_table("progression_steps")
    op.execute("ALTER TABLE users DROP COLUMN checkin")  # SQLite 3.35+ and PostgreSQL
