"""Pure reminder logic: DST-safe next due time, natural-language requests, and a one-line summary.

Nothing here does I/O or knows about the store, the scheduler or a chat platform. All instants
that go in or come out are timezone-aware; "local" always means the user's IANA zone.

DST policy (one reminder per allowed local day, never two, never none):
- a local time that does not exist that day (spring-forward gap) fires at the end of the gap,
  e.g. 02:30 Europe/Berlin on the last Sunday of March fires at 03:00 CEST;
- a local time that happens twice (fall-back) fires at its first occurrence (fold=0), and
  asking again from that instant moves on to the next allowed day.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

DEFAULT_DAYS: tuple[int, ...] = (0, 2, 4)  # Mon, Wed, Fri
DEFAULT_TIME = time(18, 0)
MAX_PAUSE_WEEKS = 52

DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Our own month names: strftime("%b") follows the process locale.
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4)
WEEKENDS: tuple[int, ...] = (5, 6)
EVERY_DAY: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)

Action = Literal["set", "stop", "pause", "resume", "show"]

EXAMPLE = "mon wed fri 18:30"


# --------------------------------------------------------------------------------------------
# Schedule math
# --------------------------------------------------------------------------------------------


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {tz!r}") from exc


def _gap_end(lo: datetime, hi: datetime, zone: ZoneInfo) -> datetime:
    """Return the first UTC second in (lo, hi] whose offset differs from lo's: the transition.

    tzdata transitions fall on whole seconds, so a binary search over seconds is exact.
    """
    lo_offset = lo.astimezone(zone).utcoffset()
    lo_s, hi_s = 0, int((hi - lo).total_seconds())
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if (lo + timedelta(seconds=mid)).astimezone(zone).utcoffset() == lo_offset:
            lo_s = mid
        else:
            hi_s = mid
    return lo + timedelta(seconds=hi_s)


def occurrence(day: date, at: time, tz: str) -> datetime:
    """Return the UTC instant of local wall time `at` on local date `day` in zone `tz`.

    Ambiguous (fall-back) times resolve to the first occurrence; non-existent (spring-forward)
    times resolve to the end of the gap, i.e. the first valid local instant after it.
    """
    zone = _zone(tz)
    wall = datetime.combine(day, at.replace(tzinfo=None))
    first = wall.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc
    # In a gap: fold=1 applies the post-transition offset and lands before the transition,
    # fold=0 applies the pre-transition offset and lands after it; the transition is between.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(before, utc), max(before, utc)
    return _gap_end(lo, hi, zone)


def next_due(
    days: Sequence[int],
    at: time,
    tz: str,
    after: datetime,
    paused_until: date | None = None,
) -> datetime:
    """Return the first reminder instant strictly after `after` (tz-aware UTC in and out).

    A reminder fires on each local weekday in `days` (Monday=0) at local time `at` in zone
    `tz`; local dates before `paused_until` are skipped. Raises ValueError for no days, a day
    outside 0-6, a naive `after` or an unknown zone.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("`after` must be timezone-aware")
    allowed = set(days)
    if not allowed:
        raise ValueError("no reminder days")
    if not allowed <= set(EVERY_DAY):
        raise ValueError(f"reminder days must be 0-6 (Monday=0), got {sorted(allowed)}")
    zone = _zone(tz)
    # Start a day early: a candidate's instant is compared, not its date, so starting early is
    # harmless and covers zones whose gap pushes a time across local midnight.
    start = after.astimezone(zone).date() - timedelta(days=1)
    if paused_until is not None and paused_until > start:
        start = paused_until
    for offset in range(9):
        day = start + timedelta(days=offset)
        if day.weekday() not in allowed:
            continue
        due = occurrence(day, at, tz)
        if due > after:
            return due
    # Unreachable with real tzdata (9 days always contain a later allowed day); be loud if not.
    raise RuntimeError(f"no reminder found after {after.isoformat()} in {tz}")


def pause_until(today: date, weeks: int) -> date:
    """Return the first local date reminders start again after pausing `weeks` from `today`."""
    return today + timedelta(weeks=weeks)


# --------------------------------------------------------------------------------------------
# Describing a schedule
# --------------------------------------------------------------------------------------------


def format_days(days: Sequence[int]) -> str:
    """'every day', 'weekdays', 'weekends' or 'Tue, Thu' (sorted, de-duplicated)."""
    unique = tuple(sorted(set(days)))
    if unique == EVERY_DAY:
        return "every day"
    if unique == WEEKDAYS:
        return "weekdays"
    if unique == WEEKENDS:
        return "weekends"
    return ", ".join(DAY_ABBR[d] for d in unique)


def format_local(instant: datetime, tz: str) -> str:
    """An instant in the user's zone, chat-sized: 'Tue 3 Dec 07:00'."""
    local = instant.astimezone(_zone(tz))
    return f"{DAY_ABBR[local.weekday()]} {local.day} {MONTH_ABBR[local.month - 1]} {local:%H:%M}"


def describe(days: Sequence[int], at: time, tz: str, next_due_at: datetime | None) -> str:
    """One line for the user: 'Reminders: Tue, Thu at 07:00 Europe/Berlin — next: Tue 3 Dec 07:00'."""
    if not days:
        return "Reminders: off"
    text = f"Reminders: {format_days(days)} at {at:%H:%M} {tz}"
    if next_due_at is not None:
        text += f" — next: {format_local(next_due_at, tz)}"
    return text


# --------------------------------------------------------------------------------------------
# Understanding requests
#
# Every step below is one pass over the message (a regex scan, a split, a loop over tokens), so
# the cost grows linearly with its length: a pasted essay costs milliseconds, not seconds.
# Only ASCII digits [0-9] count as numbers; "➂", "²" or "٣" are words we did not understand.
# --------------------------------------------------------------------------------------------


class ReminderParseError(ValueError):
    """A reminder request we could not understand; `message` is a friendly line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


MAX_IGNORED = 3  # fragments reported back; a pasted essay must not become a wall of quotes
MAX_FRAGMENT_CHARS = 30


@dataclass(frozen=True, slots=True)
class ReminderRequest:
    """What the user asked for. `days`/`at` of None mean "keep what is set now".

    `bare_hour` is True when the time was a bare hour without am/pm ("at 8"), read on the
    24-hour clock (08:00), so the dialogue can confirm it.

    `ignored` holds the parts of the message this request does not use, verbatim (whitespace
    collapsed, at most MAX_FRAGMENT_CHARS each, the first MAX_IGNORED of them), so the reply
    can say what was left out instead of silently dropping it: unknown words ("xyz"), stray
    numbers, a duration in a "set" ("for 2 weeks": schedules are open-ended), and days or
    times given to "pause" or "resume", which take neither. Filler and chat words ("please",
    "remind me", "train") are never reported.
    """

    action: Action
    days: tuple[int, ...] | None = None
    at: time | None = None
    weeks: int = 1
    bare_hour: bool = False
    ignored: tuple[str, ...] = ()


_DAY_WORDS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "mondays", "mo"),
        ("tue", "tues", "tuesday", "tuesdays", "tu"),
        ("wed", "weds", "wednesday", "wednesdays", "we"),
        ("thu", "thur", "thurs", "thursday", "thursdays", "th"),
        ("fri", "friday", "fridays", "fr"),
        ("sat", "saturday", "saturdays", "sa"),
        ("sun", "sunday", "sundays", "su"),
    )
):
    for _name in _names:
        _DAY_WORDS[_name] = _i
# Two-letter forms only count inside a day list like "mo we fr" (see _day_values), never in
# prose: "we" is a pronoun far more often than it is Wednesday.
_TWO_LETTER = frozenset({"mo", "tu", "we", "th", "fr", "sa", "su"})

_GROUP_WORDS: dict[str, tuple[int, ...]] = {
    "weekday": WEEKDAYS,
    "weekdays": WEEKDAYS,
    "workday": WEEKDAYS,
    "workdays": WEEKDAYS,
    "weekend": WEEKENDS,
    "weekends": WEEKENDS,
    "daily": EVERY_DAY,
    "everyday": EVERY_DAY,
}
# Words that may sit between the days of a list ("mon to fri", "tu and th", "mo-fr").
_JOINERS = frozenset({"-", "and", "to", "through", "thru", "till", "until"})
_DAYISH = frozenset(_DAY_WORDS) | frozenset(_GROUP_WORDS) | _JOINERS
_RANGE_WORDS = frozenset({"-", "to", "through", "thru", "till", "until"})
_EXCLUDERS = frozenset({"except", "excluding", "without"})
_EVERY = frozenset({"every", "each", "all"})

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}

_REMIND_WORD = re.compile(r"\b(remind\w*|reminders?|nudge|ping|notif\w*|alarm|alert)\b")


class _Phrases:
    """Whole-word phrases (regex fragments) found with one regex, skipped when cheap.

    Python's re tries an alternation at every position, about 0.3 ms per 10,000 characters.
    Each phrase starts with literal text, so when none of those starts occurs in the message
    (a plain substring test, microseconds) the regex cannot match and is not run; a leading
    character class of first letters lets re skip ahead when it does run.
    """

    def __init__(self, *phrases: str) -> None:
        self.starts = tuple(_literal_start(p) for p in phrases)
        firsts = "".join(sorted({start[0] for start in self.starts}))
        self.pattern = re.compile(rf"(?=[{re.escape(firsts)}])\b(?:{'|'.join(phrases)})\b")

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        if not any(start in text for start in self.starts):
            return None
        return self.pattern.search(text, pos)


def _literal_start(phrase: str) -> str:
    """The literal text every match of `phrase` begins with: "no reminders?" -> "no reminder"."""
    start = re.match(r"[a-z' -]*", phrase)
    assert start is not None  # the pattern matches the empty string
    text = start[0]
    if phrase[len(text) : len(text) + 1] in {"?", "*"}:
        text = text[:-1]  # the last character is optional
    if not text:
        raise ValueError(f"phrase needs a literal start: {phrase!r}")
    return text


_ONE_OFF = _Phrases("tomorrow", "today", "in [0-9]+ (?:minutes?|hours?)", "once")
_INFO_REQUEST = _Phrases(
    "remind me (?:how|what|why|who|where|which|about (?:the|how|what))",
)

# Phrases for actions, checked in this order (show before set: "when is my next reminder"
# mentions no days or time but must not become an empty "set"). "Show" is also a verb followed
# anywhere later by "reminder": two searches, not `verb.*reminder`, which retries the rest of
# the message after every verb (quadratic).
_WHOLE_MESSAGE: dict[str, Action] = {
    "remind": "show",
    "reminder": "show",
    "reminders": "show",
    "status": "show",
    "show": "show",
    "list": "show",
    "off": "stop",
    "none": "stop",
    "on": "resume",
}
_SHOW_VERB = _Phrases(
    "show",
    "list",
    "see",
    "view",
    "check",
    "what are",
    "what's",
    "whats",
    "what is",
    "what time",
    "which days",
    "when is",
    "when's",
    "whens",
    "when are",
    "when do",
    "when will",
)
_REMINDER_NOUN = re.compile(r"\breminder")
_SHOW = _Phrases(
    "next reminder",
    "reminder status",
    "reminder settings",
    "reminder schedule",
    "when (?:do|will|are) you (?:going to )?remind",
)
_ACTIONS: tuple[tuple[Action, _Phrases], ...] = (
    ("pause", _Phrases("pause", "snooze", "hold off", "take a break", "break from")),
    (
        "resume",
        _Phrases(
            "resume",
            "unpause",
            "un-pause",
            "restart",
            "turn on",
            "switch on",
            "start again",
            "start reminding",
            "back on",
            "reminders? on",
        ),
    ),
    (
        "stop",
        _Phrases(
            "stop",
            "cancel",
            "disable",
            "unsubscribe",
            "delete",
            "remove",
            "no more",
            "turn off",
            "switch off",
            "don'?t remind",
            "do not remind",
            "never remind",
            "no reminders?",
            "don'?t want",
            "do not want",
            "remind off",
            "reminders? off",
        ),
    ),
)

# One time expression. Order matters: the colon/dot form first so "7.30am" is one token. The
# leading (?=[...]) of possible first characters lets re skip ahead (twice as fast).
_TIME = re.compile(
    r"(?=[0-9nm])(?:(?<![\w:.])(?P<h>[0-9]{1,2})(?:[:.](?P<m>[0-9]{1,2}))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)?"
    r"(?=$|[^\w:.]|\s)"
    r"|(?<![\w:.])(?P<h2>[0-9]{1,2})h(?P<m2>[0-9]{2})?(?!\w)"
    r"|\b(?P<word>noon|midday|midnight)\b)"
)
# The next three are used with .match(text, pos) right after a time, so they have no "^".
_PERIOD_AFTER = re.compile(
    r"\s*(?:o'?clock\s*)?(?:in\s+the\s+)?(?P<p>morning|afternoon|evening|night|tonight)\b"
)
_DURATION_UNIT = re.compile(
    r"\s*(?:x\s+|more\s+)?(weeks?|wks?|w|days?|d|times?|months?|minutes?|mins?|hours?|hrs?|reps?|sets?|kg|lbs?|%)\b"
)
# A word that makes a following bare hour clearly a time: "at 8", "by 7", "@ 6".
_TIME_LEAD = re.compile(r"(?=[atb@])(?:\b(?:at|to|around|by)|@)\s*")
_DURATION = re.compile(
    r"\b(?P<n>[0-9]+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
    r"(?P<unit>weeks?|wks?|days?|months?)\b|\b(?P<fortnight>fortnight)\b"
    r"|\b(?:next|this)\s+(?P<next>week|month)\b"
)
_TOKEN = re.compile(r"[^\s-]+|-")

_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "me",
        "my",
        "i",
        "please",
        "pls",
        "plz",
        "and",
        "or",
        "on",
        "at",
        "to",
        "for",
        "from",
        "every",
        "other",
        "each",
        "all",
        "of",
        "in",
        "set",
        "change",
        "move",
        "make",
        "update",
        "put",
        "switch",
        "can",
        "you",
        "could",
        "would",
        "will",
        "want",
        "id",
        "i'd",
        "like",
        "reminder",
        "reminders",
        "remind",
        "reminding",
        "again",
        "instead",
        "now",
        "them",
        "it",
        "be",
        "days",
        "day",
        "time",
        "times",
        "except",
        "but",
        "not",
        "only",
        "just",
        "also",
        "ok",
        "okay",
        "hey",
        "hi",
        "so",
        "then",
        "please",
        "thanks",
        "thank",
        "week",
        "weeks",
        "o'clock",
        "oclock",
        "morning",
        "afternoon",
        "evening",
        "night",
        "tonight",
        "am",
        "pm",
        "around",
        "about",
        "by",
        "stop",
        "cancel",
        "pause",
        "resume",
        "unpause",
        "restart",
        "snooze",
        "turn",
        "off",
        "on",
        "show",
        "list",
        "when",
        "is",
        "next",
        "what",
        "are",
        "what's",
        "whats",
        "status",
    ]
)
# Not filler for routing ("is it ok to train every day?" is a question, not a schedule), but
# nothing the user needs to hear we skipped: action phrases, chat words, what reminders are for.
_QUIET = frozenset(
    [
        "hold",
        "take",
        "break",
        "back",
        "start",
        "un",
        "going",
        "anymore",
        "train",
        "training",
        "workout",
        "workouts",
        "exercise",
        "exercises",
        "session",
        "sessions",
        "we",
        "us",
        "our",
        "do",
        "does",
        "don't",
        "dont",
        "need",
        "should",
        "let",
        "let's",
        "lets",
        "with",
        "that",
        "this",
        "yes",
        "yeah",
        "sure",
        "through",
        "thru",
        "till",
        "until",
        "excluding",
        "without",
    ]
)

Part = Literal["words", "numbers", "days", "times", "duration"]

# Which parts of a message each action leaves unused (and so reports in `ignored`). "set"
# uses days and a time, "pause" a duration; "stop" and "show" read the action phrase only,
# and the details of a "stop" are refused outright (see parse_request).
_UNUSED: dict[Action, frozenset[Part]] = {
    "set": frozenset({"words", "numbers", "duration"}),
    "pause": frozenset({"words", "numbers", "days", "times"}),
    "resume": frozenset({"words", "numbers", "days", "times", "duration"}),
    "stop": frozenset(),
    "show": frozenset(),
}

Span = tuple[int, int]


@dataclass(slots=True)
class _Scan:
    """Everything found in one message, shared by parse_request and looks_like_reminder_request.

    Spans are (start, end) positions in the message as typed: the normalized text keeps every
    character's position, so a span cuts the user's own words out of the original.
    """

    norm: str
    flat: str
    action: Action
    days: tuple[int, ...] | None
    times: tuple[time, ...]
    bare_hour: bool
    weeks: int | None
    bad_time: str | None
    bad_duration: str | None
    remind_word: bool
    leftover: tuple[str, ...]
    explicit_time: bool
    one_off: bool
    parts: dict[Part, list[Span]]


@dataclass(frozen=True, slots=True)
class _Clock:
    """One time expression read from the message (value None: out of range, like 25:00)."""

    value: time | None
    bare: bool
    raw: str
    explicit: bool
    end: int


_COMMAND = re.compile(r"^(\s*)/(remind|reminder|reminders|stop|pause|resume)(@\w+)?\b")
# Punctuation, whitespace and a sentence's full stop (not the one in "7.30") become spaces.
_BLANKED = r"[,;!?&+/|()\[\]\"\s]"
_TO_SPACE = re.compile(rf"{_BLANKED}|(?<=\w)\.(?={_BLANKED}|$)")
_SAME_LENGTH = str.maketrans({"’": "'", "–": "-"})
_REMIND_LEAD = re.compile(r"^(remind|reminder|reminders) (?=\S)")


def _lower(text: str) -> str:
    """Lower-case `text` without changing its length ("İ" lowers to two characters: kept)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _positional(text: str) -> str:
    """Lower-case `text`, blank out punctuation, the /command's @botname and every kind of
    whitespace with single spaces, keeping each character where it was (same length)."""
    low = _lower(text).translate(_SAME_LENGTH)
    low = _COMMAND.sub(lambda m: f"{m[1]} {m[2]}" + " " * len(m[3] or ""), low)
    return _TO_SPACE.sub(" ", low)


def _flat(positional: str) -> str:
    """The compact form the action patterns read: single spaces, a leading "reminders" as
    "remind"."""
    return _REMIND_LEAD.sub("remind ", " ".join(positional.split()))


def _blank(text: str, spans: Sequence[Span]) -> str:
    """`text` with each (sorted, disjoint) span replaced by as many spaces: one pass."""
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces += (text[last:start], " " * (end - start))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _count(digits_or_word: str) -> int:
    """A duration's count; absurdly long digit strings become a count that is out of range."""
    if digits_or_word in _NUMBER_WORDS:
        return _NUMBER_WORDS[digits_or_word]
    return int(digits_or_word) if len(digits_or_word) <= 6 else 10**6


def _read_duration(m: re.Match[str]) -> tuple[int | None, str | None]:
    """(weeks, None) for a duration we can pause for, (None, the text) for one we can't."""
    if m["fortnight"]:
        return 2, None
    if m["next"]:
        return (4 if m["next"] == "month" else 1), None
    n, unit = _count(m["n"]), m["unit"]
    if unit.startswith("w"):
        return n, None
    if unit.startswith("m"):
        return 4 * n, None
    if n % 7 == 0:
        return n // 7, None
    return None, m[0]


def _read_time(m: re.Match[str], text: str) -> _Clock:
    """Read one _TIME match in `text`, with a following "in the evening" if there is one."""
    raw = m[0].strip()
    word = m["word"]
    if word:
        return _Clock(time(0, 0) if word == "midnight" else time(12, 0), False, raw, True, m.end())
    ampm: str | None
    if m["h2"] is not None:
        hour, minute, ampm = int(m["h2"]), int(m["m2"] or 0), None
    else:
        hour, minute = int(m["h"]), int(m["m"] or 0)
        ampm = (m["ampm"] or "").replace(".", "") or None
    end = m.end()
    period = _PERIOD_AFTER.match(text, end)
    if period is not None:
        end = period.end()
        if ampm is None:
            ampm = "am" if period["p"] == "morning" else "pm"
            raw = f"{raw} {' '.join(period[0].split())}"
    if (m["m"] is not None and len(m["m"]) != 2) or minute > 59:
        return _Clock(None, False, raw, True, end)
    explicit = ampm is not None or m["m"] is not None or m["h2"] is not None
    if ampm is not None:
        if not 1 <= hour <= 12:
            return _Clock(None, False, raw, True, end)
        hour = hour % 12 + (12 if ampm == "pm" else 0)
        return _Clock(time(hour, minute), False, raw, True, end)
    if hour > 23:
        return _Clock(None, False, raw, explicit, end)
    bare = m["m"] is None and m["h2"] is None and 1 <= hour <= 12
    return _Clock(time(hour, minute), bare, raw, explicit, end)


def _day_values(tokens: Sequence[str]) -> list[int | None]:
    """The weekday each token names, or None.

    A two-letter form ("mo", "we") only counts inside a day list: when every token is a day,
    a day group or a joiner ("mo tu we th fr sa su"), when another two-letter form is in the
    same run of days and joiners ("mo we fr 7pm", "tu and th"), or when a hyphen ties it to a
    day ("mon-fr"). So "we" in "every monday we train at 7" stays a word.
    """
    values = [_DAY_WORDS.get(t) for t in tokens]
    abbreviations = [k for k, t in enumerate(tokens) if t in _TWO_LETTER]
    if not abbreviations:
        return values
    dayish = [t in _DAYISH for t in tokens]
    if all(dayish):
        return values
    keep: set[int] = set()
    for a, b in itertools.pairwise(abbreviations):
        if all(dayish[a:b]):  # the same run: the slices are disjoint, so this stays linear
            keep.update((a, b))
    last = len(tokens) - 1
    for k in abbreviations:
        before = k >= 2 and tokens[k - 1] == "-" and values[k - 2] is not None
        after = k <= last - 2 and tokens[k + 1] == "-" and values[k + 2] is not None
        if not (k in keep or before or after):
            values[k] = None
    return values


def _is_number(token: str) -> bool:
    return token.isascii() and token.isdigit()


def _action(flat: str) -> Action:
    """The action a message asks for, from its phrases; "set" when none is named."""
    if not flat:
        return "show"
    if flat in _WHOLE_MESSAGE:
        return _WHOLE_MESSAGE[flat]
    verb = _SHOW_VERB.search(flat)
    if _SHOW.search(flat) or (verb is not None and _REMINDER_NOUN.search(flat, verb.end())):
        return "show"
    return next((action for action, phrases in _ACTIONS if phrases.search(flat)), "set")


def _scan(text: str) -> _Scan:
    """Find the action, duration, times and days in `text`: a handful of linear passes."""
    norm = _positional(text)
    flat = _flat(norm)
    parts: dict[Part, list[Span]] = {
        "words": [],
        "numbers": [],
        "days": [],
        "times": [],
        "duration": [],
    }

    # Durations ("for 2 weeks") first, so their numbers are never read as times.
    weeks: int | None = None
    bad_duration: str | None = None
    work = norm
    dm = _DURATION.search(work)
    if dm is not None:
        weeks, bad_duration = _read_duration(dm)
        parts["duration"].append(dm.span())
        work = _blank(work, [dm.span()])

    # Times. A bare number ("3", "18") next to a clear time ("7pm", "at 8", "18:30") is a
    # stray number, reported as ignored, not a second time to choose from.
    clocks: list[tuple[_Clock, Span, bool]] = []  # (clock, span, clearly a time)
    explicit_time = False
    bad_time: str | None = None
    leads = {m.end() for m in _TIME_LEAD.finditer(work)}
    for m in _TIME.finditer(work):
        if m["word"] is None and _DURATION_UNIT.match(work, m.end()):
            continue  # "3 times a week", "10 minutes": a count, not a clock time
        clock = _read_time(m, work)
        parts["times"].append((m.start(), clock.end))
        if clock.value is None:
            bad_time = bad_time or clock.raw
            continue
        clear = clock.explicit or m.start() in leads
        clocks.append((clock, (m.start(), clock.end), clear))
        # "at 8" is clearly a time even without am/pm.
        explicit_time = explicit_time or clock.explicit or (clock.bare and m.start() in leads)
    any_clear = any(clear for _, _, clear in clocks)
    used = [clock for clock, _, clear in clocks if clear or not any_clear]
    stray = [span for _, span, clear in clocks if any_clear and not clear]
    work = _blank(work, parts["times"])

    # Days: ranges ("mon-fri", "monday to friday"), groups, single names, "every day", "except".
    found = list(_TOKEN.finditer(work))
    tokens = [m[0] for m in found]
    day_of = _day_values(tokens)
    chosen: set[int] = set()
    excluded: set[int] = set()
    found_days = False
    leftover: list[str] = []
    excluding = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        target = excluded if excluding else chosen
        step, is_day = 1, True
        if tok in _EXCLUDERS or (tok == "but" and nxt in {"not", "no"}):
            excluding, is_day = True, False
            step = 2 if tok == "but" else 1
        elif (day := day_of[i]) is not None:
            end_day = day_of[i + 2] if nxt in _RANGE_WORDS and i + 2 < len(tokens) else None
            if end_day is not None:
                target.update((day + k) % 7 for k in range((end_day - day) % 7 + 1))
                step = 3
            else:
                target.add(day)
        elif tok in _GROUP_WORDS:
            target.update(_GROUP_WORDS[tok])
        elif tok in _EVERY and nxt in {"day", "days"}:
            target.update(EVERY_DAY)
            step = 2
        else:
            is_day = False
            if _is_number(tok):
                parts["numbers"].append(found[i].span())
            elif tok not in _FILLER and tok != "-":
                leftover.append(tok)
                if tok not in _QUIET and not _REMIND_WORD.fullmatch(tok):
                    parts["words"].append(found[i].span())
        if is_day:
            found_days = True
            parts["days"].append((found[i].start(), found[i + step - 1].end()))
        i += step
    if excluded and not chosen:
        chosen = set(EVERY_DAY)  # "except sundays" alone means every other day of the week
    days = tuple(sorted(chosen - excluded)) if found_days else None

    parts["numbers"] = list(heapq.merge(stray, parts["numbers"]))
    first = used[0] if used else None
    return _Scan(
        norm=norm,
        flat=flat,
        action=_action(flat),
        days=days,
        times=tuple(dict.fromkeys(c.value for c in used if c.value is not None)),
        bare_hour=first.bare if first else False,
        weeks=weeks,
        bad_time=bad_time,
        bad_duration=bad_duration,
        remind_word=bool(_REMIND_WORD.search(flat)),
        leftover=tuple(leftover),
        explicit_time=explicit_time,
        one_off=bool(_ONE_OFF.search(flat)),
        parts=parts,
    )


def _fragment(text: str) -> str:
    """One ignored piece as the user typed it, on one line, at most MAX_FRAGMENT_CHARS long."""
    words = " ".join("".join(c for c in text if c.isprintable()).split())
    if len(words) > MAX_FRAGMENT_CHARS:
        words = words[: MAX_FRAGMENT_CHARS - 1].rstrip() + "…"
    return words


def _ignored(text: str, scan: _Scan, unused: frozenset[Part]) -> tuple[str, ...]:
    """The first MAX_IGNORED unused parts of `text`; parts with only punctuation or filler words
    between them are one fragment ("3 times a week", "foo, bar")."""
    spans = heapq.merge(*(scan.parts[p] for p in sorted(unused)))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and all(w in _FILLER for w in scan.norm[merged[-1][1] : start].split()):
            merged[-1][1] = max(merged[-1][1], end)
            continue
        if len(merged) == MAX_IGNORED:
            break
        merged.append([start, end])
    fragments = (_fragment(text[start:end]) for start, end in merged)
    return tuple(f for f in fragments if f)


def _one_time(times: Sequence[time]) -> time | None:
    """The schedule's time; two different ones are refused rather than half-set.

    A schedule has one time, so "mon wed fri 7am and 6pm" cannot be done as asked. Setting
    07:00 and mentioning 18:00 as ignored would leave the user with half of what they wanted
    and a reply to read closely; asking them to choose is what a person would do.
    """
    if len(times) <= 1:
        return times[0] if times else None
    shown = [f"{t:%H:%M}" for t in times[:3]]
    choice = f"{', '.join(shown[:-1])} or {shown[-1]}"
    raise ReminderParseError(
        f"I can set one time per schedule: {choice}? Try: mon wed fri {shown[0]}"
    )


def _pause(scan: _Scan) -> ReminderRequest:
    if scan.bad_duration is not None:
        raise ReminderParseError(
            f"I can pause reminders for whole weeks, not {scan.bad_duration}. "
            "Try: pause for 2 weeks"
        )
    weeks = 1 if scan.weeks is None else scan.weeks
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        raise ReminderParseError(
            f"I can pause reminders for 1 to {MAX_PAUSE_WEEKS} weeks. Try: pause for 2 weeks"
        )
    return ReminderRequest("pause", weeks=weeks)


def _stop(scan: _Scan) -> ReminderRequest:
    if scan.days is not None:
        # "don't remind me on fridays" must not wipe every reminder.
        raise ReminderParseError("To drop a day, tell me the days you do want. Try: mon wed 18:00")
    return ReminderRequest("stop")


def _set(scan: _Scan) -> ReminderRequest:
    if scan.bad_time is not None:
        raise ReminderParseError(
            f"'{scan.bad_time}' isn't a time of day I understand (hours 0-23, minutes 00-59). "
            f"Try: {EXAMPLE} or 6:30pm"
        )
    if scan.one_off:
        raise ReminderParseError(
            f"I only do weekly reminders, not one-off ones. Tell me days and a time, e.g. {EXAMPLE}"
        )
    if scan.days is not None and not scan.days:
        raise ReminderParseError(
            f"That leaves no days to remind you on. Try: {EXAMPLE}, or 'stop reminders'"
        )
    at = _one_time(scan.times)
    if scan.days is None and at is None:
        raise ReminderParseError(f"I couldn't find reminder days or a time in that. Try: {EXAMPLE}")
    return ReminderRequest("set", days=scan.days, at=at, bare_hour=scan.bare_hour)


_BUILDERS: dict[Action, Callable[[_Scan], ReminderRequest]] = {
    "show": lambda scan: ReminderRequest("show"),
    "pause": _pause,
    "resume": lambda scan: ReminderRequest("resume"),
    "stop": _stop,
    "set": _set,
}


def parse_request(text: str) -> ReminderRequest:
    """Understand a reminder message or /remind arguments; raise ReminderParseError if we can't.

    Empty text means "show". For "set", `days` or `at` may be None (keep the current value), but
    never both. Two different times ("7am and 6pm") raise ReminderParseError asking which one
    (a schedule has one time); the same time twice is fine. Anything else the request does not
    use is returned in `ignored` (see ReminderRequest). Any string at all either parses or
    raises ReminderParseError, in time linear in its length.
    """
    scan = _scan(text)
    request = _BUILDERS[scan.action](scan)
    ignored = _ignored(text, scan, _UNUSED[scan.action])
    return replace(request, ignored=ignored) if ignored else request


def looks_like_reminder_request(text: str) -> bool:
    """Whether the dialogue router should treat `text` as about reminders.

    True for requests that mention reminding and carry days, a time or an action ("remind me
    tue thu at 7am", "stop reminders"), and for bare schedules ("mon wed fri 18:30", "at 8",
    "pause for 2 weeks"). False when "remind me" asks for information ("remind me how to do a
    plank") or when a day only appears in prose ("my back hurts every monday").
    """
    scan = _scan(text)
    if not scan.flat:
        return False
    has_schedule = scan.days is not None or scan.explicit_time or scan.bad_time is not None
    if scan.remind_word:
        if _INFO_REQUEST.search(scan.flat) and scan.days is None and not scan.explicit_time:
            return False
        return has_schedule or scan.action != "set" or not scan.leftover
    if scan.leftover:
        return False
    if scan.action in {"stop", "pause", "resume"}:
        return True
    return has_schedule
