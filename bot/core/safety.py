"""Red-flag triage: symptoms that need a doctor now are caught before any exercise advice."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.text import clean
from bot.kb import RedFlag, Safety

_NEGATION_WINDOW = 3  # words before a match that can cancel it ("no numbness")


@dataclass(frozen=True, slots=True)
class Triage:
    """Matches a message against the red-flag patterns of the knowledge base."""

    safety: Safety
    _compiled: tuple[tuple[RedFlag, tuple[re.Pattern[str], ...]], ...]
    _negations: frozenset[str]

    @classmethod
    def build(cls, safety: Safety) -> Triage:
        compiled = tuple((rf, tuple(re.compile(p) for p in rf.patterns)) for rf in safety.red_flags)
        negs = frozenset(clean(n) for n in safety.negations if clean(n))
        return cls(safety, compiled, negs)

    def check(self, text: str) -> list[RedFlag]:
        """Every red flag the message raises, in knowledge-base order (empty if none)."""
        if not text:
            return []
        # Two spellings of the same message, so "can't" matches both "cant" and "can t".
        forms = {clean(text), re.sub(r"[^\w]+|_", " ", text.lower()).strip()}
        found: list[RedFlag] = []
        for rf, patterns in self._compiled:
            if any(self._hit(p, f) for p in patterns for f in forms):
                found.append(rf)
        return found

    def _hit(self, pattern: re.Pattern[str], text: str) -> bool:
        for m in pattern.finditer(text):
            before = text[: m.start()].split()[-_NEGATION_WINDOW:]
            if not self._negations.intersection(before):
                return True
        return False
