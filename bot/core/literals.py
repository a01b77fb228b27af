"""Literal prefilters for regular expressions: strings that every match contains.

`requirement(pattern)` reads a compiled pattern's syntax tree and returns clauses, each a set of
tokens, such that any text the pattern matches holds at least one token of every clause; None
when it cannot tell. A token is a literal string and where it occurs: `"^numb"` at the start of
a word (at the start of the text or after a non-word character), `"~ake"` anywhere. A test of
those tokens (`Scanner.present`, one pass over the text) is a sound and far cheaper first check
than running the pattern: Python's regex engine cannot skip ahead over a pattern that starts
with \\b. Finite parts are expanded ("f" then "ell|all" is "fell|fall"), so a clause is as long
as the words it stands for, and a word-start token is found by trying the text's word starts
only.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The standard library's own regex parser (CPython 3.11+; the project needs 3.11). Private, so
# a tree it does not understand gives "no requirement", and the regex alone decides.
sre: Any = importlib.import_module("re._parser")

WORD_START = "^"  # the token's string starts a word
ANYWHERE = "~"  # the token's string occurs anywhere

Clause = frozenset[str]  # one of these tokens occurs
Requirement = tuple[Clause, ...]  # every one of these clauses is met

MAX_STRINGS = 8  # a finite part matching more strings than this is not expanded
MAX_CHARS = 12  # a token's string is cut to this many characters (a shorter one is implied)
MAX_CLAUSES = 2  # the most selective clauses kept per pattern

_WORD = re.compile(r"\w")
_WORD_STARTS = re.compile(r"\b(?=\w)")
SHORT_TEXT = 100  # texts up to this long are scanned without the trie regex (`Scanner`)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
# Zero-width assertions after which a word character starts a word.
_STARTS_WORD = (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING)
_NON_WORD_CATEGORIES = (sre.CATEGORY_SPACE, sre.CATEGORY_NOT_WORD)


def _is_word(ch: str) -> bool:
    return _WORD.match(ch) is not None


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a part of a pattern tells about the text it matches."""

    clauses: tuple[Clause, ...] = ()  # each met by every match
    exact: frozenset[str] | None = None  # every match is one of these strings
    prefix: frozenset[str] | None = None  # every match starts with one of these strings
    # After a match, a word character starts a word (the character before it is not one, or
    # the position is a word boundary).
    out: bool = False


_OPAQUE = _Facts()
_EMPTY = frozenset([""])


def requirement(pattern: re.Pattern[str]) -> Requirement | None:
    """Clauses of tokens every match of `pattern` meets; None if unknown (or the pattern ignores
    case, which a plain substring test would not). `analyse(pattern)`, from the shipped cache
    when it holds the pattern (see `CACHE_FILE`), and computed once per process otherwise."""
    known = _known()
    key = cache_key(pattern)
    if key not in known:
        known[key] = analyse(pattern)
    return known[key]


def analyse(pattern: re.Pattern[str]) -> Requirement | None:
    """`requirement(pattern)`, read from the pattern's syntax tree."""
    if pattern.flags & re.IGNORECASE:
        return None
    # (A match may begin anywhere: nothing is known of the character before it.)
    facts = _Reader(bool(pattern.flags & re.ASCII)).sequence(
        sre.parse(pattern.pattern, pattern.flags), False
    )
    return _select(facts.clauses)


# Reading every rule's tree took 0.2 s of each start, so the requirements of the shipped rules
# are kept in a file beside them (`backbot kb literals` writes it). An entry is found by a hash
# of its pattern's text and flags, in a file made by this very module (`analysis_version`: a
# hash of this file and of the Unicode version \w follows); a pattern not found is analysed,
# so a stale or missing file costs time, never a wrong prefilter.
CACHE_FILE = Path(__file__).resolve().parents[1] / "knowledge" / "rule_literals.json"
_cache: list[dict[str, Requirement | None]] = []  # the file's entries, then every one computed


def analysis_version() -> str | None:
    """What the cache's entries must have been computed by (None: this module's source cannot
    be read, so no file is trusted)."""
    try:
        source = Path(__file__).read_bytes()
    except OSError:
        return None
    return hashlib.sha256(source + unicodedata.unidata_version.encode()).hexdigest()[:16]


def cache_key(pattern: re.Pattern[str]) -> str:
    return hashlib.sha256(f"{pattern.flags}:{pattern.pattern}".encode()).hexdigest()[:24]


def _known() -> dict[str, Requirement | None]:
    if not _cache:
        _cache.append(read_cache(CACHE_FILE))
    return _cache[0]


def read_cache(path: Path) -> dict[str, Requirement | None]:
    """The entries of a cache file made by this version of the analysis (else none)."""
    version = analysis_version()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if version is None or not isinstance(data, dict) or data.get("analysis") != version:
        return {}
    entries = data.get("requirements")
    if not isinstance(entries, dict):
        return {}
    return {
        key: None if req is None else tuple(frozenset(clause) for clause in req)
        for key, req in entries.items()
    }


def write_cache(patterns: Iterable[re.Pattern[str]], path: Path = CACHE_FILE) -> int:
    """Write the requirements of `patterns` (analysed afresh) to `path`; how many."""
    entries = {cache_key(p): analyse(p) for p in patterns}
    # One entry a line, in key order: a change to the rules changes only its own lines.
    lines = [
        f"    {json.dumps(key)}: "
        + json.dumps(None if req is None else [sorted(c) for c in req], ensure_ascii=False)
        for key, req in sorted(entries.items())
    ]
    head = f'{{\n  "analysis": {json.dumps(analysis_version())},\n  "requirements": {{\n'
    path.write_text(head + ",\n".join(lines) + "\n  }\n}\n", encoding="utf-8")
    return len(entries)


def _select(clauses: Iterable[Clause]) -> Requirement | None:
    """The most selective clauses: only word-start tokens when any clause has only those (they
    are found by the cheaper scan), then the longest shortest string, then the fewest tokens."""
    found = set(clauses)
    anchored = {c for c in found if all(t[0] == WORD_START for t in c)}
    ranked = sorted(anchored or found, key=_rank, reverse=True)
    return tuple(ranked[:MAX_CLAUSES]) or None


def _rank(clause: Clause) -> tuple[int, int, tuple[str, ...]]:
    return min(len(t) for t in clause), -len(clause), tuple(sorted(clause))


def _product(a: frozenset[str], b: frozenset[str]) -> frozenset[str] | None:
    if len(a) * len(b) > MAX_STRINGS:
        return None
    return frozenset(x + y for x in a for y in b)


def _tokens(strings: frozenset[str], word_start: bool) -> Clause | None:
    """The clause "one of `strings` occurs", the strings starting where a word character starts
    a word when `word_start`. A string whose start is not known to start a word is found from
    its first word that follows a non-word character, or else anywhere. Each is cut to
    `MAX_CHARS` (its start occurs wherever it does)."""
    if "" in strings:
        return None
    out = set()
    for s in strings:
        if word_start and _is_word(s[0]):
            out.add(WORD_START + s[:MAX_CHARS])
            continue
        k = next((i for i in range(1, len(s)) if _is_word(s[i]) and not _is_word(s[i - 1])), 0)
        out.add(WORD_START + s[k : k + MAX_CHARS] if k else ANYWHERE + s[:MAX_CHARS])
    return frozenset(out)


class _Reader:
    def __init__(self, ascii_only: bool) -> None:
        # Under re.ASCII, \b is not the word boundary the scanner's \b tests.
        self._boundary = () if ascii_only else (sre.AT_BOUNDARY,)

    def sequence(self, items: Any, start: bool) -> _Facts:
        """Facts of items matched one after another; `start`: a word character at the first
        position starts a word."""
        clauses: list[Clause] = []
        run, run_start = _EMPTY, start  # the strings matched since the run began, and there
        state = start
        whole: frozenset[str] | None = _EMPTY  # every match, while all parts were finite
        prefix: frozenset[str] | None = None

        def close(extended: frozenset[str]) -> None:
            if (clause := _tokens(extended, run_start)) is not None:
                clauses.append(clause)

        for op, av in items:
            f = self.item(op, av, state)
            clauses.extend(f.clauses)
            joined = _product(run, f.exact) if f.exact is not None else None
            if joined is not None:
                if run == _EMPTY and f.exact == _EMPTY:  # zero-width: the run has not begun
                    run_start = f.out
                run = joined
                if whole is not None:
                    whole = joined
            else:
                extended = run
                if f.prefix is not None:
                    extended = _product(run, f.prefix) or run
                close(extended)
                if whole is not None:
                    prefix, whole = extended, None
                if f.exact is not None:  # too many strings: a new run begins with this part
                    run, run_start = f.exact, state
                else:
                    run, run_start = _EMPTY, f.out
            state = f.out
        close(run)
        if whole is not None:
            return _Facts(tuple(clauses), whole, whole, state)
        return _Facts(tuple(clauses), None, prefix, state)

    def item(self, op: Any, av: Any, start: bool) -> _Facts:
        if op is sre.LITERAL:
            ch = chr(av)
            return _Facts((), frozenset([ch]), frozenset([ch]), not _is_word(ch))
        if op is sre.AT:
            return _Facts((), _EMPTY, _EMPTY, start or av in (*self._boundary, *_STARTS_WORD))
        if op is sre.ASSERT:  # (?=...) or (?<=...): what its body matches is in the text too
            body = self.sequence(av[1], start and av[0] == 1)
            return _Facts(body.clauses, _EMPTY, _EMPTY, start)
        if op is sre.ASSERT_NOT:
            return _Facts((), _EMPTY, _EMPTY, start)
        if op is sre.SUBPATTERN:
            if av[1] or av[2]:  # local flags, (?i:...) or (?a:...): read as opaque
                return _OPAQUE
            return self.sequence(av[-1], start)
        if op is sre.BRANCH:
            return self._branch(av[1], start)
        if op in _REPEATS:
            return self._repeat(*av, start=start)
        if op is sre.IN:
            return self._charset(av)
        return _OPAQUE

    def _branch(self, alternatives: Any, start: bool) -> _Facts:
        alts = [self.sequence(a, start) for a in alternatives]
        clauses: tuple[Clause, ...] = ()
        best = [_select(a.clauses) for a in alts]
        if all(b is not None for b in best):
            clauses = (frozenset().union(*(b[0] for b in best if b is not None)),)
        exact: frozenset[str] | None = None
        if all(a.exact is not None for a in alts):
            exact = frozenset().union(*(a.exact for a in alts if a.exact is not None))
            exact = exact if len(exact) <= MAX_STRINGS else None
        prefix: frozenset[str] | None = None
        if all(a.prefix is not None for a in alts):
            prefix = frozenset().union(*(a.prefix for a in alts if a.prefix is not None))
            prefix = prefix if len(prefix) <= MAX_STRINGS else None
        return _Facts(clauses, exact, prefix, all(a.out for a in alts))

    def _repeat(self, lo: int, hi: int, body: Any, *, start: bool) -> _Facts:
        first = self.sequence(body, start)
        if hi == 1:  # x? or x{1}: what one match of the body says
            out = first.out if lo == 1 else first.out and start  # (zero times: as before it)
            if first.exact is not None:
                exact = first.exact if lo == 1 else first.exact | _EMPTY
                return _Facts(first.clauses if lo else (), exact, exact, out)
            return _Facts(first.clauses if lo else (), None, first.prefix if lo else None, out)
        # Later repetitions begin where the one before ended: what is sure of the body whatever
        # precedes it holds for the last one.
        later = self.sequence(body, False).out
        if lo >= 1:
            return _Facts(first.clauses, None, first.prefix, later)
        return _Facts((), None, None, later and start)

    @staticmethod
    def _charset(items: Any) -> _Facts:
        """A character class: its characters when it lists a few, and whether all of them are
        non-word characters."""
        chars: set[str] = set()
        listed, non_word = True, True
        for op, av in items:
            if op is sre.LITERAL:
                chars.add(chr(av))
            elif op is sre.RANGE and av[1] - av[0] < 16:
                chars.update(map(chr, range(av[0], av[1] + 1)))
            elif op is sre.CATEGORY and av in _NON_WORD_CATEGORIES:
                listed = False
            else:
                return _OPAQUE
        non_word = not any(map(_is_word, chars))
        exact = frozenset(chars) if listed and chars else None
        return _Facts((), exact, exact, non_word)


class Scanner:
    """Which of a fixed set of tokens occur in a text, in one pass over its word starts.

    One regex, a trie of the word-start strings inside a lookahead, is tried at every word start
    of the text: it finds the longest string starting there (siblings in the trie differ in
    their first character, so it follows the text down one path; a longer string is tried
    before a shorter one ends the match), and every other string starting there is a prefix of
    that one. Nothing in it repeats, so a position costs at most the longest string's length:
    linear time. Until a text longer than `SHORT_TEXT` needs it, each word start's strings are
    looked up instead, longest first. The anywhere tokens, a handful, are substring tests.

    `present` gives marks, not tokens: the longest strings found, and the anywhere tokens found.
    `expand` turns a requirement into one on marks (a word-start token is met by every longest
    string it begins), so no mark is turned back into its tokens on every text.
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        tokens = set(tokens)
        self._words = sorted(t[1:] for t in tokens if t[0] == WORD_START and len(t) > 1)
        self._known = frozenset(self._words)
        self._longest = max(map(len, self._words), default=0)
        # The trie regex's findall, compiled for the first text longer than `SHORT_TEXT` (it
        # takes ~50 ms; a start that answers "hi" never needs it).
        self._find: Callable[[str], list[str]] | None = None
        self._anywhere = tuple(sorted(t for t in tokens if t[0] == ANYWHERE and len(t) > 1))
        self._marks: dict[str, Clause] = {}

    def present(self, text: str) -> set[str]:
        """The marks of the tokens that occur in `text`."""
        if not self._words:
            out: set[str] = set()
        elif self._find is None and len(text) <= SHORT_TEXT:
            out = self._walk(text)
        else:
            if self._find is None:
                self._find = self._compile()
            out = set(self._find(text))
        for t in self._anywhere:
            if t[1:] in text:
                out.add(t)
        return out

    def _compile(self) -> Callable[[str], list[str]]:
        trie: dict[str, Any] = {}
        for w in self._words:
            node = trie
            for ch in w:
                node = node.setdefault(ch, {})
            node[""] = {}
        return re.compile(rf"\b(?=({_trie(trie)}))").findall

    def _walk(self, text: str) -> set[str]:
        """What the trie regex finds, by trying each word start's strings longest first: for
        short texts, before the regex is compiled."""
        out, known = set(), self._known
        for m in _WORD_STARTS.finditer(text):
            at = m.start()
            for end in range(min(len(text), at + self._longest), at, -1):
                if text[at:end] in known:
                    out.add(text[at:end])
                    break
        return out

    def expand(self, req: Requirement | None) -> Requirement | None:
        """`req` as a requirement on the marks `present` gives."""
        if req is None:
            return None
        return tuple(frozenset().union(*map(self._marks_of, clause)) for clause in req)

    def _marks_of(self, token: str) -> Clause:
        got = self._marks.get(token)
        if got is None:
            if token[0] == ANYWHERE:
                got = frozenset([token])
            else:
                s, words = token[1:], self._words
                got = frozenset(
                    itertools.takewhile(
                        lambda w: w.startswith(s), words[bisect.bisect_left(words, s) :]
                    )
                )
            self._marks[token] = got
        return got

    def tokens(self, marks: set[str]) -> set[str]:
        """The tokens the marks `present` gave stand for (each prefix of a longest string that
        is a token)."""
        known = set(self._words)
        out = {m for m in marks if m[0] == ANYWHERE}
        for m in marks - out:
            out.update(WORD_START + m[:k] for k in range(1, len(m) + 1) if m[:k] in known)
        return out


def occurs(token: str, text: str) -> bool:
    """Whether `token` occurs in `text` (what `Scanner.present` finds, one token at a time)."""
    kind, s = token[0], token[1:]
    at = text.find(s)
    if kind == ANYWHERE:
        return at >= 0
    while at >= 0 and at > 0 and _is_word(text[at - 1]):
        at = text.find(s, at + 1)
    return at >= 0


def satisfied(req: Requirement, found: set[str] | frozenset[str]) -> bool:
    """Whether what was `found` in a text (tokens, or marks for an expanded requirement) meets
    every clause; if not, no match is possible."""
    for clause in req:  # noqa: SIM110 (a loop: no generator made on every test)
        if clause.isdisjoint(found):
            return False
    return True


def _trie(node: dict[str, Any]) -> str:
    alts = [re.escape(ch) + _trie(sub) for ch, sub in sorted(node.items()) if ch]
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return f"(?:{body})?" if "" in node else body
