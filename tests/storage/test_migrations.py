"""Alembic migrations: an empty database upgraded to head has exactly the models' schema.

Runs on SQLite always and on PostgreSQL when TEST_DATABASE_URL is set (see conftest.py).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.models import Base
from bot.storage.store import alembic_config, run_migrations, upgrade

logger = logging.getLogger(__name__)

TABLES = {
    "users",
    "conversations",
    "turn_leases",
    "seen_updates",
    "workout_logs",
    "pain_scores",
    "reminder_schedules",
    "deliveries",
    "app_state",
    "progression_steps",
    "checkins",
    "unanswered_questions",
}
HEAD = "0006"


def _diff(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def test_one_head_and_it_is_the_latest() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD]


def test_models_cover_the_expected_tables() -> None:
    assert set(Base.metadata.tables) == TABLES


async def test_upgrade_empty_database_to_head_matches_models(empty_engine: AsyncEngine) -> None:
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_tables) == set()
        # Sanity check that the comparison can fail: an empty database differs from the models.
        assert len(await conn.run_sync(_diff)) >= len(TABLES)

    assert await run_migrations(empty_engine) == HEAD

    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_tables) == TABLES | {"alembic_version"}
        assert await conn.run_sync(_diff) == []
        indexes = await conn.run_sync(
            lambda c: {i["name"] for t in TABLES for i in inspect(c).get_indexes(t)}
        )
    assert {
        "ix_reminder_schedules_next_due_at",
        "ix_pain_scores_user_id_at",
        "ix_unanswered_questions_platform_user_id",
    } <= indexes


async def test_upgrade_twice_is_a_no_op(empty_engine: AsyncEngine) -> None:
    assert await run_migrations(empty_engine) == HEAD
    assert await run_migrations(empty_engine) == HEAD
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_downgrade_to_base_and_back(empty_engine: AsyncEngine) -> None:
    await run_migrations(empty_engine)

    def _downgrade(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")

    async with empty_engine.begin() as conn:
        await conn.run_sync(_downgrade)
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_tables) <= {"alembic_version"}
        assert await conn.run_sync(_revision) is None

    assert await run_migrations(empty_engine) == HEAD
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def test_sync_upgrade_helper_for_the_cli(tmp_path: Path) -> None:
    """`backbot db upgrade` calls this outside any event loop."""
    db = tmp_path / "cli" / "bot.db"
    assert upgrade(f"sqlite+aiosqlite:///{db}") == HEAD
    assert db.is_file()
    assert upgrade(f"sqlite+aiosqlite:///{db}") == HEAD


async def test_0002_carries_a_flow_state_over_as_a_one_frame_conversation(
    empty_engine: AsyncEngine,
) -> None:
    """Someone in the middle of setup during the upgrade is still there afterwards."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from bot.core.ports import Conversation, Frame

    assert await run_migrations(empty_engine, "0001") == "0001"
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    async with empty_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (id, platform, user_id, display_name, level, equipment, "
                "timezone, onboarded, has_profile, created_at) VALUES (1, 'telegram', '7', '', "
                "'beginner', 'none', 'UTC', false, false, :at)"
            ),
            {"at": at},
        )
        await conn.execute(
            text(
                "INSERT INTO flow_states (user_id, flow, step, data, updated_at) "
                "VALUES (1, 'onboarding', 'equipment', :data, :at)"
            ),
            {"data": '{"remind": true}', "at": at},
        )
    assert await run_migrations(empty_engine) == HEAD
    async with empty_engine.connect() as conn:
        raw = (await conn.execute(text("SELECT state FROM conversations"))).scalar_one()
    import json

    got = Conversation.from_json(json.loads(raw) if isinstance(raw, str) else raw)
    assert got.frames == [Frame("onboarding", "equipment", {"remind": True}, at)]

    def _down(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")

    async with empty_engine.begin() as conn:
        await conn.run_sync(_down)
    async with empty_engine.connect() as conn:
        row = (await conn.execute(text("SELECT flow, step FROM flow_states"))).one()
    assert tuple(row) == ("onboarding", "equipment")


async def test_0005_adds_steps_and_checkins_and_goes_back_keeping_users(
    empty_engine: AsyncEngine,
) -> None:
    """A user from before 0005 gets the check-in switched off; down to 0004 drops the new
    tables and column and keeps the user."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    assert await run_migrations(empty_engine, "0004") == "0004"
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    async with empty_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (id, platform, user_id, display_name, level, equipment, "
                "timezone, onboarded, has_profile, created_at) VALUES (1, 'telegram', '7', '', "
                "'beginner', 'none', 'UTC', true, true, :at)"
            ),
            {"at": at},
        )
    assert await run_migrations(empty_engine, "0005") == "0005"
    async with empty_engine.begin() as conn:
        assert (await conn.execute(text("SELECT checkin FROM users"))).scalar_one() in (0, False)
        await conn.execute(
            text(
                "INSERT INTO progression_steps (user_id, exercise, step, changed_at) "
                "VALUES (1, 'plank', 1, :at)"
            ),
            {"at": at},
        )
        await conn.execute(
            text("INSERT INTO checkins (user_id, week, pain, at) VALUES (1, :w, 3, :at)"),
            {"w": at.date(), "at": at},
        )

    def _down(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")

    async with empty_engine.begin() as conn:
        await conn.run_sync(_down)
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_tables) == (
            TABLES - {"progression_steps", "checkins", "unanswered_questions"}
        ) | {"alembic_version"}
        columns = await conn.run_sync(
            lambda c: {x["name"] for x in inspect(c).get_columns("users")}
        )
        assert "checkin" not in columns
        assert (await conn.execute(text("SELECT count(*) FROM users"))).scalar_one() == 1
    assert await run_migrations(empty_engine) == HEAD
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
