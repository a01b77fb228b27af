"""Free-text intents that are not questions: today's workout, logging, pain scores, progress, help."""

from __future__ import annotations

import re

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
}

_WORKOUT = [
    re.compile(p)
    for p in (
        r"\btoday s? (back )?(workout|session|routine|training|plan)\b",
        r"\btodays (back )?(workout|session|routine|training|plan)\b",
        r"\b(workout|session|training) (for )?(today|tonight|now)\b",
        # The whole message, not its tail: "sharp pain mid-set, what do i do" is not a request
        r"^(so |ok |okay |right |hey )?what (should|do|can|shall) i (do|train|work on)"
        r"( today| now| tonight)?$",
        r"^(workout|session|train|today|todays workout)( pls| please| plz)?$",
        r"\b(give|gimme|send|show) me\b.{0,30}\b(workout|session|routine)\b",
        r"\bwhat s on (for )?today\b",
        r"\b(my|a) (back )?workout (pls|please|plz)\b",
        r"^(whats |what s |what is )?(the |my |todays |today s )?(back )?(workout|session) of the day\b",
        r"^wod\b",
        r"\b(got|have) (\w+ ){0,2}lined up for me\b",
        r"\b(routine|workout|session|plan|training)\b (\w+ ){0,4}(for me|lined up)\b"
        r"(\s+\w+){0,3}\s+(today|tonight|this (morning|afternoon|evening))\b",
    )
]
# Loose form: "today" plus a word about the session, unless the message is about pain.
_TODAY = re.compile(r"\b(today|todays|tonight|2day|tday|2nite|tonite)\b")
_SESSION_WORDS = re.compile(
    r"\b(plan|session|exercises|doing|doin|menu|workout|routine|train|training|do)\b"
)
_NOT_SESSION = re.compile(r"\b(pain|hurt\w*|avoid|safe|sore\w*|ache\w*|injur\w*|why|stiff)\b")
_LOG = [
    re.compile(p)
    for p in (
        r"^(i )?(just )?(did it|done|all done|finished|completed|workout done|session done)$",
        r"^(i )?(just )?(finished|completed|did|done with) (my |the |today s |todays )?(back )?(workout|session|training)\b",
        r"\blog (my |a |the |today s |todays )?(back )?(workout|session|training)\b",
        r"^(i )?(trained|worked out) today\b",
        r"\bmark (today|it|this|my (workout|session|training)|today s (workout|session))"
        r" (as )?(done|complete|completed|finished)\b",
        r"^(i )?(just )?(finished|completed|done) (all )?(my |the |today s |todays )?"
        r"(sets|exercises|reps)\b",
    )
]
_PAIN = re.compile(
    r"\bpain\b(?:\s+(?:is|level|score|at|of|today|now|about|around|like|its))*\s+(\w+)\b"
    r"|\b(\w+)\s*(?:/|out of)\s*10\b"
)
_PROGRESS = [
    re.compile(p)
    for p in (
        r"^(progress|streak|stats|statistics|chart)$",
        r"\bmy (progress|streak|stats|statistics|chart|graph)\b",
        r"\bshow (me )?(my )?(progress|streak|stats|chart|graph)\b",
        r"\bhow (am i|m i|im) doing\b",
        r"\bhow many (sessions|workouts|times)\b.{0,30}\b(have i|did i|this week|so far|done)\b",
        r"\b(weekly|this weeks|week s|weeks) (summary|report|stats|recap)\b",
        r"\bam i on (track|target)\b",
        r"\bhow (ve|have) i been (doing|getting on)\b",
        r"\bon track or (slacking|falling behind|behind)\b",
        r"\bhow (is|s) my (week|month|training) (going|looking)\b",
        r"\bhows my (week|progress|training)\b",
        r"\bshow (me )?my (history|log|logs|workouts|sessions)\b",
        r"\bhow many (days|weeks|sessions|workouts|times) in a row\b",
        r"\b(what s|whats|what is) my (streak|record|best streak)\b",
    )
]
_HELP = re.compile(
    r"^(help|what can you do|commands|menu|options|how does this work"
    r"|(what are|show me|list|list of) (the |your |all )?(the )?(commands|options)"
    r"|how do i use (this|you|backbot|the bot))$"
)


def is_workout_request(t: str) -> bool:
    if any(p.search(t) for p in _WORKOUT):
        return True
    return bool(_TODAY.search(t) and _SESSION_WORDS.search(t) and not _NOT_SESSION.search(t))


def is_log_request(t: str) -> bool:
    return any(p.search(t) for p in _LOG)


def is_progress_request(t: str) -> bool:
    return any(p.search(t) for p in _PROGRESS)


def is_help_request(t: str) -> bool:
    return bool(_HELP.match(t))


def parse_score(word: str) -> int | None:
    """'6', 'six' -> 6; anything else (including out-of-range numbers) -> None."""
    w = word.strip().lower()
    n = int(w) if w.isdigit() and len(w) <= 3 else _NUMBER_WORDS.get(w)
    return n if n is not None and 0 <= n <= 10 else None


def pain_report(t: str) -> str | None:
    """The score word of a pain report ('pain is 6 today' -> '6'), or None if not a report."""
    if "pain" not in t and "10" not in t:
        return None
    m = _PAIN.search(t)
    if not m:
        return None
    word = m.group(1) or m.group(2)
    if word.isdigit() or word in _NUMBER_WORDS:
        return word
    return None


# --- provisional (replaced by the parser under review) ---------------------------------------
from dataclasses import dataclass  # noqa: E402


@dataclass(frozen=True, slots=True)
class PainParse:
    kind: str
    score: int | None = None
    raw: str = ""


@dataclass(frozen=True, slots=True)
class ShortReply:
    kind: str
    value: int | None = None


def parse_pain(text: str, expecting: bool = False) -> PainParse:
    t = re.sub(r"[^a-z0-9/ -]", " ", text.lower()).strip()
    m = re.search(r"(?<![\w-])(-?\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")\b", t)
    cue = expecting or bool(re.search(r"\bpain\b|/\s*10|out of 10|\brate\b", t))
    if m and cue:
        w = m.group(1)
        n = int(w) if w.lstrip("-").isdecimal() else _NUMBER_WORDS[w]
        if 0 <= n <= 10:
            return PainParse("score", n, w)
        return PainParse("out_of_range", None, w)
    if expecting and re.search(r"\b(bad|fine|ok|sore|good|terrible|awful)\b", t):
        return PainParse("vague", None, t[:20])
    return PainParse("none")


def short_reply(text: str) -> ShortReply | None:
    t = re.sub(r"[^a-z0-9 -]", " ", text.lower()).strip()
    if len(t.split()) > 4:
        return None
    if re.fullmatch(r"-?\d{1,6}", t):
        return ShortReply("number", int(t))
    if t in _NUMBER_WORDS:
        return ShortReply("number", _NUMBER_WORDS[t])
    if t in ("yes", "yep", "sure", "ok", "okay", "yeah", "y"):
        return ShortReply("yes")
    if t in ("no", "nope", "nah", "not really", "no thanks", "n"):
        return ShortReply("no")
    if t in ("later", "maybe later", "not now", "another time", "tomorrow"):
        return ShortReply("later")
    return None
