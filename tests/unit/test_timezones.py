"""Time zone resolution: IANA names, city names, aliases, UTC offsets and fuzzy suggestions."""

from __future__ import annotations

import logging
import zoneinfo
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.timezones import ALIASES, FRACTIONAL_OFFSETS, format_offset, resolve_timezone

logger = logging.getLogger(__name__)

ZONES = sorted(
    z
    for z in zoneinfo.available_timezones()
    if not z.startswith(("posix/", "right/")) and z not in {"Factory", "localtime", "posixrules"}
)
WINTER = datetime(2024, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2024, 7, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("New York City", "America/New_York"),
        ("NYC", "America/New_York"),
        ("new-york", "America/New_York"),
        ("los angeles", "America/Los_Angeles"),
        ("LA", "America/Los_Angeles"),
        ("sf", "America/Los_Angeles"),
        ("seattle", "America/Los_Angeles"),
        ("chicago", "America/Chicago"),
        ("houston", "America/Chicago"),
        ("denver", "America/Denver"),
        ("phoenix", "America/Phoenix"),
        ("toronto", "America/Toronto"),
        ("vancouver", "America/Vancouver"),
        ("mexico city", "America/Mexico_City"),
        ("sao paulo", "America/Sao_Paulo"),
        ("São Paulo", "America/Sao_Paulo"),
        ("buenos aires", "America/Argentina/Buenos_Aires"),
        ("bogota", "America/Bogota"),
        ("lima", "America/Lima"),
        ("london", "Europe/London"),
        ("dublin", "Europe/Dublin"),
        ("paris", "Europe/Paris"),
        ("madrid", "Europe/Madrid"),
        ("rome", "Europe/Rome"),
        ("amsterdam", "Europe/Amsterdam"),
        ("Zürich", "Europe/Zurich"),
        ("stockholm", "Europe/Stockholm"),
        ("warsaw", "Europe/Warsaw"),
        ("athens", "Europe/Athens"),
        ("istanbul", "Europe/Istanbul"),
        ("moscow", "Europe/Moscow"),
        ("kiev", "Europe/Kyiv"),
        ("kyiv", "Europe/Kyiv"),
        ("cairo", "Africa/Cairo"),
        ("lagos", "Africa/Lagos"),
        ("nairobi", "Africa/Nairobi"),
        ("johannesburg", "Africa/Johannesburg"),
        ("dubai", "Asia/Dubai"),
        ("karachi", "Asia/Karachi"),
        ("mumbai", "Asia/Kolkata"),
        ("delhi", "Asia/Kolkata"),
        ("bangalore", "Asia/Kolkata"),
        ("kolkata", "Asia/Kolkata"),
        ("dhaka", "Asia/Dhaka"),
        ("bangkok", "Asia/Bangkok"),
        ("singapore", "Asia/Singapore"),
        ("jakarta", "Asia/Jakarta"),
        ("hong kong", "Asia/Hong_Kong"),
        ("beijing", "Asia/Shanghai"),
        ("shanghai", "Asia/Shanghai"),
        ("seoul", "Asia/Seoul"),
        ("tokyo", "Asia/Tokyo"),
        ("manila", "Asia/Manila"),
        ("sydney", "Australia/Sydney"),
        ("melbourne", "Australia/Melbourne"),
        ("perth", "Australia/Perth"),
        ("auckland", "Pacific/Auckland"),
        ("honolulu", "Pacific/Honolulu"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("  tokyo  ", "Asia/Tokyo"),
        ("EST", "America/New_York"),
        ("pst", "America/Los_Angeles"),
        ("utc", "UTC"),
        ("GMT", "UTC"),
        ("india", "Asia/Kolkata"),
    ],
)
def test_city_and_alias_names(text: str, zone: str) -> None:
    match = resolve_timezone(text, now=WINTER)
    assert match.zone == zone
    assert match.suggestions == ()
    ZoneInfo(zone)  # a real zone


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("europe/berlin", "Europe/Berlin"),
        ("EUROPE/BERLIN", "Europe/Berlin"),
        ("America/New_York", "America/New_York"),
        ("america/new york", "America/New_York"),
        ("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires"),
        ("us/eastern", "US/Eastern"),
        ("Etc/GMT-3", "Etc/GMT-3"),
    ],
)
def test_iana_names_case_insensitive(text: str, zone: str) -> None:
    assert resolve_timezone(text).zone == zone


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ZONES), st.booleans())
def test_every_iana_name_resolves_to_itself(zone: str, upper: bool) -> None:
    if zone.lower() in ALIASES:
        return  # "EST", "CET", "HST": deliberately mapped to the DST-aware zone people mean
    text = zone.upper() if upper else zone.lower()
    found = resolve_timezone(text).zone
    if "/" in zone:
        assert found == zone
    else:
        # Old top-level links ("Jamaica", "Singapore") resolve to the city zone they link to.
        assert found is not None
        assert found == zone or "/" in found
        for moment in (WINTER, SUMMER):
            assert moment.astimezone(ZoneInfo(found)).utcoffset() == (
                moment.astimezone(ZoneInfo(zone)).utcoffset()
            )


def test_understood_shows_the_offset_at_the_given_moment() -> None:
    assert resolve_timezone("berlin", now=WINTER).understood == "Europe/Berlin (UTC+01:00 now)"
    assert resolve_timezone("berlin", now=SUMMER).understood == "Europe/Berlin (UTC+02:00 now)"
    assert resolve_timezone("new york", now=SUMMER).understood == "America/New_York (UTC-04:00 now)"


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("+2", "Etc/GMT-2"),
        ("UTC+2", "Etc/GMT-2"),
        ("utc +2", "Etc/GMT-2"),
        ("gmt-5", "Etc/GMT+5"),
        ("GMT -05:00", "Etc/GMT+5"),
        ("+14", "Etc/GMT-14"),
        ("-12", "Etc/GMT+12"),
        ("+0", "UTC"),
        ("utc+00:00", "UTC"),
        ("+05:30", "Asia/Kolkata"),
        ("utc+5:30", "Asia/Kolkata"),
        ("+0530", "Asia/Kolkata"),
        ("+09:30", "Australia/Darwin"),
        ("+5:45", "Asia/Kathmandu"),
        ("-9:30", "Pacific/Marquesas"),
    ],
)
def test_utc_offsets(text: str, zone: str) -> None:
    match = resolve_timezone(text, now=WINTER)
    assert match.zone == zone
    assert match.understood.startswith("UTC")


@given(st.integers(-12, 14))
def test_whole_hour_offsets_have_that_offset_all_year(hours: int) -> None:
    text = f"utc{hours:+d}"
    match = resolve_timezone(text)
    assert match.zone is not None
    for moment in (WINTER, SUMMER):
        assert moment.astimezone(ZoneInfo(match.zone)).utcoffset() == timedelta(hours=hours)
    assert match.understood.startswith(format_offset(timedelta(hours=hours)))


@pytest.mark.parametrize(("minutes", "zone"), sorted(FRACTIONAL_OFFSETS.items()))
def test_fractional_representatives_keep_their_offset_all_year(minutes: int, zone: str) -> None:
    for year in (2024, 2030, 2035):
        for month in (1, 4, 7, 10):
            moment = datetime(year, month, 15, tzinfo=UTC)
            assert moment.astimezone(ZoneInfo(zone)).utcoffset() == timedelta(minutes=minutes)
    sign = "+" if minutes > 0 else "-"
    h, m = divmod(abs(minutes), 60)
    assert resolve_timezone(f"UTC{sign}{h}:{m:02d}").zone == zone


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        ("-3:30", "America/St_Johns"),
        ("+10:30", "Australia/Adelaide"),
    ],
)
def test_fractional_offsets_with_dst_are_rejected_with_a_suggestion(
    text: str, suggested: str
) -> None:
    match = resolve_timezone(text)
    assert match.zone is None
    assert suggested in match.suggestions


@pytest.mark.parametrize("text", ["+15", "utc-13", "+5:75"])
def test_impossible_offsets_are_rejected(text: str) -> None:
    match = resolve_timezone(text)
    assert match.zone is None
    assert "not a real UTC offset" in match.understood


@pytest.mark.parametrize("text", ["mars", "blahville", "atlantis city", "xyzzy"])
def test_unknown_places_get_no_zone_but_valid_suggestions(text: str) -> None:
    match = resolve_timezone(text)
    assert match.zone is None
    assert text in match.understood
    assert len(match.suggestions) <= 3
    for name in match.suggestions:
        ZoneInfo(name)


def test_unknown_places_from_the_brief_get_some_suggestions() -> None:
    assert resolve_timezone("mars").suggestions
    assert resolve_timezone("blahville").suggestions


@pytest.mark.parametrize(
    ("typo", "zone"),
    [
        ("berln", "Europe/Berlin"),
        ("new yrok", "America/New_York"),
        ("tokio", "Asia/Tokyo"),
        ("londn", "Europe/London"),
        ("sidney", "Australia/Sydney"),
        ("europe/berlim", "Europe/Berlin"),
    ],
)
def test_typos_suggest_the_intended_zone(typo: str, zone: str) -> None:
    match = resolve_timezone(typo)
    assert match.zone is None  # never guessed silently: a wrong zone means wrong-hour reminders
    assert zone in match.suggestions
    assert len(match.suggestions) <= 3


def test_empty_text() -> None:
    match = resolve_timezone("   ")
    assert match.zone is None
    assert match.suggestions == ()


def test_alias_targets_are_real_zones() -> None:
    for alias, zone in ALIASES.items():
        assert zone in zoneinfo.available_timezones(), alias


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_resolve_never_crashes_and_zone_is_loadable(text: str) -> None:
    match = resolve_timezone(text)
    if match.zone is not None:
        ZoneInfo(match.zone)
    assert len(match.suggestions) <= 3
