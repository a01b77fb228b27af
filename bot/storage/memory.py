"""An in-memory Store: for core tests and `backbot ask`, where nothing needs to persist."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from bot.core.ports import (
    CheckIn,
    Conversation,
    InboxItem,
    PainEntry,
    Profile,
    ProgressStep,
    ReminderSchedule,
    TurnStart,
    Unanswered,
    UserKey,
)


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
        self.steps: dict[UserKey, dict[str, ProgressStep]] = {}
        self.checkins: dict[UserKey, dict[date, CheckIn]] = {}
        self.inbox: dict[int, InboxItem] = {}

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

    async def begin_turn(
        self,
        key: UserKey,
        holder: str,
        until: datetime,
        now: datetime,
        update_id: str | None = None,
    ) -> TurnStart | None:
        if not await self.claim_turn(key, holder, until, now):
            return None
        first = update_id is None or await self.first_seen(key.platform, update_id, now)
        return TurnStart(await self.get_profile(key), await self.get_conversation(key), first)

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
        steps, checkins = self.steps.get(key, {}), self.checkins.get(key, {})
        asked = [i for i in self.inbox.values() if i.question.user == key]
        if profile is None and not (
            sessions or pain or sched or conv or steps or checkins or asked
        ):
            return {}
        p = dataclasses.asdict(profile) if profile else {}
        p.pop("key", None)
        has_user = profile is not None or bool(sessions or pain or sched or conv)
        user = {"user": {"platform": key.platform, "user_id": key.user_id, **p}} if has_user else {}
        data: dict[str, Any] = json.loads(
            json.dumps(
                {
                    **user,
                    "workouts": [{"day": d, "logged_at": at} for d, at in sorted(sessions.items())],
                    "pain_scores": [{"score": e.score, "at": e.at} for e in pain],
                    "reminder_schedules": [dataclasses.asdict(sched)] if sched else [],
                    "deliveries": [],
                    "progression_steps": [dataclasses.asdict(v) for _, v in sorted(steps.items())],
                    "checkins": [dataclasses.asdict(v) for _, v in sorted(checkins.items())],
                    "conversations": [conv.to_json()] if conv else [],
                    "unanswered_questions": [_inbox_row(i) for i in asked],
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

    async def get_steps(self, key: UserKey) -> dict[str, ProgressStep]:
        return dict(self.steps.get(key, {}))

    async def save_steps(self, key: UserKey, steps: Collection[ProgressStep]) -> None:
        if steps:
            self.steps.setdefault(key, {}).update({s.exercise: s for s in steps})

    async def save_checkin(self, key: UserKey, checkin: CheckIn) -> None:
        self.checkins.setdefault(key, {})[checkin.week] = checkin

    async def checkins_since(self, key: UserKey, since: date) -> list[CheckIn]:
        got = self.checkins.get(key, {})
        return [got[w] for w in sorted(got) if w >= since]

    async def record_unanswered(self, question: Unanswered) -> None:
        item_id = max(self.inbox, default=0) + 1
        self.inbox[item_id] = InboxItem(item_id, question)

    async def inbox_items(self, status: str | None = "open") -> list[InboxItem]:
        items = [i for i in self.inbox.values() if status is None or i.status == status]
        return sorted(items, key=lambda i: (i.question.asked_at, i.id))

    async def inbox_item(self, item_id: int) -> InboxItem | None:
        return self.inbox.get(item_id)

    async def resolve_inbox_item(
        self, item_id: int, status: str, faq_id: str | None, now: datetime
    ) -> bool:
        item = self.inbox.get(item_id)
        if item is None or item.status != "open":
            return False
        self.inbox[item_id] = dataclasses.replace(
            item, status=status, faq_id=faq_id, resolved_at=now
        )
        return True

    async def drop_inbox_users(self, before: datetime) -> int:
        return self._unlink(lambda i: i.question.asked_at < before)

    def _unlink(self, which: Any) -> int:
        n = 0
        for item_id, item in list(self.inbox.items()):
            if item.question.user is not None and which(item):
                q = dataclasses.replace(item.question, user=None)
                self.inbox[item_id] = dataclasses.replace(item, question=q)
                n += 1
        return n

    async def forget(self, key: UserKey) -> int:
        n = 0
        for table in (self.profiles, self.conversations, self.reminders):
            n += table.pop(key, None) is not None
        n += len(self.sessions.pop(key, {}))
        n += len(self.pain.pop(key, []))
        n += len(self.steps.pop(key, {}))
        n += len(self.checkins.pop(key, {}))
        # Inbox questions stay (without who asked), as on the database.
        n += self._unlink(lambda i: i.question.user == key)
        return n


def _inbox_row(item: InboxItem) -> dict[str, Any]:
    """An inbox item as /export shows it (the columns of `unanswered_questions`)."""
    q = item.question
    return {
        "id": item.id,
        "text": q.text,
        "reason": q.reason,
        "candidates": [{"topic": c.topic, "score": c.score} for c in q.candidates],
        "platform": q.platform,
        "asked_at": q.asked_at,
        "status": item.status,
        "faq_id": item.faq_id,
        "resolved_at": item.resolved_at,
    }
