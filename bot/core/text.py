"""Text normalisation shared by retrieval, triage and intent matching."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence

_APOSTROPHES = re.compile(r"['’`´]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_NON_WORD_BUT_SPACE = re.compile(r"[^\w ]")

_STOPWORDS_TEXT = """
a an the i im m me my mine we our you your u ur it its is are was were be been being am do
does did doing done to too of in on at by for from with about into over under as and or but
if so than then that this these those there here what whats which who whom whose why how
when where can could should would will shall may might must have has had having get got just
really very much many some any more most also still ever like pls please plz thanks thank
hey hi hello ok okay yeah yes wont isnt ive id ill someone somebody anyone
something anything thing things way ways one ones go going want need know tell say said make
give gimme stuff lol tbh guys bro mate dude kinda sorta good
actually basically literally honestly seriously mentioned said told think thinking wondering
wonder guess maybe probably quite pretty bit little lot lots few mostly ever even yet already
anyway currently recently lately coach bot question quick
gonna wanna gotta arent aint wasnt werent shouldnt wouldnt youre thats
cheers thx ty asking
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def clean(text: str) -> str:
    """Lowercase, fold Unicode, drop apostrophes, turn every other non-word run into one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _APOSTROPHES.sub("", text).replace("_", " ")
    # (Every non-word character but a space made one, then the words joined by single spaces:
    # the same text as replacing each run, without a replacement for every space.)
    return " ".join(_NON_WORD_BUT_SPACE.sub(" ", text).split())


# Letters NFKD does not take apart: ß, ł, ø, æ, œ, đ, ı.
_UNFOLDED = str.maketrans({"ß": "ss", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ı": "i"})


def _uncombined(m: re.Match[str]) -> str:
    return "".join(c for c in m.group() if not unicodedata.combining(c))


def fold(text: str) -> str:
    """The text with accents dropped ("fièvre" -> "fievre", "Rücken" -> "rucken", "gorączka"
    -> "goraczka"), for rules written without them; ASCII text is returned as it is."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text.translate(_UNFOLDED))
    # Only a non-ASCII character can be a combining mark: the ASCII runs are kept as they are.
    text = _NON_ASCII.sub(_uncombined, text)
    return unicodedata.normalize("NFC", text)


def stem(word: str) -> str:
    """A deliberately light stemmer: plurals and -ing, so 'rows'/'rowing' meet 'row'."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    return word


class Normalizer:
    """Cleans text and rewrites synonyms to their canonical term (lumbar -> lower back)."""

    def __init__(self, synonyms: Mapping[str, Sequence[str]]) -> None:
        pairs: dict[str, str] = {}
        for canon, variants in synonyms.items():
            c = clean(canon)
            for v in variants:
                cv = clean(v)
                if cv and cv != c:
                    pairs[cv] = c
        # Cleaned text is words joined by single spaces, so a synonym can only start at a word
        # and must match whole words: index them by first word, longest first (what a regex
        # alternation sorted by length found, at a fraction of its cost on every KB phrasing).
        by_first: dict[str, list[tuple[list[str], str]]] = defaultdict(list)
        for variant in sorted(pairs, key=len, reverse=True):
            words = variant.split(" ")
            by_first[words[0]].append((words, pairs[variant]))
        self._by_first = dict(by_first)

    def __call__(self, text: str) -> str:
        t = clean(text)
        words = t.split(" ")
        if self._by_first.keys().isdisjoint(words):
            return t
        out: list[str] = []
        i = 0
        while i < len(words):
            for variant, canon in self._by_first.get(words[i], ()):
                if words[i : i + len(variant)] == variant:
                    out.append(canon)
                    i += len(variant)
                    break
            else:
                out.append(words[i])
                i += 1
        return " ".join(out)


def tokens(normalized: str) -> list[str]:
    """Content tokens of normalised text: stopwords dropped, lightly stemmed."""
    return [stem(w) for w in normalized.split() if w not in STOPWORDS]


_MARKUP = re.compile(r"[\[\]()<>*_~`|@\\\u200b-\u200f\u202a-\u202e\u2066-\u2069]|[\x00-\x1f\x7f]")


def safe_echo(text: str, limit: int = 40) -> str:
    """User text quoted back in a reply ("I don't know the time zone "…""): no markup a
    platform could render (Discord masked links, mentions, code, bidi tricks), on one line,
    at most `limit` characters."""
    out = _MARKUP.sub("", text[: limit * 4]).strip()
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"
