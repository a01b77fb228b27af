"""What every adapter shares: the Sender protocol the scheduler uses, and the Handler type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.core.types import Address, Incoming, Reply

# The dialogue core as adapters see it: one incoming message in, replies out.
Handler = Callable[[Incoming], Awaitable[list[Reply]]]


class Sender(Protocol):
    """Delivers a message the bot starts. Raises bot.errors.RateLimited / Blocked / TransientError."""

    platform: str

    async def send(self, address: Address, reply: Reply) -> None: ...
