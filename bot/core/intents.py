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
        r"\b(give|gimme|send|show) me\b.{0,30}\b(workout|session|routine|circuit"
        r"|(pull|push|back|core) day)\b",
        r"\b(plan|build|write|make|design|program) me (a |an |some )?(\w+ ){0,3}"
        r"(workout|session|routine|circuit|day)\b",
        r"\b(new|fresh|different) (\w+ ){0,2}(workout|routine|session)\b (\w+ ){0,2}(pls|please|plz)\b",
        r"\bmix it up\b.{0,40}\b(workout|routine|session)\b",
        # "need a dumbbell only back workout rn"; not "I need a routine for my sciatica"
        r"^(i )?(need|want) (a |an )?(\w+ ){0,3}(workout|routine|session|sesh|circuit)\b"
        r"(?!.*\b(pain|sciatica|hurt\w*|injur\w*|disc|sore\w*|ache\w*)\b)",
        r"^(something|sumthin|smth|somethin) (\w+ ){0,3}(for|4) (today|tonight|2day)\b",
        r"^(something|sumthin|smth|somethin) (new|different|fresh|else)\b.{0,25}"
        r"\b(today|tonight|pls|please|plz|for (my )?back)\b",
        r"\b(gentle|easy|light) (back )?(routine|workout|session)\b (\w+ ){0,4}(please|pls|plz)\b",
        r"\bwhat s on (for )?today\b",
        r"\b(my|a) (back )?workout (pls|please|plz)\b",
        r"^(whats |what s |what is )?(the |my |todays |today s )?(back )?(workout|session) of the day\b",
        r"^wod\b",
        r"\b(got|have) (\w+ ){0,2}lined up for me\b",
        # "something for my back with just dumbbells"; not "something for my back pain"
        r"^(something|sumthin|smth|somethin|anything) (to do )?(for|4) (my |the )?back\b"
        r"(?!.*\b(pain|sciatica|hurt\w*|injur\w*|disc|sore\w*|ache\w*|achy)\b)",
        # "im at the gym rn what should i do for back", "back day, what am i doing"
        r"\bwhat (should|shall|do|can) i (do|train|hit) (for|on) (my |the )?back( day| today)?"
        r"( pls| please| plz| rn| now| today)?$",
        r"\bback day\b\W+(\w+ ){0,2}what (am i|should i|do i) (doing|do)\b",
        # "got 15 mins and a resistance band, hit me"
        r"\bgot \d{1,2} ?(min|mins|minutes)\b.{0,40}\b(hit me|go|gimme|what can i do)\b",
        r"\b\d{1,2} ?(min|mins|minute) (back )?(mobility|stretch\w*) (flow|routine|session)\b",
        r"\b(routine|workout|session|plan|training)\b (\w+ ){0,4}(for me|lined up)\b"
        r"(\s+\w+){0,3}\s+(today|tonight|this (morning|afternoon|evening))\b",
    )
]
# Loose form: "today" plus a word about the session, unless the message is about pain.
_TODAY_WORDS = r"(today|todays|tonight|2day|tday|2nite|tonite)"
_SESSION = r"(plan|session|exercises|doing|doin|menu|workout|routine|train|training|do)"
_TODAY = re.compile(rf"\b{_TODAY_WORDS}\b")
_SESSION_WORDS = re.compile(rf"\b{_SESSION}\b")
# Words that make a message about today a question rather than an order: pain words, and
# asking whether to train at all ("knackered after work, should I still train back tonight?"),
# not what to do ("what should I train today" still asks for a session).
_NOT_SESSION = re.compile(
    r"\b(pain|hurt\w*|avoid|safe|sore\w*|ache\w*|injur\w*|why|stiff)\b"
    r"|(?<!what )(?<!wat )(?<!wot )(?<!which )\b(should|shud|shld|shoud|can|could) i (still |even |really |just )?"
    r"(train|workout|work out|lift|exercise|go to the gym|hit the gym)\b"
)
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
        r"\bshow (me )?(my )?(progress|streak|stats|chart|graph)\b",
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
# Asking to see one's progress in a few words ("my streak?", "how am I doing"), not a
# question about training that uses the words ("is the lack of rest killing my progress?",
# "how am I doing my deadlifts wrong").
_PROGRESS_SHORT = [
    re.compile(p)
    for p in (
        r"^(\w+ ){0,3}my (progress|streak|stats|statistics|chart|graph)( \w+){0,2}$",
        r"^(\w+ ){0,2}how (am i|m i|im) doing( \w+){0,3}$",
    )
]
_HELP = re.compile(
    r"^(help|what can you do|commands|menu|options|how does this work"
    r"|(what are|show me|list|list of) (the |your |all )?(the )?(commands|options)"
    r"|how do i use (this|you|backbot|the bot))$"
)


LOOSE_MAX_WORDS = 15  # longer: "today" and the session word must be near each other
_NEAR = re.compile(
    rf"\b{_TODAY_WORDS}\b(?: \w+){{0,8}}? {_SESSION}\b|\b{_SESSION}\b(?: \w+){{0,8}}? {_TODAY_WORDS}\b"
)


# A session asked for in a form the list above does not spell out, read as two shapes rather
# than one pattern per wording:
# - a bare noun phrase naming a session ("back workout pls", "easy recovery day session",
#   "bodyweight back routine for my living room floor"): it orders something, unless it starts
#   like a question ("best back workout", "is a 20 min workout enough") or is about a problem
#   ("routine for sciatica", which an FAQ answers);
# - a request verb at the start of a sentence or after "can you" ("give me something I can do in
#   the hotel room", "can you plan tomorrow's back workout", "mix it up for me today").
_SESSION_NAME = (
    r"(workout|workouts|session|sesh|routine|circuit|programme|program|"
    r"(back|pull|upper body|lower back|core|recovery|rest) day( plan)?)"
)
_NOUN_PHRASE_MAX_WORDS = 16
_ASKS_FIRST = re.compile(
    r"^(?:is|isnt|are|does|do|did|how|why|should|shall|which|when|where|would|will|whats|what|"
    r"can i|could i|am i|best|top|any|anyone|has|have|was|were|if)\b"
)
_NOT_ORDER = re.compile(
    r"\b(pain|painful|sciatica|hurt\w*|injur\w*|disc|disk|herniat\w*|sore\w*|ache\w*|achy|"
    r"pregnan\w*|osteopor\w*|surgery|operation|or|vs|versus|enough|worth|any good|good for|"
    r"bad for|safe|ok|okay|fine|normal|mean|means|long|what|which|how|why|should i|can i|do i|"
    r"is it|is this|is that)\b"
)
# Sessions we don't build (other body parts, music, food) and questions about one part of a
# session ("rest time between sets on back day", "warm up routine before deadlifts").
_NOT_OURS = re.compile(
    r"\b(leg day|legs?|quads?|glute growth|chest|arm day|arms?|playlist|songs?|music|"
    r"pre ?workout|meal|meals|diet|calories|warm ?up|warmup|between sets|straps|cheating|"
    r"fusion|spinal)\b"
)
_NOUN_PHRASE = re.compile(rf"\b{_SESSION_NAME}\b")
_REQUEST_VERB = re.compile(
    r"(?:^|\b(?:can|could|would|will) you (?:please |pls )?|\b(?:please|pls|plz) )"
    r"(?:give|gimme|send|show|write|plan|build|make|design|create|put together|sort|suggest)"
    r" (?:me |us )?(?:out )?(?:(?:a|an|some|my|the|todays|tomorrows|tonights|another|"
    r"something)\b ?)?(?:\w+ ){0,4}?"
    r"(?:" + _SESSION_NAME + r"|something|version|plan)\b"
)
_MIX_IT_UP = re.compile(r"^(?:\w+ ){0,4}mix it up\b|\bcan you mix it up\b")
_GOT_FOR_ME = re.compile(r"\bwhat (have|ve) you got for me\b|\bwhat you got for me\b")


def is_session_request(t: str) -> bool:
    """A session ordered in one of the two shapes above (clean text of one sentence or a short
    message)."""
    if _NOT_OURS.search(t):
        return False
    if _REQUEST_VERB.search(t) or _MIX_IT_UP.search(t) or _GOT_FOR_ME.search(t):
        return not _NOT_ORDER_VERB.search(t)
    if t.count(" ") >= _NOUN_PHRASE_MAX_WORDS or _ASKS_FIRST.match(t):
        return False
    return bool(_NOUN_PHRASE.search(t)) and not _NOT_ORDER.search(t)


# A request verb still orders a session with a sore back ("give me something gentle, my back is
# achy"), but not one about a condition an FAQ answers ("give me a routine for my sciatica").
_NOT_ORDER_VERB = re.compile(r"\b(sciatica|disc|disk|herniat\w*|pregnan\w*|osteopor\w*|surgery)\b")


# Kit a session request names ("back workout with just dumbbells", "stuck in a hotel room with
# no gym", "full gym: rack, cables, dumbbells"): today's plan is built for it instead of the
# profile's equipment. Kit named after "only"/"just" wins; then no kit, a gym, a bar, dumbbells.
_EQUIPMENT_WORDS = (
    ("dumbbells", r"(dumbbells?|dumbells?|dbs?|kettlebells?)"),
    ("pullup_bar", r"(pull ?up bar|chin ?up bar|bar)"),
    ("gym", r"(gym|machines?|cables?|barbells?)"),
)
_ONLY_KIT = [
    (eq, re.compile(rf"\b(only|just)( (have|got|a|an|my|some|one|pair|of|the)){{0,3}} {w}\b"))
    for eq, w in _EQUIPMENT_WORDS
]
_NO_KIT = re.compile(
    r"\b(no|without( any)?) (equipment|kit|gym|weights)\b|\b(bodyweight|body weight|hotel room|"
    r"living room|bedroom)\b"
)
_KIT = [
    (
        "gym",
        re.compile(r"\b(full gym|at the gym|gym|machines?|cables?|cable stack|barbells?|rack)\b"),
    ),
    ("pullup_bar", re.compile(r"\b(pull ?up bar|chin ?up bar)\b")),
    ("dumbbells", re.compile(r"\b(dumbbells?|dumbells?|dbs|kettlebells?)\b")),
]


def equipment_named(t: str) -> str | None:
    """The equipment a session request names (see _EQUIPMENT_WORDS), or None. Clean text."""
    t = t[:600]
    for eq, p in _ONLY_KIT:
        if p.search(t):
            return eq
    if _NO_KIT.search(t):
        return "none"
    return next((eq for eq, p in _KIT if p.search(t)), None)


def is_workout_request(t: str) -> bool:
    if any(p.search(t) for p in _WORKOUT) or is_session_request(t):
        return True
    if not _TODAY.search(t) or _NOT_SESSION.search(t):
        return False
    # In a story, "doing" and "tonight" far apart are rarely one request ("my daughter is
    # doing chemistry ... help her tonight").
    if t.count(" ") < LOOSE_MAX_WORDS:
        return bool(_SESSION_WORDS.search(t))
    return bool(_NEAR.search(t))


# "only got 10 minutes, quick back routine?", "a 15 min session", "short workout please"
_SESSION_NOUN = r"(workout|session|routine|circuit|plan|something|flow)"
_SHORT_MINUTES = re.compile(
    r"\b(\d{1,2}) ?(?:min|mins|minute|minutes)\b(?:\W+\w+){0,6}?\W+" + _SESSION_NOUN + r"\b"
    r"|\b" + _SESSION_NOUN + r"\b(?:\W+\w+){0,6}?\W+(\d{1,2}) ?(?:min|mins|minute|minutes)\b"
    r"|\b(?:only (?:got|have)|(?:i ve |ive |i have )?got) (\d{1,2}) ?(?:min|mins|minute|minutes)\b"
)
_QUICK = re.compile(r"\b(quick|short|fast|brief|mini)( back)? " + _SESSION_NOUN + r"\b")
_OTHER = re.compile(
    r"^(?:(?:can i|could i|may i) (?:have|get|do) |give me |got |i want |i d like )?"
    r"(?:a |an )?(?:different|other|another|new|alternative) (?:one|workout|session|routine)"
    r"(?: please| pls| instead| today)?$"
    r"|^(?:another one|different one)(?: please| pls)?$"
)
_ASKS_ABOUT = re.compile(r"(is|are|how|what|whats|should|does|do|why|when|will|would)\b")
MIN_SHORT, MAX_SHORT = 5, 30  # minutes a short session may be asked for


def short_session_minutes(t: str) -> int | None:
    """Minutes asked for a short session ("only got 10 minutes, quick routine?" -> 10;
    "quick workout" -> 10), or None. Clean text."""
    t = t[:300]
    if _ASKS_ABOUT.match(t):  # "is 20 minutes enough for a session?" asks; it doesn't order
        return None
    m = _SHORT_MINUTES.search(t)
    if m:
        n = int(next(g for g in (m.group(1), m.group(4), m.group(5)) if g))
        return min(max(n, MIN_SHORT), MAX_SHORT) if n < 60 else None
    return 10 if _QUICK.search(t) else None


def is_other_session_request(t: str) -> bool:
    """ "a different one", "another workout": the next session of the rotation."""
    return bool(_OTHER.match(t[:80]))


def is_log_request(t: str) -> bool:
    return any(p.search(t) for p in _LOG)


def is_progress_request(t: str) -> bool:
    return any(p.search(t) for p in (*_PROGRESS, *_PROGRESS_SHORT))


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
# parse_pain and short_reply read raw or already-cleaned text (raw is better, see parse_pain). Both go through _tokens, which
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
# No bare answer (four words, a number of at most _MAX_REPLY_DIGITS digits) is longer.
_MAX_SHORT_CHARS = 256

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
_CUE_STARTS = _CUES | {"back"}
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
_PAIN_SUBJECT_VERBS = frozenset({"pains", "backs"})  # "pain's", "back's" once apostrophes go
_PAIN_SUBJECT_WORDS = frozenset({"pain", "back"}) | _PAIN_SUBJECT_VERBS
_VAGUE_FIRST = frozenset(k[0] for k in _VAGUE)

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

_NUM_START = frozenset("0123456789-")
# Tokens that can follow the first number of a mention: ranges and fractions.
_JOINERS = _RANGE_JOIN | {"/", "out", "outta", "and"}
_MERGE_WORDS = frozenset(_TENS_WORDS) | _MINUS_WORDS
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_FOLD = str.maketrans({"'": "", "`": ""})
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d")
_APOSTROPHE_CHARS = frozenset("\u2018\u2019\u00b4\u02bc\u2032")
# Tokens: numbers with an optional decimal part and an optional sign glued to the digits but
# not to a word before them ("-1", "pain -1", but "4-5" is 4, '-', 5), words (letters of any
# script), and the symbols '/', '-' and ':'. Each alternative is a single run: no backtracking.
_TOKEN = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?|\d+(?:\.\d+)?|[^\W\d_]+|[/:-]")


@dataclass(frozen=True, slots=True)
class _Toks:
    """A message as tokens: `words` (numbers too, as text) and the indexes of the numbers.

    Tokens are plain strings and number values are read only where a rule looks (_value),
    because most tokens are never looked at and the scan must stay cheap.
    """

    words: list[str]
    nums: dict[int, None]  # a dict for ordered iteration and O(1) membership


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


def _number_value(text: str) -> tuple[int, str]:
    """Value and exact digits of a number token ('7', '-1', '5.5', 'five', 'minus twenty five').

    Decimals round up, as a careful physio would, and have no exact digits ('').
    """
    if text.startswith(("minus ", "negative ")):
        n, digits = _number_value(text.partition(" ")[2])
        return -n, f"-{digits}" if digits else ""
    if text in _WORD_VALUES:
        return _WORD_VALUES[text], str(_WORD_VALUES[text])
    if " " in text:  # "twenty five"
        tens, _, unit = text.partition(" ")
        n = _WORD_VALUES[tens] + _WORD_VALUES[unit]
        return n, str(n)
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    n = _decimal_value(whole)
    if frac.strip("0"):
        return sign * min(n + 1, _HUGE), ""
    digits = whole.lstrip("0") or "0"
    return sign * n, f"-{digits}" if sign < 0 else digits


def _is_number_word(w: str) -> bool:
    """Whether a raw token is a number: digits ('7', '-1', '5.5') or a number word."""
    return (w[0].isdigit() or (w[0] == "-" and len(w) > 1)) or w in _WORD_VALUES


def _merge(words: list[str]) -> list[str]:
    """Join 'twenty five' and 'minus 2' into single number tokens.

    Only the places where a tens or minus word occurs are visited; the rest is copied in
    slices, so a long message costs little beyond the copy.
    """
    n = len(words)
    out: list[str] = []
    last = 0
    for i in [i for i, w in enumerate(words) if w in _MERGE_WORDS]:
        if i < last:
            continue
        end = i + 1
        if words[i] in _MINUS_WORDS:
            if end < n and words[end] in _TENS_WORDS:
                end += 1 + (end + 1 < n and _WORD_VALUES.get(words[end + 1], 10) < 10)
            elif end < n and _is_number_word(words[end]):
                end += 1
            else:
                continue
            token = " ".join(["minus", *words[i + 1 : end]])
        elif end < n and _WORD_VALUES.get(words[end], 10) < 10:
            end += 1
            token = f"{words[i]} {words[i + 1]}"
        else:
            continue
        out.extend(words[last:i])
        out.append(token)
        last = end
    out.extend(words[last:])
    return out


def _tokens(text: str) -> _Toks:
    """Words and numbers of `text`, number words read ('twenty five' -> 25), signs merged."""
    words: list[str] = _TOKEN.findall(_fold(text))
    if not _MERGE_WORDS.isdisjoint(words):
        words = _merge(words)
    # Only merged tokens ("twenty five", "minus 2") contain a space, and all of them are numbers.
    nums = dict.fromkeys(
        i
        for i, w in enumerate(words)
        if (w[0] in _NUM_START and w != "-") or w in _WORD_VALUES or " " in w
    )
    return _Toks(words, nums)


def _value(word: str) -> int:
    """The value of a number token (see _number_value)."""
    return _number_value(word)[0]


class _Mentions:
    """Mentions by start index, built on first use: most numbers are never looked at."""

    def __init__(self, t: _Toks) -> None:
        self._t = t
        self._cache: dict[int, _Mention] = {}

    def __contains__(self, i: int) -> bool:
        return i in self._t.nums

    def __getitem__(self, i: int) -> _Mention:
        m = self._cache.get(i)
        if m is None:
            m = self._cache[i] = _mention_at(self._t, i)
        return m

    def fractions(self) -> list[_Mention]:
        """Mentions over 10 ('5/10', '4-5 out of 10', clean()ed '5 10')."""
        w, nums = self._t.words, self._t.nums
        maybe = [
            i
            for i in nums
            if (i + 1 < len(w) and w[i + 1] in _JOINERS) or (i + 1 in nums and w[i + 1] == "10")
        ]
        return [m for i in maybe if (m := self[i]).denom == 10]

    def after(self, words: frozenset[str]) -> list[_Mention]:
        """Mentions right after one of `words` ('maybe a 3' -> the 3 after 'a')."""
        w = self._t.words
        return [self[i] for i in self._t.nums if i > 0 and w[i - 1] in words]


def _mention_at(t: _Toks, i: int) -> _Mention:
    """The number, range ('4-5', '4 or 5') or fraction ('5/10', '5 out of 10') at number i."""
    words, nums = t.words, t.nums
    n = len(words)
    values = [_value(words[i])]
    j = i + 1
    between = i > 0 and words[i - 1] == "between"
    if j + 1 < n and j + 1 in nums and (words[j] in _RANGE_JOIN or (between and words[j] == "and")):
        values.append(_value(words[j + 1]))
        j += 2
    elif j in nums and words[i][0].isdigit() and words[j][0].isdigit():
        # Two bare numbers side by side: what clean() leaves of "5/10" ("5 10") or "4-5" ("4 5").
        if _value(words[j]) == 10:
            return _Mention(i, j + 1, (values[0],), 10, f"{words[i]} {words[j]}")
        values.append(_value(words[j]))
        j += 1
    denom: int | None = None
    if j + 1 in nums and words[j] == "/":
        denom, j = _value(words[j + 1]), j + 2
    elif j + 2 in nums and words[j] == "out" and words[j + 1] == "of":
        denom, j = _value(words[j + 2]), j + 3
    elif j + 1 in nums and words[j] == "outta":
        denom, j = _value(words[j + 1]), j + 2
    return _Mention(i, j, tuple(values), denom, " ".join(words[i:j]))


def _is_count(t: _Toks, m: _Mention) -> bool:
    """Whether the mention is a count, time, date or scale rather than a score."""
    nxt = t.words[m.end] if m.end < len(t.words) else ""
    if nxt in _UNITS or nxt == "/":  # "5 sets", "7am", "10/10/2023"
        return True
    if nxt == ":" and m.end + 1 in t.nums:
        return True  # "5:30"
    if len(m.values) == 2 and min(m.values) in _SCALE_LOW and max(m.values) == 10:
        return True  # "on a scale of 1 to 10"
    prev = t.words[m.start - 1] if m.start > 0 else ""
    return m.denom is not None and prev in _DATE_PREFIX


def _verdict(m: _Mention) -> PainParse:
    """A score from one mention: ranges record their higher end; outside 0..10 is refused."""
    if m.denom is not None and m.denom != 10:
        return PainParse("vague", None, m.raw)  # "3/5": a score on some other scale
    if any(v < 0 or v > 10 for v in m.values):
        return PainParse("out_of_range", None, m.raw)
    return PainParse("score", max(m.values), m.raw)


def _cue_ends(t: _Toks) -> list[int]:
    """Token indexes just after each pain cue ('pain', "back's", 'back is', 'rate')."""
    words = t.words
    ends: list[int] = []
    for k in [k for k, w in enumerate(words) if w in _CUE_STARTS]:
        w = words[k]
        if w == "back":
            if k + 1 < len(words) and words[k + 1] in _BACK_VERBS:
                ends.append(k + 2)
        elif w != "rate" or k == 0 or words[k - 1] not in _NOT_RATE:
            ends.append(k + 1)
    return ends


def _cued_mentions(t: _Toks, mentions: _Mentions) -> list[_Mention]:
    """Mentions reached from a cue through at most six filler words ('pain is about a 6')."""
    found: list[_Mention] = []
    for k in _cue_ends(t):
        for j in range(k, min(k + 7, len(t.words))):
            if j in mentions:
                found.append(mentions[j])
                break
            if t.words[j] not in _CUE_FILLER:
                break
    return found


def _lead_mention(t: _Toks, mentions: _Mentions) -> list[_Mention]:
    """The number that opens a reply after filler only ('about a 5', 'around 4 i guess')."""
    for j, w in enumerate(t.words):
        if j in mentions:
            return [mentions[j]]
        if w not in _LEAD_FILLER:
            return []
    return []


def _pick(candidates: list[_Mention], t: _Toks) -> PainParse | None:
    """One verdict from a tier of candidates; different values in one tier are ambiguous."""
    usable = [m for m in candidates if not _is_count(t, m)]
    if not usable:
        return None
    verdicts = {_verdict(m) for m in usable}
    if len({(v.kind, v.score) for v in verdicts}) > 1:
        return PainParse("vague", None, "; ".join(m.raw for m in usable))
    return _verdict(usable[0])


def _vague_at(words: list[str], i: int) -> str | None:
    """The vague phrase starting at words[i], longest first ('not too bad' before 'bad')."""
    if words[i] not in _VAGUE_FIRST:
        return None
    for size in range(min(_VAGUE_MAX, len(words) - i), 0, -1):
        phrase = _VAGUE.get(tuple(words[i : i + size]))
        if phrase is not None:
            return phrase
    return None


def _vague(t: _Toks, expecting: bool) -> str | None:
    """A vague pain answer: anywhere in a reply, or after 'pain/back is ...' unprompted."""
    words = t.words
    if expecting:
        starts = [i for i, w in enumerate(words) if w in _VAGUE_FIRST]
        return next((p for i in starts if (p := _vague_at(words, i))), None)
    for k in [k for k, w in enumerate(words) if w in _PAIN_SUBJECT_WORDS]:
        if words[k] in _PAIN_SUBJECT_VERBS:
            start = k + 1
        else:
            verbs = [j for j in range(k + 1, min(k + 4, len(words))) if words[j] in _BACK_VERBS]
            if not verbs:
                continue
            start = verbs[0] + 1
        for j in range(start, min(start + 4, len(words))):
            if phrase := _vague_at(words, j):
                return phrase
    return None


def _is_question(text: str, t: _Toks) -> bool:
    """Questions are asked, not answered: '?' anywhere or a question word first."""
    return "?" in text or (bool(t.words) and t.words[0] in _QUESTION_START)


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
    "minus 2") are "out_of_range", never clamped.

    Pass raw text when you have it: clean() turns the '-' of "-1" and the ':' of "5:30" into
    spaces and NFKC-folds '²' and '③' into digits, which this function would otherwise ignore.
    """
    t = _tokens(text)
    mentions = _Mentions(t)
    tiers = [
        mentions.fractions(),
        _cued_mentions(t, mentions),
    ]
    if expecting:
        tiers.append(_lead_mention(t, mentions))
        tiers.append(mentions.after(_SOFT_PREV))
    for tier in tiers:
        if (verdict := _pick(tier, t)) is not None:
            return verdict
    if _is_question(text, t):
        return NONE
    phrase = _vague(t, expecting)
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
    bare = text.strip()
    if len(bare) > _MAX_SHORT_CHARS:
        return None  # no bare answer is this long, and this keeps the cost constant
    bare = _EMOJI_MODIFIERS.sub("", bare)
    if bare in _EMOJI_REPLIES:
        return ShortReply(_EMOJI_REPLIES[bare])
    t = _tokens(bare)
    keep = [i for i, w in enumerate(t.words) if w not in ("/", "-", ":")]
    words = [t.words[i] for i in keep]
    if not words or sum(w.count(" ") + 1 for w in words) > 4:
        return None
    if len(words) == 1 or (len(words) == 2 and words[0] == "a"):
        i = keep[-1]
        if i in t.nums:
            return _bare_number(_number_value(t.words[i])[1])
    words = [_REPEATS.sub(r"\1", w) for w in words]
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


def _bare_number(digits: str) -> ShortReply | None:
    """An exact integer as a short reply; None for a decimal or an absurdly long number."""
    magnitude = digits.lstrip("-")
    if not magnitude or len(magnitude) > _MAX_REPLY_DIGITS:
        return None
    return ShortReply("number", -int(magnitude) if digits.startswith("-") else int(magnitude))
