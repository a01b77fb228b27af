"""One turn of a conversation: who is talking, when, their profile, and the store calls every
handler needs (the profile is saved lazily: a user who only asks questions leaves no rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.ports import FlowState, Profile, Store, UserKey
from bot.core.types import Incoming
from bot.errors import StorageUnavailable


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

    async def get_state(self) -> FlowState | None:
        try:
            return await self.store.get_state(self.key)
        except StorageUnavailable:
            return None

    async def set_state(self, state: FlowState | None) -> None:
        if state is not None:
            await self.ensure_profile()
        elif not self.known:
            return
        await self.store.save_state(self.key, state)

    async def ensure_profile(self) -> None:
        if not self.known:
            await self.save_profile()

    async def save_profile(self) -> None:
        if self.profile.created_at is None:
            self.profile.created_at = self.now
        if self.msg.display_name:
            self.profile.display_name = self.msg.display_name
        await self.store.save_profile(self.profile)
        self.known = True
