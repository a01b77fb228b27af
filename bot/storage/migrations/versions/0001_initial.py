"""Initial schema: users, flow states, workout logs, pain scores, reminder schedules, deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Written by hand with plain SQLAlchemy types (no imports from bot.storage.models), so this file
keeps describing revision 0001 however the models change later. Constraint names follow the
models' naming convention; tests/storage/test_migrations.py checks the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("equipment", sa.String(32), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("onboarded", sa.Boolean(), nullable=False),
        sa.Column("has_profile", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("platform", "user_id", name="uq_users_platform_user_id"),
    )
    op.create_table(
        "flow_states",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_flow_states"),
        _user_fk("flow_states"),
    )
    op.create_table(
        "workout_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("logged_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workout_logs"),
        sa.UniqueConstraint("user_id", "day", name="uq_workout_logs_user_id_day"),
        _user_fk("workout_logs"),
    )
    op.create_table(
        "pain_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pain_scores"),
        sa.CheckConstraint("score >= 0 AND score <= 10", name="ck_pain_scores_score_range"),
        _user_fk("pain_scores"),
    )
    op.create_index("ix_pain_scores_user_id_at", "pain_scores", ["user_id", "at"])
    op.create_table(
        "reminder_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("days", sa.String(32), nullable=False),
        sa.Column("at", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("next_due_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_schedules"),
        sa.UniqueConstraint("user_id", name="uq_reminder_schedules_user_id"),
        _user_fk("reminder_schedules"),
    )
    op.create_index("ix_reminder_schedules_next_due_at", "reminder_schedules", ["next_due_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("schedule_id", "due_at", name="uq_deliveries_schedule_id_due_at"),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["reminder_schedules.id"],
            name="fk_deliveries_schedule_id_reminder_schedules",
            ondelete="CASCADE",
        ),
        _user_fk("deliveries"),
    )
    op.create_index("ix_deliveries_user_id", "deliveries", ["user_id"])


def downgrade() -> None:
    """Drop every table, children first."""
    op.drop_index("ix_deliveries_user_id", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_reminder_schedules_next_due_at", table_name="reminder_schedules")
    op.drop_table("reminder_schedules")
    op.drop_index("ix_pain_scores_user_id_at", table_name="pain_scores")
    op.drop_table("pain_scores")
    op.drop_table("workout_logs")
    op.drop_table("flow_states")
    op.drop_table("users")
