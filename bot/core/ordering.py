"""One turn at a time per user: a user's messages are handled, and answered, in the order sent.

Two guards, one inside the other:
- in this process, an `asyncio.Lock` per user. Locks are FIFO and taking a free one does not
  yield, so updates that arrive in order (PTB and discord.py start one task per update, in
  order) enter in order;
- across processes (several bot instances on one database), a turn lease in the store
  (`Store.begin_turn`): a short-lived row naming the instance handling the user right now.
  A lease whose instance died expires after `lease`; a waiting instance polls with backoff.

The lock is held while the adapter delivers the replies too (see `Dialogue.turn`), so the
answer to the first message is on screen before the second message is read.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.ports import Store, TurnStart, UserKey
from bot.errors import StorageUnavailable

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)  # longer than any turn; how long a dead instance blocks a user
FIRST_POLL_S = 0.01
MAX_POLL_S = 0.25


@dataclass(slots=True)
class _Waiters:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    count: int = 0


class TurnOrder:
    """Serialises turns per user. `hold(key)` is an async context manager."""

    def __init__(
        self,
        store: Store,
        *,
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.lease = lease
        self.clock = clock
        # One id per process and Dialogue: leases of this instance are recognisably ours.
        self.holder = holder or uuid.uuid4().hex
        self._users: dict[UserKey, _Waiters] = {}

    @asynccontextmanager
    async def hold(
        self, key: UserKey, update_id: str | None = None
    ) -> AsyncIterator[TurnStart | None]:
        """Hold the user's turn. Yields what the turn starts from, read with the lease
        (`Store.begin_turn`, which also records `update_id`), or None when the turn goes on
        unguarded (store down, or a lease held too long): the caller then reads for itself."""
        w = self._users.get(key)
        if w is None:
            w = self._users[key] = _Waiters()
        w.count += 1
        try:
            async with w.lock:
                start = await self._claim(key, update_id)
                try:
                    yield start
                finally:
                    if start is not None:
                        await self._release(key)
        finally:
            w.count -= 1
            if w.count == 0:
                del self._users[key]  # no lock per user who ever wrote: memory stays flat

    async def _claim(self, key: UserKey, update_id: str | None) -> TurnStart | None:
        """Wait for the user's lease. Gives up (and goes on unguarded, with a warning) after
        twice the lease, or at once when the store is down: a reply then beats no reply."""
        delay = FIRST_POLL_S
        deadline = self.clock() + 2 * self.lease
        while True:
            now = self.clock()
            try:
                start = await self.store.begin_turn(
                    key, self.holder, now + self.lease, now, update_id
                )
                if start is not None:
                    return start
            except StorageUnavailable as e:
                logger.warning("turn lease unavailable, handling unguarded: %s", e)
                return None
            if now >= deadline:
                logger.warning("turn lease of a %s user still held; going ahead", key.platform)
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_POLL_S)

    async def _release(self, key: UserKey) -> None:
        try:
            await self.store.release_turn(key, self.holder)
        except StorageUnavailable as e:  # it expires by itself
            logger.warning("could not release a turn lease: %s", e)
