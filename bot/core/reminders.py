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

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
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
# --------------------------------------------------------------------------------------------


class ReminderParseError(ValueError):
    """A reminder request we could not understand; `message` is a friendly line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class ReminderRequest:
    """What the user asked for. `days`/`at` of None mean "keep what is set now".

    `bare_hour` is True when the time was a bare hour without am/pm ("at 8"), read on the
    24-hour clock (08:00), so the dialogue can confirm it.
    """

    action: Action
    days: tuple[int, ...] | None = None
    at: time | None = None
    weeks: int = 1
    bare_hour: bool = False


_DAY_WORDS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "mondays", "mo"),
        ("tue", "tues", "tuesday", "tuesdays", "tu"),
        ("wed", "weds", "wednesday", "wednesdays"),
        ("thu", "thur", "thurs", "thursday", "thursdays", "th"),
        ("fri", "friday", "fridays", "fr"),
        ("sat", "saturday", "saturdays"),
        ("sun", "sunday", "sundays"),
    )
):
    for _name in _names:
        _DAY_WORDS[_name] = _i
# Two-letter forms only count inside a pure list like "mo we fr" (see _scan), never in prose.
_TWO_LETTER = frozenset({"mo", "tu", "th", "fr"})

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

# Word-level patterns for actions, checked in this order (show before set: "when is my next
# reminder" mentions no days or time but must not become an empty "set").
_SHOW = re.compile(
    r"\b(show|list|see|view|check|what are|what's|whats|what is|what time|which days|"
    r"when is|when's|whens|when are|when do|when will)\b"
    r".*\breminder|\bnext reminder\b|\breminder (status|settings|schedule)\b"
    r"|\bwhen (do|will|are) you (going to )?remind\b|^(status|show|list)$"
)
_STOP = re.compile(
    r"\b(stop|cancel|disable|unsubscribe|delete|remove|no more|turn off|switch off|"
    r"don'?t remind|do not remind|never remind|no reminders?|don'?t want|do not want)\b"
    r"|\b(remind|reminders?) off\b|^off$|^none$"
)
_PAUSE = re.compile(r"\b(pause|snooze|hold off|take a break|break from)\b")
_RESUME = re.compile(
    r"\b(resume|unpause|un-pause|restart|turn on|switch on|start again|"
    r"start reminding|back on)\b|\breminders? on\b|^on$"
)

# One time expression. Order matters: the colon/dot form first so "7.30am" is one token.
_TIME = re.compile(
    r"(?<![\w:.])(?P<h>\d{1,2})(?:[:.](?P<m>\d{1,2}))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)?"
    r"(?=$|[^\w:.]|\s)"
    r"|(?<![\w:.])(?P<h2>\d{1,2})h(?P<m2>\d{2})?(?!\w)"
    r"|\b(?P<word>noon|midday|midnight)\b"
)
_PERIOD_AFTER = re.compile(
    r"^\s*(?:o'?clock\s*)?(?:in the\s+)?(?P<p>morning|afternoon|evening|night|tonight)\b"
)
_DURATION_UNIT = re.compile(
    r"^\s*(?:x\s+|more\s+)?(weeks?|wks?|w|days?|d|times?|months?|minutes?|mins?|hours?|hrs?|reps?|sets?|kg|lbs?|%)\b"
)
_DURATION = re.compile(
    r"\b(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
    r"(?P<unit>weeks?|wks?|days?|months?)\b|\b(?P<fortnight>fortnight)\b"
    r"|\b(?:next|this)\s+(?P<next>week|month)\b"
)

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


@dataclass(slots=True)
class _Scan:
    """Everything found in one message, shared by parse_request and looks_like_reminder_request."""

    action: Action
    days: tuple[int, ...] | None
    at: time | None
    bare_hour: bool
    weeks: int | None
    bad_time: str | None
    bad_duration: str | None
    remind_word: bool
    leftover: tuple[str, ...]
    explicit_time: bool
    one_off: bool


def _normalize(text: str) -> str:
    text = text.strip().lower()
    text = re.sub(r"^/(remind|reminder|reminders|stop|pause|resume)(@\w+)?\b", r"\1", text)
    if text in {"remind", "reminder", "reminders"}:
        return "show"
    text = re.sub(r"^(remind|reminder|reminders)\s+(?=\S)", "remind ", text)
    text = text.replace("’", "'").replace("–", "-")
    text = re.sub(r"[,;!?&+/|()\[\]\"]", " ", text)
    text = re.sub(r"(?<=\w)\.(?=\s|$)", " ", text)  # a sentence's full stop, not "7.30"
    return re.sub(r"\s+", " ", text).strip()


def _parse_time_match(m: re.Match[str], following: str) -> tuple[time | None, bool, str, bool]:
    """Return (time or None if invalid, bare_hour, the text matched, explicit)."""
    raw = m.group(0).strip()
    ampm: str | None
    word = m.group("word")
    if word:
        return (time(0, 0) if word == "midnight" else time(12, 0)), False, raw, True
    if m.group("h2") is not None:
        hour, minute, ampm = int(m.group("h2")), int(m.group("m2") or 0), None
    else:
        hour, minute = int(m.group("h")), int(m.group("m") or 0)
        ampm = (m.group("ampm") or "").replace(".", "") or None
        if m.group("m") is not None and len(m.group("m")) != 2:
            return None, False, raw, True
    period = _PERIOD_AFTER.match(following)
    if ampm is None and period is not None:
        ampm = "am" if period.group("p") == "morning" else "pm"
        raw = f"{raw} {period.group(0).strip()}"
    explicit = ampm is not None or m.group("m") is not None or m.group("h2") is not None
    if minute > 59:
        return None, False, raw, True
    if ampm is not None:
        if not 1 <= hour <= 12:
            return None, False, raw, True
        hour = hour % 12 + (12 if ampm == "pm" else 0)
        return time(hour, minute), False, raw, True
    if hour > 23:
        return None, False, raw, explicit
    bare = m.group("m") is None and m.group("h2") is None and 1 <= hour <= 12
    return time(hour, minute), bare, raw, explicit


def _day_token(token: str, allow_two_letter: bool) -> int | None:
    if token in _TWO_LETTER and not allow_two_letter:
        return None
    return _DAY_WORDS.get(token)


def _scan(text: str) -> _Scan:
    norm = _normalize(text)
    remind_word = bool(_REMIND_WORD.search(norm))
    one_off = bool(re.search(r"\b(tomorrow|today|in \d+ (minutes?|hours?)|once)\b", norm))

    # Durations ("for 2 weeks") first, so their numbers are never read as times.
    weeks: int | None = None
    bad_duration: str | None = None
    work = norm
    dm = _DURATION.search(work)
    if dm is not None:
        if dm.group("fortnight"):
            weeks = 2
        elif dm.group("next"):
            weeks = 4 if dm.group("next") == "month" else 1
        else:
            n_raw = dm.group("n")
            n = int(n_raw) if n_raw.isdigit() else _NUMBER_WORDS[n_raw]
            unit = dm.group("unit")
            if unit.startswith("w"):
                weeks = n
            elif unit.startswith("m"):
                weeks = 4 * n
            elif n % 7 == 0:
                weeks = n // 7
            else:
                bad_duration = dm.group(0)
        work = work[: dm.start()] + " " + work[dm.end() :]

    # Times.
    at: time | None = None
    bare_hour = False
    explicit_time = False
    bad_time: str | None = None
    spans: list[tuple[int, int]] = []
    for m in _TIME.finditer(work):
        following = work[m.end() :]
        if m.group("word") is None and _DURATION_UNIT.match(following):
            continue  # "3 times a week", "10 minutes": a count, not a clock time
        parsed, bare, raw, explicit = _parse_time_match(m, following)
        end = m.end()
        period = _PERIOD_AFTER.match(following)
        if period is not None and m.group("word") is None:
            end += period.end()
        spans.append((m.start(), end))
        if parsed is None:
            bad_time = bad_time or raw
            continue
        if at is None:
            at, bare_hour = parsed, bare
        explicit_time = explicit_time or explicit
        if bare and re.search(r"(\bat|\bto|@|\baround|\bby)\s*$", work[: m.start()]):
            explicit_time = True  # "at 8" is clearly a time even without am/pm
    for start, end in reversed(spans):
        work = work[:start] + " " + work[end:]

    # Days: ranges ("mon-fri", "monday to friday"), groups, single names, "every day", "except".
    tokens = work.replace("-", " - ").split()
    pure_list = bool(tokens) and all(
        t in _DAY_WORDS or t in _GROUP_WORDS or t in {"-", "and", "to"} for t in tokens
    )
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
        if tok in {"except", "excluding", "without"} or (tok == "but" and nxt in {"not", "no"}):
            excluding = True
            i += 2 if tok == "but" else 1
            continue
        day = _day_token(tok, pure_list)
        if day is not None:
            if i + 2 < len(tokens) and nxt in {"-", "to", "through", "thru", "till", "until"}:
                end_day = _day_token(tokens[i + 2], True)
                if end_day is not None:
                    span = (end_day - day) % 7
                    target.update((day + k) % 7 for k in range(span + 1))
                    found_days = True
                    i += 3
                    continue
            target.add(day)
            found_days = True
        elif tok in _GROUP_WORDS:
            target.update(_GROUP_WORDS[tok])
            found_days = True
        elif tok in {"every", "each", "all"} and nxt in {"day", "days"}:
            target.update(EVERY_DAY)
            found_days = True
            i += 2
            continue
        elif tok not in _FILLER and tok != "-" and not tok.isdigit():
            leftover.append(tok)
        i += 1
    if excluded and not chosen:
        chosen = set(EVERY_DAY)  # "except sundays" alone means every other day of the week
    days = tuple(sorted(chosen - excluded)) if found_days else None

    action: Action = "set"
    if not norm or _SHOW.search(norm):
        action = "show"
    elif _PAUSE.search(norm):
        action = "pause"
    elif _RESUME.search(norm):
        action = "resume"
    elif _STOP.search(norm):
        action = "stop"
    return _Scan(
        action=action,
        days=days,
        at=at,
        bare_hour=bare_hour,
        weeks=weeks,
        bad_time=bad_time,
        bad_duration=bad_duration,
        remind_word=remind_word,
        leftover=tuple(leftover),
        explicit_time=explicit_time,
        one_off=one_off,
    )


def parse_request(text: str) -> ReminderRequest:
    """Understand a reminder message or /remind arguments; raise ReminderParseError if we can't.

    Empty text means "show". For "set", `days` or `at` may be None (keep the current value), but
    never both.
    """
    scan = _scan(text)
    if scan.action == "show":
        return ReminderRequest("show")
    if scan.action == "pause":
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
    if scan.action == "resume":
        return ReminderRequest("resume")
    if scan.action == "stop":
        if scan.days is not None:
            # "don't remind me on fridays" must not wipe every reminder.
            raise ReminderParseError(
                "To drop a day, tell me the days you do want. Try: mon wed 18:00"
            )
        return ReminderRequest("stop")
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
    if scan.days is None and scan.at is None:
        raise ReminderParseError(f"I couldn't find reminder days or a time in that. Try: {EXAMPLE}")
    return ReminderRequest("set", days=scan.days, at=scan.at, bare_hour=scan.bare_hour)


def looks_like_reminder_request(text: str) -> bool:
    """Whether the dialogue router should treat `text` as about reminders.

    True for requests that mention reminding and carry days, a time or an action ("remind me
    tue thu at 7am", "stop reminders"), and for bare schedules ("mon wed fri 18:30", "at 8",
    "pause for 2 weeks"). False when "remind me" asks for information ("remind me how to do a
    plank") or when a day only appears in prose ("my back hurts every monday").
    """
    scan = _scan(text)
    if not _normalize(text):
        return False
    has_schedule = scan.days is not None or scan.explicit_time or scan.bad_time is not None
    if scan.remind_word:
        if (
            re.search(
                r"\bremind me (how|what|why|who|where|which|about (the|how|what))\b",
                _normalize(text),
            )
            and scan.days is None
            and not scan.explicit_time
        ):
            return False
        return has_schedule or scan.action != "set" or not scan.leftover
    if scan.leftover:
        return False
    if scan.action in {"stop", "pause", "resume"}:
        return True
    return has_schedule
