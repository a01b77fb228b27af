"""One user's turns never interleave: through the Telegram fake with PTB's concurrent updates
on, on SQLite and on PostgreSQL (when TEST_DATABASE_URL is set), and across two bot instances
sharing one database.

The expected outcome of each test is the same messages fed one at a time, in the order each
user sent them, to a fresh core: the replies each chat receives and every user's final state
must be exactly that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.adapters.telegram import CONCURRENT_UPDATES, TelegramAdapter
from bot.app import build_dialogue
from bot.core.dialogue import Dialogue
from bot.core.ports import Profile, Store, UserKey
from bot.core.types import Incoming, Reply
from bot.storage.memory import MemoryStore
from bot.storage.store import SqlStore
from tests.e2e.test_telegram import as_received, expected_messages, settings_for
from tests.fakes.telegram_api import FakeTelegramAPI, SentMessage
from tests.storage.conftest import backend, empty_engine, store  # noqa: F401 (fixtures)

USERS = [5101, 5102, 5103, 5104, 5105]
Step = tuple[str, str]  # ("say", text) or ("press", callback data)


def script(k: int) -> list[Step]:
    """Ten updates of user k: setup by buttons and words, a pain score in two messages, and
    three settings buttons pressed in a row (the last equipment must win)."""
    return [
        ("say", "/start"),
        ("press", "f:onboarding:level:advanced"),
        ("say", "gym"),
        ("say", "about a 4"),
        ("press", "f:onboarding:reminders:no"),
        ("say", "/pain"),
        ("say", str(k + 3)),
        ("press", "f:settings:equipment:gym"),
        ("press", "f:settings:level:intermediate"),
        ("press", "f:settings:equipment:none"),
    ]


SIGNER = build_dialogue().buttons  # every test core shares the test button key (conftest)


def incoming(uid: int, step: Step) -> Incoming:
    kind, value = step
    if kind == "press":
        value = SIGNER.sign(UserKey("telegram", str(uid)), value)
    return Incoming(
        "telegram",
        str(uid),
        str(uid),
        text=value if kind == "say" else "",
        action=value if kind == "press" else None,
        display_name="Ann",
    )


async def state_of(db: Store, uid: int) -> dict[str, Any]:
    key = UserKey("telegram", str(uid))
    p = await db.get_profile(key)
    conv = await db.get_conversation(key)
    return {
        "profile": (p.level, p.equipment, p.onboarded) if p else None,
        "pain": [e.score for e in await db.pain_since(key, datetime(2000, 1, 1, tzinfo=UTC))],
        "sessions": await db.session_days(key, date(2000, 1, 1)),
        "flows": [(f.flow, f.step) for f in conv.frames],
    }


async def sequential(
    scripts: dict[int, list[Step]],
) -> tuple[dict[int, list[Reply]], dict[int, Any]]:
    """The reference: each user's messages one at a time, on a fresh in-memory core."""
    ref_store = MemoryStore()
    await consented(ref_store, list(scripts))
    core = build_dialogue(ref_store)
    replies: dict[int, list[Reply]] = {}
    for uid, steps in scripts.items():
        replies[uid] = [r for s in steps for r in await core.handle(incoming(uid, s))]
    return replies, {uid: await state_of(ref_store, uid) for uid in scripts}


@asynccontextmanager
async def telegram(fake: FakeTelegramAPI, core: Dialogue) -> AsyncIterator[TelegramAdapter]:
    adapter = TelegramAdapter(settings_for(fake), core.turn, rate_limit=False)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


async def consented(db: Store, uids: list[int]) -> None:
    """Users who agreed to pain scores being stored (the consent question is tested apart)."""
    for uid in uids:
        key = UserKey("telegram", str(uid))
        await db.save_profile(Profile(key, "Ann", pain_consent=True))


def stub(uid: int) -> SentMessage:
    """The bot message a button press refers to (the fake needs one; its content is unused)."""
    return SentMessage("sendMessage", uid, "…", None, None, False, 1)


async def test_fifty_interleaved_updates_of_five_users(store: SqlStore) -> None:  # noqa: F811
    assert CONCURRENT_UPDATES > 1  # PTB runs updates concurrently: the ordering is ours
    scripts = {uid: script(k) for k, uid in enumerate(USERS)}
    want_replies, want_state = await sequential(scripts)
    await consented(store, USERS)
    core = build_dialogue(store)
    async with FakeTelegramAPI() as fake, telegram(fake, core):
        # Round robin, all queued before the bot's next getUpdates: one batch of 50.
        for i in range(10):
            for uid in USERS:
                kind, value = scripts[uid][i]
                if kind == "press":
                    data = SIGNER.sign(UserKey("telegram", str(uid)), value)
                    fake.callback_query(uid, data, message=stub(uid))
                elif value.startswith("/"):
                    name, _, args = value[1:].partition(" ")
                    fake.command(uid, name, args)
                else:
                    fake.private_message(uid, value)
        for uid in USERS:
            n = len(expected_messages(want_replies[uid]))
            await fake.wait_for_messages(n, chat_id=uid, timeout=60)
        await asyncio.sleep(0.1)  # any surplus message would arrive now
        for uid in USERS:
            got = as_received(fake.messages_to(uid))
            assert got == expected_messages(want_replies[uid]), f"user {uid}"
    for uid in USERS:
        assert await state_of(store, uid) == want_state[uid], f"user {uid}"
    # The last equipment pressed won, and the level pressed in between was not undone.
    assert want_state[USERS[0]]["profile"] == ("intermediate", "none", True)
    assert [r.text for r in want_replies[USERS[0]]][-3:] == [
        "Equipment: gym. Saved.",
        "Level: intermediate. Saved.",
        "Equipment: no equipment. Saved.",
    ]


async def test_two_instances_on_one_database_take_turns(store: SqlStore) -> None:  # noqa: F811
    """Instance B waits for the lease instance A holds for the same user, and goes on once
    A's turn (replies delivered) is over; another user is never held up."""
    await consented(store, USERS[:1])
    a, b = build_dialogue(store), build_dialogue(store)
    assert a.order.holder != b.order.holder
    async with a.turn(incoming(USERS[0], ("say", "/pain"))) as asked:
        assert "0 (no pain) to 10" in asked[0].text
        waiting = asyncio.create_task(b.handle(incoming(USERS[0], ("say", "6"))))
        other = await asyncio.wait_for(b.handle(incoming(USERS[1], ("say", "/help"))), 5)
        assert other  # a different user goes straight through
        await asyncio.sleep(0.3)
        assert not waiting.done()  # held by A's lease
    noted = await asyncio.wait_for(waiting, 10)
    assert noted[0].text.startswith("Pain 6/10 noted.")


@pytest.mark.parametrize("first", ["/pain", "5"])
async def test_pain_then_score_sent_together_in_one_process(first: str) -> None:
    """The original bug: /pain and 5 together were answered in the wrong order."""
    db = MemoryStore()
    await consented(db, USERS[:1])
    core = build_dialogue(db)
    uid = USERS[0]
    texts = ["/pain", "5"] if first == "/pain" else ["5", "/pain"]
    results = await asyncio.gather(*(core.handle(incoming(uid, ("say", t))) for t in texts))
    replies = [r.text for rs in results for r in rs]
    if first == "/pain":
        assert "0 (no pain) to 10" in replies[0] and replies[1].startswith("Pain 5/10 noted.")
    else:
        assert replies[0] == "Did you mean a pain score of 5/10?" and "0 (no pain)" in replies[1]
