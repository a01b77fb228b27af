"""`unanswered_questions`: the operator's inbox of messages the bot could not answer well
("did you mean", a decline about the back, a low-confidence answer).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("faq_id", sa.String(128), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_unanswered_questions"),
    )
    op.create_index(
        "ix_unanswered_questions_platform_user_id",
        "unanswered_questions",
        ["platform", "user_id"],
    )
    op.create_index(
        "ix_unanswered_questions_status_asked_at", "unanswered_questions", ["status", "asked_at"]
    )
    op.create_index("ix_unanswered_questions_asked_at", "unanswered_questions", ["asked_at"])


def downgrade() -> None:
    op.drop_table("unanswered_questions")
