"""Conversation stacks and turn leases: `flow_states` (one flow per user) becomes
`conversations` (a stack of flows as JSON), and `turn_leases` orders one user's turns across
bot instances.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Each stored flow state is carried over as a one-frame conversation, so a user in the middle of
setup during the upgrade is still there afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return str(value) if value else None


def upgrade() -> None:
    conversations = op.create_table(
        "conversations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_conversations"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_conversations_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "turn_leases",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("until", TS, nullable=False),
        sa.PrimaryKeyConstraint("platform", "user_id", name="pk_turn_leases"),
    )
    old = sa.table(
        "flow_states",
        sa.column("user_id", sa.Integer()),
        sa.column("flow", sa.String()),
        sa.column("step", sa.String()),
        sa.column("data", sa.JSON()),
        sa.column("updated_at", TS),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(old)).mappings().all()
    if rows:
        op.bulk_insert(
            conversations,
            [
                {
                    "user_id": r["user_id"],
                    "state": {
                        "frames": [
                            {
                                "flow": r["flow"],
                                "step": r["step"],
                                "data": r["data"] or {},
                                "asked_at": _iso(r["updated_at"]),
                            }
                        ],
                        "marks": {},
                    },
                    "version": 1,
                    "updated_at": r["updated_at"] or datetime.now(UTC),
                }
                for r in rows
            ],
        )
    op.drop_table("flow_states")


def downgrade() -> None:
    """Back to one flow per user: each conversation keeps its top frame."""
    flow_states = op.create_table(
        "flow_states",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_flow_states"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_flow_states_user_id_users", ondelete="CASCADE"
        ),
    )
    conv = sa.table(
        "conversations",
        sa.column("user_id", sa.Integer()),
        sa.column("state", sa.JSON()),
        sa.column("updated_at", TS),
    )
    bind = op.get_bind()
    rows = []
    for r in bind.execute(sa.select(conv)).mappings().all():
        frames = (r["state"] or {}).get("frames") or []
        if frames:
            top = frames[-1]
            rows.append(
                {
                    "user_id": r["user_id"],
                    "flow": str(top.get("flow", ""))[:64],
                    "step": str(top.get("step", ""))[:64],
                    "data": top.get("data") or {},
                    "updated_at": r["updated_at"],
                }
            )
    if rows:
        op.bulk_insert(flow_states, rows)
    op.drop_table("turn_leases")
    op.drop_table("conversations")
