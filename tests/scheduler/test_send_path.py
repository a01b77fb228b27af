"""The send path under 429s, end to end: real python-telegram-bot and discord.py against the
loopback fakes, replies through the adapters, reminders through the scheduler on a real store.

A 429 for one chat pauses that chat only (the others are answered meanwhile, the limited one
gets everything afterwards, in order); a global one (Discord's global scope, or several
Telegram chats limited at once) pauses every send, replies and reminders alike. The adapters'
budgets get a sleep the test holds until it releases it, so "while the chat is paused" is a
state the test controls rather than a real wait.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.adapters.base import from_function
from bot.adapters.discord import DiscordAdapter
from bot.adapters.render import split_text, to_telegram_html
from bot.adapters.telegram import CHUNK_LIMIT, TelegramAdapter
from bot.app import build_dialogue
from bot.config import Settings
from bot.core.types import Address, Incoming, Reply
from bot.errors import TransientError
from bot.storage.store import SqlStore

from .conftest import WED_1800, MakeScheduler, deliveries, seed

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegramAPI

A, B, C, D = 7001, 7002, 7003, 7004
DISCORD_TOKEN = "MTAfake.discord.token-for-send-path_x9"


class HeldSleep:
    """An injected sleep that records what it was asked and returns once the test releases it."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.released = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await self.released.wait()


async def until(predicate: Callable[[], object], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met"
        await asyncio.sleep(0.01)


async def echo(incoming: Incoming) -> list[Reply]:
    """Two messages per turn, so a reply cut in half would show."""
    return [Reply(f"got {incoming.text}"), Reply(f"done {incoming.text}")]


@pytest.fixture
def held() -> HeldSleep:
    return HeldSleep()


def telegram_settings(fake: FakeTelegramAPI) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_token=fake.token,
        telegram_api_url=fake.url,
        telegram_webhook_url=None,
    )


@pytest.fixture
async def telegram(held: HeldSleep) -> AsyncIterator[tuple[FakeTelegramAPI, TelegramAdapter]]:
    async with FakeTelegramAPI() as fake:
        adapter = TelegramAdapter(telegram_settings(fake), from_function(echo), sleep=held)
        await adapter.start()
        try:
            yield fake, adapter
        finally:
            held.released.set()
            await adapter.stop()


@pytest.fixture
async def discord_bot(held: HeldSleep) -> AsyncIterator[tuple[FakeDiscord, DiscordAdapter]]:
    async with FakeDiscord(token=DISCORD_TOKEN) as fake:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            discord_token=DISCORD_TOKEN,
            discord_api_url=fake.api_url,
            discord_guild_id=None,
        )
        adapter = DiscordAdapter(
            settings, from_function(echo), guild_ready_timeout=0.05, ready_timeout=5, sleep=held
        )
        await adapter.start()
        try:
            yield fake, adapter
        finally:
            held.released.set()
            await adapter.stop()


def texts(fake: FakeTelegramAPI, chat: int) -> list[str | None]:
    return [m.text for m in fake.messages_to(chat)]


# ------------------------------------------------------------------ Telegram, replies


async def test_telegram_429_for_one_chat_pauses_only_that_chat(held: HeldSleep) -> None:
    """Through the real core (whose turns keep a user's replies in order): the limited chat
    gets every reply of both its messages, in the order it wrote them, after the others."""
    dialogue = build_dialogue()
    answered: list[tuple[Incoming, list[Reply]]] = []

    @asynccontextmanager
    async def handler(incoming: Incoming) -> AsyncIterator[list[Reply]]:
        async with dialogue.turn(incoming) as replies:
            answered.append((incoming, replies))
            yield replies

    def expected(chat: int) -> list[str]:
        return [
            to_telegram_html(chunk)
            for incoming, replies in answered
            if incoming.chat_id == str(chat)
            for r in replies
            for chunk in split_text(r.text, CHUNK_LIMIT)
        ]

    async with FakeTelegramAPI() as fake:
        adapter = TelegramAdapter(telegram_settings(fake), handler, sleep=held)
        await adapter.start()
        try:
            fake.rate_limit_chat(A, retry_after=2)
            fake.private_message(A, "how long should I hold a plank")
            await until(lambda: fake.rate_limited)
            fake.private_message(A, "what should I avoid with back pain")  # behind the pause
            fake.private_message(B, "hi")
            fake.command(C, "help")
            # A's second turn waits for its first, which is delivering inside its turn.
            await until(lambda: len(answered) == 3)
            await fake.wait_for_messages(len(expected(B)), chat_id=B)
            await fake.wait_for_messages(len(expected(C)), chat_id=C)
            # Both answered in full while A waits out its 429; A has nothing yet.
            assert texts(fake, B) == expected(B) and texts(fake, C) == expected(C)
            assert texts(fake, A) == [] and held.calls == [2.0]
            assert adapter.budget is not None and adapter.budget.global_pauses == 0

            held.released.set()
            await fake.wait_for_messages(len(expected(A)), chat_id=A)
            await asyncio.sleep(0.05)  # any surplus message would arrive now
            assert texts(fake, A) == expected(A) and len(expected(A)) >= 2
        finally:
            held.released.set()
            await adapter.stop()


async def test_telegram_several_chats_limited_at_once_pause_everyone(
    telegram: tuple[FakeTelegramAPI, TelegramAdapter], held: HeldSleep
) -> None:
    """Telegram never says a 429 is global; three chats limited within seconds is how its
    flood limit shows, so the fourth chat waits too."""
    fake, adapter = telegram
    for chat in (A, B, C):
        fake.rate_limit_chat(chat, retry_after=3)
        fake.private_message(chat, f"from {chat}")
    assert adapter.budget is not None
    await until(lambda: adapter.budget.global_pauses)  # type: ignore[union-attr]
    assert adapter.budget.global_pauses == 1 and len(fake.rate_limited) == 3
    fake.private_message(D, "me too")
    await asyncio.sleep(0.3)
    assert fake.sent == []  # D waits with everyone

    held.released.set()
    for chat in (A, B, C):
        await fake.wait_for_messages(2, chat_id=chat)
        assert texts(fake, chat) == [f"got from {chat}", f"done from {chat}"]
    await fake.wait_for_messages(2, chat_id=D)
    assert texts(fake, D) == ["got me too", "done me too"]


# ------------------------------------------------------------------ Telegram, reminders


async def test_telegram_reminder_429_pauses_only_that_chat_and_replies_go_on(
    store: SqlStore,
    make_scheduler: MakeScheduler,
    telegram: tuple[FakeTelegramAPI, TelegramAdapter],
    held: HeldSleep,
) -> None:
    fake, adapter = telegram
    limited, *others = [int(u) for u in await seed(store, 3, prefix="800")]
    fake.rate_limit_chat(limited, retry_after=5)
    tick = asyncio.create_task(make_scheduler(store, adapter.sender).tick(WED_1800))
    for chat in others:
        await fake.wait_for_messages(1, chat_id=chat)
    fake.private_message(B, "still there?")  # a reply during the pause: not held up
    await fake.wait_for_messages(2, chat_id=B)
    assert fake.messages_to(limited) == [] and not tick.done()

    held.released.set()
    stats = await tick
    assert (stats.sent, stats.retried, stats.failed) == (3, 1, 0)
    assert len(fake.messages_to(limited)) == 1
    assert {r["status"] for r in await deliveries(store)} == {"sent"}


async def test_telegram_reminders_wait_behind_a_global_pause_from_replies(
    store: SqlStore,
    make_scheduler: MakeScheduler,
    telegram: tuple[FakeTelegramAPI, TelegramAdapter],
    held: HeldSleep,
) -> None:
    fake, adapter = telegram
    for chat in (A, B, C):
        fake.rate_limit_chat(chat, retry_after=3)
        fake.private_message(chat, "hi")
    budget = adapter.budget
    assert budget is not None
    await until(lambda: budget.global_pauses)  # the replies' 429s escalated to a global pause
    ids = [int(u) for u in await seed(store, 2, prefix="900")]
    tick = asyncio.create_task(make_scheduler(store, adapter.sender).tick(WED_1800))
    await asyncio.sleep(0.3)
    assert fake.sent == [] and not tick.done()

    held.released.set()
    stats = await tick
    assert stats.sent == 2 and all(len(fake.messages_to(i)) == 1 for i in ids)
    for chat in (A, B, C):
        await fake.wait_for_messages(2, chat_id=chat)


# ------------------------------------------------------------------ Discord


async def test_discord_reply_429_for_one_channel_pauses_only_it(
    discord_bot: tuple[FakeDiscord, DiscordAdapter], held: HeldSleep
) -> None:
    """A long per-route 429 (more than discord.py sleeps through) pauses that DM only."""
    fake, adapter = discord_bot
    a_dm, b_dm = fake.dm_channel_id(A), fake.dm_channel_id(B)
    fake.inject_429(rf"/channels/{a_dm}/messages$", retry_after=60)
    await fake.dispatch_dm(A, "one")
    await until(lambda: held.calls)
    await fake.dispatch_dm(B, "hello")
    await fake.wait_for(lambda: len(fake.sent_to(b_dm)) >= 2)
    assert fake.sent_to(a_dm) == [] and adapter.budget.global_pauses == 0

    held.released.set()
    await fake.wait_for(lambda: len(fake.sent_to(a_dm)) >= 2)
    assert [s.content for s in fake.sent_to(a_dm)] == ["got one", "done one"]
    assert held.calls == [60.0]


async def test_discord_reminder_429_for_one_user_pauses_only_that_user(
    store: SqlStore,
    make_scheduler: MakeScheduler,
    discord_bot: tuple[FakeDiscord, DiscordAdapter],
    held: HeldSleep,
) -> None:
    fake, adapter = discord_bot
    limited, *others = await seed(store, 3, prefix="800", platform="discord")
    dm = fake.dm_channel_id(limited)
    fake.inject_429(rf"/channels/{dm}/messages$", retry_after=60)
    tick = asyncio.create_task(make_scheduler(store, adapter.sender).tick(WED_1800))
    for user in others:
        await fake.wait_for(lambda u=user: fake.sent_to(fake.dm_channel_id(u)))
    assert fake.sent_to(dm) == [] and not tick.done()

    held.released.set()
    stats = await tick
    assert (stats.sent, stats.retried) == (3, 1) and len(fake.sent_to(dm)) == 1


async def test_discord_global_429_on_a_reminder_pauses_replies_too(
    store: SqlStore,
    make_scheduler: MakeScheduler,
    discord_bot: tuple[FakeDiscord, DiscordAdapter],
    held: HeldSleep,
) -> None:
    fake, adapter = discord_bot
    [user] = await seed(store, 1, prefix="800", platform="discord")
    dm = fake.dm_channel_id(user)
    fake.inject_429(rf"/channels/{dm}/messages$", retry_after=60, scope="global")
    tick = asyncio.create_task(make_scheduler(store, adapter.sender).tick(WED_1800))
    await until(lambda: adapter.budget.global_pauses)
    await fake.dispatch_dm(B, "anyone?")
    await asyncio.sleep(0.3)
    assert fake.sent == []  # the reply waits for the global limit too

    held.released.set()
    assert (await tick).sent == 1
    await fake.wait_for(lambda: len(fake.sent_to(fake.dm_channel_id(B))) >= 2)
    assert len(fake.sent_to(dm)) == 1


async def test_discord_global_429_on_a_reply_pauses_reminders(
    store: SqlStore,
    make_scheduler: MakeScheduler,
    discord_bot: tuple[FakeDiscord, DiscordAdapter],
    held: HeldSleep,
) -> None:
    """A short global 429 discord.py sleeps through itself; the budget sees its headers and
    holds the reminder fan-out for it as well."""
    fake, adapter = discord_bot
    a_dm = fake.dm_channel_id(A)
    fake.inject_429(rf"/channels/{a_dm}/messages$", retry_after=0.2, scope="global")
    await fake.dispatch_dm(A, "one")
    await until(lambda: adapter.budget.global_pauses)
    users = await seed(store, 2, prefix="800", platform="discord")
    tick = asyncio.create_task(make_scheduler(store, adapter.sender).tick(WED_1800))
    await fake.wait_for(lambda: len(fake.sent_to(a_dm)) >= 1)  # discord.py retried it
    await asyncio.sleep(0.3)
    assert all(not fake.sent_to(fake.dm_channel_id(u)) for u in users) and not tick.done()

    held.released.set()
    assert (await tick).sent == 2


async def test_telegram_transport_maps_an_unreachable_api_to_a_transient_error() -> None:
    """The aiohttp transport under PTB: a refused connection is PTB's NetworkError, which the
    sender reports as TransientError (the scheduler retries it), with no token in the text."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_token="123:unreachable-token",
        telegram_api_url=f"http://127.0.0.1:{port}",
        telegram_webhook_url=None,
    )
    adapter = TelegramAdapter(settings, from_function(echo))
    with pytest.raises(TransientError) as err:
        await adapter.sender.send(Address("telegram", str(A)), Reply("Time to train!"))
    assert "unreachable-token" not in str(err.value)
    await adapter.sender.shutdown()


async def test_discord_exhausted_channel_route_is_held_until_reset(
    discord_bot: tuple[FakeDiscord, DiscordAdapter], held: HeldSleep
) -> None:
    """`X-RateLimit-Remaining: 0` on a channel's message route holds that channel only, for
    `X-RateLimit-Reset-After`, without counting as a 429."""
    fake, adapter = discord_bot
    a_dm, b_dm = fake.dm_channel_id(A), fake.dm_channel_id(B)
    fake.route_headers[a_dm] = {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": "4.5",
        "X-RateLimit-Bucket": "abc",
    }
    await adapter.sender.send(Address("discord", a_dm), Reply("Time to train!"))
    assert adapter.budget.paused(a_dm) and not adapter.budget.paused(b_dm)
    assert held.calls == [4.5] and adapter.budget.global_pauses == 0
    await fake.dispatch_dm(B, "hello")
    await fake.wait_for(lambda: len(fake.sent_to(b_dm)) >= 2)
    held.released.set()
    await until(lambda: not adapter.budget.paused(a_dm))
