"""Literal prefilters for regular expressions: the strings one of which every match contains.

`required(pattern)` reads a compiled pattern's syntax tree and returns a set of literal strings
such that any text the pattern matches contains at least one of them, or None when it cannot
tell. A substring test on those strings is a sound and far cheaper first check than running
the pattern (Python's regex engine cannot skip ahead over a pattern that starts with \\b).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# The standard library's own regex parser (CPython 3.11+; the project needs 3.11). Private, so
# a tree it does not understand gives "no requirement", and the regex alone decides.
sre: Any = importlib.import_module("re._parser")

Literals = frozenset[str]

_LITERAL = sre.LITERAL
_SUBPATTERN = sre.SUBPATTERN
_BRANCH = sre.BRANCH
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)


def required(pattern: re.Pattern[str]) -> Literals | None:
    """Strings one of which every match of `pattern` contains; None if unknown (or the
    pattern ignores case, which a plain substring test would not)."""
    if pattern.flags & re.IGNORECASE:
        return None
    return _seq(sre.parse(pattern.pattern, pattern.flags))


def _better(a: Literals | None, b: Literals | None) -> Literals | None:
    """The more selective of two requirements: longer shortest string, then fewer strings."""
    if a is None:
        return b
    if b is None:
        return a
    ka, kb = (min(map(len, a)), -len(a)), (min(map(len, b)), -len(b))
    return a if ka >= kb else b


def _seq(items: Any) -> Literals | None:
    best: Literals | None = None
    run = ""
    for op, av in items:
        if op is _LITERAL:
            run += chr(av)
            continue
        # Anything else ends the literal run; an assertion (\\b, a lookaround) requires
        # nothing, so it adds no candidate.
        if run:
            best = _better(best, frozenset([run]))
            run = ""
        if op is _SUBPATTERN:
            if not av[1] & sre.SRE_FLAG_IGNORECASE:  # (?i:...) would need a case-free test
                best = _better(best, _seq(av[-1]))
        elif op is _BRANCH:
            alts = [_seq(a) for a in av[1]]
            if all(a is not None for a in alts):
                best = _better(best, frozenset().union(*alts))  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:
            best = _better(best, _seq(av[2]))
    if run:
        best = _better(best, frozenset([run]))
    return best


def prefilter(patterns: list[re.Pattern[str]]) -> Literals | None:
    """The union of every pattern's requirement: a text none of whose strings it contains
    cannot match any of the patterns. None when one pattern has no requirement."""
    out: set[str] = set()
    for p in patterns:
        lits = required(p)
        if lits is None:
            return None
        out |= lits
    return frozenset(out)


class Scanner:
    """Which of a fixed set of literal strings occur in a text, in one pass.

    One regex, a trie of the strings inside a lookahead, is tried at every position of the text:
    it finds the longest string starting there (siblings in the trie differ in their first
    character, so it follows the text down one path; a longer string is tried before a shorter
    one ends the match), and every other string starting there is a prefix of that one. Nothing
    in it repeats, so a position costs at most the longest string's length: linear time.
    """

    def __init__(self, strings: set[str] | frozenset[str]) -> None:
        words = sorted(s for s in strings if s)
        trie: dict[str, Any] = {}
        for w in words:
            node = trie
            for ch in w:
                node = node.setdefault(ch, {})
            node[""] = {}
        body = _trie(trie)
        self._pattern = re.compile(f"(?=({body}))") if words else None
        known = set(words)
        # The longest string found at a position -> every string that starts there.
        self._prefixes = {
            w: frozenset(w[:k] for k in range(1, len(w) + 1) if w[:k] in known) for w in words
        }

    def present(self, text: str) -> set[str]:
        """The strings that occur in `text`."""
        if self._pattern is None:
            return set()
        return set().union(*map(self._prefixes.__getitem__, set(self._pattern.findall(text))))


def _trie(node: dict[str, Any]) -> str:
    alts = [re.escape(ch) + _trie(sub) for ch, sub in sorted(node.items()) if ch]
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return f"(?:{body})?" if "" in node else body
