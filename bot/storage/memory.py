"""An in-memory Store: for core tests and `backbot ask`, where nothing needs to persist."""

from __future__ import annotations

import copy
from datetime import date, datetime

from bot.core.ports import FlowState, PainEntry, Profile, ReminderSchedule, UserKey


class MemoryStore:
    """Implements `bot.core.ports.Store` with dicts; copies on the way in and out like a DB."""

    def __init__(self) -> None:
        self.profiles: dict[UserKey, Profile] = {}
        self.states: dict[UserKey, FlowState] = {}
        self.sessions: dict[UserKey, dict[date, datetime]] = {}
        self.pain: dict[UserKey, list[PainEntry]] = {}
        self.reminders: dict[UserKey, ReminderSchedule] = {}

    async def get_profile(self, key: UserKey) -> Profile | None:
        return copy.deepcopy(self.profiles.get(key))

    async def save_profile(self, profile: Profile) -> None:
        self.profiles[profile.key] = copy.deepcopy(profile)

    async def get_state(self, key: UserKey) -> FlowState | None:
        return copy.deepcopy(self.states.get(key))

    async def save_state(self, key: UserKey, state: FlowState | None) -> None:
        if state is None:
            self.states.pop(key, None)
        else:
            self.states[key] = copy.deepcopy(state)

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

    async def get_reminder(self, key: UserKey) -> ReminderSchedule | None:
        return copy.deepcopy(self.reminders.get(key))

    async def save_reminder(self, schedule: ReminderSchedule) -> None:
        self.reminders[schedule.key] = copy.deepcopy(schedule)

    async def forget(self, key: UserKey) -> int:
        n = 0
        for table in (self.profiles, self.states, self.reminders):
            n += table.pop(key, None) is not None
        n += len(self.sessions.pop(key, {}))
        n += len(self.pain.pop(key, []))
        return n
