"""Store fixtures: every test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.

Test ids carry the backend (`test_x[sqlite]`, `test_x[postgres]`) and the report header says
which backends ran. With TEST_DATABASE_URL set, an unreachable server is an error, never a
silent skip. Each PostgreSQL test gets its own fresh schema (dropped afterwards), so parallel
runs and other suites sharing the database cannot see each other's rows.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import mask_url
from bot.storage.models import User
from bot.storage.store import SqlStore, create_engine, run_migrations

logger = logging.getLogger(__name__)

PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()

BACKENDS = [pytest.param("sqlite", id="sqlite")]
if PG_URL:
    BACKENDS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"storage backends: sqlite, postgres ({mask_url(PG_URL)})"
    return "storage backends: sqlite only (set TEST_DATABASE_URL to also run on postgres)"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which database this test runs on: "sqlite" or "postgres"."""
    return str(request.param)


@pytest.fixture
async def empty_engine(backend: str, tmp_path: Any) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/store.db")
        try:
            yield engine
        finally:
            await engine.dispose()
        return

    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def store(empty_engine: AsyncEngine) -> SqlStore:
    """A migrated SqlStore on a fresh database (no retry pause, to keep tests fast)."""
    await run_migrations(empty_engine)
    return SqlStore(empty_engine, retry_delay=0)


async def user_pk(store: SqlStore, platform: str, user_id: str) -> int | None:
    """The users.id of a user, read straight from the table."""
    async with store.sessionmaker() as s:
        pk = await s.scalar(
            select(User.id).where(User.platform == platform, User.user_id == user_id)
        )
    return None if pk is None else int(pk)


async def count(store: SqlStore, model: Any, *where: Any) -> int:
    """Rows of `model` matching `where`, read straight from the table."""
    async with store.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)
