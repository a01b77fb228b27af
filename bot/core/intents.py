"""Free-text intents that are not questions: today's workout, logging, pain scores, progress, help."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

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
    """'6', 'six' -> 6; anything else (including out-of-range numbers) -> None.

    Total on any str: only decimal digits (str.isdecimal, any script) are read, so '²' or '➂'
    (isdigit() but not int()-able) give None instead of raising.
    """
    w = word.strip().lower()
    if w.isdecimal() and len(w) <= 3:
        n: int | None = _decimal_value(w)
    else:
        n = _NUMBER_WORDS.get(w)
    return n if n is not None and 0 <= n <= 10 else None


def pain_report(t: str) -> str | None:
    """The score word of a pain report ('pain is 6 today' -> '6'), or None if not a report."""
    if "pain" not in t and "10" not in t:
        return None
    m = _PAIN.search(t)
    if not m:
        return None
    word = m.group(1) or m.group(2)
    if word.isdecimal() or word in _NUMBER_WORDS:
        return word
    return None


# ---------------------------------------------------------------------------- pain scores
#
# parse_pain and short_reply read raw or already-cleaned text. Both go through _tokens, which
# folds the text (decimal digits of every script to ASCII, other numeric characters such as
# '²', '➂', '½' to spaces, dashes and apostrophes unified) and splits it into words, numbers
# and the two symbols that matter for scores ('/' and '-'). Everything after that is a single
# left-to-right pass over the tokens, so the work is linear in the input.

PainKind = Literal["score", "out_of_range", "vague", "none"]
ReplyKind = Literal["number", "yes", "no", "later"]


@dataclass(frozen=True, slots=True)
class PainParse:
    """What a message says about today's pain.

    kind: "score" (score is 0..10), "out_of_range" (a score was given but is outside 0..10;
    never clamp or record it), "vague" (a pain answer without a usable number: ask for one),
    "none" (not about a pain score). `score` is set only when kind == "score". `raw` is the
    part of the message the verdict rests on ('5 / 10', 'minus 2', 'not too bad'), '' for none.
    """

    kind: PainKind
    score: int | None = None
    raw: str = ""


@dataclass(frozen=True, slots=True)
class ShortReply:
    """A very short message read as a bare answer: a number (value set), yes, no or later."""

    kind: ReplyKind
    value: int | None = None


NONE = PainParse("none")


def _word_set(words: str) -> frozenset[str]:
    """A table written as whitespace-separated words."""
    return frozenset(words.split())


# Numbers above this many digits are not converted (int() of ~4,300+ digits raises, and a
# pain score never needs it); they count as a huge, out-of-range number.
_MAX_DIGITS = 6
_HUGE = 1_000_000  # 10**_MAX_DIGITS
# short_reply gives the exact value of any integer up to this many digits.
_MAX_REPLY_DIGITS = 100

_UNITS_WORDS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]  # fmt: skip
_TENS_WORDS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUES: dict[str, int] = {
    **{w: i for i, w in enumerate(_UNITS_WORDS)},
    **{w: 20 + 10 * i for i, w in enumerate(_TENS_WORDS)},
    "hundred": 100,
}
_MINUS_WORDS = frozenset({"minus", "negative"})

# A number followed by one of these is a count, a time, an age or a weight, not a pain score:
# "5 sets", "3x10", "30s", "45 years old", "2 weeks", "7am".
_UNITS = _word_set(
    """
    set sets rep reps x times s sec secs second seconds min mins minute minutes h hr hrs hour
    hours day days week weeks wk wks month months year years yr yrs yo y am pm oclock o kg kgs
    kilo kilos lb lbs pound pounds km k mi mile miles m meter meters metre metres cm mm ft feet
    inch inches percent degrees deg st nd rd th steps laps lap rounds round breaths calories
    kcal cal cals bpm mg pills tablets sessions session workouts workout exercises exercise
    pushups squats rows lunges bridges planks plank deadlifts more less people kids
    """
)
# Before a /10 score these make it a date ("since 3/10").
_DATE_PREFIX = frozenset({"on", "since", "from", "until", "till", "by", "before", "after"})
# Words joining two numbers into a range: "4-5", "4 to 5", "4 or 5", "4 maybe 5".
_RANGE_JOIN = frozenset({"-", "to", "or", "maybe"})
# Scale descriptions ("on a scale of 1 to 10") are not answers.
_SCALE_LOW = frozenset({0, 1})

# Unprompted, a score needs one of these cues before it ("pain is 6", "back's a 7").
_CUES = frozenset(
    {"pain", "pains", "painful", "rate", "rated", "rating", "score", "hurts", "hurting",
     "aches", "aching", "sore", "soreness", "backs"}
)  # fmt: skip
_BACK_VERBS = frozenset({"is", "s", "feels", "feeling", "was", "has", "been", "today", "now"})
_NOT_RATE = frozenset({"heart", "pulse", "resting", "breathing", "respiratory", "growth"})
# Words allowed between a cue and its number: "my pain is about a 6", "rate it a solid 6".
_CUE_FILLER = _word_set(
    """
    is s at about around bout abt a an like its it today now currently level lvl score rating
    maybe probably prob prolly roughly approx approximately say id would be i d solid my been
    has was feels feel feeling right this morning tonight still only just pretty much rate
    rated give gave m im as high low sitting hovering the of on scale me honestly definitely
    : -
    """
)
# Words allowed before a bare number when the bot has just asked for a score:
# "about a 5", "its a 5", "around 4 i guess", "hmm maybe a 3".
_LEAD_FILLER = _word_set(
    """
    a an about bout abt around maybe like its it is s i id d would say think guess probably
    prob prolly roughly approx approximately honestly hmm hm um umm uh uhh erm er well ok okay
    oh so today todays tonight now currently right solid feels feel feeling just only still
    pretty much im m yeah yes between : -
    """
)
# The word right before a number that marks it as the answer anywhere in a reply:
# "not too bad, maybe a 3", "yesterday 8, today 4".
_SOFT_PREV = frozenset(
    {"a", "about", "around", "maybe", "like", "say", "probably", "prob", "prolly", "roughly",
     "approx", "approximately", "its", "is", "s", "today", "now", "id", "solid", "between"}
)  # fmt: skip
_QUESTION_START = frozenset(
    {"how", "what", "whats", "why", "when", "where", "which", "who", "is", "can", "should",
     "could", "do", "does", "will", "would", "am", "are", "shall", "may"}
)  # fmt: skip

# Pain answers without a number. "not too bad" is listed so it is read whole, never as "bad".
_VAGUE_PHRASES = [
    "not too bad", "not so bad", "not that bad", "not bad", "not great", "not good",
    "pretty bad", "really bad", "very bad", "so bad", "bad", "a bit sore", "bit sore",
    "a little sore", "sore", "terrible", "awful", "horrible", "dreadful", "agony", "agonising",
    "agonizing", "excruciating", "unbearable", "killing me", "fine", "ok", "okay", "alright",
    "all right", "good", "great", "better", "worse", "the same", "same", "same as yesterday",
    "meh", "so so", "could be better", "mild", "moderate", "severe", "rough", "stiff", "achy",
    "tight", "painful", "hurts", "no pain", "pain free", "manageable", "bearable",
]  # fmt: skip
_VAGUE: dict[tuple[str, ...], str] = {tuple(p.split()): p for p in _VAGUE_PHRASES}
_VAGUE_MAX = max(len(k) for k in _VAGUE)
_PAIN_SUBJECTS = frozenset({"pain", "back"})
_PAIN_SUBJECT_VERBS = frozenset({"pains", "backs"})  # "pain's", "back's" once apostrophes go

# short_reply tables: whole (short) messages, after folding and collapsing "yesss" to "yes".
_YES = frozenset(
    {"yes", "yep", "yup", "yeah", "yea", "ya", "yah", "y", "sure", "sure thing", "ok", "okay",
     "okey", "okie", "k", "kk", "alright", "all right", "of course", "yes please", "ok sure",
     "definitely", "absolutely", "go ahead", "sounds good", "why not"}
)  # fmt: skip
_NO = frozenset(
    {"no", "nope", "nah", "na", "nay", "n", "not really", "no thanks", "no thank you",
     "not at all", "no way", "no chance", "no ta", "nothing"}
)  # fmt: skip
_LATER = frozenset(
    {"later", "maybe later", "later maybe", "not now", "another time", "some other time",
     "tomorrow", "maybe tomorrow", "not today", "not yet", "another day", "in a bit",
     "later please", "not right now", "later today", "after", "afterwards"}
)  # fmt: skip
_POLITE_TAIL = frozenset({"please", "pls", "plz", "thanks", "thx", "ty", "mate", "thank"})
_NO_LEAD = frozenset({"no", "nah", "nope"})
_EMOJI_REPLIES: dict[str, ReplyKind] = {
    "👍": "yes",
    "👌": "yes",
    "✅": "yes",
    "👎": "no",
    "❌": "no",
}
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f\u200d]")
_REPEATS = re.compile(r"([a-z])\1{2,}")

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_FOLD = str.maketrans({"'": "", "`": ""})
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d")
_APOSTROPHE_CHARS = frozenset("\u2018\u2019\u00b4\u02bc\u2032")
# Tokens: numbers with an optional decimal part and an optional sign glued to the digits but
# not to a word before them ("-1", "pain -1", but "4-5" is 4, '-', 5), words (letters of any
# script), and the symbols '/', '-' and ':'. Each alternative is a single run: no backtracking.
_TOKEN = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?|\d+(?:\.\d+)?|[^\W\d_]+|[/:-]")


@dataclass(frozen=True, slots=True)
class _Tok:
    """One token; `num` is set for numbers (decimals rounded up, huge ones capped at _HUGE)."""

    text: str
    num: int | None = None
    digits: str = ""  # the exact integer digits, for short_reply ("" for words and decimals)


@dataclass(frozen=True, slots=True)
class _Mention:
    """A number, range or score-over-denominator found at tokens[start:end]."""

    start: int
    end: int
    values: tuple[int, ...]
    denom: int | None
    raw: str


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    """One non-ASCII character as the tokeniser should see it.

    Decimal digits of any script (Arabic-Indic '٣', fullwidth '５', Devanagari, mathematical
    bold) become ASCII digits: they are real digits someone typed. Other numeric characters
    (superscripts, circled and parenthesised digits, fractions, Roman and CJK numerals) become
    a space: they are footnotes, list bullets or decoration, never a score, and int() fails on
    them. Anything whose NFKC form would smuggle a digit in ('㍘' -> '0点') is a space too.
    """
    if c.isdecimal():
        d = unicodedata.decimal(c, -1)
        return str(d) if d >= 0 else " "
    if c.isnumeric():
        return " "
    if c in _DASHES:
        return "-"
    if c in _APOSTROPHE_CHARS:
        return ""
    folded = unicodedata.normalize("NFKC", c)
    if any(ch.isnumeric() for ch in folded):
        return " "
    return folded


def _fold(text: str) -> str:
    """Lowercased text with digits, dashes and apostrophes made uniform (see _fold_char)."""
    if not text.isascii():
        text = _NON_ASCII.sub(lambda m: _fold_char(m.group(0)), text)
    return text.translate(_ASCII_FOLD).lower()


def _decimal_value(digits: str) -> int:
    """The value of a string of decimal digits (any script), capped at _HUGE."""
    if not digits.isascii():
        digits = "".join(str(unicodedata.decimal(c, 0)) for c in digits)
    ascii_digits = digits.lstrip("0")
    if len(ascii_digits) > _MAX_DIGITS:
        return _HUGE
    return int(ascii_digits or "0")


def _number_token(text: str) -> _Tok:
    """A digits token ('7', '007', '-1', '5.5'); decimals round up, as a careful physio would."""
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    n = _decimal_value(whole)
    if frac.strip("0"):
        return _Tok(text, sign * min(n + 1, _HUGE))
    digits = whole.lstrip("0") or "0"
    return _Tok(text, sign * n, f"-{digits}" if sign < 0 else digits)


def _tokens(text: str) -> list[_Tok]:
    """Words and numbers of `text`, number words read ('twenty five' -> 25), signs merged."""
    raw = _TOKEN.findall(_fold(text))
    out: list[_Tok] = []
    i = 0
    while i < len(raw):
        w = raw[i]
        if w[0].isdigit() or (len(w) > 1 and w[0] == "-"):
            tok = _number_token(w)
        elif w in _WORD_VALUES:
            n = _WORD_VALUES[w]
            nxt = raw[i + 1] if i + 1 < len(raw) else ""
            if w in _TENS_WORDS and _WORD_VALUES.get(nxt, 10) < 10:
                n, w, i = n + _WORD_VALUES[nxt], f"{w} {nxt}", i + 1
            tok = _Tok(w, n, str(n))
        else:
            tok = _Tok(w)
        if tok.num is not None and out and out[-1].text in _MINUS_WORDS:
            out[-1] = _Tok(f"minus {tok.text}", -tok.num, f"-{tok.digits}" if tok.digits else "")
        else:
            out.append(tok)
        i += 1
    return out


def _mention_at(toks: list[_Tok], i: int) -> _Mention | None:
    """The number, range ('4-5', '4 or 5') or fraction ('5/10', '5 out of 10') at toks[i]."""
    first = toks[i].num
    if first is None:
        return None
    n = len(toks)
    values = [first]
    j = i + 1
    between = i > 0 and toks[i - 1].text == "between"
    if j + 1 < n and (toks[j].text in _RANGE_JOIN or (between and toks[j].text == "and")):
        second = toks[j + 1].num
        if second is not None:
            values.append(second)
            j += 2
    elif (
        j < n
        and toks[j].num is not None
        and toks[i].text[0].isdigit()
        and toks[j].text[0].isdigit()
    ):
        # Two bare numbers side by side: what clean() leaves of "5/10" ("5 10") or "4-5" ("4 5").
        if toks[j].num == 10:
            return _Mention(i, j + 1, (first,), 10, f"{toks[i].text} {toks[j].text}")
        values.append(toks[j].num or 0)
        j += 1
    denom: int | None = None
    if j + 1 < n and toks[j].text == "/" and toks[j + 1].num is not None:
        denom, j = toks[j + 1].num, j + 2
    elif j + 2 < n and toks[j].text == "out" and toks[j + 1].text == "of":
        denom = toks[j + 2].num
        j = j + 3 if denom is not None else j
    elif j + 1 < n and toks[j].text == "outta":
        denom = toks[j + 1].num
        j = j + 2 if denom is not None else j
    raw = " ".join(t.text for t in toks[i:j])
    return _Mention(i, j, tuple(values), denom, raw)


def _is_count(toks: list[_Tok], m: _Mention) -> bool:
    """Whether the mention is a count, time, date or scale rather than a score."""
    nxt = toks[m.end].text if m.end < len(toks) else ""
    if nxt in _UNITS or nxt == "/":  # "5 sets", "7am", "10/10/2023"
        return True
    if nxt == ":" and m.end + 1 < len(toks) and toks[m.end + 1].num is not None:
        return True  # "5:30"
    if len(m.values) == 2 and min(m.values) in _SCALE_LOW and max(m.values) == 10:
        return True  # "on a scale of 1 to 10"
    prev = toks[m.start - 1].text if m.start > 0 else ""
    return m.denom is not None and prev in _DATE_PREFIX


def _verdict(m: _Mention) -> PainParse:
    """A score from one mention: ranges record their higher end; outside 0..10 is refused."""
    if m.denom is not None and m.denom != 10:
        return PainParse("vague", None, m.raw)  # "3/5": a score on some other scale
    if any(v < 0 or v > 10 for v in m.values):
        return PainParse("out_of_range", None, m.raw)
    return PainParse("score", max(m.values), m.raw)


def _cue_ends(toks: list[_Tok]) -> list[int]:
    """Token indexes just after each pain cue ('pain', "back's", 'back is', 'rate')."""
    ends: list[int] = []
    for k, t in enumerate(toks):
        if t.text in _CUES:
            if t.text == "rate" and k > 0 and toks[k - 1].text in _NOT_RATE:
                continue
            ends.append(k + 1)
        elif t.text == "back" and k + 1 < len(toks) and toks[k + 1].text in _BACK_VERBS:
            ends.append(k + 2)
    return ends


def _cued_mentions(toks: list[_Tok], mentions: dict[int, _Mention]) -> list[_Mention]:
    """Mentions reached from a cue through at most six filler words ('pain is about a 6')."""
    found: list[_Mention] = []
    for k in _cue_ends(toks):
        for j in range(k, min(k + 7, len(toks))):
            if j in mentions:
                found.append(mentions[j])
                break
            if toks[j].text not in _CUE_FILLER:
                break
    return found


def _lead_mention(toks: list[_Tok], mentions: dict[int, _Mention]) -> list[_Mention]:
    """The number that opens a reply after filler only ('about a 5', 'around 4 i guess')."""
    for j, t in enumerate(toks):
        if j in mentions:
            return [mentions[j]]
        if t.text not in _LEAD_FILLER:
            return []
    return []


def _pick(candidates: list[_Mention], toks: list[_Tok]) -> PainParse | None:
    """One verdict from a tier of candidates; different values in one tier are ambiguous."""
    usable = [m for m in candidates if not _is_count(toks, m)]
    if not usable:
        return None
    verdicts = {_verdict(m) for m in usable}
    if len({(v.kind, v.score) for v in verdicts}) > 1:
        return PainParse("vague", None, "; ".join(m.raw for m in usable))
    return _verdict(usable[0])


def _vague_at(toks: list[_Tok], i: int) -> str | None:
    """The vague phrase starting at toks[i], longest first ('not too bad' before 'bad')."""
    for size in range(min(_VAGUE_MAX, len(toks) - i), 0, -1):
        phrase = _VAGUE.get(tuple(t.text for t in toks[i : i + size]))
        if phrase is not None:
            return phrase
    return None


def _vague(toks: list[_Tok], expecting: bool) -> str | None:
    """A vague pain answer: anywhere in a reply, or after 'pain/back is ...' unprompted."""
    if expecting:
        return next((p for i in range(len(toks)) if (p := _vague_at(toks, i))), None)
    for k, t in enumerate(toks):
        if t.text in _PAIN_SUBJECT_VERBS:
            start = k + 1
        elif t.text in _PAIN_SUBJECTS:
            verb = next(
                (j for j in range(k + 1, min(k + 4, len(toks))) if toks[j].text in _BACK_VERBS),
                None,
            )
            if verb is None:
                continue
            start = verb + 1
        else:
            continue
        for j in range(start, min(start + 4, len(toks))):
            if phrase := _vague_at(toks, j):
                return phrase
    return None


def _is_question(text: str, toks: list[_Tok]) -> bool:
    """Questions are asked, not answered: '?' anywhere or a question word first."""
    return "?" in text or (bool(toks) and toks[0].text in _QUESTION_START)


def parse_pain(text: str, expecting: bool = False) -> PainParse:
    """Read a pain score (0..10) from a message, raw or already clean()ed.

    expecting=True: the bot has just asked "How is your back today, 0-10?", so a bare number
    or number word ("5", "about a 5", "five!", "7 today") is the answer. expecting=False: the
    message is unprompted and a score needs a cue: "pain is 6", "back's a 7", "rate it a 6",
    "5/10", "5 out of 10"; a bare "5" is not a score.

    Decisions: a range ("4-5", "4 or 5", "between 4 and 5") records its higher end and a
    decimal rounds up, because under-recording pain is the worse error; two different scores
    in one message ("8/10 yesterday, 4/10 now") are "vague" so the engine asks which; numbers
    that are counts, times, ages or dates ("5 sets of 10", "3x10", "30s", "45 years old",
    "at 7am", "since 3/10") are never scores; numbers outside 0..10 ("11", "15/10", "-1",
    "minus 2") are "out_of_range", never clamped. Negative numbers need raw text: clean()
    drops the '-' of "-1".
    """
    toks = _tokens(text)
    mentions: dict[int, _Mention] = {}
    for i in range(len(toks)):
        if toks[i].num is not None and (m := _mention_at(toks, i)) is not None:
            mentions[i] = m
    tiers = [
        [m for m in mentions.values() if m.denom == 10],
        _cued_mentions(toks, mentions),
    ]
    if expecting:
        tiers.append(_lead_mention(toks, mentions))
        tiers.append(
            [m for m in mentions.values() if m.start > 0 and toks[m.start - 1].text in _SOFT_PREV]
        )
    for tier in tiers:
        if (verdict := _pick(tier, toks)) is not None:
            return verdict
    if _is_question(text, toks):
        return NONE
    phrase = _vague(toks, expecting)
    return PainParse("vague", None, phrase) if phrase else NONE


def short_reply(text: str) -> ShortReply | None:
    """A bare answer of at most four words: a number, yes, no or later; else None.

    The engine reads these before FAQ retrieval so that "5", "0", "no", "nope", "not really"
    or "maybe later" are never answered with a random FAQ entry. Numbers are any integer,
    negative included ("-3", "minus three"), digits of any script or number words; decimals,
    ranges and numbers with units are not bare answers. Note "ok" is "yes" here, while
    parse_pain(..., expecting=True) reads "ok" as a vague pain answer: the engine decides
    which question is open.
    """
    bare = _EMOJI_MODIFIERS.sub("", text).strip()
    if bare in _EMOJI_REPLIES:
        return ShortReply(_EMOJI_REPLIES[bare])
    toks = [t for t in _tokens(text) if t.text not in ("/", "-")]
    if not toks or len(toks) > 4 or sum(t.text.count(" ") + 1 for t in toks) > 4:
        return None
    if len(toks) == 1 or (len(toks) == 2 and toks[0].text == "a"):
        return _bare_number(toks[-1])
    words = [_REPEATS.sub(r"\1", t.text) for t in toks]
    while len(words) > 1 and words[-1] in _POLITE_TAIL:
        words.pop()
    if words[-2:] == ["thank", "you"] and len(words) > 2:
        words = words[:-2]
    phrase = " ".join(words)
    if phrase in _LATER or (words[0] in _NO_LEAD and " ".join(words[1:]) in _LATER):
        return ShortReply("later")
    if phrase in _NO:
        return ShortReply("no")
    if phrase in _YES:
        return ShortReply("yes")
    return None


def _bare_number(tok: _Tok) -> ShortReply | None:
    """A single token as a short reply: an exact integer, or a yes/no/later word."""
    if tok.num is not None:
        digits = tok.digits.lstrip("-")
        if not digits or len(digits) > _MAX_REPLY_DIGITS:
            return None  # a decimal, or a number too long to be an answer
        value = int(digits) * (-1 if tok.digits.startswith("-") else 1)
        return ShortReply("number", value)
    word = _REPEATS.sub(r"\1", tok.text)
    for kind, table in (("later", _LATER), ("no", _NO), ("yes", _YES)):
        if word in table:
            return ShortReply(kind)  # type: ignore[arg-type]
    return None
