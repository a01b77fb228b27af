"""The red-flag second opinion: a classifier that can only add what the patterns missed."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from bot import kb as kb_module
from bot import second_opinion
from bot.app import build_dialogue
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.core.safety import Triage
from bot.core.types import Incoming, Kind

# Worded unlike anything in the pattern lists or the labelled sets.
MISSED_BY_PATTERNS = [
    "my lower back went on tuesday and since then going for a wee feels strange, like I'm not in charge of it",
    "since my back flared my groin area feels like cotton wool",
]


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    d = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, d)
    return d


def msg(text: str) -> Incoming:
    return Incoming(platform="console", user_id="u1", chat_id="u1", text=text)


@pytest.mark.parametrize("text", MISSED_BY_PATTERNS)
async def test_it_flags_what_the_patterns_missed_and_still_answers(kb, text: str) -> None:
    assert Triage.build(kb.safety).check(text) == []  # the patterns really miss it
    replies = await build_dialogue().handle(msg(text))
    first, *rest = replies
    assert first.kind is Kind.RED_FLAG and first.topic == "possible_red_flag"
    assert first.text.startswith(kb.safety.urgent_header)
    assert "Source: " in first.text  # every health claim names its source
    assert rest, "the answer still follows, since a classifier is less sure than a pattern"
    assert all(r.topic != "safety_check" for r in rest)


@pytest.mark.parametrize(
    "text",
    ["how long should I hold a plank", "my back is sore after deadlifts, is that normal"],
)
async def test_ordinary_questions_get_just_their_answer(text: str) -> None:
    replies = await build_dialogue().handle(msg(text))
    assert [r.kind for r in replies] == [Kind.FAQ]


@pytest.mark.parametrize(
    "text", ["back pain", "my back hurts", "upper back pain", "sore back again"]
)
def test_short_everyday_messages_are_left_alone(kb, text: str) -> None:
    classifier = second_opinion.for_kb(kb)
    assert classifier is not None and not classifier(text)


def test_without_a_configured_examples_file_there_is_no_second_opinion(kb) -> None:
    safety = kb.safety.model_copy(update={"second_opinion": None})
    assert second_opinion.for_kb(dataclasses.replace(kb, safety=safety)) is None


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ('{"text": "x"}\n', "line 1: needs a JSON object with text and red_flag"),
        ('{"text": "x", "red_flag": "yes"}\n', "line 1: text must be a non-empty string"),
        ('{"text": "a", "red_flag": false}\n', "needs examples of both"),
    ],
)
def test_examples_file_is_validated(kb_dir: Path, content: str, expect: str) -> None:
    (kb_dir / "red_flag_examples.jsonl").write_text(content, encoding="utf-8")
    problems = kb_module.check(kb_dir)
    assert any(expect in p for p in problems), problems


def test_shipped_examples_are_well_formed(kb) -> None:
    assert len(kb.red_flag_examples) > 1000
    path = Path(kb_module.__file__).resolve().parents[1] / "knowledge" / "red_flag_examples.jsonl"
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert {r["red_flag"] for r in rows} == {True, False}
