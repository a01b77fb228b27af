"""Reminder core: DST-safe next_due (examples + hypothesis properties), parsing, describe."""

from __future__ import annotations

import contextlib
import logging
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.ports import Profile, ReminderSchedule, UserKey
from bot.core.reminders import (
    DEFAULT_DAYS,
    DEFAULT_TIME,
    MAX_FRAGMENT_CHARS,
    MAX_IGNORED,
    ReminderParseError,
    ReminderRequest,
    describe,
    format_days,
    looks_like_reminder_request,
    next_due,
    occurrence,
    parse_request,
    pause_until,
)
from bot.core.reminding import Reminding
from bot.core.turn import Defaults, Turn
from bot.core.types import Incoming
from bot.storage.memory import MemoryStore

logger = logging.getLogger(__name__)

ZONES = sorted(
    z
    for z in zoneinfo.available_timezones()
    if not z.startswith(("posix/", "right/")) and z not in {"Factory", "localtime", "posixrules"}
)
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(instant: datetime, tz: str) -> datetime:
    return instant.astimezone(ZoneInfo(tz))


# --------------------------------------------------------------------------------------------
# next_due: worked examples
# --------------------------------------------------------------------------------------------


def test_default_schedule_from_tuesday_is_wednesday_evening() -> None:
    # Tue 2024-06-04 12:00 UTC; Berlin is UTC+2 in summer, so Wed 18:00 local = 16:00 UTC.
    due = next_due(DEFAULT_DAYS, DEFAULT_TIME, BERLIN, utc(2024, 6, 4, 12))
    assert due == utc(2024, 6, 5, 16)
    assert due.tzinfo is UTC


def test_same_day_later_time_fires_today() -> None:
    due = next_due((0,), time(18, 0), "UTC", utc(2024, 6, 3, 17, 59))
    assert due == utc(2024, 6, 3, 18)


def test_strictly_after_skips_the_instant_itself() -> None:
    first = next_due((0,), time(18, 0), "UTC", utc(2024, 6, 3, 12))
    assert next_due((0,), time(18, 0), "UTC", first) == first + timedelta(weeks=1)


def test_after_in_another_zone_is_compared_as_an_instant() -> None:
    after = datetime(2024, 6, 3, 19, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # 10:30 UTC Monday
    assert next_due((0,), time(11, 0), "UTC", after) == utc(2024, 6, 3, 11)


def test_local_day_not_utc_day_decides_the_weekday() -> None:
    # Mon 07:00 in Tokyo is Sun 22:00 UTC: the reminder must land on the Tokyo Monday.
    due = next_due((0,), time(7, 0), "Asia/Tokyo", utc(2024, 6, 1))
    assert due == utc(2024, 6, 2, 22)
    assert local(due, "Asia/Tokyo").weekday() == 0


def test_spring_forward_gap_fires_once_at_gap_end_berlin() -> None:
    # 2024-03-31: Berlin jumps 02:00 CET -> 03:00 CEST; 02:30 does not exist.
    due = next_due(range(7), time(2, 30), BERLIN, utc(2024, 3, 30, 12))
    assert due == utc(2024, 3, 31, 1)  # = 03:00 CEST
    assert local(due, BERLIN).time() == time(3, 0)
    again = next_due(range(7), time(2, 30), BERLIN, due)
    assert local(again, BERLIN).date() == date(2024, 4, 1)
    assert local(again, BERLIN).time() == time(2, 30)


def test_gap_across_midnight_fires_at_the_start_of_the_next_day() -> None:
    # Nuuk, 2024-03-30: 23:00 (UTC-2) jumps to 00:00 (UTC-1); Saturday 23:30 does not exist.
    due = next_due((5,), time(23, 30), "America/Nuuk", utc(2024, 3, 30, 12))
    assert due == utc(2024, 3, 31, 1)
    assert local(due, "America/Nuuk").time() == time(0, 0)
    # Sunday's own 23:30 still fires that evening: one reminder per allowed day.
    assert next_due((5, 6), time(23, 30), "America/Nuuk", due) == utc(2024, 4, 1, 0, 30)


def test_spring_forward_gap_new_york() -> None:
    # 2024-03-10: New York jumps 02:00 EST -> 03:00 EDT.
    due = next_due((6,), time(2, 15), NEW_YORK, utc(2024, 3, 9))
    assert due == utc(2024, 3, 10, 7)  # 03:00 EDT


def test_fall_back_ambiguous_time_fires_once_new_york() -> None:
    # 2024-11-03: 01:00-02:00 happens twice in New York (EDT, then EST).
    first = next_due(range(7), time(1, 30), NEW_YORK, utc(2024, 11, 2, 12))
    assert first == utc(2024, 11, 3, 5, 30)  # first occurrence, 01:30 EDT (UTC-4)
    second = next_due(range(7), time(1, 30), NEW_YORK, first)
    assert second != utc(2024, 11, 3, 6, 30)  # not the repeated 01:30 EST
    assert second == utc(2024, 11, 4, 6, 30)  # Monday 01:30 EST


def test_fall_back_ambiguous_time_fires_once_berlin() -> None:
    # 2024-10-27: 02:00-03:00 happens twice in Berlin.
    first = next_due((6,), time(2, 30), BERLIN, utc(2024, 10, 26))
    assert first == utc(2024, 10, 27, 0, 30)  # 02:30 CEST
    assert next_due((6,), time(2, 30), BERLIN, first) == utc(2024, 11, 3, 1, 30)


def test_after_between_the_two_occurrences_moves_to_next_day() -> None:
    after = utc(2024, 11, 3, 6)  # 01:00 EST, after the first 01:30 EDT, before 01:30 EST
    assert next_due(range(7), time(1, 30), NEW_YORK, after) == utc(2024, 11, 4, 6, 30)


def test_paused_until_skips_earlier_days() -> None:
    after = utc(2024, 6, 3, 12)  # Monday
    due = next_due(DEFAULT_DAYS, DEFAULT_TIME, "UTC", after, paused_until=date(2024, 6, 10))
    assert due == utc(2024, 6, 10, 18)
    # A pause that already ended changes nothing.
    assert next_due(DEFAULT_DAYS, DEFAULT_TIME, "UTC", after, paused_until=date(2024, 6, 1)) == (
        utc(2024, 6, 3, 18)
    )


def test_pause_until_adds_whole_weeks() -> None:
    assert pause_until(date(2024, 6, 3), 2) == date(2024, 6, 17)


@pytest.mark.parametrize(
    ("days", "tz", "after"),
    [
        ((), "UTC", utc(2024, 1, 1)),
        ((7,), "UTC", utc(2024, 1, 1)),
        ((-1,), "UTC", utc(2024, 1, 1)),
        ((0,), "Mars/Olympus_Mons", utc(2024, 1, 1)),
        ((0,), "UTC", datetime(2024, 1, 1)),
    ],
)
def test_bad_input_raises_value_error(days: tuple[int, ...], tz: str, after: datetime) -> None:
    with pytest.raises(ValueError):
        next_due(days, time(18, 0), tz, after)


def test_occurrence_matches_plain_conversion_on_an_ordinary_day() -> None:
    assert occurrence(date(2024, 1, 15), time(9, 45), BERLIN) == utc(2024, 1, 15, 8, 45)


# --------------------------------------------------------------------------------------------
# next_due: properties over many zones and dates
# --------------------------------------------------------------------------------------------

zones = st.sampled_from(ZONES)
day_sets = st.frozensets(st.integers(0, 6), min_size=1)
wall_times = st.builds(time, st.integers(0, 23), st.sampled_from((0, 1, 15, 29, 30, 45, 59)))
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 24), timezones=st.just(UTC)
)


def assert_valid_occurrence(due: datetime, at: time, tz: str) -> None:
    """`due` shows local wall time `at`, or `at` was skipped and `due` is the end of that gap."""
    wall = local(due, tz)
    if wall.time() == at:
        # astimezone() marks the repeated hour of a fall-back with fold=1: never fire there.
        assert wall.fold == 0, f"{due} is the second occurrence of {at} in {tz}"
        return
    # Gap: `due` is exactly a transition (the offset changes at that second) ...
    before = local(due - timedelta(seconds=1), tz)
    assert before.utcoffset() != wall.utcoffset(), f"{due} is not a transition in {tz}"
    # ... and `at` lies in the skipped interval of wall clock times.
    skipped_from = datetime.combine(before.date(), before.time()) + timedelta(seconds=1)
    skipped_to = datetime.combine(wall.date(), wall.time())
    assert skipped_from <= datetime.combine(skipped_from.date(), at) < skipped_to


def intended_date(due: datetime, at: time, tz: str) -> date:
    """The local date a reminder is for. Usually its own local date; when `at` fell in a gap
    that ends after local midnight (Nuuk jumps 23:00 -> 00:00) it fires early the next day."""
    wall = local(due, tz)
    if wall.time() == at:
        return wall.date()
    # The gap starts at the old offset's wall time of the transition; `at` is on that date.
    before = local(due - timedelta(seconds=1), tz)
    return (datetime.combine(before.date(), before.time()) + timedelta(seconds=1)).date()


@settings(max_examples=300, deadline=None)
@given(zones, day_sets, wall_times, instants)
def test_next_due_properties(tz: str, days: frozenset[int], at: time, after: datetime) -> None:
    due = next_due(sorted(days), at, tz, after)
    assert due.tzinfo is UTC
    assert due > after
    assert due - after <= timedelta(days=8)
    assert intended_date(due, at, tz).weekday() in days
    assert_valid_occurrence(due, at, tz)


@settings(max_examples=25, deadline=None)
@given(zones, day_sets, wall_times, st.dates(date(2020, 1, 1), date(2034, 12, 31)))
def test_a_year_of_reminders_has_exactly_one_per_allowed_day(
    tz: str, days: frozenset[int], at: time, start: date
) -> None:
    after = datetime.combine(start, time(0), tzinfo=UTC)
    end = start + timedelta(days=365)
    seen: list[date] = []
    due = next_due(sorted(days), at, tz, after)
    while intended_date(due, at, tz) < end:
        seen.append(intended_date(due, at, tz))
        due = next_due(sorted(days), at, tz, due)
    first, last = seen[0], seen[-1]
    expected = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() in days
    ]
    assert seen == expected  # sorted, no duplicates, nothing missing
    assert (first - start).days <= 8
    assert (end - last).days <= 8


@cache
def transitions(tz: str, year: int) -> tuple[datetime, ...]:
    """UTC instants (to the minute) where `tz` changes offset during `year`, found by scanning."""
    zone = ZoneInfo(tz)
    found: list[datetime] = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    prev = t.astimezone(zone).utcoffset()
    while t.year == year:
        nxt = t + timedelta(hours=6)
        off = nxt.astimezone(zone).utcoffset()
        if off != prev:
            lo, hi = t, nxt
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid.astimezone(zone).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
            prev = off
        t = nxt
    return tuple(found)


DST_ZONES = (
    BERLIN,
    NEW_YORK,
    "Europe/London",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Santiago",
    "America/Havana",
    "America/Asuncion",
    "America/St_Johns",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Asia/Jerusalem",
    "Africa/Cairo",
    "Antarctica/Troll",
    "Europe/Dublin",
    "America/Godthab",
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    st.sampled_from(DST_ZONES),
    st.integers(2020, 2035),
    st.integers(0, 3),
    st.floats(0, 1),
    day_sets,
    st.integers(3, 72),
)
def test_dst_transition_days_get_exactly_one_reminder(
    tz: str, year: int, which: int, where: float, extra_days: frozenset[int], hours_before: int
) -> None:
    """Pick a wall time inside a real gap or overlap and check that day fires exactly once."""
    found = transitions(tz, year)
    if not found:
        return  # zone had no DST that year (Sao Paulo dropped it in 2019)
    moment = found[which % len(found)]
    zone = ZoneInfo(tz)
    old = (moment - timedelta(minutes=1)).astimezone(zone)
    new = moment.astimezone(zone)
    old_wall = datetime.combine(old.date(), old.time()) + timedelta(minutes=1)
    new_wall = datetime.combine(new.date(), new.time())
    lo, hi = min(old_wall, new_wall), max(old_wall, new_wall)  # the affected wall-clock span
    wall = lo + (hi - lo) * where
    wall = wall.replace(second=0, microsecond=0)
    if wall >= hi:
        wall -= timedelta(minutes=1)
    at, day = wall.time(), wall.date()
    days = sorted(extra_days | {day.weekday()})
    after = moment - timedelta(hours=hours_before)

    fired: list[datetime] = []
    due = next_due(days, at, tz, after)
    while due < moment + timedelta(days=2):
        fired.append(due)
        due = next_due(days, at, tz, due)
    on_day = [d for d in fired if intended_date(d, at, tz) == day]
    assert len(on_day) == 1, (tz, at, day, fired)
    assert_valid_occurrence(on_day[0], at, tz)
    local_days = [intended_date(d, at, tz) for d in fired]
    assert len(local_days) == len(set(local_days))


# --------------------------------------------------------------------------------------------
# describe
# --------------------------------------------------------------------------------------------


def test_describe_with_next_in_local_time() -> None:
    text = describe((1, 3), time(7, 0), BERLIN, utc(2024, 12, 3, 6))
    assert text == "Reminders: Tue, Thu at 07:00 Europe/Berlin — next: Tue 3 Dec 07:00"


def test_describe_next_uses_the_users_zone_not_utc() -> None:
    # 23:30 UTC Sunday is Monday 08:30 in Tokyo.
    text = describe((0,), time(8, 30), "Asia/Tokyo", utc(2024, 6, 2, 23, 30))
    assert text.endswith("next: Mon 3 Jun 08:30")


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (range(7), "every day"),
        ((4, 3, 2, 1, 0), "weekdays"),
        ((5, 6), "weekends"),
        ((0, 2, 4), "Mon, Wed, Fri"),
        ((6, 0, 0), "Mon, Sun"),
    ],
)
def test_describe_day_words(days: tuple[int, ...], words: str) -> None:
    assert format_days(tuple(days)) == words
    assert describe(tuple(days), time(18, 0), "UTC", None) == f"Reminders: {words} at 18:00 UTC"


def test_describe_no_days_is_off() -> None:
    assert describe((), time(18, 0), "UTC", None) == "Reminders: off"


# --------------------------------------------------------------------------------------------
# parse_request
# --------------------------------------------------------------------------------------------

MWF = (0, 2, 4)
ALL = (0, 1, 2, 3, 4, 5, 6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("remind me tuesdays and thursdays at 7am", ReminderRequest("set", (1, 3), time(7, 0))),
        ("mon wed fri 18:30", ReminderRequest("set", MWF, time(18, 30))),
        ("/remind mon wed fri 18:30", ReminderRequest("set", MWF, time(18, 30))),
        ("mon,wed,fri 6pm", ReminderRequest("set", MWF, time(18, 0))),
        ("every weekday at 6:30pm", ReminderRequest("set", (0, 1, 2, 3, 4), time(18, 30))),
        ("weekends at 9", ReminderRequest("set", (5, 6), time(9, 0), bare_hour=True)),
        ("daily at 7", ReminderRequest("set", ALL, time(7, 0), bare_hour=True)),
        ("every day 19:00", ReminderRequest("set", ALL, time(19, 0))),
        ("tue thu", ReminderRequest("set", (1, 3), None)),
        ("at 8", ReminderRequest("set", None, time(8, 0), bare_hour=True)),
        ("change my reminder to 8pm", ReminderRequest("set", None, time(20, 0))),
        ("7.30am", ReminderRequest("set", None, time(7, 30))),
        ("noon", ReminderRequest("set", None, time(12, 0))),
        ("midnight", ReminderRequest("set", None, time(0, 0))),
        ("12am", ReminderRequest("set", None, time(0, 0))),
        ("12pm", ReminderRequest("set", None, time(12, 0))),
        ("Mondays, Wednesdays & Fridays at 18:00", ReminderRequest("set", MWF, time(18, 0))),
        ("mon-fri 7am", ReminderRequest("set", (0, 1, 2, 3, 4), time(7, 0))),
        ("monday to friday at 06:00", ReminderRequest("set", (0, 1, 2, 3, 4), time(6, 0))),
        ("fri-mon 10:00", ReminderRequest("set", (0, 4, 5, 6), time(10, 0))),
        ("every day except sunday at 7pm", ReminderRequest("set", (0, 1, 2, 3, 4, 5), time(19))),
        ("at 7 in the evening", ReminderRequest("set", None, time(19, 0))),
        ("remind me at 7 a.m.", ReminderRequest("set", None, time(7, 0))),
        ("19h30", ReminderRequest("set", None, time(19, 30))),
        ("Remind me on Saturday at 10:15.", ReminderRequest("set", (5,), time(10, 15))),
        ("stop reminders", ReminderRequest("stop")),
        ("stop reminding me", ReminderRequest("stop")),
        ("turn off reminders", ReminderRequest("stop")),
        ("no reminders", ReminderRequest("stop")),
        ("I don't want reminders anymore", ReminderRequest("stop")),
        ("set reminder for 6pm on weekdays", ReminderRequest("set", (0, 1, 2, 3, 4), time(18))),
        ("Remind me Mon/Wed/Fri at 5:45 PM", ReminderRequest("set", MWF, time(17, 45))),
        ("move my reminder to 7:15", ReminderRequest("set", None, time(7, 15))),
        ("/remind off", ReminderRequest("stop")),
        ("pause reminders for a week", ReminderRequest("pause", weeks=1)),
        ("pause for 2 weeks", ReminderRequest("pause", weeks=2)),
        ("pause for three weeks", ReminderRequest("pause", weeks=3)),
        ("pause for 14 days", ReminderRequest("pause", weeks=2)),
        ("pause", ReminderRequest("pause", weeks=1)),
        ("resume reminders", ReminderRequest("resume")),
        ("turn my reminders back on", ReminderRequest("resume")),
        ("when is my next reminder", ReminderRequest("show")),
        ("show my reminders", ReminderRequest("show")),
        ("what are my reminders?", ReminderRequest("show")),
        ("what time are my reminders", ReminderRequest("show")),
        ("when do you remind me?", ReminderRequest("show")),
        ("", ReminderRequest("show")),
        ("/remind", ReminderRequest("show")),
    ],
)
def test_parse_request(text: str, expected: ReminderRequest) -> None:
    assert parse_request(text) == expected


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("25:00", "25:00"),
        ("at 7:75", "7:75"),
        ("13pm", "13pm"),
        ("at 30", "30"),
        ("mon 0am", "0am"),
        ("remind me", "days or a time"),
        ("remind me how to do a plank", "days or a time"),
        ("remind me tomorrow at 8", "weekly"),
        ("don't remind me on fridays", "days you do want"),
        ("pause for 10 days", "10 days"),
        ("pause for 60 weeks", "1 to 52"),
        ("every day except every day", "no days"),
    ],
)
def test_parse_errors_are_friendly(text: str, mentions: str) -> None:
    with pytest.raises(ReminderParseError) as info:
        parse_request(text)
    message = info.value.message
    assert mentions in message
    assert "Try:" in message or "e.g." in message
    assert "\n" not in message


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 23), st.integers(0, 59))
def test_clock_formats_round_trip(hour: int, minute: int) -> None:
    expected = time(hour, minute)
    twelve = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    for text in (
        f"{hour:02d}:{minute:02d}",
        f"{hour}:{minute:02d}",
        f"{twelve}:{minute:02d}{suffix}",
        f"{twelve}.{minute:02d} {suffix}",
        f"mon at {twelve}:{minute:02d} {suffix.upper()}",
    ):
        assert parse_request(text).at == expected, text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parser_never_crashes(text: str) -> None:
    looks_like_reminder_request(text)
    try:
        request = parse_request(text)
    except ReminderParseError as exc:
        assert exc.message
    else:
        assert request.action in {"set", "stop", "pause", "resume", "show"}
        if request.action == "set":
            assert request.days is not None or request.at is not None
            assert request.days is None or (request.days and set(request.days) <= set(ALL))


# --------------------------------------------------------------------------------------------
# looks_like_reminder_request
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "remind me tuesdays and thursdays at 7am",
        "mon wed fri 18:30",
        "mon,wed,fri 6pm",
        "every weekday at 6:30pm",
        "weekends at 9",
        "daily at 7",
        "every day 19:00",
        "tue thu",
        "at 8",
        "change my reminder to 8pm",
        "7.30am",
        "noon",
        "stop reminders",
        "stop reminding me",
        "pause reminders for a week",
        "pause for 2 weeks",
        "resume reminders",
        "when is my next reminder",
        "show my reminders",
        "remind me at 25:00",
        "set a reminder",
        "Can you remind me every Monday at 7pm?",
    ],
)
def test_looks_like_reminder_request(text: str) -> None:
    assert looks_like_reminder_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "what should I avoid with back pain",
        "remind me how to do a plank",
        "remind me what a dead bug is",
        "my back hurts every monday",
        "how long should I hold a plank",
        "what's my back workout today?",
        "is it ok to train every day?",
        "I trained on monday at 7pm",
        "7",
        "never mind",
        "",
    ],
)
def test_does_not_look_like_reminder_request(text: str) -> None:
    assert not looks_like_reminder_request(text)


# --------------------------------------------------------------------------------------------
# Two-letter day lists
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mo tu we th fr sa su 6", ALL),
        ("remind me mo we fr at 7pm", MWF),
        ("Mo, We, Fr 18:00", MWF),
        ("tu and th 6pm", (1, 3)),
        ("sa su at 9am", (5, 6)),
        ("mo-fr 7am", (0, 1, 2, 3, 4)),
        ("remind me mon-fr at 7", (0, 1, 2, 3, 4)),
        ("we 6pm", (2,)),  # the whole message is a day list
    ],
)
def test_two_letter_day_lists(text: str, days: tuple[int, ...]) -> None:
    assert parse_request(text).days == days


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("every monday we train at 7pm", (0,)),
        ("mon and we rest at 6pm", (0,)),
        ("remind me on friday so we can train at 7pm", (4,)),
        ("remind me at 7pm so we do it", None),
    ],
)
def test_two_letter_words_in_prose_are_not_days(text: str, days: tuple[int, ...] | None) -> None:
    assert parse_request(text).days == days


def test_we_in_a_question_is_not_a_schedule() -> None:
    assert not looks_like_reminder_request("can we do planks every day?")


# --------------------------------------------------------------------------------------------
# One time per schedule, and what a request leaves out
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("mon wed fri 7am and 6pm", "07:00 or 18:00?"),
        ("mon at 7 and at 9", "07:00 or 09:00?"),
        ("daily 6am, noon, 18:30 and 9pm", "06:00, 12:00 or 18:30?"),
    ],
)
def test_two_different_times_ask_which_one(text: str, choice: str) -> None:
    with pytest.raises(ReminderParseError) as info:
        parse_request(text)
    assert info.value.message.startswith(f"I can set one time per schedule: {choice}")
    assert "Try:" in info.value.message and "\n" not in info.value.message


def test_the_same_time_twice_is_one_time() -> None:
    assert parse_request("mon 7am, 7:00 am") == ReminderRequest("set", (0,), time(7, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Remind me Mon XYZ 6am",
            ReminderRequest("set", (0,), time(6, 0), ignored=("XYZ",)),
        ),
        (
            "mon 6pm foo, bar and baz",
            ReminderRequest("set", (0,), time(18, 0), ignored=("foo, bar and baz",)),
        ),
        (
            "mon xyz at 7pm on abc",
            ReminderRequest("set", (0,), time(19, 0), ignored=("xyz", "abc")),
        ),
        (
            "remind me 3 times a week at 7pm",
            ReminderRequest("set", None, time(19, 0), ignored=("3 times a week",)),
        ),
        (
            "remind me every day for 2 weeks at 7pm",
            ReminderRequest("set", ALL, time(19, 0), ignored=("2 weeks",)),
        ),
        (
            "mon 700 at 7pm",  # a stray number beside a clear time is left out, not a 2nd time
            ReminderRequest("set", (0,), time(19, 0), ignored=("700",)),
        ),
        (
            "mon 6pm and 3",
            ReminderRequest("set", (0,), time(18, 0), ignored=("3",)),
        ),
        ("mon ➂pm", ReminderRequest("set", (0,), None, ignored=("➂pm",))),
        (
            "pause reminders for 2 weeks on Monday",
            ReminderRequest("pause", weeks=2, ignored=("Monday",)),
        ),
        ("resume reminders at 7pm", ReminderRequest("resume", ignored=("7pm",))),
        ("take a break from reminders for 2 weeks", ReminderRequest("pause", weeks=2)),
        ("I want to train mon wed fri at 6pm please", ReminderRequest("set", MWF, time(18))),
        ("reminders?", ReminderRequest("show")),
    ],
)
def test_parts_left_out_are_reported_verbatim(text: str, expected: ReminderRequest) -> None:
    assert parse_request(text) == expected


def test_ignored_fragments_are_short_single_lines_and_few() -> None:
    # Days between them keep the parts apart (filler words would join them into one).
    text = "6pm mon supercalifragilisticexpialidocious\nword wed x\x00y fri two sat 3 sun 4"
    ignored = parse_request(text).ignored
    assert len(ignored) == MAX_IGNORED
    assert ignored[0] == "supercalifragilisticexpialido…"
    assert ignored[1] == "xy"
    assert all(len(f) <= MAX_FRAGMENT_CHARS and f.isprintable() for f in ignored)


# --------------------------------------------------------------------------------------------
# Hostile and long input
# --------------------------------------------------------------------------------------------

HOSTILE = [
    "➂",
    "mon ➂:➂➂",
    "٣",
    "mon ٣:٣٠ pm",
    "²",
    "pause for ² weeks",
    "pause for ٣ weeks",
    "mon 7²pm",
    "۱۲:۳۰",
    "𝟕pm",
    "🕖 ⏰ mon wed 🔥",
    "\x00\x01\x02 mon \x1b[31m 7pm",
    "\u200b\u200e\u202e mon 7pm \ufeff",
    "İİİ mon 7pm",  # lower() makes each İ two characters
    "ǅ ß ﬁ mon 7pm",
    "/remind@",
    "/remind@bot",
    "/reminders@bot mon",
    "- - - -",
    "mon-",
    "-mon",
    "to to to",
    "except",
    "but not",
    "mon to",
    "every",
    "7:",
    ":7",
    "7.",
    "7h",
    "h30",
    "99999999999999999999999999",
    "pause for " + "9" * 5000 + " weeks",
    "pause for 9" + "0" * 10 + " days",
    "at " + "1" * 10000,
    "a." * 5000,
    "\n" * 10000,
    "’–’–" * 2000,
    "mon " + "x" * 10000,
    "".join(chr(c) for c in range(0x2000, 0x2100)),
    "".join(chr(c) for c in range(0, 0x300)),
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_only_ever_raises_a_parse_error(text: str) -> None:
    assert looks_like_reminder_request(text) in {True, False}
    try:
        request = parse_request(text)
    except ReminderParseError as exc:
        assert exc.message and "\n" not in exc.message
    else:
        assert request.at is None or isinstance(request.at, time)
        assert all(len(f) <= MAX_FRAGMENT_CHARS and f.isprintable() for f in request.ignored)


def test_non_ascii_digits_are_not_times() -> None:
    for text in ("➂pm", "٣pm", "²pm", "𝟕pm", "mon ٣:٣٠"):
        request = parse_request(f"mon {text}")
        assert request.at is None, text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=80))
def test_parser_never_crashes_on_any_characters(text: str) -> None:
    looks_like_reminder_request(text)
    with contextlib.suppress(ReminderParseError):
        parse_request(text)


FILLER_RUN = "please " * 1500  # 10,500 characters of words the parser skips


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon wed fri 18:30 " + FILLER_RUN, ReminderRequest("set", MWF, time(18, 30))),
        (FILLER_RUN + "remind me tue thu at 7am", ReminderRequest("set", (1, 3), time(7, 0))),
        ("pause " + FILLER_RUN + "for 3 weeks", ReminderRequest("pause", weeks=3)),
        ("show " * 2000 + "my reminders", ReminderRequest("show")),
        ("what is " * 1000 + "my next reminder", ReminderRequest("show")),
        ("mon " * 5000 + "at 7pm", ReminderRequest("set", (0,), time(19, 0))),
        ("mo we fr " * 1000 + "6pm", ReminderRequest("set", MWF, time(18, 0))),
        ("7pm " * 5000, ReminderRequest("set", None, time(19, 0))),
        ("at " + " " * 20000 + "8", ReminderRequest("set", None, time(8), bare_hour=True)),
    ],
)
def test_long_messages_parse_like_short_ones(text: str, expected: ReminderRequest) -> None:
    assert parse_request(text) == expected


def test_long_messages_keep_their_errors_and_routing() -> None:
    with pytest.raises(ReminderParseError, match="one time per schedule"):
        parse_request("mon " + "8 9 " * 10000)
    assert parse_request("mon " + "8 " * 20000).at == time(8)
    with pytest.raises(ReminderParseError, match="25:00"):
        parse_request(FILLER_RUN * 3 + "mon 25:00")
    assert looks_like_reminder_request("mon wed fri 18:30 " + FILLER_RUN)
    assert not looks_like_reminder_request("my back hurts every monday " * 500)
    garbage = parse_request("mon 6pm " + "xyz " * 10000)
    assert garbage.ignored == ("xyz xyz xyz xyz xyz xyz xyz x…",)


# --------------------------------------------------------------------------------------------
# Reminding: pause and resume without a schedule, the ignored line
# --------------------------------------------------------------------------------------------

KEY = UserKey("test", "u1")
NOW = utc(2024, 6, 3, 12)  # a Monday


def turn(store: MemoryStore) -> Turn:
    msg = Incoming("test", "u1", "u1", text="", received_at=NOW)
    return Turn(msg, KEY, NOW, Profile(KEY), False, store)


@pytest.mark.parametrize("action", ["pause", "resume"])
@pytest.mark.parametrize("text", ["{} reminders for 2 weeks", "{}"])
async def test_pause_or_resume_without_a_schedule_creates_nothing(action: str, text: str) -> None:
    store = MemoryStore()
    [reply] = await Reminding(store, Defaults()).handle(turn(store), text.format(action))
    assert reply.text == (
        f"You have no reminders on, so there's nothing to {action}. "
        "Send /remind mon wed fri 18:00 to set some."
    )
    assert store.reminders == {} and store.profiles == {}


async def test_pause_after_stop_keeps_reminders_off() -> None:
    store = MemoryStore()
    reminding = Reminding(store, Defaults())
    await reminding.handle(turn(store), "tue thu 7am")
    await reminding.handle(turn(store), "stop reminders")
    stopped = await store.get_reminder(KEY)
    [reply] = await reminding.handle(turn(store), "pause for 2 weeks")
    assert "nothing to pause" in reply.text
    assert await store.get_reminder(KEY) == stopped
    assert stopped is not None and not stopped.active and stopped.next_due_at is None


async def test_resume_after_stop_turns_the_same_schedule_back_on() -> None:
    store = MemoryStore()
    reminding = Reminding(store, Defaults())
    await reminding.handle(turn(store), "tue thu 7am")
    await reminding.handle(turn(store), "stop reminders")
    [reply] = await reminding.handle(turn(store), "turn my reminders back on")
    sched = await store.get_reminder(KEY)
    assert sched is not None and sched.active and sched.days == (1, 3)
    assert "Tue, Thu at 07:00" in reply.text


async def test_pause_an_active_schedule_still_pauses() -> None:
    store = MemoryStore()
    reminding = Reminding(store, Defaults())
    await reminding.handle(turn(store), "tue thu 7am")
    [reply] = await reminding.handle(turn(store), "pause for 2 weeks")
    sched = await store.get_reminder(KEY)
    assert isinstance(sched, ReminderSchedule) and sched.active
    assert sched.paused_until == date(2024, 6, 17)
    assert reply.text.startswith("Paused until Mon 17 Jun.")


async def test_reply_says_what_it_left_out() -> None:
    store = MemoryStore()
    [reply] = await Reminding(store, Defaults()).handle(
        turn(store), "remind me mon xyz at 6am on abc"
    )
    lines = reply.text.split("\n")
    assert lines[0].startswith("Reminders: Mon at 06:00 UTC")
    assert 'I didn\'t understand "xyz", "abc", so I left it out.' in lines
    sched = await store.get_reminder(KEY)
    assert sched is not None and sched.days == (0,) and sched.at == time(6, 0)


async def test_reply_without_ignored_parts_has_no_extra_line() -> None:
    store = MemoryStore()
    [reply] = await Reminding(store, Defaults()).handle(turn(store), "mon 6am")
    assert "understand" not in reply.text
