"""Pain scores and short replies (bot.core.intents): examples, cleaned text, hostile input."""

from __future__ import annotations

import random
import sys
import unicodedata

import pytest

from bot.core import intents
from bot.core.intents import PainParse, ShortReply, parse_pain, short_reply
from bot.core.text import clean

# (message, score) read when the bot has just asked "How is your back today, 0-10?"
SCORES = [
    ("5", 5),
    ("a 5", 5),
    ("about a 5", 5),
    ("5/10", 5),
    ("5 / 10", 5),
    ("5 out of 10", 5),
    ("it's a 5", 5),
    ("its a 5", 5),
    ("five", 5),
    ("Five!", 5),
    ("7 today", 7),
    ("pain is 6", 6),
    ("pain's 6", 6),
    ("rate it a 6", 6),
    ("I'd rate my pain a 6", 6),
    ("my pain is about a 6 today", 6),
    ("my back pain is a 7 today", 7),
    ("around 4 i guess", 4),
    ("6ish", 6),
    ("maybe a 3", 3),
    ("0", 0),
    ("zero", 0),
    ("ten", 10),
    ("10/10", 10),
    # Ranges record the higher end; decimals round up.
    ("4-5", 5),
    ("4 or 5", 5),
    ("4 to 5", 5),
    ("between 4 and 5", 5),
    ("7.5", 8),
    # Decimal digits of other scripts are digits.
    ("٣", 3),
    ("５", 5),
    ("pain is ７/10", 7),
    # A number after a vague start, a score after an old one.
    ("not too bad, maybe a 3", 3),
    ("on a scale of 1 to 10 it's a 6", 6),
    ("pain - 5", 5),
]

# Unprompted messages that carry their own cue.
UNPROMPTED_SCORES = [
    ("5/10", 5),
    ("5 / 10", 5),
    ("5 out of 10", 5),
    ("10/10", 10),
    ("pain is 6", 6),
    ("pain's 6", 6),
    ("rate it a 6", 6),
    ("I'd rate my pain a 6", 6),
    ("my pain is about a 6 today", 6),
    ("my back pain is a 7 today", 7),
    ("back's a 4 this morning", 4),
    ("pain level 4-5 today", 5),
    ("pain at 7/10, should I still train?", 7),
]

OUT_OF_RANGE = ["11", "15/10", "-1", "minus 2", "100", "eleven", "a hundred", "−3", "99999999999"]

VAGUE = ["not too bad", "pretty bad", "a bit sore", "terrible", "fine", "ok", "Meh."]

# Numbers for other reasons: never a score, asked or not.
OTHER_NUMBERS = [
    "I did 5 sets of 10",
    "3x10 rows",
    "how long should I hold a plank, 30s?",
    "I'm 45 years old",
    "for 2 weeks",
    "at 7am",
    "5:30",
    "since 3/10",
    "on a scale of 1 to 10",
    "²",
    "➂",
    "③",
    "½",
]

# Unprompted, none of these is a score (a bare number needs the bot to have asked).
UNPROMPTED_NONE = [
    "5",
    "a 5",
    "7 today",
    "ok",
    "fine",
    "11",
    "my heart rate is 150",
    "I'll be back at 7",
    "pain since 2019",
    "is it bad to train with back pain?",
    "back pain, 5 sets of 10 rows hurt",
]

UNPROMPTED_VAGUE = [
    "my back is a bit sore",
    "the pain is not too bad today",
    "my back's killing me",
]


@pytest.mark.parametrize(("text", "score"), SCORES)
def test_score_when_expecting(text: str, score: int) -> None:
    got = parse_pain(text, expecting=True)
    assert (got.kind, got.score) == ("score", score)


@pytest.mark.parametrize(("text", "score"), UNPROMPTED_SCORES)
def test_score_unprompted(text: str, score: int) -> None:
    for expecting in (False, True):
        got = parse_pain(text, expecting=expecting)
        assert (got.kind, got.score) == ("score", score)


# clean() turns '-', '.' and ':' into spaces ("-1" is "1", "7.5" is "7 5") and NFKC folds
# superscripts and circled digits into digits ("²" is "2"): pass raw text to keep them apart.
CLEAN_DIFFERS: dict[str, tuple[str, int | None]] = {
    "-1": ("score", 1),
    "−3": ("score", 3),
    "7.5": ("score", 7),
    "5:30": ("out_of_range", None),
    "²": ("score", 2),
    "③": ("score", 3),
    "½": ("score", 2),
}


@pytest.mark.parametrize(
    "text",
    [
        t
        for t in [t for t, _ in SCORES + UNPROMPTED_SCORES] + OUT_OF_RANGE + VAGUE + OTHER_NUMBERS
        if t not in CLEAN_DIFFERS
    ],
)
def test_cleaned_text_reads_the_same(text: str) -> None:
    for expecting in (False, True):
        raw, cleaned = parse_pain(text, expecting), parse_pain(clean(text), expecting)
        assert (raw.kind, raw.score) == (cleaned.kind, cleaned.score)


@pytest.mark.parametrize(("text", "cleaned"), CLEAN_DIFFERS.items())
def test_what_clean_loses(text: str, cleaned: tuple[str, int | None]) -> None:
    """A known limit: pass raw text when you have it, or a sign is lost to clean()."""
    got = parse_pain(clean(text), expecting=True)
    assert (got.kind, got.score) == cleaned


@pytest.mark.parametrize("text", OUT_OF_RANGE)
def test_out_of_range_is_never_clamped(text: str) -> None:
    got = parse_pain(text, expecting=True)
    assert (got.kind, got.score) == ("out_of_range", None)


def test_out_of_range_unprompted_needs_a_cue() -> None:
    assert parse_pain("15/10").kind == "out_of_range"
    assert parse_pain("pain is 11").kind == "out_of_range"
    assert parse_pain("11").kind == "none"


@pytest.mark.parametrize("text", VAGUE)
def test_vague_words_ask_for_a_number(text: str) -> None:
    got = parse_pain(text, expecting=True)
    assert got.kind == "vague"
    assert got.score is None


def test_not_too_bad_is_read_whole() -> None:
    assert parse_pain("not too bad", expecting=True).raw == "not too bad"


@pytest.mark.parametrize("text", OTHER_NUMBERS)
def test_other_numbers_are_not_scores(text: str) -> None:
    for expecting in (False, True):
        assert parse_pain(text, expecting=expecting).kind == "none", expecting


@pytest.mark.parametrize("text", UNPROMPTED_NONE)
def test_unprompted_needs_a_cue(text: str) -> None:
    assert parse_pain(text) == PainParse("none")


@pytest.mark.parametrize("text", UNPROMPTED_VAGUE)
def test_unprompted_vague_report(text: str) -> None:
    assert parse_pain(text).kind == "vague"


@pytest.mark.parametrize(
    "text", ["was 8/10 yesterday, 4/10 now", "pain is 3/5", "my pain is 3 out of 5"]
)
def test_two_scores_or_another_scale_are_vague(text: str) -> None:
    assert parse_pain(text).kind == "vague"


# ------------------------------------------------------------------ short replies

NUMBERS = [
    ("5", 5),
    ("0", 0),
    ("-3", -3),
    ("minus three", -3),
    ("five", 5),
    ("Five!", 5),
    ("twenty five", 25),
    ("42", 42),
    ("007", 7),
    ("٣", 3),
    ("a 5", 5),
    ("123456789012345678901234567890", 123456789012345678901234567890),
]
WORDS = [
    *[(t, "yes") for t in ["yes", "yep", "sure", "ok", "okay", "yeah", "y", "Yes!", "yesss"]],
    *[(t, "yes") for t in ["Y", "OK.", "ok thanks", "👍", "👍🏽"]],
    *[(t, "no") for t in ["no", "nope", "nah", "not really", "no thanks", "n", "No.", "nooo"]],
    *[(t, "later") for t in ["later", "maybe later", "not now", "another time", "tomorrow"]],
    *[(t, "later") for t in ["Maybe later!", "no, maybe later", "not today"]],
]
NOT_SHORT = [
    "",
    "   ",
    "what is this",
    "how do I do a plank",
    "yes I did 5 sets of 10 today",
    "5.5",
    "4-5",
    "5 sets",
    "²",
    "➂",
    "🙂",
    "1" * 10_000,
]


@pytest.mark.parametrize(("text", "value"), NUMBERS)
def test_short_number(text: str, value: int) -> None:
    assert short_reply(text) == ShortReply("number", value)


@pytest.mark.parametrize(("text", "kind"), WORDS)
def test_short_words(text: str, kind: str) -> None:
    assert short_reply(text) == ShortReply(kind)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", NOT_SHORT)
def test_not_a_short_reply(text: str) -> None:
    assert short_reply(text) is None


# ------------------------------------------------------------------ old API still works


@pytest.mark.parametrize(
    ("word", "score"),
    [("6", 6), ("six", 6), ("0", 0), ("10", 10), ("11", None), ("x", None), ("²", None)],
)
def test_parse_score(word: str, score: int | None) -> None:
    assert intents.parse_score(word) == score


def test_pain_report() -> None:
    assert intents.pain_report("pain is 6 today") == "6"
    assert intents.pain_report("my pain is ²") is None
    assert intents.pain_report("what is good for pain") is None


# ------------------------------------------------------------------ total on any input

HOSTILE = [
    "",
    " ",
    "\x00",
    "\x00\x01\x02\x7f",
    "\ud800",
    "\udfff5",
    "➂",
    "²",
    "5²",
    "pain is ²",
    "pain is ➂/10",
    "٣",
    "٣/١٠",
    "５",
    "５／１０",
    "𝟓",
    "߅",
    "½",
    "Ⅻ",
    "三",
    "⒌",
    "㍘",
    "🔟",
    "5️⃣",
    "😀" * 100,
    "\u202e5\u202c",
    "\u200b5\u200b",
    "İ" * 50,
    "ß",
    "-",
    "--5",
    "- - -",
    "/",
    "/10",
    "10/",
    "5/",
    "out of",
    "out of 10",
    "minus",
    "minus minus 5",
    "pain pain pain",
    "9" * 10_000,
    "1." * 5_000,
    "-" * 10_000,
    "pain " * 2_000,
    "pain is " + "a " * 5_000 + "6",
    "a" * 10_000,
    " " * 10_000,
    "5 " * 5_000,
    "5/10 " * 2_000,
    "twenty " * 2_000,
    "not too bad " * 1_000,
    "5" + "\u0301" * 1_000,
]
KINDS = {"score", "out_of_range", "vague", "none"}


def _random_unicode(rng: random.Random, n: int) -> str:
    """Random code points (surrogates included), weighted towards digits and spaces."""
    pools = [
        lambda: chr(rng.randrange(0x110000)),
        lambda: chr(rng.randrange(0x80)),
        lambda: rng.choice("0123456789²³¹①➂٣５߅𝟓½⅓Ⅻ三 /-.:'"),
        lambda: rng.choice([" pain ", " is ", " out of ", " 10", " minus ", " five "]),
    ]
    return "".join(rng.choice(pools)() for _ in range(n))


def _inputs() -> list[str]:
    rng = random.Random(20240611)
    return HOSTILE + [_random_unicode(rng, rng.randrange(1, 60)) for _ in range(600)]


def _check_total(text: str) -> None:
    for expecting in (False, True):
        p = parse_pain(text, expecting=expecting)
        assert p.kind in KINDS
        assert (p.score is not None) == (p.kind == "score")
        assert p.score is None or 0 <= p.score <= 10
        assert isinstance(p.raw, str)
    r = short_reply(text)
    assert r is None or r.kind in {"number", "yes", "no", "later"}
    assert r is None or (r.value is not None) == (r.kind == "number")
    score = intents.parse_score(text)
    assert score is None or 0 <= score <= 10
    word = intents.pain_report(text)
    assert word is None or intents.parse_score(word) is not None or word.isdecimal()
    for f in (
        intents.is_workout_request,
        intents.is_log_request,
        intents.is_progress_request,
        intents.is_help_request,
    ):
        assert isinstance(f(text), bool)


def test_every_function_is_total() -> None:
    for text in _inputs():
        _check_total(text)
        _check_total(clean(text))
        for word in text.split()[:20]:
            _check_total(word)


def _all_chars() -> list[str]:
    return [chr(c) for c in range(sys.maxunicode + 1)]


def test_every_decimal_digit_of_every_script_is_a_digit() -> None:
    decimals = [c for c in _all_chars() if c.isdecimal()]
    assert len(decimals) > 600
    for c in decimals:
        value = unicodedata.decimal(c)
        got = parse_pain(c, expecting=True)
        assert (got.kind, got.score) == ("score", value), hex(ord(c))
        assert short_reply(c) == ShortReply("number", value), hex(ord(c))
        assert intents.parse_score(c) == value, hex(ord(c))


def test_other_numeric_characters_are_never_digits() -> None:
    """Superscripts, circled digits, fractions, Roman and CJK numerals: not a score, no crash."""
    others = [c for c in _all_chars() if c.isnumeric() and not c.isdecimal()]
    assert "²" in others and "➂" in others and "③" in others and "½" in others
    for c in others:
        for text in (c, f"pain is {c}", f"{c}/10", f"a {c}"):
            assert parse_pain(text, expecting=True).kind == "none", hex(ord(c))
        assert short_reply(c) is None, hex(ord(c))
        assert intents.parse_score(c) is None, hex(ord(c))


@pytest.mark.parametrize(("text", "score"), [("5²", 5), ("pain is 4³", 4), ("①  3", 3)])
def test_decoration_next_to_a_real_digit_is_ignored(text: str, score: int) -> None:
    assert parse_pain(text, expecting=True).score == score


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("need a quick stretch sesh for my desk, back's stiff", True),
        ("something different for my back today please, same thing every week", True),
        ("something new for back pls", True),
        ("something new happened to my back, is it serious", False),
        ("i need a routine for my sciatica", False),
    ],
)
def test_workout_requests_in_chat_words(text: str, wanted: bool) -> None:
    assert intents.is_workout_request(clean(text)) is wanted


def test_a_long_story_is_a_workout_request_only_when_today_and_the_session_are_near() -> None:
    story = (
        "my son is doing his maths homework and is stuck on long division, i left school "
        "twenty years ago and remember none of it, could you explain it so i can help him tonight"
    )
    assert not intents.is_workout_request(clean(story))
    asked = (
        "back at the gym after two years off with a new baby and a new job, im going tonight "
        "and want to ease in with a back session, what should i do"
    )
    assert intents.is_workout_request(clean(asked))


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("my progress", True),
        ("how am i doing this week", True),
        ("can i see my stats please", True),
        # the words inside a question about training are not a request to see progress
        ("is skipping rest days killing my progress", False),
        ("how am i doing my deadlifts wrong if my lower back hurts", False),
    ],
)
def test_progress_words_in_a_training_question_are_not_a_request(text: str, wanted: bool) -> None:
    assert intents.is_progress_request(clean(text)) is wanted


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("what should i train today", True),
        ("wat shud i do for my back tonight", True),
        # whether to train at all is a question, not an order for a session
        ("knackered after work, should i still train back tonight", False),
        ("can i still lift tonight if im tired", False),
    ],
)
def test_asking_whether_to_train_today_is_not_a_session_request(text: str, wanted: bool) -> None:
    assert intents.is_workout_request(clean(text)) is wanted
