"""One bot token's send budget, shared by its replies and its reminder fan-out.

    budget = SendBudget(TELEGRAM)
    await budget.send(chat_id, lambda: bot.send_message(...))       # a reply: retried on 429
    await budget.turn(chat_id, Priority.BULK)                        # a reminder takes its turn
    budget.limited(chat_id, retry_after)                             # ... and reports a 429

Three things pace a send, all leaky buckets (aiolimiter): the token's global bucket
(Telegram ~30 messages/s, Discord 50 requests/s), the chat's own bucket (Telegram 1/s in a
private chat with a short burst, 20/min in a group; Discord 5 per 5 s per channel route), and
pauses after a 429. A 429 pauses only the chat it came from, for `retry_after`: one user
being limited must not stall everybody else. It pauses the whole token only when the platform
says the limit is global (Discord `X-RateLimit-Scope: global`), or when several chats are
limited within a short window (Telegram never says; chats failing together is how a global
flood limit shows).

Replies have priority on the global bucket: a reminder takes a token only when no reply is
waiting for one, and only one reminder at a time waits inside the bucket, so a reply queues
behind at most one reminder however large the fan-out.

Pauses end through the injected `sleep`, so tests decide when a 429 is over; bucket pacing
runs on the event loop's clock (aiolimiter), which tests keep out of the way with fast limits.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiolimiter import AsyncLimiter

from bot.errors import RateLimited

logger = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

GLOBAL = "global"
MAX_CHAT_BUCKETS = 4096  # above this, buckets of chats that are idle again are dropped


class Priority(enum.IntEnum):
    """Replies to a user who is waiting come before messages the bot starts."""

    REPLY = 0
    BULK = 1


@dataclass(frozen=True, slots=True)
class PlatformLimits:
    """A token's send budget.

    `per_second` is the global bucket; `per_chat_per_second` a chat's rate (None: no per-chat
    bucket), with bursts of up to `chat_burst` messages; chats whose id starts with
    `group_prefix` (Telegram groups have negative ids) get `group_per_minute` instead.
    `escalate_chats` distinct chats limited within `escalate_window` seconds pause the token.
    """

    per_second: float | None
    per_chat_per_second: float | None = None
    chat_burst: float = 1.0
    group_per_minute: float | None = None
    group_prefix: str | None = None
    escalate_chats: int = 3
    escalate_window: float = 2.0


# Telegram: "no more than 30 messages per second" to different chats, "avoid more than one
# message per second in a particular chat" (short bursts tolerated; a reply is often two
# messages), and 20 messages per minute in a group.
TELEGRAM = PlatformLimits(
    30.0, 1.0, chat_burst=3.0, group_per_minute=20.0, group_prefix="-", escalate_chats=3
)
# Discord: 50 requests/s per bot; a channel's message route allows 5 per 5 s. discord.py also
# honours each route's X-RateLimit-* headers itself; `hold()` mirrors exhausted routes here.
DISCORD = PlatformLimits(50.0, 1.0, chat_burst=5.0, escalate_chats=3)
LIMITS = {"telegram": TELEGRAM, "discord": DISCORD}


class _Pause:
    """A closed door that opens when every pause laid on it has slept out."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()
        self.holds = 0


class SendBudget:
    """The send budget of one bot token (see the module docstring)."""

    def __init__(
        self,
        limits: PlatformLimits,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.limits = limits
        self._sleep = sleep
        self._clock = clock
        self._global = (
            AsyncLimiter(limits.per_second, 1.0) if limits.per_second is not None else None
        )
        self._chats: dict[str, AsyncLimiter] = {}
        self._prune_at = MAX_CHAT_BUCKETS
        self._everyone = _Pause()
        self._paused: dict[str, _Pause] = {}
        self._recent: deque[tuple[float, str]] = deque()  # (when, chat) of recent chat 429s
        self._replies_waiting = 0
        self._no_replies = asyncio.Event()
        self._no_replies.set()
        self._bulk = asyncio.Lock()
        self._timers: set[asyncio.Task[None]] = set()
        self.global_pauses = 0  # how often the whole token was paused (for tests and logs)

    # ------------------------------------------------------------------ sending

    async def send(
        self,
        chat: str,
        call: Callable[[], Awaitable[T]],
        *,
        priority: Priority = Priority.REPLY,
        max_waits: int = 5,
        per_chat: bool = True,
    ) -> T:
        """Run `call` in its turn; on RateLimited, pause as the 429 says and try again (at most
        `max_waits` times, then the last RateLimited is raised)."""
        waits = 0
        while True:
            await self.turn(chat, priority, per_chat=per_chat)
            try:
                return await call()
            except RateLimited as e:
                waits += 1
                self.limited(chat, e.retry_after, scope=e.scope)
                if waits > max_waits:
                    raise
                logger.info("send to a chat rate limited; retrying in %.1fs", e.retry_after)

    async def turn(
        self, chat: str, priority: Priority = Priority.REPLY, *, per_chat: bool = True
    ) -> None:
        """Wait until this chat may get its next message: pauses, its bucket, the global one."""
        while True:
            await self._everyone.open.wait()
            pause = self._paused.get(chat)
            if pause is not None:
                await pause.open.wait()
                continue
            if per_chat:
                bucket = self._bucket(chat)
                if bucket is not None:
                    await bucket.acquire()
            await self._take_global(priority)
            if self._everyone.open.is_set() and chat not in self._paused:
                return
            # A 429 arrived while we waited for the buckets: wait it out too.

    @property
    def paused_globally(self) -> bool:
        """Whether every send waits out a global 429 right now."""
        return not self._everyone.open.is_set()

    def paused(self, chat: str) -> bool:
        """Whether sends to this chat are waiting out a 429 right now."""
        return not self._everyone.open.is_set() or chat in self._paused

    async def _take_global(self, priority: Priority) -> None:
        if self._global is None:
            return
        if priority is Priority.REPLY:
            self._replies_waiting += 1
            self._no_replies.clear()
            try:
                await self._global.acquire()
            finally:
                self._replies_waiting -= 1
                if not self._replies_waiting:
                    self._no_replies.set()
            return
        async with self._bulk:  # one bulk message waits inside the bucket at a time
            while self._replies_waiting:
                await self._no_replies.wait()
            await self._global.acquire()

    def _bucket(self, chat: str) -> AsyncLimiter | None:
        bucket = self._chats.get(chat)
        if bucket is not None:
            return bucket
        lim = self.limits
        if lim.group_prefix is not None and chat.startswith(lim.group_prefix):
            if lim.group_per_minute is None:
                return None
            bucket = AsyncLimiter(lim.group_per_minute, 60.0)
        elif lim.per_chat_per_second is None:
            return None
        else:
            bucket = AsyncLimiter(lim.chat_burst, lim.chat_burst / lim.per_chat_per_second)
        if len(self._chats) >= self._prune_at:
            # Forget chats whose bucket has drained: 100k users must not pile up here. The next
            # prune waits until the map doubles, so a fan-out faster than the buckets drain
            # does not rescan it on every new chat.
            self._chats = {k: b for k, b in self._chats.items() if not b.has_capacity(b.max_rate)}
            self._prune_at = max(MAX_CHAT_BUCKETS, 2 * len(self._chats))
        self._chats[chat] = bucket
        return bucket

    # ------------------------------------------------------------------ 429s

    def limited(self, chat: str | None, retry_after: float, *, scope: str = "chat") -> None:
        """The platform answered 429: pause this chat (or, when the platform says so or several
        chats were limited just now, the whole token) for `retry_after` seconds."""
        retry_after = max(retry_after, 0.0)
        if scope != GLOBAL and chat is not None:
            now = self._clock()
            recent = self._recent
            while recent and now - recent[0][0] > self.limits.escalate_window:
                recent.popleft()
            recent.append((now, chat))
            if len({c for _, c in recent}) < self.limits.escalate_chats:
                self._pause(self._paused.setdefault(chat, _Pause()), retry_after, chat)
                return
            logger.warning(
                "%d chats rate limited within %.0fs: pausing every send for %.1fs",
                len({c for _, c in recent}),
                self.limits.escalate_window,
                retry_after,
            )
            recent.clear()
        else:
            logger.warning("global rate limit: pausing every send for %.1fs", retry_after)
        self.global_pauses += 1
        self._pause(self._everyone, retry_after, None)

    def hold(self, chat: str, seconds: float) -> None:
        """The platform said this chat's bucket is empty (Discord `X-RateLimit-Remaining: 0`):
        hold its sends until it resets, without counting it as a 429."""
        if seconds > 0:
            self._pause(self._paused.setdefault(chat, _Pause()), seconds, chat)

    def _pause(self, pause: _Pause, seconds: float, chat: str | None) -> None:
        pause.holds += 1
        pause.open.clear()

        async def reopen() -> None:
            try:
                await self._sleep(seconds)
            finally:
                pause.holds -= 1
                if not pause.holds:
                    pause.open.set()
                    if chat is not None and self._paused.get(chat) is pause:
                        del self._paused[chat]

        task = asyncio.get_running_loop().create_task(reopen())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def aclose(self) -> None:
        """End every pause now (shutdown): nobody should wait on a budget that is gone."""
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)
