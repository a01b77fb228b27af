"""Reminder nudges composed for a whole claimed batch: each says what /today would show that user.

The scheduler reads the profiles and recent pain of a batch in one query each; these tests check
the nudge a user receives against the workout the dialogue shows them for /today at that moment
(level, equipment, time zone and the latest pain score of the last seven days all shape it), on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from bot.app import build_dialogue
from bot.config import Settings
from bot.core import workouts
from bot.core.dialogue import Dialogue
from bot.core.ports import Profile, UserKey
from bot.core.types import Incoming, Kind, Reply
from bot.scheduler import TickStats
from bot.storage.models import User
from bot.storage.store import SqlStore
from tests.conftest import unsigned

from .conftest import WED_1800, FakeSender, MakeScheduler, deliveries, seed

# (level, equipment, time zone, pain scores as (score, hours before the reminder))
PEOPLE: dict[str, tuple[str, str, str, list[tuple[int, float]]]] = {
    "p0": ("beginner", "none", "UTC", []),
    "p1": ("intermediate", "dumbbells", "Europe/London", [(7, 3.0)]),  # recent high: gentle
    "p2": ("advanced", "gym", "Asia/Tokyo", [(8, 24 * 8)]),  # older than a week: not gentle
    "p3": ("advanced", "pullup_bar", "America/New_York", [(8, 30.0), (1, 2.0)]),  # eased since
    "p4": ("intermediate", "gym", "Pacific/Auckland", [(2, 50.0), (9, 1.0)]),  # worse since
    "p5": ("beginner", "dumbbells", "UTC", [(6, 24 * 6.9)]),  # just inside the week
}


def shown(reply: Reply) -> tuple[str, list[tuple[str, str]]]:
    return reply.text, [(b.label, unsigned(b.action)) for b in reply.buttons]


async def people(store: SqlStore) -> None:
    ids = await seed(store, len(PEOPLE), prefix="p")
    for uid in ids:
        level, equipment, tz, pain = PEOPLE[uid]
        key = UserKey("telegram", uid)
        profile = await store.get_profile(key)
        assert profile is not None
        profile.level, profile.equipment, profile.timezone = level, equipment, tz
        profile.pain_consent = True
        await store.save_profile(profile)
        for score, hours in pain:
            await store.log_pain(key, score, WED_1800 - timedelta(hours=hours))


async def today_headline(dialogue: Dialogue, uid: str) -> str:
    """The session /today shows this user at the reminder's time."""
    replies = await dialogue.handle(
        Incoming("telegram", uid, uid, text="/today", received_at=WED_1800)
    )
    [card] = [r for r in replies if r.kind is Kind.WORKOUT]
    first = card.text.splitlines()[0]
    m = re.fullmatch(r"\*\*Today: (.+)\*\*", first)
    assert m, first
    return m.group(1)


async def test_each_nudge_names_the_session_today_shows(
    store: SqlStore, sender: FakeSender, settings: Settings, make_scheduler: MakeScheduler
) -> None:
    await people(store)
    dialogue = build_dialogue(store, settings)
    stats = await make_scheduler(store, sender, dialogue=dialogue, batch_size=4).tick(WED_1800)
    assert stats == TickStats(claimed=len(PEOPLE), sent=len(PEOPLE))

    got = {address.chat_id: reply for address, reply in sender.sent}
    assert sorted(got) == sorted(PEOPLE)
    gentle = set()
    for uid, reply in got.items():
        headline = await today_headline(dialogue, uid)
        text, buttons = shown(reply)
        assert text == f"Time for your back session 💪\nToday: {headline}"
        assert buttons == [
            ("Show workout", "today"),
            ("Done ✅", "done"),
            ("Snooze 1h", "rem:snooze"),
            ("Skip today", "rem:skip"),
        ]
        assert reply.kind is Kind.REMINDER and reply.topic == "nudge"
        if headline.startswith("gentle "):
            gentle.add(uid)
    # The latest score of the last seven days decides, as it does for /today.
    assert gentle == {"p1", "p4", "p5"}
    assert all(r["status"] == "sent" for r in await deliveries(store))


async def test_the_nudge_buttons_work_for_their_user(
    store: SqlStore, sender: FakeSender, settings: Settings, make_scheduler: MakeScheduler
) -> None:
    """Buttons are signed per user in the batch: 'Show workout' answers its user with the card
    and tells anyone else it is not theirs."""
    await people(store)
    dialogue = build_dialogue(store, settings)
    await make_scheduler(store, sender, dialogue=dialogue).tick(WED_1800)
    (ann, ann_nudge), (bob, _) = sender.sent[:2]
    show = ann_nudge.buttons[0].action
    [card, *_] = await dialogue.handle(Incoming("telegram", ann.chat_id, ann.chat_id, action=show))
    assert card.kind is Kind.WORKOUT
    [other] = await dialogue.handle(Incoming("telegram", bob.chat_id, bob.chat_id, action=show))
    assert other.topic == "not_yours"


async def test_a_user_without_a_profile_gets_the_default_plan(
    store: SqlStore, sender: FakeSender, settings: Settings, make_scheduler: MakeScheduler
) -> None:
    [uid] = await seed(store, 1, prefix="bare")
    async with store.sessionmaker() as s, s.begin():
        await s.execute(update(User).values(has_profile=False, level="advanced", equipment="gym"))
    dialogue = build_dialogue(store, settings)
    await make_scheduler(store, sender, dialogue=dialogue).tick(WED_1800)
    [(_, reply)] = sender.sent
    w = workouts.todays_workout(
        dialogue.kb,
        user_seed=f"telegram:{uid}",
        day=WED_1800.date(),
        level=Profile(UserKey("telegram", uid)).level,
        equipment=Profile(UserKey("telegram", uid)).equipment,
        pain=None,
    )
    assert reply.text == f"Time for your back session 💪\nToday: {workouts.headline(w)}"


async def test_a_batch_that_cannot_be_composed_is_failed_then_sent_once_later(
    store: SqlStore, sender: FakeSender, settings: Settings, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 3)
    dialogue = build_dialogue(store, settings)
    real = dialogue.reminders
    calls: list[int] = []

    async def broken_once(keys: Any, now: Any) -> dict[UserKey, Reply]:
        calls.append(len(keys))
        if len(calls) == 1:
            raise RuntimeError("kb glitch")
        return await real(keys, now)

    dialogue.reminders = broken_once  # type: ignore[method-assign]
    sched = make_scheduler(store, sender, dialogue=dialogue, retry_backoff=60.0)
    first = await sched.tick(WED_1800)
    assert (first.claimed, first.sent, first.failed) == (3, 0, 3)
    rows = await deliveries(store)
    assert [r["status"] for r in rows] == ["failed"] * 3
    assert all("kb glitch" in r["error"] for r in rows)

    retry = await sched.tick(WED_1800 + timedelta(seconds=61))
    assert (retry.recovered, retry.sent) == (3, 3)
    assert sender.per_chat() == {"u0": 1, "u1": 1, "u2": 1}
    assert [r["status"] for r in await deliveries(store)] == ["sent"] * 3
