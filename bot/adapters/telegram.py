"""Telegram adapter: python-telegram-bot Application ⇄ Incoming / Reply, polling or webhook.

A thin translator: Telegram updates become `Incoming`, the handler (the dialogue core) decides
what to say, and its `Reply`s are rendered to Telegram HTML, split and sent. Imported only when
TELEGRAM_TOKEN is set, so the rest of backbot never needs `telegram` at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import telegram
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.base import Handler
from bot.adapters.render import TELEGRAM_LIMIT, split_text, to_telegram_html
from bot.adapters.sending import TELEGRAM, Priority, SendBudget, Sleep
from bot.adapters.telegram_http import AiohttpRequest
from bot.config import Settings
from bot.core.features import COMMANDS
from bot.core.types import Address, Button, Incoming, Kind, Reply
from bot.errors import Blocked, ConfigError, RateLimited, SendError, TransientError

logger = logging.getLogger(__name__)
T = TypeVar("T")

PLATFORM = "telegram"
APOLOGY = "Sorry, something went wrong on my side. Please try again."
# Splitting counts plain characters; leave room so a chunk stays under the limit after entities.
CHUNK_LIMIT = TELEGRAM_LIMIT - 96
CAPTION_LIMIT = 1024
CALLBACK_DATA_BYTES = 64
SHORT_LABEL = 18  # labels up to this many characters go two to a row
# Answers end with source links; a preview card of the source would bury the answer.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
NO_PREVIEW_JSON = json.dumps(NO_PREVIEW.to_dict())
TYPING_AFTER = 0.4  # seconds without an answer before showing "typing…"
GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
# Measured with tests/bench/bench_telegram.py (fake Bot API in another process, 2 cores shared
# with other jobs, 3 runs each): an update costs 0.9-1.1 ms of this process's CPU, core included
# (900-1,100 updates/s on a free core); wall clock, 490-790 updates/s for a 2,000-update burst
# and an in-burst p99 of 420-820 ms for 500 queued updates. Earlier, over PTB's httpx transport,
# an update cost 3.7-4.7 ms against 2.0-2.9 ms over aiohttp (bot.adapters.telegram_http).
# 32 updates at once over 8 keep-alive connections: far more than Telegram's ~30 messages/s.
CONCURRENT_UPDATES = 32
CONNECTIONS = 8
POOL_TIMEOUT = 30.0  # seconds a send may wait for a free connection during a burst


def callback_data(action: str) -> str:
    """Telegram allows 64 bytes of callback data; longer actions are cut (and logged)."""
    raw = action.encode()
    if len(raw) <= CALLBACK_DATA_BYTES:
        return action
    logger.warning("button action longer than %s bytes, truncated: %r", CALLBACK_DATA_BYTES, action)
    return raw[:CALLBACK_DATA_BYTES].decode(errors="ignore")


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One row per button, or two per row when every label is short."""
    if not buttons:
        return None
    keys = [InlineKeyboardButton(b.label, callback_data=callback_data(b.action)) for b in buttons]
    return InlineKeyboardMarkup(_rows(keys, buttons))


def _rows(keys: list[T], buttons: tuple[Button, ...]) -> list[list[T]]:
    per_row = 2 if all(len(b.label) <= SHORT_LABEL for b in buttons) else 1
    return [keys[i : i + per_row] for i in range(0, len(keys), per_row)]


def keyboard_json(buttons: tuple[Button, ...]) -> str | None:
    """`keyboard(buttons)` as the JSON the Bot API receives, built without PTB's objects."""
    if not buttons:
        return None
    keys = [{"text": b.label, "callback_data": callback_data(b.action)} for b in buttons]
    return json.dumps({"inline_keyboard": _rows(keys, buttons)}, ensure_ascii=False)


async def send_text(bot: telegram.Bot, chat_id: int | str, html: str, markup: str | None) -> None:
    """sendMessage (HTML, no link preview) without turning Telegram's answer into a Message
    nobody reads: in tests/bench/bench_telegram.py (py-spy) `Bot.send_message` spent about a
    quarter of its time in Message.de_json, and building the keyboard and preview objects only
    to serialise them again was another few percent of each update. Same endpoint, same PTB
    request path (rate limiter, error mapping, retries), so errors are PTB's as before."""
    data: dict[str, object] = {"chat_id": chat_id, "text": html, "parse_mode": ParseMode.HTML}
    data["link_preview_options"] = NO_PREVIEW_JSON
    if markup is not None:
        data["reply_markup"] = markup
    await bot._post("sendMessage", data)


async def deliver(bot: telegram.Bot, chat_id: int | str, reply: Reply) -> None:
    """Send one Reply: photo (with caption when short), text chunks, keyboard on the last one."""
    chunks = [to_telegram_html(c) for c in split_text(reply.text, CHUNK_LIMIT)]
    if reply.document is not None:
        name, content = reply.document
        await bot.send_document(chat_id, InputFile(content, filename=name))
    if reply.image is not None:
        if len(chunks) <= 1 and len(reply.text) <= CAPTION_LIMIT:
            caption = chunks[0] if chunks else None
            await bot.send_photo(
                chat_id,
                reply.image,
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(reply.buttons),
            )
            return
        await bot.send_photo(chat_id, reply.image)
    markup = keyboard_json(reply.buttons) if chunks else None
    for i, chunk in enumerate(chunks):
        await send_text(bot, chat_id, chunk, markup if i == len(chunks) - 1 else None)


def _retry_seconds(exc: RetryAfter) -> float:
    # PTB 22 returns int or timedelta depending on PTB_TIMEDELTA and warns about the change.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class BudgetLimiter(BaseRateLimiter[int]):
    """PTB's hook for every Bot API request, pacing the replies through our SendBudget.

    Requests to a chat take that chat's turn (replies first); a 429 pauses that chat only (see
    bot.adapters.sending) and the request is sent again after it, so a limited chat still gets
    every reply, in order, while the others are answered meanwhile. "typing…" takes no chat
    token and is dropped while its chat waits out a 429. Requests without a chat (getUpdates,
    answerCallbackQuery, setMyCommands) are not paced.
    """

    def __init__(self, budget: SendBudget, max_retries: int) -> None:
        self.budget = budget
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up: the budget lives as long as the adapter."""

    async def shutdown(self) -> None:
        await self.budget.aclose()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = data.get("chat_id")
        if chat is None:
            return await callback(*args, **kwargs)
        chat = str(chat)
        typing = endpoint == "sendChatAction"
        if typing and self.budget.paused(chat):
            return True  # the reply it announces is waiting anyway

        async def call() -> bool | dict[str, Any] | list[dict[str, Any]]:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as e:
                raise RateLimited(_retry_seconds(e)) from e

        try:
            return await self.budget.send(
                chat,
                call,
                priority=Priority.BULK if typing else Priority.REPLY,
                max_waits=rate_limit_args or self.max_retries,
                per_chat=not typing,
            )
        except RateLimited as e:
            raise e.__cause__ or e from None  # PTB's own error, for its error handling


class TelegramSender:
    """Sender for messages the bot starts (reminders); maps PTB errors to bot.errors.

    Its Bot has no rate limiter: the scheduler takes each reminder's turn on `budget` (the
    token's budget, shared with the replies) and must see RateLimited at once.
    """

    platform = PLATFORM

    def __init__(self, bot: telegram.Bot, budget: SendBudget | None = None) -> None:
        self.bot = bot
        self.budget = budget
        self._ready = asyncio.Lock()

    async def initialize(self) -> None:
        async with self._ready:
            await self.bot.initialize()

    async def shutdown(self) -> None:
        await self.bot.shutdown()

    async def send(self, address: Address, reply: Reply) -> None:
        if address.platform != PLATFORM:
            raise SendError(f"not a Telegram address: {address.platform}")
        try:
            await self.initialize()  # getMe on the first call: Telegram may be unreachable
            await deliver(self.bot, address.chat_id, reply)
        except RetryAfter as e:
            raise RateLimited(_retry_seconds(e)) from e
        except Forbidden as e:
            raise Blocked(e.message) from e
        except BadRequest as e:  # a subclass of NetworkError: check it first
            if "chat not found" in e.message.lower():
                raise Blocked(e.message) from e
            raise SendError(e.message) from e
        except NetworkError as e:  # includes TimedOut
            raise TransientError(e.message) from e
        except TelegramError as e:
            raise SendError(e.message) from e


class TelegramAdapter:
    """Runs the bot on Telegram; `sender` delivers messages the bot starts."""

    def __init__(
        self,
        settings: Settings,
        handler: Handler,
        *,
        rate_limit: bool = True,
        max_retries: int = 5,
        webhook_listen: str = "0.0.0.0",
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if settings.telegram_token is None:
            raise ConfigError("invalid setting TELEGRAM_TOKEN: not set")
        self.settings = settings
        self.handler = handler
        self.webhook_listen = webhook_listen
        token = settings.telegram_token.get_secret_value()
        root = settings.telegram_api_url.rstrip("/")
        builder = (
            Application.builder()
            .token(token)
            .base_url(root + "/bot")
            .base_file_url(root + "/file/bot")
            .concurrent_updates(CONCURRENT_UPDATES)
            .request(AiohttpRequest(CONNECTIONS, pool_timeout=POOL_TIMEOUT))
            .get_updates_request(AiohttpRequest(1, read_timeout=None))
        )
        # One budget per token, for replies and reminders alike (None: unpaced, for benchmarks).
        self.budget = SendBudget(TELEGRAM, sleep=sleep) if rate_limit else None
        if self.budget is not None:
            # Replies wait out a 429 (their chat's only) and are retried instead of being lost.
            limiter = BudgetLimiter(self.budget, max_retries)
            builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB's generics
        self.application = builder.build()
        self.application.add_handler(CallbackQueryHandler(self._on_callback))
        # Only new messages: edited messages and channel posts are not conversation turns.
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        self.application.add_error_handler(self._on_error)
        self.sender = TelegramSender(
            telegram.Bot(
                token,
                base_url=root + "/bot",
                base_file_url=root + "/file/bot",
                request=AiohttpRequest(CONNECTIONS, pool_timeout=POOL_TIMEOUT),
            ),
            self.budget,
        )

    async def start(self) -> None:
        """Connect, publish the command menu, then poll (or serve the webhook)."""
        app = self.application
        try:
            await app.initialize()
        except InvalidToken:
            # PTB's message repeats the token; say it without the value.
            raise ConfigError(
                "invalid setting TELEGRAM_TOKEN: rejected by the Telegram Bot API"
            ) from None
        await self.sender.initialize()
        await app.bot.set_my_commands([BotCommand(c.name, c.description) for c in COMMANDS])
        assert app.updater is not None
        url = self.settings.telegram_webhook_url
        if url:
            await app.updater.start_webhook(
                listen=self.webhook_listen,
                port=self.settings.port,
                url_path=urlsplit(url).path.lstrip("/"),
                secret_token=self.settings.webhook_secret(),
                webhook_url=url,
            )
            logger.info("telegram: webhook server on port %s for %s", self.settings.port, url)
        else:
            # start_polling deletes any webhook first (Telegram refuses getUpdates otherwise).
            await app.updater.start_polling(poll_interval=0.0, timeout=timedelta(seconds=10))
            logger.info("telegram: polling as @%s", app.bot.username)
        await app.start()

    async def stop(self) -> None:
        """Stop fetching updates, finish the ones in flight, close connections."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await self.sender.shutdown()

    # -- updates → Incoming ----------------------------------------------------------------

    def _addressed(self, msg: Message, text: str) -> tuple[bool | None, str]:
        """Whether the message is for us (None: for another bot), its text without @botusername."""
        bot = self.application.bot
        handle = f"@{bot.username}".lower()
        mentioned = False
        if text.startswith("/"):
            head, sep, rest = text.partition(" ")
            cmd, at, target = head.partition("@")
            if at and target.lower() != handle[1:]:
                return None, text  # /cmd@otherbot: meant for another bot in the group
            mentioned, text = bool(at), cmd + sep + rest  # /cmd@us, not any /cmd
        if handle in text.lower():
            start = text.lower().index(handle)
            text = f"{text[:start].rstrip()} {text[start + len(handle) :].lstrip()}".strip()
            mentioned = True
        replied = msg.reply_to_message.from_user if msg.reply_to_message is not None else None
        return mentioned or (replied is not None and replied.id == bot.id), text

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Translate a new message; non-text messages become empty text (private chats only)."""
        msg, user = update.message, update.effective_user
        if msg is None or user is None or user.is_bot:
            return
        is_group = msg.chat.type in GROUP_TYPES
        text = msg.text or ""
        if not text and is_group:
            return  # stickers and photos in groups are not addressed to us
        mentioned, text = self._addressed(msg, text)
        if mentioned is None:
            return  # Telegram addressing, not content: the core would read it as our command
        incoming = Incoming(
            platform=PLATFORM,
            user_id=str(user.id),
            chat_id=str(msg.chat.id),
            text=text,
            display_name=user.full_name,
            is_group=is_group,
            mentioned=mentioned,
            received_at=msg.date,
            update_id=str(update.update_id),
        )
        await self._answer(msg.chat.id, incoming)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: stop the button's spinner, then pass its data as the action."""
        query = update.callback_query
        if query is None:
            return
        chat = query.message.chat if query.message is not None else None
        chat_id = chat.id if chat is not None else query.from_user.id
        incoming = Incoming(
            platform=PLATFORM,
            user_id=str(query.from_user.id),
            chat_id=str(chat_id),
            action=query.data or "",
            display_name=query.from_user.full_name,
            is_group=chat is not None and chat.type in GROUP_TYPES,
            mentioned=True,
            update_id=str(update.update_id),
        )
        await self._answer(chat_id, incoming, query)

    async def _answer(
        self, chat_id: int, incoming: Incoming, query: CallbackQuery | None = None
    ) -> None:
        """Run the handler, showing "typing…" if it is slow, and deliver every reply inside
        the user's turn (the next message of this user waits until they are sent).

        Entering the turn is the first await, so turns queue in the order updates arrived.
        A button's spinner stops once the core has answered; a lone notice ("that button is
        not yours") is the spinner's alert instead of a message. In a group, a personal
        reply (`Reply.ephemeral`) goes to the user's private chat."""
        # A timer rather than a task per update: cheaper, and most answers beat it.
        typing = asyncio.get_running_loop().call_later(TYPING_AFTER, self._show_typing, chat_id)
        try:
            async with self.handler(incoming) as replies:
                typing.cancel()
                if query is not None:
                    notice = len(replies) == 1 and replies[0].kind is Kind.NOTICE
                    with contextlib.suppress(TelegramError):  # "query is too old"
                        if notice:
                            await query.answer(replies[0].text[:200], show_alert=True)
                            return
                        await query.answer()
                await self._deliver_all(chat_id, incoming, replies)
        finally:
            typing.cancel()

    async def _deliver_all(self, chat_id: int, incoming: Incoming, replies: list[Reply]) -> None:
        bot = self.application.bot
        private = [r for r in replies if incoming.is_group and r.ephemeral]
        for reply in replies:
            if reply not in private:
                await deliver(bot, chat_id, reply)
        if not private:
            return
        try:
            for reply in private:
                await deliver(bot, int(incoming.user_id), reply)
        except (Forbidden, BadRequest):
            # They never opened a private chat with the bot: one line in the group with a link
            # that opens it and runs the same command there.
            command = incoming.text[1:].split(" ", 1)[0] if incoming.text.startswith("/") else ""
            link = f"https://t.me/{bot.username}?start={command or 'private'}"
            text = f"That reply is private. Open a chat with me to see it: {link}"
            await deliver(bot, chat_id, Reply(text))
            return
        await deliver(bot, chat_id, Reply("I've sent you that privately.", kind=Kind.NOTICE))

    def _show_typing(self, chat_id: int) -> None:
        async def typing() -> None:
            with contextlib.suppress(TelegramError):
                await self.application.bot.send_chat_action(chat_id, ChatAction.TYPING)

        self.application.create_task(typing())

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (the logging filter strips the token) and apologise in the chat."""
        logger.error("telegram: update failed: %r", context.error, exc_info=context.error)
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None:
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(chat.id, APOLOGY)
