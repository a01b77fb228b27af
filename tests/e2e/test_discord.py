"""End-to-end tests: the real discord.py client, through the Discord adapter, against FakeDiscord."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.config import Settings
from bot.core.types import Address, Button, Incoming, Kind, Reply
from bot.errors import Blocked, RateLimited

# tests/ is not a package and pytest does not put the repo root on sys.path by itself.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fakes.discord_api import FakeDiscord

TOKEN = "MTAfake.discord.token-for-tests_x9"
USER = 555_000_000_000_000_001


async def echo(incoming: Incoming) -> list[Reply]:
    """Temporary handler until bot.app.build_dialogue exists."""
    if incoming.is_group and not incoming.mentioned:
        return []
    text = incoming.action or incoming.text
    if "progress" in text:
        return [Reply("your week", ephemeral=True, kind=Kind.PROGRESS, image=b"\x89PNG fake")]
    return [Reply(f"echo: {text}", buttons=(Button("Again", "today"),))]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as f:
        yield f


def settings_for(fake: FakeDiscord, **extra: object) -> Settings:
    return Settings(discord_token=TOKEN, discord_api_url=fake.api_url, **extra)  # type: ignore[arg-type]


@pytest.fixture
async def adapter(fake: FakeDiscord) -> AsyncIterator[DiscordAdapter]:
    a = DiscordAdapter(settings_for(fake), echo, guild_ready_timeout=0.05, ready_timeout=5)
    await a.start()
    yield a
    await a.stop()


async def test_dm_gets_reply(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    await fake.dispatch_dm(USER, "hello there")
    sent = await fake.wait_for(lambda: fake.sent_to(fake.dm_channel_id(USER)))
    assert sent[0].content == "echo: hello there"
    assert sent[0].custom_ids == ["bb:today"]
    assert fake.gateway_query.get("compress") == "zlib-stream"
    assert {c["name"] for c in fake.commands[None]} >= {"pain", "ask"}


async def test_slash_and_click(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    iid = await fake.dispatch_command(USER, "pain", {"score": 6}, guild=True)
    sent = await fake.wait_for(lambda: fake.for_interaction(iid))
    assert sent[0].content == "echo: /pain 6"
    iid2 = await fake.dispatch_click(USER, sent[0], "bb:today", guild=True)
    sent2 = await fake.wait_for(lambda: fake.for_interaction(iid2))
    assert sent2[0].content == "echo: today"
    iid3 = await fake.dispatch_command(USER, "progress", guild=True)
    sent3 = await fake.wait_for(lambda: fake.for_interaction(iid3))
    assert sent3[0].ephemeral and sent3[0].attachments[0]["filename"] == "progress.png"


async def test_sender(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    fake.block_dms(USER)
    with pytest.raises(Blocked):
        await adapter.sender.send(Address("discord", str(USER)), Reply("hi"))
    fake.inject_429(r"/channels/\d+/messages", retry_after=60)
    with pytest.raises(RateLimited):
        await adapter.sender.send(Address("discord", str(fake.channel_id)), Reply("hi"))
    logging.getLogger(__name__).info("done")
