"""An in-memory Store: for core tests and `backbot ask`, where nothing needs to persist."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from bot.core.ports import Conversation, PainEntry, Profile, ReminderSchedule, UserKey


class MemoryStore:
    """Implements `bot.core.ports.Store` with dicts; copies on the way in and out like a DB."""

    def __init__(self) -> None:
        self.profiles: dict[UserKey, Profile] = {}
        self.conversations: dict[UserKey, Conversation] = {}
        self.leases: dict[UserKey, tuple[str, datetime]] = {}
        self.seen: dict[tuple[str, str], datetime] = {}
        self.sessions: dict[UserKey, dict[date, datetime]] = {}
        self.pain: dict[UserKey, list[PainEntry]] = {}
        self.reminders: dict[UserKey, ReminderSchedule] = {}

    async def get_profile(self, key: UserKey) -> Profile | None:
        return copy.deepcopy(self.profiles.get(key))

    async def save_profile(self, profile: Profile, fields: Collection[str] | None = None) -> None:
        stored = self.profiles.get(profile.key)
        if stored is None or fields is None:
            self.profiles[profile.key] = copy.deepcopy(profile)
            return
        for name in fields:
            setattr(stored, name, copy.deepcopy(getattr(profile, name)))

    async def get_conversation(self, key: UserKey) -> Conversation:
        return Conversation.from_json(
            copy.deepcopy(self.conversations.get(key, Conversation()).to_json())
        )

    async def save_conversation(self, key: UserKey, conversation: Conversation) -> None:
        if conversation.is_empty():
            self.conversations.pop(key, None)
        else:
            # Through JSON, as the database stores it: what a test sees is what SQL would give.
            self.conversations[key] = Conversation.from_json(copy.deepcopy(conversation.to_json()))

    async def claim_turn(self, key: UserKey, holder: str, until: datetime, now: datetime) -> bool:
        held = self.leases.get(key)
        if held is not None and held[0] != holder and held[1] > now:
            return False
        self.leases[key] = (holder, until)
        return True

    async def release_turn(self, key: UserKey, holder: str) -> None:
        if key in self.leases and self.leases[key][0] == holder:
            del self.leases[key]

    async def first_seen(self, platform: str, update_id: str, now: datetime) -> bool:
        if (platform, update_id) in self.seen:
            return False
        if len(self.seen) > 10_000:  # a throwaway store stays small
            self.seen.clear()
        self.seen[(platform, update_id)] = now
        return True

    async def export(self, key: UserKey) -> dict[str, Any]:
        profile = self.profiles.get(key)
        sessions, pain = self.sessions.get(key, {}), self.pain.get(key, [])
        sched, conv = self.reminders.get(key), self.conversations.get(key)
        if profile is None and not (sessions or pain or sched or conv):
            return {}
        p = dataclasses.asdict(profile) if profile else {}
        p.pop("key", None)
        data: dict[str, Any] = json.loads(
            json.dumps(
                {
                    "user": {"platform": key.platform, "user_id": key.user_id, **p},
                    "workouts": [{"day": d, "logged_at": at} for d, at in sorted(sessions.items())],
                    "pain_scores": [{"score": e.score, "at": e.at} for e in pain],
                    "reminder_schedules": [dataclasses.asdict(sched)] if sched else [],
                    "deliveries": [],
                    "conversations": [conv.to_json()] if conv else [],
                },
                default=str,
            )
        )
        return data

    async def log_session(self, key: UserKey, day: date, at: datetime) -> bool:
        days = self.sessions.setdefault(key, {})
        if day in days:
            return False
        days[day] = at
        return True

    async def session_days(self, key: UserKey, since: date) -> list[date]:
        return sorted(d for d in self.sessions.get(key, {}) if d >= since)

    async def log_pain(self, key: UserKey, score: int, at: datetime) -> None:
        self.pain.setdefault(key, []).append(PainEntry(score, at))

    async def pain_since(self, key: UserKey, since: datetime) -> list[PainEntry]:
        return sorted((p for p in self.pain.get(key, []) if p.at >= since), key=lambda p: p.at)

    async def profiles_of(self, keys: Collection[UserKey]) -> dict[UserKey, Profile]:
        return {k: copy.deepcopy(p) for k in keys if (p := self.profiles.get(k)) is not None}

    async def last_pain_of(
        self, keys: Collection[UserKey], since: datetime
    ) -> dict[UserKey, PainEntry]:
        out = {}
        for k in keys:
            if entries := await self.pain_since(k, since):
                out[k] = entries[-1]
        return out

    async def get_reminder(self, key: UserKey) -> ReminderSchedule | None:
        return copy.deepcopy(self.reminders.get(key))

    async def save_reminder(self, schedule: ReminderSchedule) -> None:
        self.reminders[schedule.key] = copy.deepcopy(schedule)

    async def forget(self, key: UserKey) -> int:
        n = 0
        for table in (self.profiles, self.conversations, self.reminders):
            n += table.pop(key, None) is not None
        n += len(self.sessions.pop(key, {}))
        n += len(self.pain.pop(key, []))
        return n
