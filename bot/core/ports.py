"""What the core needs from the outside world: the Store protocol and the plain records it trades.

The core never sees ORM objects or SQL; `bot.storage` implements this protocol on SQLAlchemy and
`bot.storage.memory` implements it in memory for tests and throwaway sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol

LEVELS = ("beginner", "intermediate", "advanced")
EQUIPMENT = ("none", "dumbbells", "pullup_bar", "gym")


@dataclass(frozen=True, slots=True)
class UserKey:
    """A user is identified by platform and that platform's user id."""

    platform: str
    user_id: str


@dataclass(slots=True)
class Profile:
    """A user's coaching settings."""

    key: UserKey
    display_name: str = ""
    level: str = "beginner"
    equipment: str = "none"
    timezone: str = "UTC"
    onboarded: bool = False
    created_at: datetime | None = None


@dataclass(slots=True)
class FlowState:
    """Where a user is in a multi-step conversation (onboarding, settings, reminder setup)."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PainEntry:
    """One pain score (0-10) the user reported."""

    score: int
    at: datetime


@dataclass(slots=True)
class ReminderSchedule:
    """When to nudge a user; `next_due_at` is timezone-aware UTC, None when inactive."""

    key: UserKey
    chat_id: str
    days: tuple[int, ...] = (0, 2, 4)  # Monday=0
    at: time = time(18, 0)
    timezone: str = "UTC"
    active: bool = True
    paused_until: date | None = None
    next_due_at: datetime | None = None


class Store(Protocol):
    """The repository the dialogue core calls. Every method is async; nothing else does I/O."""

    async def get_profile(self, key: UserKey) -> Profile | None: ...

    async def save_profile(self, profile: Profile) -> None: ...

    async def get_state(self, key: UserKey) -> FlowState | None: ...

    async def save_state(self, key: UserKey, state: FlowState | None) -> None: ...

    async def log_session(self, key: UserKey, day: date, at: datetime) -> bool:
        """Record a workout on `day` (the user's local date); False if that day was logged."""
        ...

    async def session_days(self, key: UserKey, since: date) -> list[date]: ...

    async def log_pain(self, key: UserKey, score: int, at: datetime) -> None: ...

    async def pain_since(self, key: UserKey, since: datetime) -> list[PainEntry]: ...

    async def get_reminder(self, key: UserKey) -> ReminderSchedule | None: ...

    async def save_reminder(self, schedule: ReminderSchedule) -> None: ...

    async def forget(self, key: UserKey) -> int:
        """Delete every row of this user; return how many rows went."""
        ...
