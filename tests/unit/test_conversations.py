"""Conversations as transcripts (say, press, expect): every example of issue 11, on the
in-memory store. The concurrency cases run through the Telegram fake in
tests/e2e/test_turn_order.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.features import COMMANDS, HELP
from bot.core.ports import UserKey
from bot.core.types import Kind
from bot.storage.memory import MemoryStore
from tests.conftest import NOON, Chat

KEY = UserKey("test", "u1")


async def pains(store: MemoryStore) -> list[int]:
    return [p.score for p in store.pain.get(KEY, [])]


async def to_step(chat: Chat, step: str) -> None:
    """Walk onboarding up to `step`, by buttons."""
    chat.now = NOON
    await chat.say("/start")
    for label, at in (("Beginner", "level"), ("Nothing", "equipment"), ("None", "pain")):
        if step == at:
            return
        await chat.press(label)
    if step == "reminders":
        return
    await chat.press("Yes, remind me")
    assert step == "timezone"


def buttons(chat: Chat) -> list[str]:
    return [b.label for r in chat.last for b in r.buttons]


# -- setup traps people ----------------------------------------------------------------------


async def test_question_at_the_time_zone_step_is_answered_then_the_step_comes_back(
    chat: Chat,
) -> None:
    await to_step(chat, "timezone")
    replies = await chat.say("is it bad to deadlift if my lower back is sore from yesterday")
    assert "time zone" not in replies[0].text.lower()
    assert replies[0].kind is Kind.FAQ
    assert replies[-1].text.startswith("Back to setup:") and "time zone" in replies[-1].text
    assert "UTC" in buttons(chat) and "Skip setup" in buttons(chat)
    [done, *_] = await chat.say("Berlin")
    assert "Europe/Berlin" in done.text


async def test_hash_one_at_the_time_zone_step_is_a_clear_re_ask(chat: Chat) -> None:
    await to_step(chat, "timezone")
    [reply] = await chat.say("#1")
    assert reply.text.startswith('"#1" isn\'t a time zone.') and "UTC" in buttons(chat)


@pytest.mark.parametrize("said", ["about a 5", "a 5", "5/10", "it's a 5", "five", "5"])
async def test_pain_step_reads_numbers_in_words(chat: Chat, store: MemoryStore, said: str) -> None:
    await to_step(chat, "pain")
    [noted, nxt] = await chat.say(said)
    assert noted.text.startswith("Pain 5/10 noted") and nxt.topic == "reminders"
    assert await pains(store) == [5]


@pytest.mark.parametrize(("said", "why"), [("not too bad", "number"), ("-1", "outside")])
async def test_pain_step_asks_again_for_a_feeling_or_a_negative(
    chat: Chat, store: MemoryStore, said: str, why: str
) -> None:
    await to_step(chat, "pain")
    [reply] = await chat.say(said)
    assert why in reply.text and "Any back pain right now?" in reply.text
    assert "Strong (7-10)" in buttons(chat)
    assert await pains(store) == []


async def test_days_and_time_at_the_reminders_step_ask_the_time_zone_first(
    chat: Chat, store: MemoryStore
) -> None:
    await to_step(chat, "reminders")
    replies = await chat.say("tue thu 7am")
    assert "Tue, Thu at 07:00" in replies[0].text and replies[-1].topic == "timezone"
    assert await store.get_reminder(KEY) is None  # not in UTC behind the user's back
    await chat.say("+2")
    sched = await store.get_reminder(KEY)
    assert sched is not None and sched.days == (1, 3) and sched.timezone == "Etc/GMT-2"
    await chat.say("yes")  # the weekly check-in, asked once reminders are on
    profile = await store.get_profile(KEY)
    assert profile is not None and profile.onboarded and profile.checkin


async def test_a_settings_question_does_not_stay_open(chat: Chat, store: MemoryStore) -> None:
    await chat.say("/settings")
    [question] = await chat.press("Level")
    assert "training level" in question.text
    await chat.say("/today")
    await chat.say("/done")
    await chat.say("how long should I hold a plank")
    replies = await chat.say("should I do 3 sets of rows?")
    assert "Saved" not in chat.text
    assert all(r.topic != "level" for r in replies)
    assert (await store.get_profile(KEY)).level == "beginner"  # type: ignore[union-attr]


async def test_a_settings_question_still_takes_its_answer(chat: Chat, store: MemoryStore) -> None:
    await chat.say("/settings")
    await chat.press("Level")
    [saved] = await chat.say("advanced")
    assert saved.text == "Level: advanced. Saved."
    assert (await store.get_profile(KEY)).level == "advanced"  # type: ignore[union-attr]


# -- pain in words -----------------------------------------------------------------------------


async def test_pain_command_then_its_a_5(chat: Chat, store: MemoryStore) -> None:
    [ask] = await chat.say("/pain")
    assert "0 (no pain) to 10" in ask.text
    [noted] = await chat.say("it's a 5")
    assert noted.text.startswith("Pain 5/10 noted.")
    assert await pains(store) == [5]
    [after] = await chat.say("5")  # the flow is over: a bare number is asked about again
    assert after.text == "Did you mean a pain score of 5/10?"


@pytest.mark.parametrize(
    ("said", "score"),
    [
        ("my pain is about a 6 today", 6),
        ("my back pain is a 7 today", 7),
        ("I'd rate my pain a 6", 6),
        ("pain is 6", 6),
    ],
)
async def test_unprompted_pain_in_words_is_recorded(
    chat: Chat, store: MemoryStore, said: str, score: int
) -> None:
    replies = await chat.say(said)
    if replies[0].kind is Kind.SCREEN:  # the model may ask its safety question first
        replies = (await chat.press("No"))[1:]
    assert replies[0].text.startswith(f"Pain {score}/10 noted.")
    assert await pains(store) == [score]


@pytest.mark.parametrize("said", ["11", "-1", "15/10"])
async def test_pain_out_of_range_gets_a_clear_re_ask(
    chat: Chat, store: MemoryStore, said: str
) -> None:
    await chat.say("/pain")
    [reply] = await chat.say(said)
    assert "outside the scale" in reply.text and "0 (no pain) to 10" in reply.text
    assert await pains(store) == []
    [noted] = await chat.say("3")
    assert noted.text.startswith("Pain 3/10 noted.")


async def test_pain_command_with_a_unicode_digit_does_not_crash(
    chat: Chat, store: MemoryStore
) -> None:
    [reply] = await chat.say("/pain ➂")
    assert "isn't a score I can use" in reply.text
    assert await pains(store) == []


# -- short replies -------------------------------------------------------------------------------


@pytest.mark.parametrize("said", ["5", "0", "1", "3", "10"])
async def test_a_bare_number_is_asked_about_never_matched_to_an_faq(
    chat: Chat, store: MemoryStore, said: str
) -> None:
    [reply] = await chat.say(said)
    assert reply.kind is not Kind.FAQ
    assert reply.text == f"Did you mean a pain score of {said}/10?"
    [noted] = await chat.press("Yes")
    assert noted.text.startswith(f"Pain {said}/10 noted.")
    assert await pains(store) == [int(said)]


@pytest.mark.parametrize("said", ["no", "nope", "not really", "maybe later"])
async def test_a_short_no_or_later_gets_no_random_answer(chat: Chat, said: str) -> None:
    [reply] = await chat.say(said)
    assert reply.kind not in (Kind.FAQ, Kind.SUGGEST, Kind.WORKOUT)
    assert "I'm here when you need me" in reply.text


async def test_a_number_at_a_choice_step_re_asks_that_step(chat: Chat) -> None:
    await to_step(chat, "level")
    [reply] = await chat.say("5")
    assert reply.topic == "level" and "Beginner" in buttons(chat)


# -- interruptions, expiry, cancel ---------------------------------------------------------------


async def test_a_command_mid_setup_is_answered_then_setup_comes_back(chat: Chat) -> None:
    await to_step(chat, "equipment")
    replies = await chat.say("/today")
    assert replies[0].kind is Kind.WORKOUT
    assert replies[-1].text.startswith("Back to setup:") and "Gym" in buttons(chat)
    [saved, nxt] = await chat.press("Gym")
    assert saved.text == "Equipment: gym." and nxt.topic == "pain"


async def test_pain_mid_setup_resumes_setup_afterwards(chat: Chat, store: MemoryStore) -> None:
    await to_step(chat, "equipment")
    await chat.say("/pain")
    replies = await chat.say("about a 4")
    assert replies[0].text.startswith("Pain 4/10 noted.")
    assert replies[-1].text.startswith("Back to setup:") and replies[-1].topic == "equipment"


async def test_an_unanswered_flow_expires_and_says_so(chat: Chat, store: MemoryStore) -> None:
    await to_step(chat, "level")
    chat.now = NOON + timedelta(minutes=31)
    [reply] = await chat.say("beginner")
    assert reply.topic == "expired" and "expired" in reply.text
    assert "Restart setup" in buttons(chat)
    assert store.conversations.get(KEY) is None


async def test_an_expired_flow_does_not_swallow_a_new_question(chat: Chat) -> None:
    await to_step(chat, "level")
    chat.now = NOON + timedelta(hours=2)
    [reply] = await chat.say("how long should I hold a plank")
    assert reply.topic == "plank_hold_time"


@pytest.mark.parametrize("said", ["cancel", "stop", "never mind", "/cancel"])
async def test_cancel_words_leave_any_flow(chat: Chat, store: MemoryStore, said: str) -> None:
    await to_step(chat, "equipment")
    [reply] = await chat.say(said)
    assert reply.text == "Cancelled. What next?"
    assert "Reminders stopped" not in reply.text
    assert store.conversations.get(KEY) is None
    [answer] = await chat.say("gym")  # no longer an answer to anything
    assert answer.topic != "equipment"


def test_cancel_is_in_the_menu_and_in_help() -> None:
    assert "cancel" in [c.name for c in COMMANDS]
    assert "/cancel" in HELP


# -- small things ----------------------------------------------------------------------------------


async def test_typing_yes_to_forget_deletes(chat: Chat, store: MemoryStore) -> None:
    await chat.say("/done")
    await chat.say("/forget")
    [reply] = await chat.say("yes")
    assert reply.text.startswith("Done. I deleted everything")
    assert await store.get_profile(KEY) is None and store.sessions.get(KEY) is None
    assert store.conversations.get(KEY) is None


async def test_anything_else_after_forget_deletes_nothing(chat: Chat, store: MemoryStore) -> None:
    await chat.say("/done")
    await chat.say("/forget")
    await chat.say("how long should I hold a plank")
    await chat.say("yes")
    assert await store.get_profile(KEY) is not None


async def test_an_old_button_of_a_finished_question_has_expired(chat: Chat) -> None:
    await to_step(chat, "level")
    old = chat.last
    await chat.press("Beginner")
    chat.last = old
    [reply] = await chat.press("Advanced")
    assert reply.topic == "expired"


async def test_stored_conversation_from_an_older_version_is_dropped(
    chat: Chat, store: MemoryStore
) -> None:
    from bot.core.ports import Conversation, Frame

    store.conversations[KEY] = Conversation([Frame("gone_flow", "x", {}, NOON)])
    chat.now = NOON
    [reply] = await chat.say("how long should I hold a plank")
    assert reply.topic == "plank_hold_time"


async def test_pause_with_no_reminders_creates_none(chat: Chat, store: MemoryStore) -> None:
    [reply] = await chat.say("pause reminders for 2 weeks")
    assert "nothing to pause" in reply.text
    assert await store.get_reminder(KEY) is None
    await chat.say("/remind mon 18:00")
    await chat.say("/stop")
    [reply] = await chat.say("pause reminders for 2 weeks")
    assert "nothing to pause" in reply.text
    assert not (await store.get_reminder(KEY)).active  # type: ignore[union-attr]


async def test_two_letter_days_all_count(chat: Chat, store: MemoryStore) -> None:
    [reply] = await chat.say("/remind mo tu we th fr sa su 6")
    sched = await store.get_reminder(KEY)
    assert sched is not None and sched.days == (0, 1, 2, 3, 4, 5, 6)
    assert "06:00" in reply.text


async def test_two_times_are_refused_clearly(chat: Chat, store: MemoryStore) -> None:
    [reply] = await chat.say("/remind mon wed fri 7am and 6pm")
    assert "one time per schedule" in reply.text
    assert await store.get_reminder(KEY) is None


async def test_a_part_the_parser_could_not_use_is_named(chat: Chat, store: MemoryStore) -> None:
    [reply] = await chat.say("/remind mon 6am xyzzy")
    assert 'I didn\'t understand "xyzzy"' in reply.text
    assert (await store.get_reminder(KEY)).days == (0,)  # type: ignore[union-attr]


# -- requests for a session (issue 12's examples served by the coach, not an FAQ) ---------------


async def test_only_ten_minutes_gets_a_short_session_of_todays_plan(chat: Chat) -> None:
    [full] = await chat.say("/today")
    [short] = await chat.say("only got 10 minutes, quick back routine?")
    assert short.kind is Kind.WORKOUT and "10-minute version" in short.text
    assert short.topic == full.topic  # today's plan and session, shortened
    assert short.text.count("\n") < full.text.count("\n")


async def test_a_different_one_gets_the_next_session(chat: Chat) -> None:
    [first] = await chat.say("/today")
    [other] = await chat.say("a different one")
    assert other.kind is Kind.WORKOUT and other.topic != first.topic
    [pressed] = await (await chat.say("/today") and chat.press("A different one"))
    assert pressed.topic == other.topic
