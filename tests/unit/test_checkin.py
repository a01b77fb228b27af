"""The weekly check-in (bot.core.flows.checkin) and the progression buttons, as transcripts on
the in-memory store; the four-week story on the real store is tests/storage/test_coaching_weeks.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.flood import FloodGate
from bot.core.ports import CheckIn, Profile, UserKey
from bot.storage.memory import MemoryStore
from tests.conftest import Chat

KEY = UserKey("test", "u1")
MONDAY = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)


def _opted_in(make_chat, store: MemoryStore, checkin: bool = True) -> Chat:
    chat = make_chat(flood=FloodGate(limit=10_000))
    store.profiles[KEY] = Profile(KEY, "Ana", onboarded=True, pain_consent=True, checkin=checkin)
    return chat


async def _nudge(chat: Chat, when: datetime) -> None:
    chat.now = when
    chat.last = [await chat.dialogue.reminder(KEY, when)]


async def test_opted_out_users_never_get_it(make_chat, store: MemoryStore) -> None:
    chat = _opted_in(make_chat, store, checkin=False)
    await _nudge(chat, MONDAY)
    assert "check-in" not in chat.last[0].text and len(chat.last[0].buttons) == 4


async def test_a_check_in_already_given_this_week_is_not_asked_again(
    make_chat, store: MemoryStore
) -> None:
    chat = _opted_in(make_chat, store)
    await store.save_checkin(KEY, CheckIn(MONDAY.date(), MONDAY, 3, 1, 4))
    await _nudge(chat, MONDAY + timedelta(days=2))
    assert "check-in" not in chat.last[0].text
    await _nudge(chat, MONDAY + timedelta(days=7))  # a new week: asked again
    assert "Weekly check-in 1/3" in chat.last[0].text


async def test_typed_answers_and_bad_ones_get_a_friendly_reask(
    make_chat, store: MemoryStore
) -> None:
    chat = _opted_in(make_chat, store)
    await _nudge(chat, MONDAY)
    chat.now = MONDAY + timedelta(days=1)  # a day later: the buttons on the nudge still work
    await chat.press("5")
    [again] = await chat.say("11")  # a number for a question with words: asked again
    assert again.topic == "life" and again.text.startswith("Please pick one of the buttons.")
    [life] = await chat.say("quite a bit")
    assert life.text.startswith("3/3") and [b.label for b in life.buttons] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    [bad] = await chat.say("7")
    assert "7 is outside 1-5" in bad.text and bad.text.endswith("5 = very.")
    [done] = await chat.say("2")
    assert "pain 5/10 · daily life: quite a bit · confidence 2/5" in done.text
    [got] = await store.checkins_since(KEY, MONDAY.date())
    assert (got.pain, got.interference, got.confidence) == (5, 2, 2)


async def test_an_answer_is_kept_even_if_the_rest_never_come(make_chat, store: MemoryStore) -> None:
    chat = _opted_in(make_chat, store)
    await _nudge(chat, MONDAY)
    await chat.press("6")
    chat.now = MONDAY + timedelta(hours=2)
    [q] = await chat.say("how long should I hold a plank?")
    assert q.topic == "plank_hold_time"  # the check-in question expired meanwhile
    [got] = await store.checkins_since(KEY, MONDAY.date())
    assert (got.pain, got.interference, got.confidence) == (6, None, None)


async def test_a_high_average_says_where_to_get_help(make_chat, store: MemoryStore) -> None:
    chat = _opted_in(make_chat, store)
    await _nudge(chat, MONDAY)
    for label in ("9", "A lot", "1"):
        await chat.press(label)
    assert "GP" in chat.last[0].text and "not a diagnosis" in chat.last[0].text


async def test_settings_turns_it_on_and_says_it_needs_reminders(
    make_chat, store: MemoryStore
) -> None:
    chat = _opted_in(make_chat, store, checkin=False)
    chat.now = MONDAY
    [overview] = await chat.say("/settings")
    assert "Weekly check-in: off" in overview.text
    await chat.press("Weekly check-in")
    [saved] = await chat.press("Yes, check in")
    assert (
        saved.text
        == "Weekly check-in: on. It comes with your reminders: /remind to turn them on. Saved."
    )
    assert store.profiles[KEY].checkin
    [overview] = await chat.say("/settings")
    assert "Weekly check-in: on" in overview.text
    await chat.press("Weekly check-in")
    await chat.press("No thanks")
    assert not store.profiles[KEY].checkin


async def test_setup_without_reminders_does_not_ask_for_the_check_in(make_chat) -> None:
    chat = make_chat()
    await chat.say("/start")
    await chat.press("Beginner")
    await chat.press("Nothing")
    await chat.say("0")
    replies = await chat.press("No reminders")
    assert replies[-1].topic == "done" and all(r.topic != "checkin" for r in replies)


async def _two_faithful_weeks(chat: Chat) -> None:
    for day in (0, 2, 4, 7, 9, 11):
        chat.now = MONDAY + timedelta(days=day)
        await chat.say("/done")


async def test_check_in_answers_hold_a_step_up_back(make_chat, store: MemoryStore) -> None:
    chat = _opted_in(make_chat, store)
    await _two_faithful_weeks(chat)
    chat.now = MONDAY + timedelta(days=14, hours=1)
    assert len(await chat.say("/today")) == 2  # ready: the offer follows the workout
    # A check-in this week: pain 2 but "a lot" in the way of daily life -> not now.
    await store.save_checkin(KEY, CheckIn(chat.now.date(), chat.now, 2, 3, 3))
    assert len(await chat.say("/today")) == 1
    # An average of 7 pauses step-ups for two weeks, like a /pain 7.
    await store.save_checkin(KEY, CheckIn(chat.now.date(), chat.now, 7, 0, 3))
    assert len(await chat.say("/today")) == 1
    [progress, _] = await chat.say("/progress")
    assert "Step-ups paused until 30 Nov" in progress.text


async def test_not_yet_keeps_the_steps_and_asks_again_a_week_later(
    make_chat, store: MemoryStore
) -> None:
    chat = _opted_in(make_chat, store)
    await _two_faithful_weeks(chat)
    chat.now = MONDAY + timedelta(days=14, hours=1)
    await chat.say("/today")
    [later] = await chat.press("Not yet")
    assert "ask again" in later.text and await store.get_steps(KEY) == {}
    await chat.say("/done")
    for day in (16, 18):
        chat.now = MONDAY + timedelta(days=day)
        assert len(await chat.say("/today")) == 1
        await chat.say("/done")
    chat.now = MONDAY + timedelta(days=21, hours=1)
    assert len(await chat.say("/today")) == 1  # the lighter week: no offer in it
    for day in (21, 23, 25):
        chat.now = MONDAY + timedelta(days=day)
        await chat.say("/done")
    chat.now = MONDAY + timedelta(days=28, hours=1)
    replies = await chat.say("/today")
    assert replies[-1].topic == "step_up_offer"


async def test_too_hard_at_the_bottom_of_the_ladder_says_so(make_chat, store: MemoryStore) -> None:
    chat = _opted_in(make_chat, store)
    chat.now = MONDAY
    await chat.say("/done")
    [which] = await chat.press("Too hard?")
    name = which.buttons[0].label
    for _ in range(6):
        chat.last = [which]
        [reply] = await chat.press(name)
    assert reply.topic == "too_hard_bottom" and "easiest step" in reply.text
    [step] = (await store.get_steps(KEY)).values()
    assert step.step < 0
