"""The few error types backbot raises across module boundaries."""

from __future__ import annotations


class BackbotError(Exception):
    """Base class for errors backbot reports to people in one line."""


class ConfigError(BackbotError):
    """A setting is missing or invalid; the message names it."""


class KnowledgeError(BackbotError):
    """The knowledge base is invalid; the message names file and entry id."""


class InboxError(BackbotError):
    """A `backbot inbox` command that cannot be done (unknown item id, an item already
    handled); the message names the item."""


class StorageUnavailable(BackbotError):
    """The database cannot be reached or written; the message names DATABASE_URL (masked)."""


class SendError(BackbotError):
    """A platform refused or failed to deliver a message."""


class RateLimited(SendError):
    """The platform asked us to wait `retry_after` seconds before sending again; `scope` is
    "global" when it said the limit covers every chat (Discord's global rate limit), else
    "chat" (this chat or route only, as far as the platform told us)."""

    def __init__(self, retry_after: float, message: str = "", *, scope: str = "chat") -> None:
        super().__init__(message or f"rate limited, retry after {retry_after:.1f}s")
        self.retry_after = retry_after
        self.scope = scope


class Blocked(SendError):
    """The user blocked the bot or closed their DMs; stop sending to them."""


class TransientError(SendError):
    """A network error or server error; the same send may succeed later."""
