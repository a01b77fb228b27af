"""Asking for a session in everyday words gets a session, not an FAQ entry about sessions: a bare
noun phrase ("back workout pls"), a request verb ("can you plan tomorrow's back workout"), and a
long message whose story mentions other things ("my progress") but whose question asks for one.
The kit a request names shapes the plan."""

from __future__ import annotations

import pytest

from bot.core import intents
from bot.core.text import clean
from bot.core.types import Kind
from tests.conftest import Chat

ORDERS = [
    "back workout pls",
    "gentle recovery day session please",
    "short stretching session for my back",
    "core and back routine for my lunch break",
    "can you plan tomorrow's back workout?",
    "gimme a pull day",
    "give me something I can do on the floor of my flat",
    "did deadlifts yesterday, mix it up for me today",
    "I want a hard back session tonight. What have you got for me?",
    "something for my back with just dumbbells",
    "im at the gym rn what should i do for back 💪",
    "back day, what am i doing. full gym access",
    "got 15 mins and a resistance band, hit me",
    "5 minute back mobility flow pls",
]


@pytest.mark.parametrize("text", ORDERS)
async def test_a_session_asked_for_in_chat_words_is_served(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert replies[0].kind is Kind.WORKOUT, (text, replies[0].kind, replies[0].text[:80])


ASKS = [
    "best back workout",
    "is a 20 minute workout enough",
    "how long should a back session be",
    "routine for sciatica",
    "leg day routine for bigger quads",
    "rest time between sets on back day",
    "what should i do for my back pain",
    "songs for a workout playlist",
    "can you write me a meal plan for fat loss",
]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("got 15 mins and a resistance band, hit me", "15-minute"),
        ("5 minute back mobility flow pls", "5-minute"),
    ],
)
async def test_minutes_a_session_order_names_are_its_length(
    chat: Chat, text: str, minutes: str
) -> None:
    [reply] = await chat.say(text)
    assert reply.kind is Kind.WORKOUT and minutes in reply.text, reply.text[:120]


@pytest.mark.parametrize("text", ASKS)
def test_questions_about_sessions_and_other_sessions_are_not_orders(text: str) -> None:
    assert not intents.is_workout_request(clean(text)), text


async def test_a_question_about_back_pain_is_not_served_a_session(chat: Chat) -> None:
    [reply] = await chat.say("what should i do for my back pain")
    assert reply.kind is not Kind.WORKOUT


async def test_a_long_message_asks_for_a_session_after_its_story(chat: Chat) -> None:
    text = (
        "Two weeks at my sister's place in the countryside, no gym anywhere near. I really "
        "don't want to lose all my progress and my lower back gets stiff on her sofa. Can you "
        "give me a back routine I can do in the garden this morning?"
    )
    replies = await chat.say(text)
    assert replies[0].kind is Kind.WORKOUT, replies[0].text[:80]
    assert "no equipment" in replies[0].text.lower()


@pytest.mark.parametrize(
    ("text", "kit"),
    [
        ("back workout with just dumbbells at home", "dumbbells"),
        ("full gym tonight, cables, barbells, dumbbells: back session please", "gym"),
        ("stuck in a hotel room with no gym, give me a back workout", "none"),
        ("back workout pls", None),
    ],
)
def test_the_kit_a_request_names(text: str, kit: str | None) -> None:
    assert intents.equipment_named(clean(text)) == kit


async def test_named_kit_shapes_the_plan(chat: Chat) -> None:
    [plan, *_] = await chat.say("back workout with just dumbbells please")
    assert plan.kind is Kind.WORKOUT and "dumbbell" in plan.text.lower()


async def test_a_different_one_keeps_the_kit_the_request_named(chat: Chat) -> None:
    [first] = await chat.say("workout with just dumbbells please")
    assert first.kind is Kind.WORKOUT and "dumbbells" in first.text.lower()
    [typed] = await chat.say("a different one")
    assert typed.kind is Kind.WORKOUT and typed.topic != first.topic
    assert "dumbbells" in typed.text.lower(), typed.text[:80]
    [again] = await chat.say("workout with just dumbbells please")
    assert "A different one" in [b.label for b in again.buttons]
    [pressed] = (await chat.press("A different one"))[:1]
    assert "dumbbells" in pressed.text.lower(), pressed.text[:80]
