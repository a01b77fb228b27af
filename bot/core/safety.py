"""Red-flag triage: symptoms that need a doctor now are caught before any exercise advice."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.text import clean
from bot.kb import RedFlag, Safety

_NEGATION_WINDOW = 3  # words before a match that can cancel it ("no numbness")
# A negation reaches only to the end of its clause: in "not hungry, weight's dropping off"
# the "not" says nothing about the weight. Clause breaks become this marker word.
_CLAUSE = "xclausex"
# A checklist answered "no" ("Cancer? No. Fall? No. Fever? No."): the items are denied, not
# reported, so they are dropped before matching.
_DENIED = re.compile(r"\b[\w' ]{1,30}\?\s*(no|nope|nah|none|never)(?=\s*([.!,;]|$))", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,.;:!?()\n\u2013\u2014]+|\s-+\s|\b(but|and then|although|though)\b")


@dataclass(frozen=True, slots=True)
class _Compiled:
    flag: RedFlag
    patterns: tuple[re.Pattern[str], ...]
    combos: tuple[tuple[re.Pattern[str], ...], ...]
    ignore: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]


def _compile(ps: list[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in ps)


def _blank(patterns: tuple[re.Pattern[str], ...], text: str) -> str:
    """The text with every idiom replaced by a word no pattern uses (keeps word positions)."""
    for p in patterns:
        text = p.sub(" xidiomx ", text)
    return text


@dataclass(frozen=True, slots=True)
class Triage:
    """Matches a message against the red-flag patterns of the knowledge base."""

    safety: Safety
    _compiled: tuple[_Compiled, ...]
    _negations: frozenset[str]
    _watch: tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]] = ((), ())

    @classmethod
    def build(cls, safety: Safety) -> Triage:
        compiled = tuple(
            _Compiled(
                rf,
                _compile(rf.patterns),
                tuple(_compile(group) for group in rf.all_of),
                _compile(rf.ignore),
                _compile(rf.unless),
            )
            for rf in safety.red_flags
        )
        negs = frozenset(clean(n) for n in safety.negations if clean(n))
        w = safety.watch
        watch = (_compile(w.patterns), _compile(w.needs)) if w else ((), ())
        return cls(safety, compiled, negs, watch)

    def worth_a_safety_check(self, text: str) -> bool:
        """No red flag, but a word that often comes with one, next to back or pain words
        ("my leg feels weird and my back hurts"): worth a one-line reminder of the red flags."""
        words, needs = self._watch
        t = clean(text)
        return any(p.search(t) for p in words) and any(p.search(t) for p in needs)

    def check(self, text: str) -> list[RedFlag]:
        """Every red flag the message raises, in knowledge-base order (empty if none)."""
        if not text:
            return []
        # Two spellings of the same message, so "can't" matches both "cant" and "can t".
        marked = _CLAUSE_BREAK.sub(f" {_CLAUSE} ", _DENIED.sub(" ", text).lower())
        forms = {clean(marked), re.sub(r"[^\w]+|_", " ", marked).strip()}
        found: list[RedFlag] = []
        for c in self._compiled:
            if any(self._within_clause(u, f) for u in c.unless for f in forms):
                continue
            texts = {_blank(c.ignore, f) for f in forms} if c.ignore else forms
            if any(self._hit(p, f) for p in c.patterns for f in texts) or any(
                all(any(self._hit(p, f) for f in texts) for p in combo) for combo in c.combos
            ):
                found.append(c.flag)
        return found

    @staticmethod
    def _within_clause(pattern: re.Pattern[str], text: str) -> bool:
        """An exception ("sick of planks") counts only inside one clause: "...shivery and sick.
        Exercises?" is not "sick exercises"."""
        return any(_CLAUSE not in m.group().split() for m in pattern.finditer(text))

    def _hit(self, pattern: re.Pattern[str], text: str) -> bool:
        for m in pattern.finditer(text):
            words = text[: m.start()].split()
            if _CLAUSE in words:
                words = words[len(words) - words[::-1].index(_CLAUSE) :]
            before = words[-_NEGATION_WINDOW:]
            if not self._negations.intersection(before):
                return True
        return False
