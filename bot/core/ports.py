"""What the core needs from the outside world: the Store protocol and the plain records it trades.

The core never sees ORM objects or SQL; `bot.storage` implements this protocol on SQLAlchemy and
`bot.storage.memory` implements it in memory for tests and throwaway sessions.
"""

from __future__ import annotations

from collections.abc import Collection
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
    pain_consent: bool = False  # agreed to pain scores being stored
    checkin: bool = False  # wants the weekly check-in with the week's first reminder


@dataclass(slots=True)
class Frame:
    """One flow a user is in: which flow, which step waits for an answer, the flow's own data,
    and when the step's question was last asked (flows expire after a quiet spell)."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    asked_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        at = self.asked_at.isoformat() if self.asked_at else None
        return {"flow": self.flow, "step": self.step, "data": self.data, "asked_at": at}

    @classmethod
    def from_json(cls, raw: Any) -> Frame | None:
        """A stored frame, or None for anything malformed (never raises)."""
        if not isinstance(raw, dict):
            return None
        flow, step, data = raw.get("flow"), raw.get("step"), raw.get("data")
        if not isinstance(flow, str) or not isinstance(step, str):
            return None
        at = raw.get("asked_at")
        try:
            asked = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            asked = None
        return cls(flow, step, dict(data) if isinstance(data, dict) else {}, asked)


@dataclass(slots=True)
class Conversation:
    """A user's conversation state: a stack of flows (the last one is answering now; an
    interruption pushes a new flow on top) and small marks that outlive flows (when the
    red-flag screening question was last asked)."""

    frames: list[Frame] = field(default_factory=list)
    marks: dict[str, str] = field(default_factory=dict)

    @property
    def top(self) -> Frame | None:
        return self.frames[-1] if self.frames else None

    def is_empty(self) -> bool:
        return not self.frames and not self.marks

    def to_json(self) -> dict[str, Any]:
        return {"frames": [f.to_json() for f in self.frames], "marks": dict(self.marks)}

    @classmethod
    def from_json(cls, raw: Any) -> Conversation:
        """A stored conversation; malformed parts are dropped rather than raised on."""
        if not isinstance(raw, dict):
            return cls()
        frames = raw.get("frames")
        marks = raw.get("marks")
        parsed = [f for f in map(Frame.from_json, frames if isinstance(frames, list) else []) if f]
        kept = {str(k): str(v) for k, v in marks.items()} if isinstance(marks, dict) else {}
        return cls(parsed, kept)


@dataclass(frozen=True, slots=True)
class PainEntry:
    """One pain score (0-10) the user reported."""

    score: int
    at: datetime


@dataclass(frozen=True, slots=True)
class ProgressStep:
    """Where a user is on one exercise's progression ladder: `step` is the offset from the
    plan's dose (0 = as planned, +1 one rung harder, -1 one easier)."""

    exercise: str
    step: int
    changed_at: datetime
    stepped_up_at: datetime | None = None  # the last step-up of this exercise


@dataclass(frozen=True, slots=True)
class CheckIn:
    """One weekly check-in (the week is its Monday); answers arrive one tap at a time, so any
    may still be missing. `interference`: 0 not at all .. 3 a lot; `confidence` 1-5."""

    week: date
    at: datetime
    pain: int | None = None
    interference: int | None = None
    confidence: int | None = None


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


@dataclass(frozen=True, slots=True)
class Candidate:
    """A knowledge-base topic retrieval offered for a message, and its score (0..1)."""

    topic: str
    score: float


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A message the bot could not answer well, for the operator's inbox (`bot.core.inbox`):
    what was asked, why it counts (`reason`: suggest, declined, low_confidence), what
    retrieval offered, where and by whom. `user` is dropped after 30 days and on /forget."""

    text: str
    reason: str
    candidates: tuple[Candidate, ...]
    platform: str
    user: UserKey | None
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A stored `Unanswered` with its id and what the operator did with it: `status` is
    open, promoted (to the FAQ entry `faq_id`) or dismissed."""

    id: int
    question: Unanswered
    status: str = "open"
    faq_id: str | None = None
    resolved_at: datetime | None = None


INBOX_STATUSES = ("open", "promoted", "dismissed")


@dataclass(slots=True)
class TurnStart:
    """What a turn starts from, read in the transaction that took the user's turn lease
    (`Store.begin_turn`): one round trip instead of four."""

    profile: Profile | None
    conversation: Conversation
    first: bool = True  # the platform update was not handled before (not a retry)


class Store(Protocol):
    """The repository the dialogue core calls. Every method is async; nothing else does I/O."""

    async def get_profile(self, key: UserKey) -> Profile | None: ...

    async def save_profile(self, profile: Profile, fields: Collection[str] | None = None) -> None:
        """Create or update a profile. On an existing profile only `fields` are written (all
        when None): a turn writes back what it changed, never a stale copy of the rest."""
        ...

    async def get_conversation(self, key: UserKey) -> Conversation: ...

    async def save_conversation(self, key: UserKey, conversation: Conversation) -> None:
        """Store the conversation; an empty one deletes the stored state."""
        ...

    async def claim_turn(self, key: UserKey, holder: str, until: datetime, now: datetime) -> bool:
        """Take this user's turn lease for `holder` until `until`, unless another holder's
        lease is still running at `now`. The guard that orders one user's turns across
        several bot instances; True when taken."""
        ...

    async def begin_turn(
        self,
        key: UserKey,
        holder: str,
        until: datetime,
        now: datetime,
        update_id: str | None = None,
    ) -> TurnStart | None:
        """`claim_turn`, and in the same transaction `first_seen` (when there is an update id),
        `get_profile` and `get_conversation`. None, with nothing recorded, while another
        holder's lease is running."""
        ...

    async def release_turn(self, key: UserKey, holder: str) -> None: ...

    async def first_seen(self, platform: str, update_id: str, now: datetime) -> bool:
        """Record a platform update as handled; False if it was already (a retry)."""
        ...

    async def export(self, key: UserKey) -> dict[str, Any]:
        """Every row stored about this user, as JSON-ready data (for /export)."""
        ...

    async def log_session(self, key: UserKey, day: date, at: datetime) -> bool:
        """Record a workout on `day` (the user's local date); False if that day was logged."""
        ...

    async def session_days(self, key: UserKey, since: date) -> list[date]: ...

    async def log_pain(self, key: UserKey, score: int, at: datetime) -> None: ...

    async def pain_since(self, key: UserKey, since: datetime) -> list[PainEntry]: ...

    async def profiles_of(self, keys: Collection[UserKey]) -> dict[UserKey, Profile]:
        """The profiles of many users in one query (users without one are left out): the
        reminder fan-out composes a whole claimed batch from it."""
        ...

    async def last_pain_of(
        self, keys: Collection[UserKey], since: datetime
    ) -> dict[UserKey, PainEntry]:
        """Each user's latest pain score at or after `since`, in one query (users without
        one are left out); the same entry `pain_since(key, since)[-1]` would give."""
        ...

    async def get_reminder(self, key: UserKey) -> ReminderSchedule | None: ...

    async def save_reminder(self, schedule: ReminderSchedule) -> None: ...

    async def get_steps(self, key: UserKey) -> dict[str, ProgressStep]:
        """The user's progression step per exercise id (exercises never moved are absent)."""
        ...

    async def save_steps(self, key: UserKey, steps: Collection[ProgressStep]) -> None:
        """Create or overwrite these exercises' steps."""
        ...

    async def save_checkin(self, key: UserKey, checkin: CheckIn) -> None:
        """Create or overwrite the check-in of `checkin.week` (answers given so far)."""
        ...

    async def checkins_since(self, key: UserKey, since: date) -> list[CheckIn]:
        """Check-ins of weeks from `since` on, oldest first."""
        ...

    async def record_unanswered(self, question: Unanswered) -> None:
        """Add a message to the operator's inbox of unanswered questions (one INSERT)."""
        ...

    async def forget(self, key: UserKey) -> int:
        """Delete every row of this user (and unlink their inbox questions from them);
        return how many rows went."""
        ...


class InboxStore(Protocol):
    """What `backbot inbox` needs on top of recording: read, resolve, and drop user links."""

    async def inbox_items(self, status: str | None = "open") -> list[InboxItem]:
        """Items with this status (every item when None), oldest first."""
        ...

    async def inbox_item(self, item_id: int) -> InboxItem | None: ...

    async def resolve_inbox_item(
        self, item_id: int, status: str, faq_id: str | None, now: datetime
    ) -> bool:
        """Mark an open item promoted or dismissed; False when it is not open (or not there)."""
        ...

    async def drop_inbox_users(self, before: datetime) -> int:
        """Unlink every inbox item asked before `before` from its user; return how many."""
        ...
