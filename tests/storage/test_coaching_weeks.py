"""Four weeks of one user, as a transcript on the real SqlStore (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set): weekly check-ins riding on the Monday reminders, a step-up earned by
two faithful weeks, "Too hard", the lighter fourth week, and two high pain scores that put the
plan on the gentle plan. Time is the chat's clock: nothing waits."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from bot.app import build_dialogue
from bot.core import progression
from bot.core.ports import UserKey
from bot.core.types import Kind, Reply
from bot.storage.store import SqlStore
from tests.conftest import Chat

KEY = UserKey("telegram", "u1")
START = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # a Monday, 18:00 in Berlin


def _items(card: str) -> list[str]:
    return [line for line in card.splitlines() if re.match(r"^\d+\. ", line)]


def _sets(card: str) -> list[int]:
    return [int(m[1]) for line in _items(card) if (m := re.search(r"— (\d+) ×", line))]


async def _nudge(chat: Chat, day: int) -> Reply:
    """The reminder the scheduler would send that day (composed by the dialogue)."""
    chat.now = START + timedelta(days=day)
    nudge = await chat.dialogue.reminder(KEY, chat.now)
    chat.last = [nudge]
    return nudge


async def _train(chat: Chat, day: int) -> list[Reply]:
    chat.now = START + timedelta(days=day, minutes=30)
    workout = await chat.say("/today")
    assert workout[0].kind is Kind.WORKOUT
    await chat.press("Done")
    assert "Logged" in chat.last[0].text
    return workout


async def test_four_weeks_progress_pain_and_step_down(store: SqlStore) -> None:
    clock = [START]
    chat = Chat(build_dialogue(store, monotonic=lambda: clock[0].timestamp()), platform="telegram")

    def at(day: int, hours: float = 0) -> None:
        chat.now = clock[0] = START + timedelta(days=day, hours=hours)

    # -- setup, opting in to the weekly check-in --------------------------------------------
    at(0, -2)
    await chat.say("/start")
    await chat.press("Beginner")
    await chat.press("Nothing")
    await chat.say("2")
    await chat.press("Yes, store")
    await chat.press("Yes, remind me")
    *_, ask = await chat.say("Berlin")
    assert ask.topic == "checkin" and "one-tap" in ask.text
    await chat.press("Yes, check in")
    assert chat.last[0].text.startswith("Weekly check-in: on.")
    profile = await store.get_profile(KEY)
    assert profile is not None and profile.checkin and profile.onboarded

    # -- weeks 1 and 2: Mon/Wed/Fri, check-in on the Monday reminder only --------------------
    for day in (0, 2, 4, 7, 9, 11):
        nudge = await _nudge(chat, day)
        clock[0] = chat.now
        carries = "Weekly check-in 1/3" in nudge.text
        assert carries == (day in (0, 7)), day  # the week's first reminder, and only that one
        if carries:
            assert [b.label for b in nudge.buttons][-11:] == [str(n) for n in range(11)]
            await chat.press("2" if day == 0 else "1")
            assert chat.last[-1].text.startswith("2/3")
            await chat.press("A little" if day == 0 else "Not at all")
            await chat.press("4")
            assert chat.last[0].topic == "checkin_done" and "not a diagnosis" in chat.last[0].text
        card = await _train(chat, day)
        assert len(card) == 1, "no step-up offer in the first two weeks"
        assert "Lighter week" not in card[0].text
    snoozed = await _nudge(chat, 7)  # a second nudge that Monday (a snooze): no second check-in
    assert "check-in" not in snoozed.text

    # -- week 3: the check-in typed, then the step-up -----------------------------------------
    await _nudge(chat, 14)
    clock[0] = chat.now
    await chat.press("1")
    assert (await chat.say("not at all"))[-1].text.startswith("3/3")
    [thanks] = await chat.say("5")
    assert "confidence 5/5" in thanks.text
    at(14, 0.5)
    card, offer = await chat.say("/today")
    assert offer.topic == "step_up_offer" and offer.text.startswith("Ready for a step up?")
    assert [b.label for b in offer.buttons] == ["Yes, step up", "Not yet"]
    [stepped] = await chat.press("Yes, step up")
    assert stepped.topic == "stepped_up"
    steps = await store.get_steps(KEY)
    assert steps and all(s.step == 1 and s.stepped_up_at == chat.now for s in steps.values())
    [harder] = await chat.say("/today")  # the same session, one step harder, no second offer
    assert harder.topic == card.topic and harder.text != card.text
    assert all(
        re.search(r"\((more reps|more time|one more set|harder variant)", i)
        for i in _items(harder.text)
    )
    await chat.press("Done")
    chat.last = [offer]
    [again] = await chat.press("Yes")  # the old offer, pressed again: no second step-up
    assert again.topic == "step_up_no" and "two weeks" in again.text

    # Wednesday: no offer; the workout was too hard, one exercise steps back.
    at(16, 0.5)
    [wed] = await chat.say("/today")
    await chat.press("Done")
    [which] = await chat.press("Too hard?")
    assert which.topic == "too_hard_which"
    hard_name = which.buttons[0].label
    [down] = await chat.press(hard_name)
    assert down.topic == "too_hard_done" and down.text.startswith(f"Okay: {hard_name} is one step")
    hard_id = next(x.id for x in chat.dialogue.kb.exercises.values() if x.name == hard_name)
    assert (await store.get_steps(KEY))[hard_id].step == 0
    assert wed.text.splitlines()[3].startswith(f"1. {hard_name}")
    [progress, checkins] = await chat.say("/progress")
    assert progress.image and checkins.image and checkins.topic == "checkins"
    assert hard_name not in progress.text.split("Steps:")[1]
    assert "+1" in progress.text and "Check-ins (3): pain 2 → 1/10" in checkins.text
    await _train(chat, 18)

    # -- week 4: the lighter week, then two high pain scores --------------------------------
    await _nudge(chat, 21)
    assert "Weekly check-in" in chat.last[0].text
    clock[0] = chat.now
    for label in ("3", "A little", "3"):
        await chat.press(label)
    assert "pain 3/10 · daily life: a little · confidence 3/5" in chat.last[0].text
    light = await _train(chat, 21)
    assert "Lighter week" in light[0].text and len(light) == 1
    # One set fewer than that session at the user's steps, on every exercise that has sets.
    kb = chat.dialogue.kb
    plan_id, session_id = str(light[0].topic).split(":")
    plan = next(p for p in kb.plans if p.id == plan_id)
    session = next(s for s in plan.sessions if s.id == session_id)
    stepped = [
        progression.rung_at(
            kb, i.exercise, i.dose or "", plan.equipment, 0 if i.exercise == hard_id else 1
        )
        for i in session.items
    ]
    full = [d.sets[1] for r in stepped if (d := progression.parse_dose(r.dose)) and d.sets]
    assert full and _sets(light[0].text) == [max(1, n - 1) for n in full]
    assert any(n > 1 for n in full)  # so the week is really lighter
    at(22, 1)
    [p7] = await chat.say("/pain 7")
    assert "Step-ups pause for two weeks" in p7.text
    at(23, 1)
    [p8] = await chat.say("/pain 8")
    assert "two pain scores of 7 or more this week" in p8.text and "gentle plan" in p8.text
    at(24, 1)
    await chat.say("/pain 3")  # lower now, but two 7+ this week keep the plan gentle
    [gentle] = await chat.say("/today")
    assert gentle.text.startswith("**Today: gentle session")
    assert "two pain scores of 7 or more" in gentle.text

    # -- the week after: back on the plan, step-ups paused for two weeks from the last 7+ ----
    at(30, 1)
    back = await chat.say("/today")
    assert not back[0].text.startswith("**Today: gentle") and len(back) == 1
    [progress, _] = await chat.say("/progress")
    assert "Step-ups paused until 09 Dec" in progress.text
    days = await store.session_days(KEY, date(2026, 11, 1))
    assert len(days) == 10  # Mon/Wed/Fri for three weeks, and the lighter Monday
    assert len(await store.checkins_since(KEY, date(2026, 11, 1))) == 4
