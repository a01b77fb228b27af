"""The value types that cross the adapter boundary: Incoming, Reply, Button, Address."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class Kind(StrEnum):
    """What a reply is, for adapters (ephemeral, embeds), logs and `backbot ask --json`."""

    FAQ = "faq"
    RED_FLAG = "red_flag"
    WORKOUT = "workout"
    REMINDER = "reminder"
    PROGRESS = "progress"
    SMALLTALK = "smalltalk"
    SUGGEST = "suggest"
    OUT_OF_SCOPE = "out_of_scope"
    COMMAND = "command"
    ONBOARDING = "onboarding"
    SCREEN = "screen"  # the red-flag screening question ("do you have any of these?")
    HELP = "help"  # what the bot can do (/help, /about, an unknown command)
    NOTICE = "notice"  # a short note about a button press (Telegram shows it as an alert)


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a reply; `action` comes back as `Incoming.action` when pressed.

    Actions are short ASCII strings ("faq:plank_hold_time", "today", "f:forget:confirm:yes") so they fit
    Telegram's 64-byte callback data and Discord's 100-character custom_id.
    """

    label: str
    action: str


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message or button press from a user, already translated by an adapter."""

    platform: str
    user_id: str
    chat_id: str
    text: str = ""
    action: str | None = None
    display_name: str = ""
    is_group: bool = False
    mentioned: bool = False
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The platform's id of this update, when it has one: a retried delivery is answered once.
    update_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One message the bot sends. `text` is plain text with **bold** as the only markup."""

    text: str
    buttons: tuple[Button, ...] = ()
    image: bytes | None = None
    ephemeral: bool = False
    kind: Kind = Kind.COMMAND
    topic: str | None = None
    score: float | None = None
    urgency: str | None = None  # red-flag replies: "emergency", "urgent" or "soon"
    document: tuple[str, bytes] | None = None  # a file to attach: (file name, content)


@dataclass(frozen=True, slots=True)
class Address:
    """Where a message the bot starts (a reminder) goes: a chat, and the user it is for, so
    a platform can open a private chat with them when the chat is gone (Discord DMs)."""

    platform: str
    chat_id: str
    user_id: str | None = None
