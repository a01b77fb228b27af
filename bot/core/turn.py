"""One turn of a conversation: who is talking, when, their profile and conversation state, and
the store calls every handler needs.

The profile is saved lazily (a user who only asks questions leaves no rows) and field by field:
`save_profile` writes only what this turn changed, so two turns never undo each other's
settings. The conversation is written once, at the end of the turn, if it changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.inbox import Pending
from bot.core.ports import Conversation, Profile, Store, UserKey
from bot.core.types import Incoming


@dataclass(frozen=True, slots=True)
class Defaults:
    """Settings-derived defaults the core needs (from bot.config.Settings)."""

    timezone: str = "UTC"
    reminder_days: tuple[int, ...] = (0, 2, 4)
    reminder_time: time = time(18, 0)


@dataclass(slots=True)
class Turn:
    msg: Incoming
    key: UserKey
    now: datetime
    profile: Profile
    known: bool  # the profile exists in the store
    store: Store

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.profile.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def today(self) -> date:
        """The user's local date."""
        return self.now.astimezone(self.zone).date()

    conversation: Conversation = field(default_factory=Conversation)
    loaded: Profile | None = None  # the profile as read at the start of the turn
    stored_conversation: dict[str, object] = field(default_factory=lambda: Conversation().to_json())
    forgotten: bool = False  # /forget ran: write nothing more for this user
    unanswered: Pending | None = None  # a question this turn could not answer (bot.core.inbox)

    def __post_init__(self) -> None:
        if self.loaded is None and self.known:
            self.loaded = dataclasses.replace(self.profile)

    async def ensure_profile(self) -> None:
        if not self.known:
            await self.save_profile()

    async def save_profile(self) -> None:
        if self.forgotten:
            return
        if self.profile.created_at is None:
            self.profile.created_at = self.now
        if self.msg.display_name:
            self.profile.display_name = self.msg.display_name
        fields = None
        if self.known and self.loaded is not None:
            fields = [
                f.name
                for f in dataclasses.fields(Profile)
                if getattr(self.profile, f.name) != getattr(self.loaded, f.name)
            ]
        await self.store.save_profile(self.profile, fields)
        self.loaded = dataclasses.replace(self.profile)
        self.known = True

    async def save_conversation(self) -> None:
        """Write the conversation if this turn changed it."""
        if self.forgotten:
            return
        now = self.conversation.to_json()
        if now != self.stored_conversation:
            await self.store.save_conversation(self.key, self.conversation)
            self.stored_conversation = now
