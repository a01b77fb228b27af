"""Slash-command sync only when the command table changed (DISCORD_SYNC=auto), against
FakeDiscord, with the hash kept in a SqlStore shared across restarts (and instances)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters import discord as discord_adapter
from bot.adapters.base import from_function
from bot.adapters.discord import DiscordAdapter, SyncState
from bot.config import Settings
from bot.core.types import Incoming, Reply
from bot.storage.store import SqlStore, open_store
from tests.fakes.discord_api import FakeDiscord

TOKEN = "MTAfake.discord.token-for-tests_x9"


async def silent(incoming: Incoming) -> list[Reply]:
    return []


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as f:
        yield f


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    yield s
    await s.close()


def syncs(fake: FakeDiscord) -> int:
    """Bulk overwrites of the command table the fake received (one per tree.sync)."""
    return sum(1 for m, p in fake.requests if m == "PUT" and p.endswith("/commands"))


async def start_stop(
    fake: FakeDiscord, state: SyncState | None, sync: str = "auto", guild: int | None = None
) -> DiscordAdapter:
    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=TOKEN,
        discord_api_url=fake.api_url,
        discord_guild_id=guild,
        discord_sync=sync,
    )
    a = DiscordAdapter(
        s, from_function(silent), guild_ready_timeout=0.05, ready_timeout=5, sync_state=state
    )
    await a.start()
    await a.stop()
    return a


async def test_auto_syncs_once_then_only_when_the_table_changes(
    fake: FakeDiscord, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await start_stop(fake, store)).synced
    assert syncs(fake) == 1
    assert fake.commands[None]
    # Restarts (or a second instance on the same database): same table, no sync.
    assert not (await start_stop(fake, store)).synced
    assert not (await start_stop(fake, store)).synced
    assert syncs(fake) == 1
    # A changed description is a changed table: synced once more, then quiet again.
    changed = tuple(
        dataclasses.replace(c, description=c.description + " (new)") if c.name == "today" else c
        for c in discord_adapter.COMMANDS
    )
    monkeypatch.setattr(discord_adapter, "COMMANDS", changed)
    assert (await start_stop(fake, store)).synced
    assert syncs(fake) == 2
    today = next(c for c in fake.commands[None] if c["name"] == "today")
    assert today["description"].endswith("(new)")
    await start_stop(fake, store)
    assert syncs(fake) == 2


async def test_guild_sync_has_its_own_hash(fake: FakeDiscord, store: SqlStore) -> None:
    await start_stop(fake, store)
    await start_stop(fake, store, guild=fake.guild_id)
    assert syncs(fake) == 2 and fake.commands[fake.guild_id]
    await start_stop(fake, store, guild=fake.guild_id)
    assert syncs(fake) == 2


async def test_always_and_never(fake: FakeDiscord, store: SqlStore) -> None:
    await start_stop(fake, store, sync="always")
    await start_stop(fake, store, sync="always")
    assert syncs(fake) == 2
    assert not (await start_stop(fake, store, sync="never")).synced
    assert syncs(fake) == 2


async def test_never_syncs_nothing_even_the_first_time(fake: FakeDiscord, store: SqlStore) -> None:
    await start_stop(fake, store, sync="never")
    assert syncs(fake) == 0 and None not in fake.commands


async def test_without_a_store_auto_syncs_every_start(fake: FakeDiscord) -> None:
    await start_stop(fake, None)
    await start_stop(fake, None)
    assert syncs(fake) == 2


async def test_unreadable_state_still_syncs(fake: FakeDiscord) -> None:
    class Broken:
        async def get_state(self, key: str) -> str | None:
            raise OSError("database gone")

        async def set_state(self, key: str, value: str) -> None:
            raise OSError("database gone")

    assert (await start_stop(fake, Broken())).synced
    assert syncs(fake) == 1


async def test_the_sync_command_pushes_once_and_records_the_hash(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    """`backbot discord sync` (once per deployment): syncs, and a following auto start doesn't."""
    from bot.app import sync_discord

    db = f"sqlite+aiosqlite:///{tmp_path}/sync.db"
    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=TOKEN,
        discord_api_url=fake.api_url,
        discord_guild_id=None,
        database_url=db,
    )
    assert await sync_discord(s) == 0
    assert syncs(fake) == 1
    from bot.storage.store import open_store

    store = await open_store(db)
    try:
        assert not (await start_stop(fake, store)).synced
    finally:
        await store.close()
    assert syncs(fake) == 1


async def test_two_instances_starting_together_sync_once(
    fake: FakeDiscord, store: SqlStore
) -> None:
    await asyncio.gather(start_stop(fake, store), start_stop(fake, store))
    assert syncs(fake) == 1
