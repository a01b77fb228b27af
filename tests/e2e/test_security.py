"""Security and privacy, tried as an attacker and as an ordinary group member would: through
the Telegram and Discord fakes, the real core and a real database.

Each test is one attack (or one way private data could leak) from the security issue, and
checks what the user gets instead.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.base import Handler
from bot.adapters.telegram import TelegramAdapter
from bot.app import build_dialogue
from bot.core.flood import FloodGate
from bot.core.ports import Profile, UserKey
from bot.core.types import Incoming, Kind
from bot.logs import setup_logging
from bot.storage.memory import MemoryStore
from bot.storage.store import open_store
from tests.conftest import NOON, Chat
from tests.e2e.test_telegram import free_port, settings_for
from tests.fakes.telegram_api import FakeTelegramAPI

ANN, BOB, GROUP = 7001, 7002, -100555


@asynccontextmanager
async def running(
    fake: FakeTelegramAPI, handler: Handler, *, settings: dict[str, Any] | None = None, **kw: Any
) -> AsyncIterator[TelegramAdapter]:
    """The Telegram adapter on the real core's turns (ordering and delivery as in production)."""
    adapter = TelegramAdapter(settings_for(fake, **(settings or {})), handler, **kw)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


async def settle(fake: FakeTelegramAPI, chat: int, n: int) -> None:
    await fake.wait_for_messages(n, chat_id=chat, timeout=10)
    await asyncio.sleep(0.1)


# -- buttons act only for the person they were shown to ------------------------------------------


async def test_another_group_member_pressing_my_button_changes_nothing() -> None:
    store = MemoryStore()
    core = build_dialogue(store)
    async with FakeTelegramAPI() as fake, running(fake, core.turn):
        fake.command(ANN, "settings", chat_id=GROUP, chat_type="supergroup", addressed=True)
        await settle(fake, ANN, 1)  # the settings went to Ann's private chat
        assert not [m for m in fake.messages_to(GROUP) if "settings" in (m.text or "").lower()]
        level = next(d for label, d in fake.messages_to(ANN)[-1].buttons if label == "Level")
        fake.callback_query(BOB, level, message=fake.messages_to(ANN)[-1])
        for _ in range(100):
            if fake.callback_alerts:
                break
            await asyncio.sleep(0.02)
        text, alert = fake.callback_alerts[-1]
        assert alert and "for the person it was shown to" in text
        assert fake.messages_to(BOB) == []
        # Ann's own press works.
        fake.callback_query(ANN, level, message=fake.messages_to(ANN)[-1])
        await settle(fake, ANN, 2)
        assert "training level" in (fake.messages_to(ANN)[-1].text or "")
    assert UserKey("telegram", str(BOB)) not in store.profiles


async def test_a_forged_or_unsigned_forget_button_deletes_nothing() -> None:
    store = MemoryStore()
    key = UserKey("telegram", str(ANN))
    store.profiles[key] = Profile(key, "Ann", onboarded=True)
    core = build_dialogue(store)
    for data in ("forget:yes", "f:forget:confirm:yes", "f:forget:confirm:yes~AAAAAAAA"):
        replies = await core.handle(Incoming("telegram", str(ANN), str(ANN), action=data))
        assert all("deleted" not in r.text.lower() for r in replies)
    assert key in store.profiles


async def test_forget_confirmation_expires_after_five_minutes_and_works_once() -> None:
    store = MemoryStore()
    chat = Chat(build_dialogue(store))
    chat.now = NOON
    await chat.say("/done")
    await chat.say("/forget")
    confirm = chat.last
    from datetime import timedelta

    chat.now = NOON + timedelta(minutes=6)
    [late] = await chat.press("Yes, delete")
    assert late.topic == "expired" and await store.get_profile(UserKey("test", "u1"))
    await chat.say("/forget")
    [done] = await chat.press("Yes, delete")
    assert done.text.startswith("Done. I deleted everything")
    chat.last = confirm + chat.last
    await chat.say("/done")  # a new profile
    chat.last = confirm
    [again] = await chat.press("Yes, delete")
    assert again.topic == "expired"  # the old confirmation does not work a second time
    assert await store.get_profile(UserKey("test", "u1")) is not None


# -- personal replies never land in a group --------------------------------------------------------


@pytest.mark.parametrize("command", ["progress", "settings", "pain 4", "done", "forget", "export"])
async def test_personal_replies_go_to_the_private_chat(command: str) -> None:
    store = MemoryStore()
    key = UserKey("telegram", str(ANN))
    store.profiles[key] = Profile(key, "Ann", pain_consent=True)
    core = build_dialogue(store)
    async with FakeTelegramAPI() as fake, running(fake, core.turn):
        name, _, args = command.partition(" ")
        fake.command(ANN, name, args, chat_id=GROUP, chat_type="supergroup", addressed=True)
        await settle(fake, GROUP, 1)
        group = [m.text or "" for m in fake.messages_to(GROUP)]
        assert group == ["I've sent you that privately."]
        assert fake.messages_to(ANN), "the reply went to Ann's private chat"


async def test_no_private_chat_yet_gives_a_deep_link_and_no_data_in_the_group() -> None:
    core = build_dialogue(MemoryStore())
    async with FakeTelegramAPI() as fake, running(fake, core.turn):
        fake.fail_next("sendMessage", 1, status=403, description="Forbidden: bot can't initiate")
        fake.command(ANN, "progress", chat_id=GROUP, chat_type="supergroup", addressed=True)
        await settle(fake, GROUP, 1)
        [line] = [m.text or "" for m in fake.messages_to(GROUP)]
        assert f"https://t.me/{fake.username}?start=progress" in line
        assert "Pain" not in line and "session" not in line.lower()
        # The link opens the private chat with "/start progress": the progress it was for.
        fake.command(ANN, "start", "progress")
        await settle(fake, ANN, 1)
        assert "this week" in (fake.messages_to(ANN)[-1].text or "").lower()


async def test_unknown_commands_in_groups_are_ignored_unless_addressed() -> None:
    core = build_dialogue(MemoryStore())
    async with FakeTelegramAPI() as fake, running(fake, core.turn):
        for name in ("play", "ban", "shrug"):
            fake.command(ANN, name, chat_id=GROUP, chat_type="supergroup")
        await asyncio.sleep(0.5)
        assert fake.messages_to(GROUP) == []
        fake.command(ANN, "play", chat_id=GROUP, chat_type="supergroup", addressed=True)
        await settle(fake, GROUP, 1)
        assert "I don't know /play" in (fake.messages_to(GROUP)[0].text or "")


# -- retried updates --------------------------------------------------------------------------


async def test_a_duplicate_update_is_answered_once() -> None:
    store = MemoryStore()
    key = UserKey("telegram", str(ANN))
    store.profiles[key] = Profile(key, "Ann", pain_consent=True)
    core = build_dialogue(store)
    async with FakeTelegramAPI() as fake, running(fake, core.turn):
        update = fake.command(ANN, "pain", "5")
        fake._updates.append(dict(update))  # Telegram delivers the same update_id again
        fake._new_update.set()
        await settle(fake, ANN, 1)
        await asyncio.sleep(0.4)
        assert [m.text for m in fake.messages_to(ANN)].count(fake.messages_to(ANN)[0].text) == 1
    assert [p.score for p in store.pain[key]] == [5]


# -- secrets stay secret --------------------------------------------------------------------------


async def test_webhook_mode_at_debug_logs_neither_token_nor_derived_secret() -> None:
    buffer = io.StringIO()
    port = free_port()
    async with FakeTelegramAPI() as fake:
        settings = settings_for(
            fake, telegram_webhook_url=f"http://127.0.0.1:{port}/hook", port=port
        )
        handler = logging.StreamHandler(buffer)
        flt = setup_logging("DEBUG", settings.secrets())
        handler.addFilter(flt)
        root = logging.getLogger()
        root.addHandler(handler)
        try:
            async with running(
                fake,
                build_dialogue().turn,
                settings=settings.model_dump(),
                webhook_listen="127.0.0.1",
            ):
                [call] = fake.calls_of("setWebhook")
                secret = str(call.params["secret_token"])
                update = fake.private_message(ANN, "hi", queue=False)
                async with aiohttp.ClientSession() as http:
                    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                    async with http.post(
                        f"http://127.0.0.1:{port}/hook", json=update, headers=headers
                    ):
                        pass
                await settle(fake, ANN, 1)
        finally:
            root.removeHandler(handler)
            setup_logging("WARNING")
    log = buffer.getvalue()
    assert "setWebhook" in log  # PTB really logged the call at DEBUG
    token = settings.telegram_token.get_secret_value()  # type: ignore[union-attr]
    assert token not in log and secret not in log
    assert secret == settings.webhook_secret()


@pytest.mark.parametrize(
    "attack",
    [
        "[Verify here](https://evil.example/a)",
        "<a href='https://evil.example'>x</a>",
        "@everyone `code` **bold** ||spoiler||",
        "\u202eevil\u202c",
    ],
)
async def test_echoed_user_text_carries_no_markup(attack: str) -> None:
    from bot.adapters.discord import render_reply
    from bot.adapters.render import to_telegram_html

    chat = Chat(build_dialogue(MemoryStore()))
    await chat.say("/settings")
    await chat.press("Time zone")
    [reply] = await chat.say(attack)
    assert reply.topic == "timezone_unknown"
    discord_text = render_reply(reply)[0]["content"]
    for bad in ("](", "@everyone", "`", "||", "\u202e", "<a"):
        assert bad not in discord_text
    assert "<a " not in to_telegram_html(reply.text)


# -- export round-trips; storage faults are loud ---------------------------------------------------


async def test_export_holds_every_row_forget_deletes(tmp_path: Path) -> None:
    import json

    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    try:
        # More than the flood gate's burst of messages, in well under its window.
        chat = Chat(build_dialogue(store, flood=FloodGate(limit=100)), platform="telegram")
        await chat.say("/start")
        await chat.press("Beginner")
        await chat.press("Gym")
        await chat.say("4")
        await chat.press("Yes, store")
        await chat.press("Yes, remind me")
        await chat.say("Berlin")
        await chat.press("Yes, check in")
        await chat.say("/done")
        await chat.press("Too hard?")
        await chat.press(chat.last[0].buttons[0].label)  # that exercise one step easier
        await chat.say("/pain 3")
        # The weekly check-in rides on the week's first reminder: answer it.
        chat.last = [await chat.dialogue.reminder(UserKey("telegram", "u1"), chat.dialogue.clock())]
        for label in ("2", "A little", "4"):
            await chat.press(label)
        [export] = await chat.say("/export")
        assert export.document is not None and export.ephemeral
        data = json.loads(export.document[1])
        assert data["format"] == "backbot-export/1"
        assert [p["score"] for p in data["pain_scores"]] == [4, 3]
        assert data["user"]["equipment"] == "gym" and data["reminder_schedules"]
        assert data["user"]["checkin"] is True and len(data["progression_steps"]) == 1
        assert [(c["pain"], c["interference"], c["confidence"]) for c in data["checkins"]] == [
            (2, 1, 4)
        ]
        rows = sum(len(v) if isinstance(v, list) else 1 for k, v in data.items() if k != "format")
        deleted = await store.forget(UserKey("telegram", "u1"))
        assert deleted == rows
        assert await store.export(UserKey("telegram", "u1")) == {}
    finally:
        await store.close()


async def test_a_deleted_database_file_is_reported_not_silently_lost(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    store = await open_store(f"sqlite+aiosqlite:///{db}")
    try:
        chat = Chat(build_dialogue(store))
        [first] = await chat.say("/done")
        assert first.text.startswith("Logged")
        os.remove(db)
        [again] = await chat.say("/pain 4")
        assert again.topic == "storage_error" and "couldn't save" in again.text
    finally:
        await store.close()


async def test_pain_consent_is_asked_once_before_the_first_score() -> None:
    store = MemoryStore()
    chat = Chat(build_dialogue(store))
    [ask] = await chat.say("/pain 6")
    assert ask.topic == "consent" and "OK to store them?" in ask.text
    assert store.pain == {}
    [noted] = await chat.press("Yes, store")
    assert noted.text.startswith("Pain 6/10 noted.")
    [again] = await chat.say("/pain 2")
    assert again.text.startswith("Pain 2/10 noted.")  # asked once only
    other = Chat(build_dialogue(store), user="u2")
    await other.say("/pain 6")
    [no] = await other.press("No, don't")
    assert "won't store" in no.text and UserKey("test", "u2") not in store.pain


async def test_privacy_notice() -> None:
    chat = Chat(build_dialogue(MemoryStore()))
    [notice] = await chat.say("/privacy")
    assert "/export" in notice.text and "/forget" in notice.text and "pain" in notice.text
    [intro, _] = await chat.say("/start")
    assert "/privacy" in intro.text
    assert intro.kind == Kind.ONBOARDING


async def test_an_undeliverable_reminder_is_mentioned_the_next_time_they_write() -> None:
    store = MemoryStore()
    core = build_dialogue(store)
    chat = Chat(core)
    await core.note_undeliverable(UserKey("test", "u1"), NOON)
    replies = await chat.say("how long should I hold a plank")
    assert replies[-1].topic == "undelivered" and "/remind" in replies[-1].text
    again = await chat.say("how long should I hold a plank")
    assert all(r.topic != "undelivered" for r in again)


async def test_a_read_only_database_logs_one_line_per_tick_without_sql(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What SQLite raises on a read-only file, as the scheduler's tick meets it."""
    from sqlalchemy.exc import OperationalError

    from bot.config import Settings
    from bot.scheduler import ReminderScheduler

    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/ro.db")
    try:
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        sched = ReminderScheduler(settings, store, build_dialogue(store), {})

        async def readonly() -> None:
            raise OperationalError(
                "UPDATE deliveries SET status=? WHERE user_id = ?",
                ("sending", "secret-user-77"),
                Exception("attempt to write a readonly database"),
            )

        sched.tick = readonly  # type: ignore[method-assign,assignment]
        with caplog.at_level(logging.ERROR):
            await sched._run_tick()
        errors = [r for r in caplog.records if "reminder tick failed" in r.getMessage()]
        assert len(errors) == 1 and errors[0].exc_info is None
        assert "readonly database" in errors[0].getMessage()
        assert "UPDATE" not in caplog.text and "secret-user" not in caplog.text
    finally:
        await store.close()
