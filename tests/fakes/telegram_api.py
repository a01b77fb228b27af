"""A loopback fake of the Telegram Bot API (aiohttp on 127.0.0.1) for end-to-end tests.

Usage::

    async with FakeTelegramAPI() as fake:
        settings = Settings(telegram_token=fake.token, telegram_api_url=fake.url)
        ... start the real python-telegram-bot Application against fake.url ...
        fake.private_message(42, "hello")
        [msg] = await fake.wait_for_messages(1)

It speaks the wire format python-telegram-bot uses: form-encoded or multipart POSTs whose
complex values (reply_markup, entities, commands) are JSON strings, or JSON bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import logging
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmnopq"
# Values PTB sends JSON-encoded inside form bodies.
_JSON_KEYS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "scope",
    }
)
_INT_KEYS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "user_id"})
_BOOL_KEYS = frozenset({"drop_pending_updates", "disable_notification"})

JSON = dict[str, Any]
TEXT_LIMIT = 4096


def _decode(key: str, value: Any) -> Any:
    """Form values are strings; turn the ones PTB encoded back into JSON, ints and bools."""
    if not isinstance(value, str):
        return value
    if key in _JSON_KEYS:
        return json.loads(value)
    if key in _INT_KEYS and value.lstrip("-").isdigit():
        return int(value)
    if key in _BOOL_KEYS:
        return value.lower() == "true"
    return value


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )


@dataclass
class Call:
    """One Bot API request the fake received, with its decoded parameters."""

    method: str
    params: JSON
    at: float = field(default_factory=time.perf_counter)


@dataclass
class SentMessage:
    """A message the bot sent (sendMessage or sendPhoto)."""

    method: str
    chat_id: int
    text: str | None
    parse_mode: str | None
    reply_markup: JSON | None
    photo: bool
    message_id: int
    at: float = field(default_factory=time.perf_counter)  # when the fake accepted it

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline keyboard button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


class FakeTelegramAPI:
    """The Bot API methods backbot uses, plus helpers to inject updates and failures."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_id: int = 999_000_111,
        username: str = "backbot_test_bot",
        poll_cap: float = 1.0,
    ) -> None:
        self.token = token
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Backbot",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.poll_cap = poll_cap
        self.calls: list[Call] = []
        self.sent: list[SentMessage] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.answered_callbacks: list[str] = []
        self.callback_alerts: list[tuple[str, bool]] = []
        self.documents: list[
            bytes
        ] = []  # sendDocument contents, in order  # (text, show_alert) per answer
        self.commands: list[JSON] = []
        self.webhook: JSON = {}
        self.token_requests = 0  # requests that carried the right token in their URL
        self.rejected_requests = 0  # requests with a wrong token
        self.handed_out: dict[int, float] = {}  # update_id -> when getUpdates returned it
        self._updates: deque[JSON] = deque()
        self._new_update = asyncio.Event()
        self._failures: dict[str, deque[tuple[int, JSON]]] = {}
        self._chat_limits: dict[int, deque[int]] = {}  # chat_id -> retry_after of next 429s
        self.rate_limited: list[tuple[int, float]] = []  # (chat_id, when) of every 429 answered
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._chats: dict[int, JSON] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def username(self) -> str:
        return str(self.bot_user["username"])

    @property
    def url(self) -> str:
        """The API root to give the bot (TELEGRAM_API_URL), without /bot."""
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a random free port on 127.0.0.1."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        # Release a held getUpdates so the server does not wait for it to time out.
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- failures ----------------------------------------------------------------------------

    def fail_next(
        self, method: str, times: int = 1, *, status: int, description: str, **parameters: Any
    ) -> None:
        """Answer the next `times` calls of `method` with an error."""
        body: JSON = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend([(status, body)] * times)

    def rate_limit_next(
        self, method: str = "sendMessage", times: int = 1, retry_after: int = 1
    ) -> None:
        """Answer with 429 Too Many Requests and parameters.retry_after."""
        self.fail_next(
            method,
            times,
            status=429,
            description=f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
        )

    def rate_limit_chat(self, chat_id: int, times: int = 1, retry_after: int = 2) -> None:
        """Answer the next `times` sends (any method with this chat_id, chat actions aside)
        to one chat with 429 and parameters.retry_after; other chats are served normally."""
        self._chat_limits.setdefault(chat_id, deque()).extend([retry_after] * times)

    def block_next(self, method: str = "sendMessage", times: int = 1) -> None:
        """Answer with 403, as when the user blocked the bot."""
        self.fail_next(
            method, times, status=403, description="Forbidden: bot was blocked by the user"
        )

    # -- injecting updates ---------------------------------------------------------------

    def enqueue(self, update: JSON) -> JSON:
        """Queue an update (an update_id is assigned) for the next getUpdates."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        return update

    def make_update(self, update: JSON) -> JSON:
        """An update with an id but not queued (for posting to a webhook)."""
        return {"update_id": next(self._update_ids), **update}

    @staticmethod
    def user(user_id: int, first_name: str = "Ann") -> JSON:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def chat(self, chat_id: int, chat_type: str = "private", first_name: str = "Ann") -> JSON:
        chat: JSON = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = "Back training club"
        self._chats[chat_id] = chat
        return chat

    def message(
        self,
        *,
        user_id: int,
        text: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        entities: list[JSON] | None = None,
        extra: JSON | None = None,
        first_name: str = "Ann",
    ) -> JSON:
        """A message object (not an update) from a user."""
        msg: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(user_id if chat_id is None else chat_id, chat_type, first_name),
            "from": self.user(user_id, first_name),
        }
        if text is not None:
            msg["text"] = text
        if entities:
            msg["entities"] = entities
        msg.update(extra or {})
        return msg

    def private_message(
        self, user_id: int, text: str, *, first_name: str = "Ann", queue: bool = True
    ) -> JSON:
        update = {"message": self.message(user_id=user_id, text=text, first_name=first_name)}
        return self.enqueue(update) if queue else self.make_update(update)

    def group_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        mention: bool = False,
        reply_to: JSON | None = None,
    ) -> JSON:
        """A message in a group; `mention` prefixes @botusername with a mention entity."""
        entities = None
        if mention:
            handle = f"@{self.username}"
            text = f"{handle} {text}"
            entities = [{"type": "mention", "offset": 0, "length": len(handle)}]
        extra = {"reply_to_message": reply_to} if reply_to else None
        msg = self.message(
            user_id=user_id,
            text=text,
            chat_id=chat_id,
            chat_type="supergroup",
            entities=entities,
            extra=extra,
        )
        return self.enqueue({"message": msg})

    def command(
        self,
        user_id: int,
        name: str,
        args: str = "",
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        addressed: bool = False,
    ) -> JSON:
        """A /command with its bot_command entity; `addressed` writes /name@botusername."""
        head = f"/{name}@{self.username}" if addressed else f"/{name}"
        text = f"{head} {args}" if args else head
        entities = [{"type": "bot_command", "offset": 0, "length": len(head)}]
        msg = self.message(
            user_id=user_id, text=text, chat_id=chat_id, chat_type=chat_type, entities=entities
        )
        return self.enqueue({"message": msg})

    def callback_query(
        self, user_id: int, data: str, *, message: SentMessage | None = None
    ) -> JSON:
        """A button press on a message the bot sent (default: its last message to that user)."""
        if message is None:
            message = next(m for m in reversed(self.sent) if m.chat_id == user_id)
        bot_msg = self._bot_message(message.chat_id, message.message_id, message.text or "")
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": self.user(user_id),
            "message": bot_msg,
            "chat_instance": f"ci{message.chat_id}",
            "data": data,
        }
        return self.enqueue({"callback_query": query})

    def sticker(
        self, user_id: int, *, chat_id: int | None = None, chat_type: str = "private"
    ) -> JSON:
        sticker = {
            "file_id": "CAACAgIAAxkBAAIBY2",
            "file_unique_id": "AgADBAADs",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        msg = self.message(
            user_id=user_id, chat_id=chat_id, chat_type=chat_type, extra={"sticker": sticker}
        )
        return self.enqueue({"message": msg})

    def edited_message(self, user_id: int, text: str) -> JSON:
        msg = self.message(user_id=user_id, text=text, extra={"edit_date": int(time.time())})
        return self.enqueue({"edited_message": msg})

    # -- waiting -------------------------------------------------------------------------

    async def wait_for_messages(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 (a plain number reads best in tests)
        *,
        chat_id: int | None = None,
    ) -> list[SentMessage]:
        """Wait until at least `n` messages were sent (to `chat_id` if given); return them."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages_to(chat_id)
            if len(got) >= n:
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"expected {n} messages, got {len(got)}: {[m.text for m in got]}"
                )
            await asyncio.sleep(0.01)

    async def wait_for_call(self, method: str, timeout: float = 5.0) -> Call:  # noqa: ASYNC109
        """Wait for the first call of `method`."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls:
                if call.method.lower() == method.lower():
                    return call
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} was not called")
            await asyncio.sleep(0.01)

    def messages_to(self, chat_id: int | None) -> list[SentMessage]:
        return [m for m in self.sent if chat_id is None or m.chat_id == chat_id]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    # -- the HTTP side -------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.rejected_requests += 1
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        self.token_requests += 1
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params))
        limited = self._chat_limits.get(_int_or_none(params.get("chat_id")) or 0)
        if limited and method.lower() != "sendchataction":
            retry_after = limited.popleft()
            self.rate_limited.append((int(params["chat_id"]), time.perf_counter()))
            body: JSON = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
            return web.json_response(body, status=429)
        failures = self._failures.get(method.lower())
        if failures:
            status, body = failures.popleft()
            return web.json_response(body, status=status)
        impl = getattr(self, f"_api_{method.lower()}", None)
        if impl is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
            return web.json_response(body, status=404)
        result = await impl(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> JSON:
        raw: JSON = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json())
        elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for key, field_value in form.items():
                is_file = isinstance(field_value, web.FileField)
                raw[key] = field_value.file.read() if is_file else field_value  # type: ignore[union-attr]
        out: JSON = {}
        for key, value in raw.items():
            out[key] = _decode(key, value)
        return out

    def bot_message(self, sent: SentMessage) -> JSON:
        """The message object of something the bot sent (for reply_to_message)."""
        return self._bot_message(sent.chat_id, sent.message_id, sent.text or "")

    def _bot_message(self, chat_id: int, message_id: int, text: str) -> JSON:
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chats.get(
                chat_id, {"id": chat_id, "type": "private", "first_name": "Ann"}
            ),
            "from": self.bot_user,
            "text": text,
        }

    async def _api_getme(self, params: JSON) -> JSON:
        return self.bot_user

    async def _api_getupdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        if offset > 0:
            # A positive offset confirms every update before it: forget them.
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        if not self._updates:
            self._new_update.clear()
            wait = min(float(params.get("timeout") or 0), self.poll_cap)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), wait)
        limit = int(params.get("limit") or 100)
        batch = [u for u in self._updates if u["update_id"] >= offset][:limit]
        now = time.perf_counter()
        for u in batch:
            self.handed_out.setdefault(u["update_id"], now)
        return batch

    async def _record(self, method: str, params: JSON, text: str | None, photo: bool) -> JSON:
        chat_id = int(params["chat_id"])
        message_id = next(self._message_ids)
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=chat_id,
                text=text,
                parse_mode=params.get("parse_mode"),
                reply_markup=params.get("reply_markup"),
                photo=photo,
                message_id=message_id,
            )
        )
        msg = self._bot_message(chat_id, message_id, text or "")
        if photo:
            del msg["text"]
            msg["photo"] = [
                {
                    "file_id": f"photo{message_id}",
                    "file_unique_id": f"u{message_id}",
                    "width": 800,
                    "height": 600,
                }
            ]
            if text:
                msg["caption"] = text
        return msg

    async def _api_sendmessage(self, params: JSON) -> JSON | web.Response:
        text = str(params.get("text") or "")
        if params.get("parse_mode") == "HTML":
            text = html.unescape(re.sub(r"<[^>]+>", "", text))
        if not text.strip() or len(text) > TEXT_LIMIT:
            # Telegram checks 1-4096 characters after entity parsing.
            return _error(
                400,
                "Bad Request: message is too long"
                if text
                else "Bad Request: message text is empty",
            )
        return await self._record("sendMessage", params, params.get("text"), photo=False)

    async def _api_sendphoto(self, params: JSON) -> JSON:
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))
        return await self._record(
            "sendPhoto", params, params.get("caption"), photo=isinstance(photo, bytes | bytearray)
        )

    async def _api_senddocument(self, params: JSON) -> JSON:
        doc = params.get("document")
        if isinstance(doc, str) and doc.startswith("attach://"):
            doc = params.get(doc.removeprefix("attach://"))
        self.documents.append(bytes(doc) if isinstance(doc, bytes | bytearray) else b"")
        return await self._record("sendDocument", params, params.get("caption"), photo=False)

    async def _api_editmessagetext(self, params: JSON) -> JSON:
        return self._bot_message(
            int(params["chat_id"]), int(params["message_id"]), params.get("text", "")
        )

    async def _api_sendchataction(self, params: JSON) -> bool:
        self.chat_actions.append((int(params["chat_id"]), str(params.get("action"))))
        return True

    async def _api_answercallbackquery(self, params: JSON) -> bool:
        self.answered_callbacks.append(str(params.get("callback_query_id")))
        self.callback_alerts.append(
            (str(params.get("text") or ""), str(params.get("show_alert")).lower() == "true")
        )
        return True

    async def _api_setmycommands(self, params: JSON) -> bool:
        self.commands = list(params.get("commands") or [])
        return True

    async def _api_deletewebhook(self, params: JSON) -> bool:
        self.webhook = {}
        return True

    async def _api_setwebhook(self, params: JSON) -> bool:
        self.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        return True

    async def _api_getwebhookinfo(self, params: JSON) -> JSON:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
