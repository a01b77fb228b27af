"""End to end: the real python-telegram-bot Application against the loopback fake Bot API.

Each exchange is checked against a second, fresh dialogue fed the same Incoming messages: the
adapter must deliver exactly what the core says, rendered for Telegram, whatever the wording.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import kb
from bot.adapters.base import from_function
from bot.adapters.render import TELEGRAM_LIMIT, split_text, to_telegram_html
from bot.adapters.telegram import APOLOGY, CHUNK_LIMIT, TelegramAdapter
from bot.app import build_dialogue
from bot.config import Settings
from bot.core.dialogue import Dialogue
from bot.core.features import COMMANDS
from bot.core.types import Address, Button, Incoming, Reply
from bot.errors import Blocked, RateLimited, TransientError
from bot.logs import RedactingFilter, setup_logging

try:
    from tests.fakes.telegram_api import FakeTelegramAPI, SentMessage
except ModuleNotFoundError:  # pytest puts tests/e2e, not the project root, on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.fakes.telegram_api import FakeTelegramAPI, SentMessage

Handler = Callable[[Incoming], Awaitable[list[Reply]]]
USER = 4242
GROUP = -100777


# -- the core under test ---------------------------------------------------------------------


def build() -> Dialogue:
    """A fresh core: shipped knowledge base, in-memory store."""
    return build_dialogue()


def urgent_header() -> str:
    return kb.load(Settings(_env_file=None).knowledge_dir).safety.levels["emergency"].header  # type: ignore[call-arg]


class Recorder:
    """Wraps a handler and keeps every Incoming the adapter produced."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.seen: list[Incoming] = []

    async def __call__(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        return await self.handler(incoming)

    def in_chat(self, chat_id: int) -> list[Incoming]:
        return [i for i in self.seen if i.chat_id == str(chat_id)]


def expected_messages(replies: list[Reply]) -> list[tuple[str | None, list[tuple[str, str]], bool]]:
    """What Telegram should receive for these replies: (html text, buttons, is photo)."""
    out: list[tuple[str | None, list[tuple[str, str]], bool]] = []
    for r in replies:
        chunks = [to_telegram_html(c) for c in split_text(r.text, CHUNK_LIMIT)]
        buttons = [(b.label, b.action) for b in r.buttons]
        if r.image is not None:
            if len(chunks) <= 1 and len(r.text) <= 1024:
                out.append((chunks[0] if chunks else None, buttons, True))
                continue
            out.append((None, [], True))
        out += [(c, buttons if i == len(chunks) - 1 else [], False) for i, c in enumerate(chunks)]
    return out


def as_received(
    messages: list[SentMessage],
) -> list[tuple[str | None, list[tuple[str, str]], bool]]:
    return [(m.text, m.buttons, m.photo) for m in messages]


async def replay(
    incomings: list[Incoming], wrap: Callable[[Handler], Handler] | None = None
) -> list[Reply]:
    """Feed the same messages to a fresh dialogue; return everything it answers."""
    handler: Handler = build().handle
    if wrap is not None:
        handler = wrap(handler)
    replies: list[Reply] = []
    for incoming in incomings:
        got = await handler(incoming)
        if incoming.is_group:  # what the group sees: personal replies go to a private chat
            public = [r for r in got if not r.ephemeral]
            got = public + ([Reply("I've sent you that privately.")] if public != got else [])
        replies += got
    return replies


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


async def exchange(
    fake: FakeTelegramAPI,
    rec: Recorder,
    chat_id: int,
    inject: Callable[[], object],
    wrap: Callable[[Handler], Handler] | None = None,
) -> tuple[Incoming, list[SentMessage]]:
    """Inject an update, check the whole conversation in that chat matches the core's replies."""
    seen, sent = len(rec.in_chat(chat_id)), len(fake.messages_to(chat_id))
    inject()
    await wait_until(lambda: len(rec.in_chat(chat_id)) > seen)
    expected = expected_messages(await replay(rec.in_chat(chat_id), wrap))
    await fake.wait_for_messages(len(expected), chat_id=chat_id)
    await asyncio.sleep(0.05)  # let any surplus message arrive, so the comparison sees it
    assert as_received(fake.messages_to(chat_id)) == expected
    assert all(m.parse_mode == "HTML" for m in fake.messages_to(chat_id) if m.text)
    return rec.in_chat(chat_id)[-1], fake.messages_to(chat_id)[sent:]


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


def settings_for(fake: FakeTelegramAPI, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": fake.token,
        "telegram_api_url": fake.url + "/",
        "telegram_webhook_url": None,
        "telegram_webhook_secret": None,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running(
    fake: FakeTelegramAPI, handler: Handler, **kw: Any
) -> AsyncIterator[TelegramAdapter]:
    settings = settings_for(fake, **kw.pop("settings", {}))
    adapter = TelegramAdapter(settings, from_function(handler), **kw)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


@pytest.fixture
async def bot(fake: FakeTelegramAPI) -> AsyncIterator[Recorder]:
    rec = Recorder(build().handle)
    async with running(fake, rec):
        yield rec


# -- conversations ------------------------------------------------------------------------


async def test_start_sets_commands_and_answers(fake: FakeTelegramAPI, bot: Recorder) -> None:
    assert [c["command"] for c in fake.commands] == [c.name for c in COMMANDS]
    assert fake.calls_of("deleteWebhook"), "polling must remove a webhook first"
    incoming, sent = await exchange(fake, bot, USER, lambda: fake.command(USER, "start"))
    assert incoming.text == "/start" and incoming.user_id == str(USER) and not incoming.is_group
    assert incoming.display_name == "Ann"
    assert sent


async def test_free_text_question(fake: FakeTelegramAPI, bot: Recorder) -> None:
    text = "how long should I hold a plank"
    incoming, sent = await exchange(fake, bot, USER, lambda: fake.private_message(USER, text))
    assert incoming.text == text and incoming.action is None
    assert sent and all(m.text for m in sent)


async def test_red_flag_gets_urgent_header_first(fake: FakeTelegramAPI, bot: Recorder) -> None:
    text = "my back hurts and I can't control my bladder"
    _, sent = await exchange(fake, bot, USER, lambda: fake.private_message(USER, text))
    header = to_telegram_html(urgent_header().strip())
    assert sent[0].text is not None and sent[0].text.startswith(header.split("\n")[0])


async def test_button_press_is_answered(fake: FakeTelegramAPI, bot: Recorder) -> None:
    ask = "how long should I hold a plank"
    _, sent = await exchange(fake, bot, USER, lambda: fake.private_message(USER, ask))
    with_buttons = [m for m in sent if m.buttons]
    assert with_buttons, "the answer should offer a next step"
    label, data = with_buttons[-1].buttons[0]
    update: dict[str, Any] = {}
    incoming, pressed = await exchange(
        fake,
        bot,
        USER,
        lambda: update.update(fake.callback_query(USER, data, message=with_buttons[-1])),
    )
    assert incoming.action == data and incoming.text == ""
    assert pressed, f"pressing {label!r} got no answer"
    await wait_until(lambda: update["callback_query"]["id"] in fake.answered_callbacks)


async def test_today_workout(fake: FakeTelegramAPI, bot: Recorder) -> None:
    incoming, sent = await exchange(fake, bot, USER, lambda: fake.command(USER, "today"))
    assert incoming.text == "/today" and sent


async def test_group_needs_a_mention(fake: FakeTelegramAPI, bot: Recorder) -> None:
    fake.group_message(GROUP, USER, "how long should I hold a plank")
    await wait_until(lambda: len(bot.in_chat(GROUP)) == 1)
    quiet = bot.in_chat(GROUP)[0]
    assert quiet.is_group and not quiet.mentioned
    await asyncio.sleep(0.2)
    fake.sticker(USER, chat_id=GROUP, chat_type="supergroup")
    await asyncio.sleep(0.2)
    assert fake.messages_to(GROUP) == []
    assert len(bot.in_chat(GROUP)) == 1, "a sticker in a group is not passed to the core"

    incoming, sent = await exchange(
        fake,
        bot,
        GROUP,
        lambda: fake.group_message(GROUP, USER, "how long should I hold a plank", mention=True),
    )
    assert incoming.is_group and incoming.mentioned
    assert incoming.text == "how long should I hold a plank"  # the @botname is stripped
    assert sent

    # A personal reply (today's plan follows the user's pain scores) goes to their private
    # chat; the group is told where it went.
    in_group, in_private = len(fake.messages_to(GROUP)), len(fake.messages_to(USER))
    fake.command(USER, "today", chat_id=GROUP, chat_type="group", addressed=True)
    await fake.wait_for_messages(in_group + 1, chat_id=GROUP)
    await fake.wait_for_messages(in_private + 1, chat_id=USER)
    incoming = bot.in_chat(GROUP)[-1]
    assert incoming.mentioned and incoming.text == "/today"
    assert (fake.messages_to(USER)[-1].text or "").startswith("<b>Today:")
    assert fake.messages_to(GROUP)[-1].text == "I've sent you that privately."

    answer = fake.bot_message(sent[-1])
    incoming, _ = await exchange(
        fake,
        bot,
        GROUP,
        lambda: fake.group_message(GROUP, USER, "what about side planks", reply_to=answer),
    )
    assert incoming.mentioned and incoming.text == "what about side planks", (
        "a reply to the bot is addressed to it"
    )

    before = len(fake.messages_to(GROUP))
    fake.enqueue(
        {
            "message": fake.message(
                user_id=USER, text="/today@other_bot", chat_id=GROUP, chat_type="group"
            )
        }
    )
    seen = len(bot.in_chat(GROUP))
    await asyncio.sleep(0.3)
    assert len(bot.in_chat(GROUP)) == seen, "a command for another bot is not for us"
    assert len(fake.messages_to(GROUP)) == before


def _make_long(handler: Handler) -> Handler:
    async def long(incoming: Incoming) -> list[Reply]:
        replies = await handler(incoming)
        extra = "\n\n".join(f"Paragraph {i}: keep a neutral spine & brace." * 3 for i in range(40))
        return [Reply(replies[0].text + "\n\n" + extra, buttons=replies[0].buttons), *replies[1:]]

    return long


def visible(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


async def test_long_answer_is_split(fake: FakeTelegramAPI) -> None:
    rec = Recorder(_make_long(build().handle))
    async with running(fake, rec):
        ask = lambda: fake.private_message(USER, "how long should I hold a plank")  # noqa: E731
        _, sent = await exchange(fake, rec, USER, ask, wrap=_make_long)
    long = [m.text or "" for m in sent if "Paragraph" in (m.text or "")]
    assert len(long) == 2, "a >4096-character reply arrives in two messages"
    assert "Paragraph 0:" in long[0] and "Paragraph 39:" in long[1]
    # Telegram counts the limit on the visible text, after HTML entities are parsed.
    assert all(len(visible(m.text or "")) <= TELEGRAM_LIMIT for m in sent)
    assert sum(len(visible(t)) for t in long) > TELEGRAM_LIMIT


async def test_typing_shown_when_slow(fake: FakeTelegramAPI) -> None:
    async def slow(incoming: Incoming) -> list[Reply]:
        await asyncio.sleep(0.6)
        return [Reply("done")]

    async with running(fake, slow):
        fake.private_message(USER, "hi")
        await fake.wait_for_messages(1)
    assert (USER, "typing") in fake.chat_actions


async def test_sticker_gets_friendly_reply_and_edits_are_ignored(
    fake: FakeTelegramAPI, bot: Recorder
) -> None:
    incoming, sent = await exchange(fake, bot, USER, lambda: fake.sticker(USER))
    assert incoming.text == "" and incoming.action is None and sent
    fake.edited_message(USER, "how long should I hold a plank")
    fake.private_message(USER, "/help")
    await wait_until(lambda: len(bot.in_chat(USER)) == 2)
    assert [i.text for i in bot.in_chat(USER)] == ["", "/help"]


async def test_buttons_layout_and_photo(fake: FakeTelegramAPI) -> None:
    long_action = "faq:" + "x" * 80
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64

    async def rich(incoming: Incoming) -> list[Reply]:
        short = (Button("Yes", "forget:yes"), Button("No", "forget:no"), Button("Later", "later"))
        wide = (Button("A much longer label than fits twice", long_action), Button("Help", "help"))
        return [
            Reply("Pick **one**", buttons=short),
            Reply("Or this", buttons=wide),
            Reply("Your week", image=png, buttons=(Button("Today", "today"),)),
        ]

    async with running(fake, rich):
        fake.private_message(USER, "show me")
        short, wide, photo = await fake.wait_for_messages(3)
    rows = [[b["callback_data"] for b in row] for row in short.reply_markup["inline_keyboard"]]  # type: ignore[index]
    assert rows == [["forget:yes", "forget:no"], ["later"]]
    assert short.text == "Pick <b>one</b>"
    wide_rows = wide.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert [len(row) for row in wide_rows] == [1, 1]
    assert wide_rows[0][0]["callback_data"] == long_action[:64]
    assert photo.method == "sendPhoto" and photo.photo and photo.text == "Your week"
    assert photo.buttons == [("Today", "today")]


# -- errors -------------------------------------------------------------------------------


async def test_rate_limiter_retries_a_reply_after_429(fake: FakeTelegramAPI) -> None:
    rec = Recorder(build().handle)
    async with running(fake, rec, max_retries=2):
        fake.rate_limit_next("sendMessage", retry_after=1)
        await exchange(fake, rec, USER, lambda: fake.command(USER, "help"))
    assert len(fake.calls_of("sendMessage")) == len(fake.sent) + 1


@pytest.mark.parametrize(
    ("status", "description", "params", "error"),
    [
        (429, "Too Many Requests: retry after 7", {"retry_after": 7}, RateLimited),
        (403, "Forbidden: bot was blocked by the user", {}, Blocked),
        (400, "Bad Request: chat not found", {}, Blocked),
        (502, "Bad Gateway", {}, TransientError),
    ],
)
async def test_sender_maps_errors(
    fake: FakeTelegramAPI,
    status: int,
    description: str,
    params: dict[str, Any],
    error: type[Exception],
) -> None:
    adapter = TelegramAdapter(settings_for(fake), build().turn)
    try:
        fake.fail_next("sendMessage", status=status, description=description, **params)
        with pytest.raises(error) as info:
            await adapter.sender.send(Address("telegram", str(USER)), Reply("Time to train!"))
        if isinstance(info.value, RateLimited):
            assert info.value.retry_after == 7
        await adapter.sender.send(Address("telegram", str(USER)), Reply("Time to **train**!"))
    finally:
        await adapter.sender.shutdown()
    assert as_received(fake.sent) == [("Time to <b>train</b>!", [], False)]


async def test_handler_failure_apologises_and_logs_no_token(fake: FakeTelegramAPI) -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    async def broken(incoming: Incoming) -> list[Reply]:
        if "boom" in incoming.text:
            raise RuntimeError(f"handler failed for {incoming.text}")
        return await core.handle(incoming)

    core = build()
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    saved = root.level, httpx_logger.level
    collect = Collect()
    collect.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root.addHandler(collect)
    settings = settings_for(fake)
    try:
        setup_logging("DEBUG", secrets=settings.secrets())
        httpx_logger.setLevel(logging.DEBUG)  # the noisiest logger that prints URLs: keep it on
        async with running(fake, broken):
            fake.private_message(USER, "boom")
            [apology] = await fake.wait_for_messages(1)
            fake.command(USER, "help")
            await fake.wait_for_messages(2)
    finally:
        root.removeHandler(collect)
        for h in root.handlers:
            for f in [f for f in h.filters if isinstance(f, RedactingFilter)]:
                h.removeFilter(f)
        root.setLevel(saved[0])
        httpx_logger.setLevel(saved[1])
    assert apology.text == APOLOGY
    assert fake.token_requests > 0
    assert any("handler failed for boom" in r for r in records), "the failure is logged"
    assert any("[REDACTED]" in r for r in records), "URLs with the token were logged, redacted"
    assert not [r for r in records if fake.token in r]


async def test_wrong_token_fails_without_printing_it(fake: FakeTelegramAPI) -> None:
    settings = settings_for(fake, telegram_token="111111111:WrongTokenWrongTokenWrongToken_xyz")
    adapter = TelegramAdapter(settings, build().turn)
    with pytest.raises(Exception) as info:
        await adapter.start()
    assert "WrongToken" not in str(info.value) and "TELEGRAM_TOKEN" in str(info.value)
    assert fake.rejected_requests >= 1
    await adapter.stop()


# -- webhook mode -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode(fake: FakeTelegramAPI) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    rec = Recorder(build().handle)
    extra = {"telegram_webhook_url": hook, "port": port}
    async with running(fake, rec, settings=extra, webhook_listen="127.0.0.1"):
        [call] = fake.calls_of("setWebhook")
        secret = call.params.get("secret_token")
        assert call.params["url"] == hook and secret
        update = fake.private_message(USER, "how long should I hold a plank", queue=False)
        async with aiohttp.ClientSession() as http:
            async with http.post(hook, json=update) as resp:
                assert resp.status == 403  # no secret header: rejected
            headers = {"X-Telegram-Bot-Api-Secret-Token": str(secret)}
            async with http.post(hook, json=update, headers=headers) as resp:
                assert resp.status == 200
            await wait_until(lambda: len(rec.seen) == 1)
            expected = expected_messages(await replay(rec.seen))
            await fake.wait_for_messages(len(expected))
        assert as_received(fake.sent) == expected
        assert not fake.calls_of("getUpdates"), "webhook mode must not poll"
