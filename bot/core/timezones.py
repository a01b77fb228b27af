"""Turn what a user types ("berlin", "NYC", "utc+5:30", "europe/berlin") into an IANA zone.

Order: exact IANA name (case-insensitive) → alias table (abbreviations, big cities that are not
IANA city names, a few countries) → IANA city (last path part, underscores as spaces) → UTC
offset. Anything else gets no zone and up to three fuzzy suggestions; we never guess silently,
because a wrong zone means reminders at the wrong hour.

Offsets: whole hours map to "Etc/GMT∓N" (the Etc names invert the sign: UTC+2 is Etc/GMT-2).
Fractional offsets map to a real zone that has had that fixed offset and no DST recently
(FRACTIONAL_OFFSETS); other fractional offsets are rejected with a suggestion.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from rapidfuzz import fuzz, process

logger = logging.getLogger(__name__)

_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)

# Names people type that are not (or not only) IANA city names. Keys are normalized text.
ALIASES: dict[str, str] = {
    # abbreviations people use for the zone they live in (DST-aware on purpose)
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "zulu": "UTC",
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "bst": "Europe/London",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "eet": "Europe/Athens",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "nzst": "Pacific/Auckland",
    "hst": "Pacific/Honolulu",
    # cities that are not IANA city names
    "nyc": "America/New_York",
    "ny": "America/New_York",
    "new york city": "America/New_York",
    "boston": "America/New_York",
    "washington": "America/New_York",
    "washington dc": "America/New_York",
    "dc": "America/New_York",
    "philadelphia": "America/New_York",
    "atlanta": "America/New_York",
    "miami": "America/New_York",
    "montreal": "America/Toronto",
    "ottawa": "America/Toronto",
    "la": "America/Los_Angeles",
    "sf": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "san diego": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles",
    "portland": "America/Los_Angeles",
    "dallas": "America/Chicago",
    "houston": "America/Chicago",
    "austin": "America/Chicago",
    "minneapolis": "America/Chicago",
    "calgary": "America/Edmonton",
    "hawaii": "Pacific/Honolulu",
    "rio": "America/Sao_Paulo",
    "rio de janeiro": "America/Sao_Paulo",
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "hyderabad": "Asia/Kolkata",
    "pune": "Asia/Kolkata",
    "calcutta": "Asia/Kolkata",
    "beijing": "Asia/Shanghai",
    "shenzhen": "Asia/Shanghai",
    "guangzhou": "Asia/Shanghai",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "abu dhabi": "Asia/Dubai",
    "tel aviv": "Asia/Jerusalem",
    "saigon": "Asia/Ho_Chi_Minh",
    "hanoi": "Asia/Bangkok",
    "lahore": "Asia/Karachi",
    "islamabad": "Asia/Karachi",
    "st petersburg": "Europe/Moscow",
    "saint petersburg": "Europe/Moscow",
    "manchester": "Europe/London",
    "edinburgh": "Europe/London",
    "birmingham": "Europe/London",
    "munich": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "barcelona": "Europe/Madrid",
    "milan": "Europe/Rome",
    "lyon": "Europe/Paris",
    "geneva": "Europe/Zurich",
    "krakow": "Europe/Warsaw",
    "kiev": "Europe/Kyiv",
    "cape town": "Africa/Johannesburg",
    "istanbul": "Europe/Istanbul",
    "nicosia": "Asia/Nicosia",
    "canberra": "Australia/Sydney",
    "wellington": "Pacific/Auckland",
    # single-zone countries
    "uk": "Europe/London",
    "england": "Europe/London",
    "britain": "Europe/London",
    "ireland": "Europe/Dublin",
    "germany": "Europe/Berlin",
    "france": "Europe/Paris",
    "spain": "Europe/Madrid",
    "italy": "Europe/Rome",
    "netherlands": "Europe/Amsterdam",
    "poland": "Europe/Warsaw",
    "india": "Asia/Kolkata",
    "china": "Asia/Shanghai",
    "japan": "Asia/Tokyo",
    "korea": "Asia/Seoul",
    "south korea": "Asia/Seoul",
    "new zealand": "Pacific/Auckland",
    "ukraine": "Europe/Kyiv",
}

# Fixed fractional offsets (minutes east of UTC) → a zone with that offset and no DST since 2022.
FRACTIONAL_OFFSETS: dict[int, str] = {
    3 * 60 + 30: "Asia/Tehran",
    4 * 60 + 30: "Asia/Kabul",
    5 * 60 + 30: "Asia/Kolkata",
    5 * 60 + 45: "Asia/Kathmandu",
    6 * 60 + 30: "Asia/Yangon",
    8 * 60 + 45: "Australia/Eucla",
    9 * 60 + 30: "Australia/Darwin",
    -(9 * 60 + 30): "Pacific/Marquesas",
}
# Fractional offsets that exist only with DST somewhere: suggest, don't pick.
_FRACTIONAL_WITH_DST: dict[int, tuple[str, ...]] = {
    -(3 * 60 + 30): ("America/St_Johns",),
    -(2 * 60 + 30): ("America/St_Johns",),
    10 * 60 + 30: ("Australia/Adelaide", "Australia/Lord_Howe"),
    12 * 60 + 45: ("Pacific/Chatham",),
    13 * 60 + 45: ("Pacific/Chatham",),
}

_OFFSET = re.compile(
    r"^(?:utc|gmt|z)?\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?:(?::|\.|h)?(?P<m>\d{2}))?(?:\s*h(?:ours?|rs?)?)?$"
)


@dataclass(frozen=True, slots=True)
class TimezoneMatch:
    """The result of resolving user text: `zone` is an IANA name, or None with `suggestions`.

    `understood` is a sentence fragment to show the user, e.g. "Europe/Berlin (UTC+01:00 now)".
    """

    zone: str | None
    understood: str
    suggestions: tuple[str, ...] = ()


def _normalize(text: str) -> str:
    """Lowercase, strip accents ("São Paulo" → "sao paulo"), unify separators."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().strip()
    text = text.replace("−", "-")
    text = re.sub(r"[_,;!?'\"().]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Build (lowercase IANA name → name, city → zone, fuzzy choice → zone) once."""
    names = {
        z
        for z in zoneinfo.available_timezones()
        if not z.startswith(("posix/", "right/"))
        and z not in {"Factory", "localtime", "posixrules"}
    }
    exact = {z.lower(): z for z in names}
    cities: dict[str, str] = {}
    for z in sorted(names):
        region, _, rest = z.partition("/")
        if region not in _REGIONS or not rest:
            continue
        city = _normalize(rest.rsplit("/", 1)[-1].replace("_", " ").replace("-", " "))
        # When two names share a city the deeper one is canonical and the other a legacy link:
        # "America/Indiana/Indianapolis" vs "America/Indianapolis".
        if city not in cities or z.count("/") > cities[city].count("/"):
            cities[city] = z
    choices: dict[str, str] = {}
    for city, z in cities.items():
        choices[city] = z
    for alias, z in ALIASES.items():
        if len(alias) > 3:  # short abbreviations make fuzzy matching noisy
            choices[alias] = z
    for z in names:
        if z.partition("/")[0] in _REGIONS:
            choices[_normalize(z.replace("/", " "))] = z
    return exact, cities, choices


def format_offset(offset: timedelta) -> str:
    """'UTC+05:30' for a timedelta offset."""
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


def _offset_now(zone: str, now: datetime) -> str:
    offset = now.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset()
    return format_offset(offset if offset is not None else timedelta(0))


def _found(zone: str, now: datetime) -> TimezoneMatch:
    return TimezoneMatch(zone, f"{zone} ({_offset_now(zone, now)} now)")


def _from_offset(m: re.Match[str], now: datetime) -> TimezoneMatch:
    sign = 1 if m.group("sign") == "+" else -1
    hours, minutes = int(m.group("h")), int(m.group("m") or 0)
    total = sign * (hours * 60 + minutes)
    label = format_offset(timedelta(minutes=total))
    if minutes >= 60 or not -12 * 60 <= total <= 14 * 60:
        return TimezoneMatch(None, f"{label} is not a real UTC offset (they run from -12 to +14)")
    if minutes == 0:
        if hours == 0:
            return TimezoneMatch("UTC", "UTC+00:00 (UTC, no daylight saving)")
        # Etc/GMT names have POSIX-inverted signs: UTC+2 is Etc/GMT-2.
        zone = f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"
        return TimezoneMatch(zone, f"{label} ({zone}, a fixed offset with no daylight saving)")
    if total in FRACTIONAL_OFFSETS:
        zone = FRACTIONAL_OFFSETS[total]
        return TimezoneMatch(zone, f"{label} ({zone}, which keeps that offset all year)")
    return TimezoneMatch(
        None,
        f"{label} is only used with daylight saving, so please pick the place",
        _FRACTIONAL_WITH_DST.get(total, ()),
    )


def suggest(text: str, limit: int = 3) -> tuple[str, ...]:
    """Up to `limit` IANA names closest to `text` (fuzzy over city names, aliases and zones)."""
    norm = _normalize(text)
    if not norm:
        return ()
    _, _, choices = _index()
    found: list[str] = []
    for choice, _score, _ in process.extract(
        norm, list(choices), scorer=fuzz.WRatio, limit=limit * 6, score_cutoff=40
    ):
        zone = choices[choice]
        if zone not in found:
            found.append(zone)
        if len(found) == limit:
            break
    return tuple(found)


def resolve_timezone(text: str, now: datetime | None = None) -> TimezoneMatch:
    """Resolve user text to an IANA zone; `now` (aware) fixes the "UTC+01:00 now" offset shown."""
    now = datetime.now(UTC) if now is None else now
    raw = text.strip()
    norm = _normalize(raw)
    if not norm:
        return TimezoneMatch(None, "no time zone given")
    exact, cities, _ = _index()
    candidates = [raw.lower().replace(" ", "_"), norm, norm.replace("-", " ")]
    if "," in raw:  # "Berlin, Germany": the place comes first
        candidates.append(_normalize(raw.split(",", 1)[0]))
    for cand in candidates:
        # Aliases first: "EST" should mean New York with DST, not the fixed tzdata zone "EST".
        if cand in ALIASES:
            return _found(ALIASES[cand], now)
        # Full names ("europe/berlin") before cities, but cities before the old top-level
        # links: "singapore" should give Asia/Singapore, not the legacy "Singapore".
        if cand in exact and ("/" in cand or cand not in cities):
            return _found(exact[cand], now)
        if cand in cities:
            return _found(cities[cand], now)
    compact = norm.replace(" ", "")
    m = _OFFSET.match(compact)
    if m is not None:
        return _from_offset(m, now)
    suggestions = suggest(raw)
    logger.debug("unknown time zone %r, suggesting %s", raw, suggestions)
    return TimezoneMatch(None, f"'{raw}' is not a time zone or city I know", suggestions)
