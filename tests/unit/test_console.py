"""The console adapter: buttons by #N or label, and reminders delivered into the chat."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from bot.adapters.console import ConsoleChat, ConsoleSender
from bot.app import build_dialogue
from bot.config import Settings
from bot.core.ports import UserKey
from bot.scheduler import ReminderScheduler
from bot.storage.store import open_store
from tests.conftest import NOON


async def test_numbers_are_text_and_hash_numbers_press_buttons(store) -> None:
    out = io.StringIO()
    chat = ConsoleChat(build_dialogue(store).handle, user_id="ana", out=out)
    await chat.send("/pain")
    assert "[#4] 6" in out.getvalue()
    [ask] = await chat.send("7")  # typed, not button 7
    assert ask.topic == "consent"  # the first pain score is stored only once agreed
    [reply] = await chat.send("yes")
    assert reply.text.startswith("Pain 7/10")
    replies = await chat.send("#1")  # "Today's workout"
    assert replies[0].kind == "workout"
    replies = await chat.send("help")
    assert "What I can do" in replies[0].text


async def test_reminder_arrives_in_the_console(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/c.db")  # type: ignore[call-arg]
    store = await open_store(settings.database_url)
    try:
        dialogue = build_dialogue(store, settings)
        out = io.StringIO()
        chat = ConsoleChat(dialogue.handle, user_id="ana", out=out)
        clock = [NOON]
        scheduler = ReminderScheduler(
            settings, store, dialogue, {"console": ConsoleSender(chat)}, clock=lambda: clock[0]
        )
        chat_now = NOON  # Wednesday 12:00 UTC
        from bot.core.types import Incoming

        await dialogue.handle(
            Incoming("console", "ana", "ana", text="/remind wed 13:00", received_at=chat_now)
        )
        assert (await scheduler.tick(NOON)).sent == 0
        stats = await scheduler.tick(NOON + timedelta(hours=1, minutes=1))
        assert stats.sent == 1
        assert "Time for your back session" in out.getvalue()
        assert "[#3] Snooze 1h" in out.getvalue()
        sched = await store.get_reminder(UserKey("console", "ana"))
        assert sched is not None and sched.next_due_at > NOON + timedelta(days=6)
        await scheduler.stop()
    finally:
        await store.close()
