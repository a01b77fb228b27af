"""Alembic environment for backbot, configured from code (see `bot.storage.store.alembic_config`).

Two ways in: `run_migrations` passes an open connection in `config.attributes["connection"]`
(the normal path, used by `backbot run` and `backbot db upgrade`); otherwise the URL comes from
the `sqlalchemy.url` option or DATABASE_URL, so the plain `alembic` command also works.
"""

from __future__ import annotations

import asyncio
import logging
import os

from alembic import context
from sqlalchemy.engine import Connection

from bot.storage.models import Base
from bot.storage.store import DEFAULT_DATABASE_URL, create_engine

logger = logging.getLogger(__name__)

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table in later migrations.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (`alembic upgrade head --sql`)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url() -> None:
    engine = create_engine(_url())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run_on)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
    else:
        asyncio.run(_run_from_url())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
