"""What every adapter shares: the Sender protocol the scheduler uses, and the Handler type."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from bot.core.types import Address, Incoming, Reply

# The dialogue core as adapters see it: `async with handler(incoming) as replies:` and deliver
# the replies inside the block. The block is the user's turn: the next message of the same
# user waits until it ends, so replies reach the chat in the order the user wrote.
Handler = Callable[[Incoming], AbstractAsyncContextManager[list[Reply]]]


def from_function(answer: Callable[[Incoming], Awaitable[list[Reply]]]) -> Handler:
    """A Handler around a plain async function (tests, and cores that need no ordering)."""

    @asynccontextmanager
    async def handler(incoming: Incoming) -> AsyncIterator[list[Reply]]:
        yield await answer(incoming)

    return handler


class Adapter(Protocol):
    """A chat platform: connects, feeds the handler, and offers a Sender for reminders.
    Registered in `bot.app.ADAPTERS`; adding a platform is one adapter module plus its entry
    there and its settings."""

    @property
    def sender(self) -> Sender: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Sender(Protocol):
    """Delivers a message the bot starts. Raises bot.errors.RateLimited / Blocked / TransientError."""

    platform: str

    async def send(self, address: Address, reply: Reply) -> None: ...
