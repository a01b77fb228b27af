"""Retrieval thresholds and normalisation, on a tiny hand-made index."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.answers import Retriever, Tuning, kb_choices
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


def _regex_normalizer(synonyms: dict[str, list[str]]) -> Callable[[str], str]:
    """The reference: one regex alternation of the variants, longest first, at word bounds."""
    import re

    pairs = {clean(v): clean(c) for c, vs in synonyms.items() for v in vs if clean(v) != clean(c)}
    alternation = "|".join(re.escape(v) for v in sorted(pairs, key=len, reverse=True))
    pattern = re.compile(rf"\b(?:{alternation})\b")
    return lambda text: pattern.sub(lambda m: pairs[m.group(0)], clean(text))


def test_normalizer_rewrites_exactly_what_a_word_bounded_regex_would() -> None:
    import random

    from bot.app import load_kb

    synonyms = {k: list(v) for k, v in load_kb().synonyms.items()}
    synonyms["lower back"] = [*synonyms.get("lower back", []), "low back", "low back pain"]
    synonyms[""] = ["nothing at all"]  # a variant that rewrites to nothing
    norm, reference = Normalizer(synonyms), _regex_normalizer(synonyms)
    variants = [v for vs in synonyms.values() for v in vs]
    words = ["back", "low", "lower", "pain", "lumbar", "pullup", "pull", "up", "the", "sixpack"]
    rng = random.Random(3)
    texts = ["Low-back PAIN!!", "lowback", "a low back", "nothing at all, really", ""]
    for _ in range(3000):
        parts = [rng.choice(variants) if rng.random() < 0.4 else rng.choice(words)]
        parts += [rng.choice(variants + words) for _ in range(rng.randint(0, 6))]
        texts.append(rng.choice([" ", ", ", "-", "  "]).join(parts))
    for t in texts:
        assert norm(t) == reference(t), t


def test_typo_candidates_include_every_word_within_the_distance() -> None:
    """The typo index's shortlist is a superset of the words within the edit distance, in
    vocabulary order, so correction finds what comparing with every word found."""
    import random

    from rapidfuzz.distance import OSA

    from bot.core.answers import _TypoIndex

    rng = random.Random(9)
    alphabet = "abcdeilmnoprst0123"
    vocab = sorted({"".join(rng.choices(alphabet, k=rng.randint(3, 10))) for _ in range(3000)})
    index = _TypoIndex(vocab)
    for _ in range(400):
        word = rng.choice(vocab)
        typed = list(word)
        for _ in range(rng.randint(0, 2)):
            j = rng.randrange(len(typed))
            op = rng.choice(["swap", "sub", "del", "ins"])
            if op == "swap" and j + 1 < len(typed):
                typed[j], typed[j + 1] = typed[j + 1], typed[j]
            elif op == "sub":
                typed[j] = rng.choice(alphabet)
            elif op == "del" and len(typed) > 1:
                del typed[j]
            else:
                typed.insert(j, rng.choice(alphabet))
        tok = "".join(typed)
        for limit in (1, 2):
            near = index.candidates(tok, limit)
            exact = [w for w in vocab if OSA.distance(tok, w) <= limit]
            assert set(exact) <= set(near), (tok, limit)
            assert near == sorted(near)
            assert len(near) < len(vocab) // 4


def test_an_age_said_as_a_number_is_older_not_a_phrasing_quoting_that_number() -> None:
    # Without the age rule, "72" matches the one phrasing that quotes 72, whatever it is about.
    choices = [
        ("older", "how should older people exercise"),
        ("older", "exercise for the over 60s"),
        ("situps", "my nan is 72 and does sit ups, is that safe"),
        ("situps", "sit ups for seniors"),
    ]
    domain = ["back", "sit", "up", "exercise"]
    r = Retriever(choices, Normalizer({"older": ["over 60s", "seniors"]}), domain)
    assert r.search("im 72, is exercise safe for me")[0].topic == "older"
    # Weights and times are not ages.
    assert "older" not in r.query_tokens("rows at 70 kg for 60 seconds")
    # An age alone is not about training.
    assert not r.in_domain("a birthday present for a 70 year old")


def test_a_name_inside_a_longer_exercise_name_is_not_that_exercise() -> None:
    # "side plank" contains "plank": the plank's how-to must not answer a side-plank question
    # just because it has a short alias that shares another word of the message ("elbow plank").
    choices = [
        ("plank", "plank"),
        ("plank", "elbow plank"),
        ("side_plank", "side plank"),
        ("side_plank", "side plank form"),
    ]
    names = {"plank": ["plank", "elbow plank"], "side_plank": ["side plank"]}
    r = Retriever(choices, NORM, DOMAIN, exercise_names=names)
    assert r.search("side plank, elbow under the shoulder?")[0].topic == "side_plank"
    assert r.search("plank, elbow under the shoulder?")[0].topic == "plank"


def test_set_up_asks_for_the_how_to() -> None:
    choices = [("deadlift", "deadlift"), ("deadlift_safe", "is the deadlift bad for my back")]
    r = Retriever(choices, NORM, DOMAIN, exercise_names={"deadlift": ["deadlift"]})
    res = r.decide("how do i set up my deadlift")
    assert res.answer is not None and res.answer.topic == "deadlift", res


def test_our_exercise_name_with_another_body_part_is_ours_with_small_words_between() -> None:
    # "knee to the chest" is the knee-to-chest stretch, not a knee question.
    choices = [("knee_to_chest", "knee to chest"), ("knee_to_chest", "knee to chest stretch")]
    r = Retriever(
        choices,
        NORM,
        ["stretch"],
        off_topic=[r"\bknees?\b"],
        back_words=["back"],
        exercise_names={"knee_to_chest": ["knee to chest"]},
    )
    assert not r.off_topic("how do i do the knee to the chest stretch")
    assert r.off_topic("how do i strengthen my knee")


def test_an_exercise_name_with_exercise_and_a_trailing_how_is_the_how_to() -> None:
    # The how-to phrasing says "exercise" too, and "… how" at the end asks how to do it: an FAQ
    # that happens to say "bird dog" and "exercise" must not win.
    choices = kb_choices(
        [
            (
                "bird_dog_muscles",
                "what muscles does the bird dog work",
                ["is the bird dog a core exercise"],
            )
        ],
        [("bird_dog", "bird dog", ["bird dogs"])],
    )
    names = {"bird_dog": ["bird dog", "bird dogs"]}
    r = Retriever(choices, NORM, ["bird", "dog", "exercise"], exercise_names=names)
    assert r.search("bird dog exercise how")[0].topic == "bird_dog"
    assert r.search("what muscles does the bird dog exercise work")[0].topic == "bird_dog_muscles"


def test_sign_offs_and_asking_are_not_content_words() -> None:
    # "cheers" and "asking for my mum" said nothing about the question but counted against it.
    assert tokens("physio or chiro for back pain cheers") == ["physio", "chiro", "back", "pain"]
    assert tokens("glute bridge ok asking for my mum thx") == ["glute", "bridge", "mum"]


def test_a_message_naming_one_exercise_is_not_an_entry_about_another() -> None:
    # The good-morning entry shares "lower back pain" with the message, but the message names
    # the deadlift and that entry's question is about good mornings.
    choices = kb_choices(
        [
            ("gm_safe", "are good mornings risky", ["good mornings with lower back pain"]),
            ("dl_safe", "are deadlifts bad for your back", ["can i deadlift with back pain"]),
        ],
        [("deadlift", "deadlift", ["deadlifts"]), ("good_morning", "good morning", [])],
    )
    names = {"deadlift": ["deadlift", "deadlifts"], "good_morning": ["good morning"]}
    r = Retriever(choices, NORM, DOMAIN, exercise_names=names)
    assert r.search("deadlift with lower back pain")[0].topic == "dl_safe"
    assert r.search("good mornings with lower back pain")[0].topic == "gm_safe"


def test_clean_is_the_run_by_run_definition_on_every_character() -> None:
    """`clean` joins words instead of replacing runs (faster on long messages): the same text
    for every character between words, and for runs of them."""
    import re
    import unicodedata

    apostrophes, non_word, spaces = (
        re.compile(r"['’`´]"),
        re.compile(r"[^\w]+|_"),
        re.compile(r"\s+"),
    )

    def by_runs(text: str) -> str:
        text = apostrophes.sub("", unicodedata.normalize("NFKC", text).lower())
        return spaces.sub(" ", non_word.sub(" ", text)).strip()

    chars = [chr(c) for c in range(0x3100)] + ["\u2028", "\U0001d7d8", "\ufeff", "\uff3f"]
    for c in chars:
        text = f" a{c}b {c}{c} _{c}c{c}"
        assert clean(text) == by_runs(text), hex(ord(c))
