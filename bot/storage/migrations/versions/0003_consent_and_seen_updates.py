"""Pain-score consent on the profile, and the updates already handled (so a platform's retry
of one update is answered once).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A plain ADD COLUMN on both backends. Not batch mode: on SQLite that rebuilds `users`,
    # and dropping the old table would cascade-delete every child row.
    op.add_column(
        "users", sa.Column("pain_consent", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "seen_updates",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("update_id", sa.String(64), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("platform", "update_id", name="pk_seen_updates"),
    )
    op.create_index("ix_seen_updates_seen_at", "seen_updates", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_updates_seen_at", table_name="seen_updates")
    op.drop_table("seen_updates")
    op.execute("ALTER TABLE users DROP COLUMN pain_consent")  # SQLite 3.35+ and PostgreSQL
