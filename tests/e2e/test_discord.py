"""End-to-end tests: the real discord.py client, through the Discord adapter, against FakeDiscord.

The adapter is driven through the real dialogue core. Assertions do not hard-code wording: what
the fake received is compared with what a second, fresh core returns for the same Incoming
sequence, rendered the way the adapter renders it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import discord
import pytest
from pydantic import SecretStr

from bot import kb
from bot.adapters.base import from_function
from bot.adapters.discord import DiscordAdapter, render_reply
from bot.adapters.render import to_discord_markdown
from bot.app import build_dialogue
from bot.config import Settings
from bot.core.features import COMMANDS
from bot.core.ports import UserKey
from bot.core.types import Address, Button, Incoming, Kind, Reply
from bot.errors import Blocked, RateLimited, TransientError
from bot.logs import setup_logging
from bot.storage.memory import MemoryStore

# tests/ is not a package and pytest does not put the repo root on sys.path by itself.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fakes.discord_api import FakeDiscord, Sent

TOKEN = "MTAfake.discord.token-for-tests_x9"
USER = 555_000_000_000_000_001
OTHER = 555_000_000_000_000_002
ARGS = {"pain": {"score": 6}, "ask": {"question": "how long should I hold a plank?"}}
RED_FLAG = "I suddenly can't control my bladder and my back hurts, what exercise helps?"

Core = Callable[[Incoming], Awaitable[list[Reply]]]


def new_core() -> Core:
    """A fresh dialogue core: shipped knowledge base, in-memory store."""
    return build_dialogue().handle


def urgent_header() -> str:
    return kb.load(Settings(_env_file=None).knowledge_dir).safety.levels["emergency"].header  # type: ignore[call-arg]


@dataclass
class Recorder:
    """The handler the adapter gets: the real core, remembering every Incoming and its replies."""

    core: Core = field(default_factory=new_core)
    seen: list[tuple[Incoming, list[Reply]]] = field(default_factory=list)
    explode_on: str | None = None

    async def __call__(self, incoming: Incoming) -> list[Reply]:
        if self.explode_on and incoming.text == self.explode_on:
            raise RuntimeError(f"boom while holding {TOKEN}")
        replies = await self.core(incoming)
        self.seen.append((incoming, replies))
        return replies

    async def replay(self) -> list[list[Reply]]:
        """Feed the same Incoming sequence to a fresh core: what it should have said."""
        ref = new_core()
        return [await ref(inc) for inc, _ in self.seen]

    def last(self) -> tuple[Incoming, list[Reply]]:
        assert self.seen, "the adapter never called the handler"
        return self.seen[-1]


def contents(replies: list[Reply]) -> list[str]:
    """The message contents the adapter should produce for these replies."""
    return [kw.get("content", "") for r in replies for kw in render_reply(r)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as f:
        yield f


def make_adapter(fake: FakeDiscord, handler: Core, **settings: object) -> DiscordAdapter:
    # No .env file and an explicit guild id, so a developer's own settings cannot leak in.
    values: dict[str, object] = {"discord_guild_id": None, **settings}
    s = Settings(_env_file=None, discord_token=TOKEN, discord_api_url=fake.api_url, **values)  # type: ignore[arg-type,call-arg]
    return DiscordAdapter(s, from_function(handler), guild_ready_timeout=0.05, ready_timeout=5)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
async def adapter(fake: FakeDiscord, rec: Recorder) -> AsyncIterator[DiscordAdapter]:
    a = make_adapter(fake, rec)
    await a.start()
    yield a
    await a.stop()


async def assert_matches_reference(
    rec: Recorder, fake: FakeDiscord, received: Callable[[], list[Sent]]
) -> None:
    """What the fake received for the last Incoming equals a fresh core's rendered replies."""
    expected = contents((await rec.replay())[-1])
    assert expected, "the reference core had nothing to say"
    await fake.wait_for(lambda: len(received()) >= len(expected))
    await fake.settle(0.05)  # nothing extra may follow
    assert [s.content for s in received()] == expected


# ------------------------------------------------------------------------- messages
async def test_dm_question_gets_its_answer(
    fake: FakeDiscord, adapter: DiscordAdapter, rec: Recorder
) -> None:
    await fake.dispatch_dm(USER, "how long should I hold a plank?")
    await fake.wait_for(lambda: rec.seen)
    chan = fake.dm_channel_id(USER)
    incoming = rec.last()[0]
    assert incoming.platform == "discord" and incoming.user_id == str(USER)
    assert incoming.chat_id == chan and incoming.text == "how long should I hold a plank?"
    assert not incoming.is_group and incoming.mentioned
    await assert_matches_reference(rec, fake, lambda: fake.sent_to(chan))
    # discord.py asked for a zlib-compressed gateway and registered the shared command table.
    assert fake.gateway_query.get("compress") == "zlib-stream"
    assert sorted(c["name"] for c in fake.commands[None]) == sorted(c.name for c in COMMANDS)


async def test_red_flag_dm_gets_urgent_header_first(
    fake: FakeDiscord, adapter: DiscordAdapter, rec: Recorder
) -> None:
    await fake.dispatch_dm(USER, RED_FLAG)
    got = await fake.wait_for(lambda: fake.sent_to(fake.dm_channel_id(USER)))
    header = to_discord_markdown(urgent_header()).strip()
    assert header in got[0].content
    assert got[0].content.index(header) < 5  # first thing the person reads
    assert rec.last()[1][0].kind == Kind.RED_FLAG


async def test_guild_message_needs_a_mention(
    fake: FakeDiscord, adapter: DiscordAdapter, rec: Recorder
) -> None:
    await fake.dispatch_guild_message(USER, "how long should I hold a plank?")
    await fake.settle(0.3)
    assert fake.sent_to(fake.channel_id) == []
    incoming = rec.last()[0]
    assert incoming.is_group and not incoming.mentioned and incoming.text == ""

    await fake.dispatch_guild_message(USER, "how long should I hold a plank?", mention_bot=True)
    await fake.wait_for(lambda: fake.sent_to(fake.channel_id))
    incoming = rec.last()[0]
    assert incoming.is_group and incoming.mentioned
    assert incoming.text == "how long should I hold a plank?"  # the mention is stripped
    await assert_matches_reference(rec, fake, lambda: fake.sent_to(fake.channel_id))


async def test_bots_are_ignored(fake: FakeDiscord, adapter: DiscordAdapter, rec: Recorder) -> None:
    await fake.dispatch_dm(OTHER, "hello", bot=True)
    await fake.settle(0.3)
    assert rec.seen == [] and fake.sent == []


# ------------------------------------------------------------------- interactions
@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
async def test_slash_command_gets_interaction_response(
    fake: FakeDiscord, adapter: DiscordAdapter, rec: Recorder, name: str
) -> None:
    options = ARGS.get(name, {})
    iid = await fake.dispatch_command(USER, name, options)
    got = await fake.wait_for(lambda: fake.for_interaction(iid))
    incoming, replies = rec.last()
    expected_text = " ".join(["/" + name, *(str(v) for v in options.values())])
    assert incoming.text == expected_text
    assert got[0].via == "callback"
    if replies:
        await assert_matches_reference(rec, fake, lambda: fake.for_interaction(iid))
    else:
        assert got[0].callback_type == 5  # acknowledged, nothing said


async def first_with_buttons(fake: FakeDiscord, rec: Recorder) -> Sent:
    """Ask the core things that usually come with a next-step button until one does."""
    for text in ("/start", "/help", "/today", "how long should I hold a plank?"):
        await fake.dispatch_dm(USER, text)
        await fake.wait_for(lambda t=text: rec.seen and rec.seen[-1][0].text == t)  # type: ignore[misc]
        await fake.settle(0.2)
        with_buttons = [s for s in fake.sent if s.custom_ids]
        if with_buttons:
            return with_buttons[-1]
    raise AssertionError("the core offered no buttons for /start, /help, /today or a FAQ")


async def test_button_click_gets_reply(
    fake: FakeDiscord, adapter: DiscordAdapter, rec: Recorder
) -> None:
    msg = await first_with_buttons(fake, rec)
    custom_id = msg.custom_ids[0]
    assert custom_id.startswith("bb:") and len(custom_id) <= 100
    iid = await fake.dispatch_click(USER, msg, custom_id)
    await fake.wait_for(lambda: fake.for_interaction(iid))
    incoming, replies = rec.last()
    assert incoming.action == custom_id.removeprefix("bb:")
    if replies:
        await assert_matches_reference(rec, fake, lambda: fake.for_interaction(iid))


async def test_button_survives_restart(fake: FakeDiscord, rec: Recorder) -> None:
    first = make_adapter(fake, rec)
    await first.start()
    msg = await first_with_buttons(fake, rec)
    await first.stop()

    second = make_adapter(fake, rec)  # a new client: no view or state from the first one
    await second.start()
    try:
        assert fake.identify_count == 2
        iid = await fake.dispatch_click(USER, msg, msg.custom_ids[0])
        await fake.wait_for(lambda: fake.for_interaction(iid))
        assert rec.last()[0].action == msg.custom_ids[0].removeprefix("bb:")
    finally:
        await second.stop()


async def test_ephemeral_only_in_guild(fake: FakeDiscord) -> None:
    async def progress(incoming: Incoming) -> list[Reply]:
        return [Reply("**Streak**: 3", ephemeral=True, kind=Kind.PROGRESS, image=b"\x89PNG")]

    a = make_adapter(fake, progress)
    await a.start()
    try:
        iid = await fake.dispatch_command(USER, "progress", guild=True)
        guild_msg = (await fake.wait_for(lambda: fake.for_interaction(iid)))[0]
        iid = await fake.dispatch_command(USER, "progress")
        dm_msg = (await fake.wait_for(lambda: fake.for_interaction(iid)))[0]
    finally:
        await a.stop()
    assert guild_msg.flags & 64 and not dm_msg.flags & 64
    assert guild_msg.attachments == [{"filename": "progress.png", "size": 4}]


async def test_core_progress_ephemeral_in_guild(
    fake: FakeDiscord, adapter: DiscordAdapter, rec: Recorder
) -> None:
    iid = await fake.dispatch_command(USER, "progress", guild=True)
    got = await fake.wait_for(lambda: fake.for_interaction(iid))
    replies = rec.last()[1]
    assert replies, "the core said nothing to /progress"
    assert got[0].ephemeral == replies[0].ephemeral


async def test_long_text_is_split_and_buttons_go_last(fake: FakeDiscord) -> None:
    long = "\n\n".join(f"Paragraph {i}: " + "hold the plank " * 30 for i in range(10))

    async def chatty(incoming: Incoming) -> list[Reply]:
        return [Reply(long, buttons=(Button("More", "faq:plank"),))]

    a = make_adapter(fake, chatty)
    await a.start()
    try:
        await fake.dispatch_dm(USER, "tell me everything")
        await fake.wait_for(lambda: len(fake.sent) >= 3 and fake.sent[-1].custom_ids)
        got = list(fake.sent)
    finally:
        await a.stop()
    assert all(len(s.content) <= 2000 for s in got)
    assert [s.custom_ids for s in got][-1] == ["bb:faq:plank"]
    assert all(not s.custom_ids for s in got[:-1])


async def test_slow_core_defers_then_follows_up(fake: FakeDiscord) -> None:
    async def slow(incoming: Incoming) -> list[Reply]:
        await asyncio.sleep(0.3)
        return [Reply("done thinking")]

    a = make_adapter(fake, slow)
    a.defer_after = 0.05  # Discord allows 3 s; the adapter defers well before that
    await a.start()
    try:
        iid = await fake.dispatch_command(USER, "today")
        await fake.wait_for(lambda: len(fake.for_interaction(iid)) >= 2)
    finally:
        await a.stop()
    first, second = fake.for_interaction(iid)
    assert first.via == "callback" and first.callback_type == 5  # "thinking…"
    assert second.via == "followup" and second.content == "done thinking"


# ------------------------------------------------------------------ rate limits, sender
async def test_429_on_channel_send_is_retried(
    fake: FakeDiscord, adapter: DiscordAdapter, rec: Recorder
) -> None:
    path = rf"/channels/{fake.dm_channel_id(USER)}/messages$"
    fake.inject_429(path, retry_after=0.2)
    await fake.dispatch_dm(USER, "how long should I hold a plank?")
    got = await fake.wait_for(lambda: fake.sent_to(fake.dm_channel_id(USER)))
    posts = [
        p
        for m, p in fake.requests
        if m == "POST" and p.endswith(f"{fake.dm_channel_id(USER)}/messages")
    ]
    assert len(posts) >= 2  # the 429, then the retry that delivered
    assert got[0].content == contents(rec.last()[1])[0]


async def test_sender_blocked_when_dms_closed(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    fake.block_dms(OTHER)
    with pytest.raises(Blocked):
        await adapter.sender.send(Address("discord", str(OTHER)), Reply("Time to train!"))
    with pytest.raises(Blocked):
        await adapter.sender.send(Address("discord", fake.dm_channel_id(OTHER)), Reply("Train!"))
    assert fake.sent == []


async def test_sender_opens_dm_for_a_user_id(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    assert adapter.sender.platform == "discord"
    reply = Reply("Time to **train**", buttons=(Button("Start", "today"),))
    await adapter.sender.send(Address("discord", str(OTHER)), reply)
    got = fake.sent_to(fake.dm_channel_id(OTHER))
    assert [s.content for s in got] == contents([reply])
    assert got[0].custom_ids == ["bb:today"]
    assert ("POST", "/api/v10/users/@me/channels") in fake.requests
    # The second reminder goes straight to the remembered DM channel: no failed lookup first.
    before = list(fake.requests)
    await adapter.sender.send(Address("discord", str(OTHER)), Reply("Again"))
    new = fake.requests[len(before) :]
    assert new == [("POST", f"/api/v10/channels/{fake.dm_channel_id(OTHER)}/messages")]


async def test_sender_rate_limits(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    """A short 429 (< 30 s) is slept through by discord.py and the send succeeds; a long one
    raises RateLimited(retry_after) at once so the scheduler can reschedule."""
    chat = str(fake.channel_id)
    fake.inject_429(rf"/channels/{chat}/messages$", retry_after=0.1)
    await adapter.sender.send(Address("discord", chat), Reply("short wait"))
    assert [s.content for s in fake.sent_to(chat)] == ["short wait"]

    fake.inject_429(rf"/channels/{chat}/messages$", retry_after=60)
    with pytest.raises(RateLimited) as err:
        await adapter.sender.send(Address("discord", chat), Reply("long wait"))
    assert err.value.retry_after == 60
    assert [s.content for s in fake.sent_to(chat)] == ["short wait"]


async def test_sender_server_error_is_transient(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    chat = str(fake.channel_id)
    # 503 is not in discord.py's own retry set (500/502/504/524), so it surfaces at once.
    fake.inject("POST", rf"/channels/{chat}/messages$", 503, body={"message": "unavailable"})
    with pytest.raises(TransientError):
        await adapter.sender.send(Address("discord", chat), Reply("later"))
    await adapter.sender.send(Address("discord", chat), Reply("later"))  # and then it works
    assert [s.content for s in fake.sent_to(chat)] == ["later"]


# ------------------------------------------------------------------------- errors, logs
async def test_token_never_logged_and_errors_apologise(fake: FakeDiscord) -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    root = logging.getLogger()
    old_level = root.level
    collector = Collect(logging.DEBUG)
    collector.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root.addHandler(collector)
    httpx_level = logging.getLogger("httpx").level
    setup_logging("DEBUG", secrets=[TOKEN])
    rec = Recorder(explode_on="explode")
    a = make_adapter(fake, rec)
    try:
        await a.start()
        await fake.dispatch_dm(USER, "explode")
        got = await fake.wait_for(lambda: fake.sent_to(fake.dm_channel_id(USER)))
        await fake.settle(0.1)
    finally:
        await a.stop()
        root.removeHandler(collector)
        root.setLevel(old_level)
        logging.getLogger("httpx").setLevel(httpx_level)
    assert len(got) == 1 and got[0].content  # a short apology, not silence
    assert any("discord.http" in r for r in records)  # DEBUG capture really worked
    assert any("RuntimeError" in r for r in records)  # the error hook logged the traceback
    assert not [r for r in records if TOKEN in r]


async def test_wrong_token_fails_start(fake: FakeDiscord) -> None:
    a = make_adapter(fake, Recorder())
    a.settings = a.settings.model_copy(update={"discord_token": SecretStr("wrong-token")})
    with pytest.raises(discord.LoginFailure):
        await a.start()
    await a.stop()


async def test_guild_sync(fake: FakeDiscord, rec: Recorder) -> None:
    a = make_adapter(fake, rec, discord_guild_id=fake.guild_id)
    await a.start()
    await a.stop()
    names = {c["name"]: c for c in fake.commands[fake.guild_id]}
    assert set(names) == {c.name for c in COMMANDS}
    pain = names["pain"]["options"][0]
    assert pain["name"] == "score" and pain["type"] == 4
    assert (pain["min_value"], pain["max_value"]) == (0, 10)
    assert names["ask"]["options"][0]["name"] == "question"


async def test_someone_elses_button_in_a_server_gets_a_private_notice(fake: FakeDiscord) -> None:
    """In a server channel, OTHER clicks USER's button: only OTHER sees the notice, and the
    core changes nothing for either of them."""
    store = MemoryStore()
    core = build_dialogue(store)
    a = DiscordAdapter(
        Settings(
            _env_file=None, discord_token=TOKEN, discord_api_url=fake.api_url, discord_guild_id=None
        ),  # type: ignore[call-arg]
        core.turn,
        guild_ready_timeout=0.05,
        ready_timeout=5,
    )
    await a.start()
    try:
        first = await fake.dispatch_command(USER, "settings", guild=True)
        [msg] = await fake.wait_for(lambda: fake.for_interaction(first))
        assert msg.ephemeral and msg.custom_ids  # USER's settings: only USER sees them
        iid = await fake.dispatch_click(OTHER, msg, msg.custom_ids[0], guild=True)
        await fake.wait_for(lambda: fake.for_interaction(iid))
        [notice] = fake.for_interaction(iid)
        assert notice.ephemeral and "for the person it was shown to" in notice.content
        assert UserKey("discord", str(OTHER)) not in store.profiles
        assert store.conversations.get(UserKey("discord", str(OTHER))) is None
    finally:
        await a.stop()
