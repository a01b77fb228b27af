"""Retrieval thresholds and normalisation, on a tiny hand-made index."""

from __future__ import annotations

import pytest

from bot.core.answers import Retriever, Tuning
from bot.core.text import Normalizer, clean, tokens

CHOICES = [
    ("plank_time", "how long should i hold a plank"),
    ("plank_time", "plank duration"),
    ("deadlift_safe", "are deadlifts bad for the lower back"),
    ("rows", "which row exercise is best"),
]
NORM = Normalizer({"lower back": ["lumbar", "low back"], "deadlift": ["dedlift"]})
DOMAIN = ["plank", "deadlift", "back", "row"]


def test_normalizer_folds_case_punctuation_emoji_and_synonyms() -> None:
    assert NORM("Is my LUMBAR ok?? 😬") == "is my lower back ok"
    assert clean("can't") == "cant"
    assert tokens("how long should i hold planks") == ["long", "hold", "plank"]


def test_answer_above_threshold() -> None:
    r = Retriever(CHOICES, NORM, DOMAIN)
    res = r.decide("how long to hold a plank?")
    assert res.answer is not None and res.answer.topic == "plank_time"


def test_typo_correction() -> None:
    r = Retriever(CHOICES, NORM, DOMAIN)
    res = r.decide("are dedlifts bad for my lumbar")
    assert res.answer is not None and res.answer.topic == "deadlift_safe"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("deadlfit", "deadlift"), ("dedliftt", "deadlift"), ("plnak", "plank"), ("planks", "plank")],
)
def test_a_typo_is_one_slip_or_a_swap(typed: str, meant: str) -> None:
    assert Retriever(CHOICES, NORM, DOMAIN).query_tokens(typed) == [meant]


@pytest.mark.parametrize("word", ["weather", "hole", "duty", "rose"])
def test_other_words_are_not_bent_into_kb_words(word: str) -> None:
    # "weather" is two edits from "water"-like words: a different word, not a typo.
    r = Retriever([*CHOICES, ("swim", "is water good"), ("x", "hold duration rows")], NORM, DOMAIN)
    assert r.query_tokens(word) == [word]


def test_between_thresholds_suggests_and_below_falls_back() -> None:
    strict = Retriever(
        CHOICES, NORM, DOMAIN, tuning=Tuning(answer_at=0.99, suggest_at=0.2, strong_at=1.1)
    )
    res = strict.decide("plank")
    assert res.answer is None and res.suggestions and res.suggestions[0].topic == "plank_time"
    none = Retriever(
        CHOICES, NORM, DOMAIN, tuning=Tuning(answer_at=0.99, suggest_at=0.98, strong_at=1.1)
    )
    res = none.decide("plank")
    assert res.answer is None and not res.suggestions


def test_out_of_domain_is_not_answered() -> None:
    r = Retriever(CHOICES, NORM, DOMAIN)
    assert r.decide("how long should i hold my breath").answer is None
    assert r.decide("weather tomorrow").suggestions == ()
