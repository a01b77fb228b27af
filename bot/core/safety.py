"""Red-flag triage: symptoms that need a doctor are caught before any exercise advice.

Two layers, both scoped to one window of at most two sentences so that words scattered across a
long story never add up to a flag:

- rules (knowledge/safety.yaml): concept patterns with clause-scoped negation, idioms blanked out
  and exceptions that silence a flag only in the window they match in. A rule is certain.
- a learned model (bot/core/triage_model.py), scoring each window; the highest score counts, so
  a message's length does not drive it.

`Triage.assess(text)` combines them into one of three outcomes: a red flag at an urgency level
(a rule fired, or the model is very sure), a screening question (the model is unsure), or
nothing.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Protocol

from bot.core.literals import Requirement, Scanner, requirement, satisfied
from bot.core.text import STOPWORDS, clean, fold
from bot.kb import URGENCIES, Escalation, RedFlag, Safety, Urgency, compile_once

_NEGATION_WINDOW = 3  # words before a match that can cancel it ("no numbness")
_LOOK_BACK = 120  # characters before a match read for those words
_LOOK_AHEAD = 60  # characters after a match read for a denial (safety.yaml `denied_after`)
# A negation reaches only to the end of its clause: in "not hungry, weight's dropping off"
# the "not" says nothing about the weight. Clause breaks become this marker word.
_CLAUSE = "xclausex"
# A checklist answered "no" ("Cancer? No. Fall? No. Fever? No."): the items are denied, not
# reported, so they are dropped before matching. Bounded repetition keeps it linear.
_DENIED = re.compile(r"\b[\w' ]{1,30}\?\s*(no|nope|nah|none|never)(?=\s*([.!,;]|$))", re.IGNORECASE)
# Its tail, which every match of it ends with: a text without one has nothing to drop, and this
# search (it starts at a literal "?") is far cheaper than `_DENIED`'s, tried at every word.
_DENIED_TAIL = re.compile(r"\?\s*(no|nope|nah|none|never)(?=\s*([.!,;]|$))", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,.;:!?()\n\u2013\u2014]+|\s-+\s|\b(but|and then|although|though)\b")
# Sentence ends: . ! ? (runs of them), new lines, and semicolons. Abbreviations such as "Dr."
# split a sentence in two, which only makes a window smaller.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|[\n;]+|(?<=[.!?])(?=[A-Z])")
_CONCEPT = re.compile(r"%([a-z0-9_]+)%")
_RANK = {level: i for i, level in enumerate(URGENCIES)}
MAX_SENTENCE_CHARS = 400  # a run-on "sentence" longer than this is cut into windows this long


def sentences(text: str) -> list[str]:
    """The sentences of a message (linear time); a very long run-on is cut into pieces."""
    out: list[str] = []
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        while len(part) > MAX_SENTENCE_CHARS:
            cut = part.rfind(" ", 0, MAX_SENTENCE_CHARS)
            cut = cut if cut > MAX_SENTENCE_CHARS // 2 else MAX_SENTENCE_CHARS
            out.append(part[:cut])
            part = part[cut:].strip()
        if part:
            out.append(part)
    return out


def windows(text: str) -> Iterator[str]:
    """Each sentence, and each pair of neighbouring sentences ("My back hurts. I can't pee.")."""
    ss = sentences(text)
    yield from ss
    for a, b in itertools.pairwise(ss):
        yield f"{a} {b}"


class Scorer(Protocol):
    """The learned model's one call (bot/core/triage_model.TriageModel implements it)."""

    def score_sentences(self, sentences: Sequence[str]) -> tuple[float, str | None]:
        """The highest red-flag probability over each sentence and each pair of neighbouring
        sentences, and the flag it points at."""
        ...


class Outcome(Enum):
    NONE = "none"
    SCREEN = "screen"  # the model is unsure: ask the screening question
    FLAG = "flag"  # a rule fired, or the model is very sure


@dataclass(frozen=True, slots=True)
class Assessment:
    outcome: Outcome
    level: Urgency | None = None
    flags: tuple[RedFlag, ...] = ()  # the flags whose messages the reply carries (one level)
    score: float = 0.0  # the model's highest window probability (0 without a model)
    by_rule: bool = False


NOTHING = Assessment(Outcome.NONE)


@dataclass(frozen=True, slots=True)
class _Compiled:
    flag: RedFlag
    patterns: tuple[re.Pattern[str], ...]
    combos: tuple[tuple[re.Pattern[str], ...], ...]
    ignore: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    nearby: tuple[re.Pattern[str], ...]  # `unless_nearby`: read over the window ± 1 sentence
    escalate: tuple[tuple[Urgency, tuple[re.Pattern[str], ...]], ...]
    # The most urgent level this flag can reach (its own, or one it escalates to).
    top: Urgency = "emergency"
    model_needs: tuple[re.Pattern[str], ...] = ()
    # `all_of_within: sentence`: a combination's first two groups must meet in one sentence.
    combos_in_sentence: bool = False

    @property
    def starts(self) -> tuple[re.Pattern[str], ...]:
        """Any pattern, or the first group of any combination: the flag fires in no window of
        a message none of whose sentences these match."""
        return (*self.patterns, *(g[0] for g in self.combos if g))


_NON_WORD = re.compile(r"[^\w]+|_")
_SPACES = re.compile(r"\s+")
# "my leg's gone weak" is one leg: with the apostrophe dropped it would read "my legs gone weak".
_LIMB_IS = re.compile(r"\b(leg|foot|knee|arm|hand)['’`´]s\b", re.IGNORECASE)


def _spellings(text: str) -> set[str]:
    """Two spellings of the same text, so "can't" matches both "cant" and "can t"; with accents,
    each also without them, so "fièvre" matches the rules' "fievre" (`fold`). A limb's "'s" is
    "is" in both ("my leg's gone numb": one leg, not "my legs")."""
    if "s" in text and ("'" in text or "’" in text or "`" in text or "´" in text):
        text = _LIMB_IS.sub(r"\1 is", text)
    spaced = _NON_WORD.sub(" ", text.lower()).strip()
    if text.isascii() and "'" not in text and "`" not in text:
        # `clean(text)`: for ASCII without apostrophes, Unicode folding and apostrophe removal
        # change nothing, so it is this spelling with its runs of spaces made one.
        return {_SPACES.sub(" ", spaced), spaced}
    out = {clean(text), spaced}
    return out | {fold(x) for x in out}


# A negated list whose items are parted by commas and closed by "or"/"nor": "no tearing, ripping
# or sudden pain". Commas are clause breaks, past which a negation does not reach; in such a list
# each comma becomes " no ", so every item is denied. At most six items of up to three words, so
# each start is read a bounded distance (linear in the text).
_NEGATED_LIST = re.compile(
    r"\b(?:no|not|without|never)[ \t]+\w+(?:[ \t]+\w+){0,2}(?:[ \t]*,[ \t]*\w+(?:[ \t]+\w+){0,2}){1,6}"
    r"[ \t]*,?[ \t]+(?:or|nor)\b",
    re.IGNORECASE,
)


def _listed(text: str) -> str:
    """The text with each item of a negated comma list denied (`_NEGATED_LIST`)."""
    if "," not in text:
        return text
    out = _NEGATED_LIST.sub(lambda m: m.group().replace(",", " no "), text)
    return out if out != text else text


def _undenied(text: str, listed: str | None = None) -> str:
    """The text's negated lists denied item by item (`_listed`, or `listed` when already
    made), and checklist items answered "no" dropped (`_DENIED`)."""
    out = _listed(text) if listed is None else listed
    return _DENIED.sub(" ", out) if _DENIED_TAIL.search(out) else out


def _blank(patterns: tuple[re.Pattern[str], ...], text: str) -> str:
    """The text with every idiom replaced by a word no pattern uses (keeps word positions)."""
    for p in patterns:
        text = p.sub(" xidiomx ", text)
    return text


class _Candidates:
    """Which of a list of patterns a text can match, by the tokens found in it: each pattern is
    filed under the tokens of its requirement's first clause, and the rest of the requirement
    is tested only for the patterns one of those tokens brings up."""

    __slots__ = ("_by", "_free", "_keys")

    def __init__(
        self,
        patterns: Sequence[re.Pattern[str]],
        needs: Mapping[re.Pattern[str], Requirement | None],
    ) -> None:
        by: dict[str, dict[int, Requirement]] = {}
        free: list[int] = []  # no known requirement: always a candidate
        for i, p in enumerate(patterns):
            req = needs[p]
            if req is None:
                free.append(i)
                continue
            for token in req[0]:
                by.setdefault(token, {})[i] = req[1:]
        self._by = {token: tuple(v.items()) for token, v in by.items()}
        self._keys = frozenset(by)
        self._free = tuple(free)

    def of(self, found: set[str]) -> set[int]:
        """The positions of the patterns whose requirement the tokens `found` meet."""
        out = set(self._free)
        by = self._by
        for token in self._keys.intersection(found):
            for i, rest in by[token]:
                for clause in rest:
                    if clause.isdisjoint(found):
                        break
                else:
                    out.add(i)
        return out


@dataclass(frozen=True, slots=True)
class _FlagIndex:
    """One flag's patterns and combinations, by the tokens found in a text."""

    patterns: _Candidates
    # Every pattern of the flag's combinations once, by position; and each combination as the
    # set and the sequence of its patterns' positions.
    members: tuple[re.Pattern[str], ...]
    by_member: _Candidates
    combos: tuple[tuple[frozenset[int], tuple[int, ...]], ...]


class _Index:
    """Every rule pattern's requirement (bot.core.literals: clauses of literal tokens, one of
    each of which any match contains), one scanner for all their tokens, and by those tokens
    the patterns flags start with and each flag's patterns and combinations."""

    def __init__(self, compiled: Sequence[_Compiled]) -> None:
        self.needs: dict[re.Pattern[str], Requirement | None] = {}
        starts: dict[re.Pattern[str], tuple[int, ...]] = {}
        for k, c in enumerate(compiled):
            for p in (*c.patterns, *(p for g in c.combos for p in g), *c.ignore, *c.unless):
                self.needs.setdefault(p, None)
            for p in (*c.nearby, *(p for _, ps in c.escalate for p in ps)):
                self.needs.setdefault(p, None)
            for p in c.starts:
                if k not in starts.get(p, ()):
                    starts[p] = (*starts.get(p, ()), k)
        reqs = {p: requirement(p) for p in self.needs}
        self.scanner = Scanner(t for req in reqs.values() for c in req or () for t in c)
        # (On the scanner's marks: see bot.core.literals.Scanner.)
        self.needs = {p: self.scanner.expand(req) for p, req in reqs.items()}
        # Each pattern a flag can start with, and the positions in `compiled` of those flags.
        self.start_patterns = tuple(starts)
        self.start_flags = tuple(starts.values())
        self._starts = _Candidates(self.start_patterns, self.needs)
        self.flags = tuple(self._flag(c) for c in compiled)

    def _flag(self, c: _Compiled) -> _FlagIndex:
        members = tuple(dict.fromkeys(p for g in c.combos for p in g))
        at = {p: i for i, p in enumerate(members)}
        return _FlagIndex(
            _Candidates(c.patterns, self.needs),
            members,
            _Candidates(members, self.needs),
            tuple((frozenset(at[p] for p in g), tuple(at[p] for p in g)) for g in c.combos),
        )

    def starts(self, found: set[str]) -> set[int]:
        """The positions in `start_patterns` of those the tokens `found` in a text allow."""
        return self._starts.of(found)


class _Texts:
    """The literal strings present in each text one message's triage reads, found once per text
    by one scan (bot.core.literals.Scanner): a pattern none of whose required strings occurs in
    a text cannot match it, so it is not run. Only a shortcut: every decision is the one the
    pattern itself would give."""

    __slots__ = ("_index", "_needs", "_scan", "_seen")

    def __init__(self, index: _Index) -> None:
        self._index, self._needs, self._scan = index, index.needs, index.scanner.present
        self._seen: dict[str, set[str]] = {}

    def found(self, text: str) -> set[str]:
        got = self._seen.get(text)
        if got is None:
            got = self._seen[text] = self._scan(text)
        return got

    def starts(self, text: str) -> set[int]:
        """The positions in `_Index.start_patterns` of those that could match `text`."""
        return self._index.starts(self.found(text))

    def may(self, pattern: re.Pattern[str], text: str) -> bool:
        """False only when `pattern` cannot match `text`."""
        req = self._needs[pattern]
        if req is None:
            return True
        got = self._seen.get(text)
        if got is None:
            got = self._seen[text] = self._scan(text)
        return satisfied(req, got)

    def blank(self, patterns: tuple[re.Pattern[str], ...], text: str) -> str:
        """`_blank(patterns, text)`, skipping the idioms that cannot occur."""
        needs, found = self._needs, self.found(text)
        for p in patterns:
            if (req := needs[p]) is None or satisfied(req, found):
                changed = p.sub(" xidiomx ", text)
                if changed != text:
                    text, found = changed, self.found(changed)
        return text


def _with_languages(safety: Safety, rf: RedFlag) -> RedFlag:
    """The flag with its rules in every other language (safety.yaml `languages`) added to its own."""
    extra = [x for lang in safety.languages.values() if (x := lang.red_flags.get(rf.id))]
    if not extra:
        return rf
    ups: dict[Urgency, list[str]] = {}
    for e in (*rf.escalate, *(e for x in extra for e in x.escalate)):
        ups.setdefault(e.level, []).extend(e.patterns)
    return rf.model_copy(
        update={
            "patterns": [*rf.patterns, *(p for x in extra for p in x.patterns)],
            "all_of": [*rf.all_of, *(g for x in extra for g in x.all_of)],
            "unless": [*rf.unless, *(p for x in extra for p in x.unless)],
            "ignore": [*rf.ignore, *(p for x in extra for p in x.ignore)],
            "escalate": [Escalation(level=lv, patterns=ps) for lv, ps in ups.items()],
        }
    )


@dataclass(frozen=True, slots=True)
class Triage:
    """Red-flag rules of the knowledge base, plus the learned model when one is given."""

    safety: Safety
    _compiled: tuple[_Compiled, ...]
    _negations: frozenset[str]
    model: Scorer | None = None
    _by_id: dict[str, _Compiled] = field(default_factory=dict)
    _gate: tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]] = ((), ())
    # Every rule pattern by the literal tokens its matches contain.
    _index: _Index = field(default_factory=lambda: _Index(()))
    _reassurances: tuple[re.Pattern[str], ...] = ()
    _recoveries: tuple[re.Pattern[str], ...] = ()
    _denied_after: tuple[re.Pattern[str], ...] = ()
    # The positions in `_compiled`, the flags that can reach the most urgent level first.
    _by_top: tuple[int, ...] = ()
    # Only the other languages' rules (when there are any), as the safety data to build them
    # from. The model, trained on English, cannot read a message in another language, so it does
    # not veto a hit in one these rules fire in and that has few English function words
    # (`_foreign`). Built on first need: compiling them again cost every start ~0.1 s.
    _languages: Safety | None = None
    _languages_built: list[Triage] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def build(cls, safety: Safety, model: Scorer | None = None) -> Triage:
        concepts = safety.concepts

        def expand(p: str) -> str:
            return _CONCEPT.sub(lambda m: f"(?:{concepts[m.group(1)]})", p)

        def comp(ps: list[str]) -> tuple[re.Pattern[str], ...]:
            return tuple(compile_once(expand(p)) for p in ps)

        def prepare(rf: RedFlag) -> _Compiled:
            rf = _with_languages(safety, rf)
            patterns = comp(rf.patterns)
            combos = tuple(comp(group) for group in rf.all_of)
            return _Compiled(
                rf,
                patterns,
                combos,
                comp(rf.ignore),
                comp(rf.unless),
                comp(rf.unless_nearby),
                tuple((e.level, comp(e.patterns)) for e in rf.escalate),
                min((rf.level, *(e.level for e in rf.escalate)), key=_RANK.__getitem__),
                comp(rf.model_needs),
                rf.all_of_within == "sentence",
            )

        compiled = tuple(prepare(rf) for rf in safety.red_flags)
        words = [
            *safety.negations,
            *(n for lang in safety.languages.values() for n in lang.negations),
        ]
        negs = frozenset(w for n in words if (cn := clean(n)) for w in (cn, fold(cn)))
        m = safety.model
        gate = (comp(m.ignore), comp(m.needs)) if m else ((), ())
        by_id = {c.flag.id: c for c in compiled}
        index = _Index(compiled)
        by_top = tuple(sorted(range(len(compiled)), key=lambda k: _RANK[compiled[k].top]))
        languages = None
        if safety.languages:
            negations = [
                *safety.negations,
                *(n for x in safety.languages.values() for n in x.negations),
            ]
            bare = safety.model_copy(
                update={"red_flags": [], "languages": {}, "model": None, "negations": negations}
            )
            only = [
                _with_languages(
                    safety, rf.model_copy(update={"patterns": [], "all_of": [], "escalate": []})
                )
                for rf in safety.red_flags
            ]
            languages = bare.model_copy(update={"red_flags": only})
        return cls(
            safety,
            compiled,
            negs,
            model,
            by_id,
            gate,
            index,
            comp(safety.reassured),
            comp(safety.recovered),
            comp(safety.denied_after),
            by_top,
            languages,
        )

    # ------------------------------------------------------------------ rules

    def check(self, text: str) -> list[RedFlag]:
        """Every red flag a rule raises, in knowledge-base order (empty if none)."""
        return [f for f, _ in self._rule_hits(text)]

    def _rule_hits(self, text: str) -> list[tuple[RedFlag, Urgency]]:
        return self._rule_hits_in(text, sentences(_undenied(text)))

    def _rule_hits_in(
        self, text: str, ss: list[str], *, most_urgent: bool = False
    ) -> list[tuple[RedFlag, Urgency]]:
        """`_rule_hits(text)`, given `sentences(_undenied(text))`. With `most_urgent`, only the
        flags at the most urgent level raised are sure to be there (what `assess` reads): a
        flag that cannot reach a level already raised is not read."""
        if not text:
            return []
        compiled = self._compiled
        plain = [_spellings(x) for x in ss]
        texts = _Texts(self._index)
        # Per flag, the (sentence, spelling, start pattern) triples where it could start (the
        # spelling holds one of the pattern's literals); each is searched only when the flag is
        # read, once per pattern and spelling, and only until the sentence is known to start it.
        index = self._index
        patterns, flags = index.start_patterns, index.start_flags
        pending: list[list[tuple[int, str, re.Pattern[str]]]] = [[] for _ in compiled]
        for i, fs in enumerate(plain):
            for f in fs:
                for j in texts.starts(f):
                    for k in flags[j]:
                        pending[k].append((i, f, patterns[j]))
        searched: dict[tuple[re.Pattern[str], str], bool] = {}
        # A window's two spellings, made once and shared by every flag that looks at it.
        cache: dict[tuple[int, int], set[str]] = {}

        def forms(a: int, b: int) -> set[str]:
            got = cache.get((a, b))
            if got is None:
                window = " ".join(ss[a : b + 1])
                got = cache[(a, b)] = _spellings(_CLAUSE_BREAK.sub(f" {_CLAUSE} ", window.lower()))
            return got

        def parts(a: int, b: int) -> list[set[str]]:
            return [forms(a, a), forms(b, b)] if a != b else []

        found: dict[int, Urgency] = {}
        order = self._by_top if most_urgent else range(len(compiled))
        raised = len(_RANK)  # the rank of the most urgent level raised so far
        last = len(ss) - 1
        for k in order:
            c = compiled[k]
            if most_urgent and _RANK[c.top] > raised:
                break  # (`_by_top` is ordered by `top`: no later flag can reach it either)
            could: set[int] = set()
            for i, f, p in pending[k]:
                if i in could:
                    continue
                got = searched.get((p, f))
                if got is None:
                    got = searched[(p, f)] = p.search(f) is not None
                if got:
                    could.add(i)
            # Only windows holding a sentence where this flag could start are checked.
            if not could:
                continue
            spans = {(i, i) for i in could}
            spans |= {(j, j + 1) for i in could for j in (i - 1, i) if 0 <= j < last}
            best: Urgency | None = None
            # The least urgent level that still matters: with `most_urgent`, none below one
            # already raised; and once the flag has a level, only a more urgent one.
            worth = min(raised, len(_RANK) - 1) if most_urgent else len(_RANK) - 1
            for a, b in sorted(spans):
                if best is not None:
                    worth = min(worth, _RANK[best] - 1)
                if worth < _RANK[c.top]:  # no later window can raise it
                    break
                level = self._window_level(
                    c, index.flags[k], forms(a, b), texts, worth, partial(parts, a, b)
                )
                if level is None or _RANK[level] > worth:
                    continue  # (the exceptions are read only where they would change something)
                if c.nearby and any(
                    texts.may(u, f) and self._within_clause(u, f)
                    for u in c.nearby
                    for f in forms(max(0, a - 1), min(last, b + 1))
                ):
                    continue
                best = level
            if best is not None:
                found[k] = best
                raised = min(raised, _RANK[best])
        return [(compiled[k].flag, found[k]) for k in sorted(found)]  # knowledge-base order

    def _window_level(
        self,
        c: _Compiled,
        index: _FlagIndex,
        forms: set[str],
        seen: _Texts,
        worth: int,
        parts: Callable[[], list[set[str]]],
    ) -> Urgency | None:
        """The flag's level in the window of these spellings (None: it does not fire there). A
        level less urgent than rank `worth` counts as none; so a flag whose own level is less
        urgent is read only where an escalation to a level that counts could match. `parts`
        gives the spellings of each of the window's sentences, read only for a flag whose
        combinations must pair their first two groups inside one sentence."""
        texts = {seen.blank(c.ignore, f) for f in forms} if c.ignore else forms
        if _RANK[c.flag.level] > worth and not any(
            _RANK[up] <= worth and any(seen.may(p, f) for p in patterns for f in texts)
            for up, patterns in c.escalate
        ):
            return None
        # (The same tests as `seen.may(p, f) and self._hit(p, f)`, for the patterns together.)
        read = [(f, seen.found(f)) for f in texts]
        patterns = c.patterns
        hit = any(self._hit(patterns[i], f) for f, found in read for i in index.patterns.of(found))
        if not hit and c.combos:
            combos = self._combos(index, read, index.combos)
            if not c.combos_in_sentence or len(split := parts()) < 2:
                hit = next(combos, None) is not None
            else:
                # body site x symptom in one sentence; the qualifier may be in the other
                sentence_reads = [
                    [(f, seen.found(f)) for f in {seen.blank(c.ignore, x) for x in part}]
                    for part in split
                ]
                hit = any(
                    next(self._combos(index, r, [(frozenset(cb[:2]), cb[:2])]), None) is not None
                    for cb in combos
                    for r in sentence_reads
                )
        # An exception in the window silences the flag there; read only when the flag fired.
        if not hit or any(
            seen.may(u, f) and self._within_clause(u, f) for u in c.unless for f in forms
        ):
            return None
        return self._raised(c, c.flag.level, texts, seen)

    def _combos(
        self,
        index: _FlagIndex,
        read: list[tuple[str, set[str]]],
        combos: Sequence[tuple[frozenset[int], tuple[int, ...]]],
    ) -> Iterator[tuple[int, ...]]:
        """The combinations (as positions in `index.members`) every pattern of which matches one
        of the spellings in `read`; one of whose patterns can match none of them is not read."""
        members = index.members
        allowed = [(f, index.by_member.of(found)) for f, found in read]
        anywhere = set().union(*(ok for _, ok in allowed))
        for need, combo in combos:
            if need <= anywhere and all(
                any(self._hit(members[i], f) for f, ok in allowed if i in ok) for i in combo
            ):
                yield combo

    def _raised(self, c: _Compiled, level: Urgency, texts: set[str], seen: _Texts) -> Urgency:
        """`level`, raised by the flag's escalation patterns found in `texts`."""
        for up, patterns in c.escalate:
            if level == c.top:
                break
            if _RANK[up] < _RANK[level] and any(
                seen.may(p, f) and self._hit(p, f) for p in patterns for f in texts
            ):
                level = up
        return level

    @staticmethod
    def _within_clause(pattern: re.Pattern[str], text: str) -> bool:
        """An exception ("sick of planks") counts only inside one clause: "...shivery and sick.
        Exercises?" is not "sick exercises"."""
        return any(_CLAUSE not in m.group().split() for m in pattern.finditer(text))

    def _hit(self, pattern: re.Pattern[str], text: str) -> bool:
        for m in pattern.finditer(text):
            # The few words before the match, read from a bounded look-back (linear however
            # often a word repeats); a word the look-back cuts in half is dropped.
            start = max(0, m.start() - _LOOK_BACK)
            words = text[start : m.start()].split()
            if start > 0 and words and not text[start - 1].isspace():
                words = words[1:]
            if _CLAUSE in words:
                words = words[len(words) - words[::-1].index(_CLAUSE) :]
            before = words[-_NEGATION_WINDOW:]
            if "or" in before or "nor" in before:
                # A negated list reaches its later items: "no problems with wee or poo"
                before = words[-2 * _NEGATION_WINDOW :]
            if not self._negations.intersection(before) and not self._denied_at(text, m.end()):
                return True
        return False

    def _denied_at(self, text: str, end: int) -> bool:
        """What follows a match ending at `end` denies it (safety.yaml `denied_after`)."""
        after = text[end : end + _LOOK_AHEAD]
        return any(p.match(after) for p in self._denied_after)

    # ------------------------------------------------------------------ rules + model

    def assess(self, text: str) -> Assessment:
        """The one triage decision for a message: flag (with its level), screen, or nothing."""
        listed = _listed(text)
        undenied = _undenied(text, listed)
        ss = sentences(undenied)
        hits = self._rule_hits_in(text, ss, most_urgent=True)
        model, cfg = self.model, self.safety.model
        score, topic = 0.0, None
        made: list[str] = []

        def cleaned() -> str:
            """`clean(text)`, made once: three of the checks below read it."""
            if not made:
                made.append(clean(text))
            return made[0]

        if (
            model is not None
            and cfg is not None
            and (hits or self._worth_scoring(cleaned(), cfg.min_words))
        ):
            # (The message's sentences, each negated list denied item by item; the checklist
            # answers the rules drop are kept for the model.)
            score, topic = model.score_sentences(ss if undenied is listed else sentences(listed))
        if hits:
            level = min((lv for _, lv in hits), key=_RANK.__getitem__)
            flags = tuple(f for f, lv in hits if lv == level)
            vetoed = (
                model is not None
                and cfg is not None
                and score < cfg.veto
                and not self._foreign(cleaned(), text, ss)
            )
            if vetoed or self._reassured(cleaned(), not all(f.history for f in flags)):
                # The model is confident this is not a red flag: ask rather than alarm. The
                # rule's flags stay on the assessment: when the question cannot be asked again
                # so soon, the router gives their reply rather than nothing.
                return Assessment(Outcome.SCREEN, level, flags, score=score, by_rule=True)
            return Assessment(Outcome.FLAG, level, flags, 1.0, by_rule=True)
        if model is None or cfg is None or (topic is None and score == 0.0):
            return NOTHING
        c = self._by_id.get(topic) if topic is not None else None
        if score >= cfg.sure and c is not None and self._mentioned(c, undenied):
            if self._reassured(cleaned(), not c.flag.history):
                # "treated for cancer ten years ago, cancer free since": ask, as for a rule's hit
                return Assessment(Outcome.SCREEN, score=score)
            return Assessment(Outcome.FLAG, self._escalated(c, text), (c.flag,), score)
        if score >= cfg.screen:
            return Assessment(Outcome.SCREEN, score=score)
        return Assessment(Outcome.NONE, score=score)

    def _foreign(self, cleaned: str, text: str, ss: list[str]) -> bool:
        """Written in another language: a rule of one fires, and under a third of the words are
        English function words ("the", "my", "and": bot.core.text.STOPWORDS). `cleaned` is
        `clean(text)`."""
        if self._languages is None:
            return False
        words = [w for w in cleaned.split() if not w.isdigit()]
        english = sum(w in STOPWORDS for w in words)
        if 3 * english >= len(words):
            return False
        return bool(self._languages_triage()._rule_hits_in(text, ss))

    def _languages_triage(self) -> Triage:
        assert self._languages is not None
        if not self._languages_built:
            self._languages_built.append(Triage.build(self._languages))
        return self._languages_built[0]

    def rule_patterns(self) -> list[re.Pattern[str]]:
        """Every pattern the rules prefilter by its literals (bot.core.literals), those of the
        other languages' rule set included: what `backbot kb literals` keeps the analysis of."""
        out = list(self._index.needs)
        if self._languages is not None:
            out += self._languages_triage()._index.needs
        return list(dict.fromkeys(out))

    def _escalated(self, c: _Compiled, text: str) -> Urgency:
        """The flag's level, raised by its escalation patterns anywhere in one window ("both
        legs" makes the model's leg-weakness flag an emergency)."""
        level: Urgency = c.flag.level
        if not c.escalate:
            return level
        seen = _Texts(self._index)
        for window in windows(text):
            t = clean(_CLAUSE_BREAK.sub(f" {_CLAUSE} ", window.lower()))
            level = self._raised(c, level, {t, fold(t)}, seen)
        return level

    def _reassured(self, cleaned: str, recovered: bool = True) -> bool:
        """The message (`cleaned`: `clean(text)`) says the back is fine or the symptom has passed
        (safety.yaml `reassured`), or, with `recovered`, that the episode is over (`recovered`)."""
        t = fold(cleaned)
        return any(p.search(t) for p in self._reassurances) or (
            recovered and any(p.search(t) for p in self._recoveries)
        )

    def _mentioned(self, c: _Compiled, undenied: str) -> bool:
        """The message (denied clauses left out, the flag's idioms blanked) mentions what the
        model's flag is about, and not only to deny it after naming it: "it took my breath
        away" says nothing about breathing, "coughing and sneezing are fine" nothing of pain on
        coughing. (A negation before the word is not read: in "can't feel myself peeing" it is
        the symptom.)"""
        if not c.model_needs:
            return True
        t = clean(_CLAUSE_BREAK.sub(f" {_CLAUSE} ", undenied.lower()))
        for x in {t, fold(t)}:
            idiom = bytearray(len(x))  # 1 where one of the flag's idioms matched
            for p in c.ignore:
                for m in p.finditer(x):
                    idiom[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
            for p in c.model_needs:
                for m in p.finditer(x):
                    if not any(idiom[m.start() : m.end()]) and not self._denied_at(x, m.end()):
                        return True
        return False

    def _worth_scoring(self, t: str, min_words: int) -> bool:
        """Enough words, and at least one about the body or a symptom (`t`: the clean text)."""
        if len(t.split()) < min_words:
            return False
        ignore, needs = self._gate
        t = _blank(ignore, t)
        return not needs or any(p.search(t) for p in needs)

    def flag(self, flag_id: str) -> RedFlag | None:
        c = self._by_id.get(flag_id)
        return c.flag if c else None
