"""The composition root end to end: `run_platforms` with a Telegram token against the fake Bot
API, a real SQLite file, the real scheduler. Stops and restarts on the same database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import run_platforms
from bot.config import Settings
from bot.core.ports import UserKey
from bot.storage.store import open_store
from tests.conftest import unsigned
from tests.fakes.telegram_api import FakeTelegramAPI

USER = 4242


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


def settings_for(fake: FakeTelegramAPI, db: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=fake.token,
        telegram_api_url=fake.url,
        database_url=f"sqlite+aiosqlite:///{db}",
        scheduler_tick_seconds=0.2,
    )


@contextlib.asynccontextmanager
async def app(settings: Settings) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_platforms(settings, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def say(fake: FakeTelegramAPI, text: str, expect: int = 1) -> list[str]:
    before = len(fake.messages_to(USER))
    if text.startswith("/"):
        name, _, args = text[1:].partition(" ")
        fake.command(USER, name, args)
    else:
        fake.private_message(USER, text)
    got = await fake.wait_for_messages(before + expect, chat_id=USER, timeout=10)
    return [m.text or "" for m in got[before:]]


async def test_profile_logs_and_streak_survive_a_restart(fake, tmp_path: Path) -> None:
    settings = settings_for(fake, tmp_path / "bot.db")
    async with app(settings):
        await say(fake, "/start", expect=2)
        press = fake.sent[-1].buttons
        fake.callback_query(USER, next(d for label, d in press if label == "Advanced"))
        await fake.wait_for_messages(4, chat_id=USER, timeout=10)
        done, back = await say(fake, "/done", expect=2)
        assert "1/3" in done and back.startswith("Back to setup")
    # A new process on the same database: the profile, the log and the onboarding step remain.
    async with app(settings):
        again, back = await say(fake, "did it", expect=2)
        assert "already logged" in again and back.startswith("Back to setup")
        progress, _ = await say(fake, "/progress", expect=2)
        assert fake.sent[-2].photo and "1/3" in progress
        replies = await say(fake, "Gym", expect=2)  # onboarding resumes at the equipment step
        assert replies[0].startswith("Equipment: gym")
    store = await open_store(settings.database_url)
    try:
        profile = await store.get_profile(UserKey("telegram", str(USER)))
        assert profile is not None and (profile.level, profile.equipment) == ("advanced", "gym")
    finally:
        await store.close()


async def test_a_due_reminder_is_delivered_once_through_telegram(fake, tmp_path: Path) -> None:
    settings = settings_for(fake, tmp_path / "bot.db")
    async with app(settings):
        # A daily time half a day away, so the regular reminder cannot fire during the test.
        at = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")
        [confirm] = await say(fake, f"/remind mon tue wed thu fri sat sun {at}")
        assert f"every day at {at}" in confirm
        # Make the reminder due now, as if its time had come.
        store = await open_store(settings.database_url)
        try:
            key = UserKey("telegram", str(USER))
            sched = await store.get_reminder(key)
            assert sched is not None
            sched.next_due_at = datetime.now(UTC) - timedelta(minutes=1)
            await store.save_reminder(sched)
        finally:
            await store.close()
        before = len(fake.messages_to(USER))
        await fake.wait_for_messages(before + 1, chat_id=USER, timeout=10)
        nudge = fake.messages_to(USER)[before]
        assert "Time for your back session" in (nudge.text or "")
        assert ("Snooze 1h", "rem:snooze") in [(label, unsigned(a)) for label, a in nudge.buttons]
        await asyncio.sleep(1.0)  # several more ticks: nothing more is sent
        assert len(fake.messages_to(USER)) == before + 1
