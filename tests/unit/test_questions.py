"""Question extraction for long messages, and Library.answer retrieving on the question."""

from __future__ import annotations

import time

import pytest

from bot.core.library import Library
from bot.core.questions import SHORT_WORDS, extract, score
from bot.kb import KnowledgeBase

STORY = (
    "I work in a warehouse and spend all day lifting boxes, twisting and carrying heavy stuff "
    "around the place, my back is fine most days though."
)


def test_short_messages_pass_through_unchanged() -> None:
    text = "how long should i hold a plank? and is heat or ice better?"
    assert len(text.split()) < SHORT_WORDS
    ex = extract(text)
    assert ex.query == text and ex.context == "" and not ex.changed


def test_the_question_after_a_story_is_the_query() -> None:
    ex = extract(f"{STORY} What is a good stretch routine for after work?")
    assert ex.changed
    assert ex.query == "What is a good stretch routine for after work?"
    assert ex.context == STORY


def test_a_story_without_a_question_passes_through() -> None:
    text = f"{STORY} Anyway it was a long week. Thanks for reading."
    ex = extract(text)
    assert not ex.changed and ex.query == text


@pytest.mark.parametrize(
    "sentence",
    [
        "Should I go back to lifting on Monday",
        "So, my question is: can I still deadlift",
        "Looking for advice on getting back into the gym.",
        "Any tips for sitting all day.",
        "I was wondering whether swimming would help.",
        "Please recommend a few stretches.",
        "Is it safe to run?",
    ],
)
def test_questions_and_requests_score(sentence: str) -> None:
    assert score(sentence) >= 2.0


@pytest.mark.parametrize(
    "sentence",
    [
        "Did a 22km hike on Saturday.",
        "Can't sleep well lately.",
        "Have had a sore back for years.",
        "Thanks in advance?",
        "I lift boxes all day.",
    ],
)
def test_statements_and_sign_offs_do_not(sentence: str) -> None:
    assert score(sentence) < 2.0


def test_a_short_question_that_points_back_takes_the_sentence_before() -> None:
    ex = extract(
        f"{STORY} Since Tuesday my hamstrings are really tight after squats. Is that normal?"
    )
    assert ex.query == "Since Tuesday my hamstrings are really tight after squats. Is that normal?"


def test_the_later_of_equal_questions_is_the_main_one_and_others_are_kept() -> None:
    ex = extract(
        f"{STORY} How long should I hold a plank? Should I use heat or ice when it is stiff?"
    )
    assert ex.query == "Should I use heat or ice when it is stiff?"
    assert ex.questions[1:] == ("How long should I hold a plank?",)


def test_extract_is_linear_on_very_long_input() -> None:
    text = ("I lifted a box and felt a twinge, then rested. " * 2_000) + "Should I see a physio?"
    start = time.perf_counter()
    ex = extract(text)
    assert time.perf_counter() - start < 0.5
    assert ex.query.endswith("Should I see a physio?") and len(ex.query) < 100


def test_library_answers_the_question_not_the_story(kb: KnowledgeBase) -> None:
    lib = Library(kb)
    [reply] = lib.answer(f"{STORY} What is a good stretch routine for after work?")
    assert reply.topic == "stretching_back"
    # Without the question, the story's own words decide (the old behaviour).
    [story_only] = lib.answer(f"{STORY} It has been a long week, thanks.")
    assert story_only.topic == "lifting_technique"


def test_library_offers_a_second_question_as_a_button(kb: KnowledgeBase) -> None:
    lib = Library(kb)
    [reply] = lib.answer(
        f"{STORY} How long should I hold a plank? Also, should I use heat or ice when my back "
        "is stiff?"
    )
    assert reply.topic == "heat_or_ice"
    assert reply.buttons[0] == lib.topic_button("plank_hold_time")
    assert len({b.action for b in reply.buttons}) == len(reply.buttons)


def test_library_falls_back_to_the_whole_message_when_the_question_finds_nothing(
    kb: KnowledgeBase,
) -> None:
    lib = Library(kb)
    text = f"{STORY} My lower back is stiff every morning when I get up. What do you reckon?"
    [reply] = lib.answer(text)
    assert reply.topic is not None and lib.has_topic(reply.topic)


def test_a_question_with_next_to_no_content_takes_the_sentence_before() -> None:
    ex = extract(f"{STORY} Every morning it takes me half an hour to bend over. What helps?")
    assert ex.query == "Every morning it takes me half an hour to bend over. What helps?"
