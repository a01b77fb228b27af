"""FAQ retrieval: keyword overlap (IDF-weighted, typo-tolerant) plus rapidfuzz similarity.

Every FAQ question, its alternates and every exercise name and alias become "choices" pointing at
a topic id. A query is normalised once; candidate choices come from an inverted index (so the
cost grows with the matching choices, not the whole knowledge base), then the shortlisted ones
are scored with rapidfuzz and the best score per topic decides: answer, suggest or fall back.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.core.text import Normalizer, clean, stem, tokens


# Weights and thresholds tuned on tests/data/dev_questions.jsonl with `backbot kb eval`.
@dataclass(frozen=True, slots=True)
class Tuning:
    """How retrieval scores and decides. Scores are in 0..1."""

    w_query: float = 0.40  # share of the query's (IDF-weighted) words the choice contains
    w_doc: float = 0.10  # share of the choice's words the query contains
    w_fuzzy: float = 0.10  # rapidfuzz token_sort_ratio of the two word lists
    w_topic: float = 0.40  # share of the query's words found anywhere in the topic's phrasings
    unknown_idf: float = 0.9  # weight of a word the KB never uses, as a share of the max IDF
    unknown_cap: int = 2  # at most this many unknown words count (long messages ramble)
    query_cap: float = 4.0  # a query weighs at most this many median words (long messages)
    answer_at: float = 0.48  # 0.50 -> 0.48 (2026-12-02): every dev and holdout set up or equal
    suggest_at: float = 0.45
    strong_at: float = 0.85  # answer even without a domain word at or above this
    overrides_off_topic_at: float = 0.9
    howto_bonus: float = 0.10  # "how do I…" / "form" / "technique" favours exercise how-tos
    shadowed_penalty: float = 0.15  # an exercise named only inside a longer name ("side plank")
    other_exercise_penalty: float = 0.10  # the message names an exercise, the topic others


SHORTLIST = 40
PER_TOPIC = 4
_HOWTO = re.compile(
    r"\bhow (do i|do you|to|should i) (do|perform)\b|\bhow to\b|\b(form|technique|properly|correctly|step by step|cues?)\b"
    r"|\b(set ?up|do (it|them|this|these) right)\b|\bhow$"
)
COMMON_DF = 0.15  # words in more than this share of choices do not generate candidates


@dataclass(frozen=True, slots=True)
class Match:
    """A topic and how well the query matched it (0..1)."""

    topic: str
    score: float


@dataclass(frozen=True, slots=True)
class Result:
    """What retrieval concluded: `answer` is set above the answer threshold, else `suggestions` or neither."""

    answer: Match | None
    suggestions: tuple[Match, ...]
    in_domain: bool


class Retrieval(Protocol):
    """What the dialogue needs from retrieval; `Retriever` is the shipped one (TF-IDF and
    character n-grams over our phrasings). Another (embeddings, say) plugs in through
    `Dialogue(retriever=...)`."""

    def decide(self, text: str) -> Result:
        """An answer, suggestions, or nothing, for one message."""
        ...

    def mentions_back(self, text: str) -> bool:
        """Whether the message is about the back at all (for the fallback's wording)."""
        ...

    def about_something_else(self, text: str, min_words: int = 3) -> bool:
        """Whether a question is about something we don't cover (no back or training word)."""
        ...

    def unknown_words(self, text: str) -> int:
        """How many of a question's content words our phrasings never use ("itinerary")."""
        ...


@dataclass(frozen=True, slots=True)
class _Choice:
    topic: str
    text: str
    toks: frozenset[str]


# An age of 60 or more, said as a number ("im 68", "my mum is 74", "a 70 year old"), is the
# "older" of our phrasings ("in my 60s", "over 70" are synonyms of it): otherwise the bare number
# matches whichever phrasing happens to quote that age, whatever it is about.
_UNIT = r"(?!\s*(?:kg|kgs|kilos?|lbs?|pounds?|s|secs?|seconds?|mins?|minutes?|reps?|percent|cm|m|degrees|mg)\b)"
_AGE = re.compile(
    r"\b(?:im|i am|hes|he is|shes|she is|is|was|aged|age|at|turned|turning|now)\s+"
    r"(?:[6-9]\d|1[01]\d)\b" + _UNIT + r"|\b(?:[6-9]\d|1[01]\d)\s*(?:yo|y o|yrs? old|years? old)\b"
)
_NUMBER = re.compile(r"\d+")
_OLDER = "older"


def _ages(normalized: str) -> str:
    """Ages of 60 and over as the word "older" (see _AGE)."""
    if not any(c.isdigit() for c in normalized):
        return normalized
    return _AGE.sub(lambda m: _NUMBER.sub(_OLDER, m.group(0), count=1), normalized)


def _name_key(normalized: str) -> str:
    """Every word kept (so "why side planks" is not the name "side planks"), plurals folded."""
    return " ".join(stem(w) for w in normalized.split())


# Domain words that say nothing about training on their own ("I've tried for weeks").
_TIME_WORDS = frozenset(
    [
        "day",
        "days",
        "week",
        "weeks",
        "weekly",
        "month",
        "months",
        "year",
        "years",
        "time",
        "times",
        "today",
        "morning",
        "night",
        "hour",
        "hours",
        "minute",
        "minutes",
        # particles of exercise names ("pull up", "sit up") that say nothing alone ("clear up")
        "up",
        "down",
        "out",
        "off",
    ]
)


class Retriever:
    """Finds the knowledge-base topic a message asks about."""

    def __init__(
        self,
        choices: Iterable[tuple[str, str]],
        normalizer: Normalizer,
        domain_words: Iterable[str] = (),
        *,
        off_topic: Iterable[str] = (),
        not_back: Iterable[str] = (),
        back_words: Iterable[str] = (),
        exercise_names: Mapping[str, Sequence[str]] | None = None,
        tuning: Tuning | None = None,
    ) -> None:
        self.normalize = normalizer
        self._off_topic = [re.compile(p) for p in off_topic]
        names = exercise_names or {}
        self._howto_topics = frozenset(names)
        # A message that is just an exercise's name ("side planks") opens that exercise.
        self._by_name = {_name_key(normalizer(n)): topic for topic, ns in names.items() for n in ns}
        self._by_name.pop("", None)
        # Our own names that mention another body part ("knee to chest", "opposite arm leg
        # raise"): a message that uses one is not off-topic. Only those names: "wrist pain
        # from push-ups" names an exercise of ours, but the wrist is what it asks about.
        # Compared as content words, so "lift the opposite arm and leg" meets "opposite arm leg".
        phrases = sorted(
            {
                words
                for ns in names.values()
                for n in ns
                if (words := " ".join(tokens(normalizer(n))))
                and any(p.search(form) for form in (words, clean(n)) for p in self._off_topic)
            },
            key=len,
            reverse=True,
        )
        self._own = (
            re.compile(r"\b(" + "|".join(map(re.escape, phrases)) + r")\b") if phrases else None
        )
        # Every exercise name as content words, for `_shadowed` ("side plank" is not "plank").
        self._name_words = [
            (topic, " ".join(w))
            for topic, ns in names.items()
            for n in ns
            if (w := tokens(normalizer(n)))
        ]
        self._names_by_first: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for topic, name in self._name_words:
            self._names_by_first[name.split()[0]].append((topic, name))
        self._not_back = [re.compile(p) for p in not_back]
        self.tuning = tuning or Tuning()
        self._choices: list[_Choice] = []
        seen: set[tuple[str, str]] = set()
        first: dict[str, str] = {}
        for topic, raw in choices:
            text = _ages(normalizer(raw))
            if not text or (topic, text) in seen:
                continue
            seen.add((topic, text))
            self._choices.append(_Choice(topic, " ".join(tokens(text)), frozenset(tokens(text))))
            first.setdefault(topic, self._choices[-1].text)
        # The exercises each topic's first phrasing (an FAQ's question, an exercise's name) is
        # about: "Are good mornings risky?" is about good mornings, not about deadlifts.
        self._about = {t: self._named(f" {x} ") for t, x in first.items()}
        df: dict[str, int] = defaultdict(int)
        for c in self._choices:
            for t in c.toks:
                df[t] += 1
        n = max(len(self._choices), 1)
        self._idf = {t: math.log(1 + n / d) for t, d in df.items()}
        # Lightest phrasings first, so among equal overlaps the most specific one (an exercise's
        # own name) is met first: the shortlist's sort is stable.
        self._choices.sort(key=lambda c: sum(self._idf[t] for t in c.toks))
        postings: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self._choices):
            for t in c.toks:
                postings[t].append(i)
        # Arrays, so a query's overlap is summed in C (np.bincount), not one += per posting.
        self._postings = {t: np.array(ids, dtype=np.int32) for t, ids in postings.items()}
        self._topic_of = [c.topic for c in self._choices]
        # Each phrasing's own weight, summed once here rather than for every shortlisted choice
        # of every query (the same frozenset in the same order: the same float).
        self._weight = [sum(self._idf[t] for t in c.toks) or 1.0 for c in self._choices]
        self._common = {t for t, d in df.items() if d > COMMON_DF * n and n > 50}
        # Topic level: all phrasings of a topic pooled, with IDF over topics.
        self._bags: dict[str, set[str]] = defaultdict(set)
        for c in self._choices:
            self._bags[c.topic] |= c.toks
        tdf: dict[str, int] = defaultdict(int)
        for bag in self._bags.values():
            for t in bag:
                tdf[t] += 1
        nt = max(len(self._bags), 1)
        self._tidf = {t: math.log(1 + nt / d) for t, d in tdf.items()}
        self._unknown_tidf = self.tuning.unknown_idf * max(self._tidf.values(), default=1.0)
        self._median_idf = sorted(self._idf.values())[len(self._idf) // 2] if self._idf else 1.0
        self._median_tidf = sorted(self._tidf.values())[len(self._tidf) // 2] if self._tidf else 1.0
        self._vocab = sorted(self._idf)
        self._typos = _TypoIndex(self._vocab)
        self._unknown_idf = self.tuning.unknown_idf * max(self._idf.values(), default=1.0)
        self._domain = frozenset(tokens(" ".join(normalizer(w) for w in domain_words)))
        # The narrower list that overrides an off-topic match ("neck AND back pain" is ours).
        # Compared with the words as written, before synonyms: "six pack" becomes "core" and
        # "pullup" becomes "pull up", which would make "core" or "up" look like back words.
        self._back = frozenset(tokens(" ".join(clean(w) for w in back_words))) or self._domain
        self._correct = lru_cache(maxsize=4096)(self._correct_uncached)

    def _correct_uncached(self, tok: str) -> str | None:
        """Map an unknown word to a known one within a small edit distance (typos)."""
        if tok in self._idf:
            return tok
        if len(tok) < 5:
            return None
        # A typo is one slip (two in long words), a swap of neighbours counting as one:
        # "deadlfit" -> "deadlift", but "weather" is not "water".
        limit = 2 if len(tok) >= 8 else 1
        near = self._typos.candidates(tok, limit)  # every word within `limit`, in vocab order
        hit = process.extractOne(tok, near, scorer=OSA.distance, score_cutoff=limit)
        # Typos rarely change the first letter; requiring it keeps "night" from becoming "tight".
        if not hit or hit[0][0] != tok[0]:
            return None
        # In short words one changed letter is often another word ("stuff"/"stiff"); accept
        # only swapped, missing or extra letters there ("plnak" -> "plank").
        if len(tok) < 6 and len(hit[0]) == len(tok) and sorted(hit[0]) != sorted(tok):
            return None
        # A known word plus one more letter at the end is usually another word ("paint" is
        # not "pain", "planet" not "plane"), unless the letter is a doubled key ("plankk").
        if len(tok) < 8 and tok[:-1] == hit[0] and tok[-1] != tok[-2]:
            return None
        return str(hit[0])

    def _prepare(self, text: str) -> str:
        t = _ages(self.normalize(text))
        for p in self._not_back:
            t = p.sub(" ", t)
        return t

    def query_tokens(self, text: str) -> list[str]:
        """Content words of a message, typos corrected to KB words where clearly meant."""
        return [self._correct(t) or t for t in tokens(self._prepare(text))]

    def off_topic(self, text: str) -> bool:
        """About something we do not cover, with no word that ties it to the back."""
        t = self._prepare(text)
        raw = clean(text)
        if not any(p.search(t) or p.search(raw) for p in self._off_topic):
            return False
        if self._own is not None and self._own.search(" ".join(tokens(t))):
            return False
        return not self.mentions_back(text)

    def near_miss(self, text: str) -> bool:
        """ "Back" in a sense that is not the body ("back seats", "back up my phone", "back
        acne"), and nothing else in the message about the back or training it."""
        raw = clean(text)
        if not any(p.search(raw) for p in self._not_back):
            return False
        return self.about_something_else(text, min_words=0)

    def about_something_else(self, text: str, min_words: int = 3) -> bool:
        """At least `min_words` content words, none about the back or training it; or a
        question about a body part or topic we don't cover that names no back word ("what
        exercises help knee pain like this?" asked after "my back is fine, it's the knee"), or
        uses "back" only in another sense ("what treats back acne?")."""
        if min_words and (self.off_topic(text) or self.near_miss(text)):
            return True
        toks = self.query_tokens(text)
        if len(toks) < min_words or self.mentions_back(text):
            return False
        return not any(t in self._domain and t not in _TIME_WORDS and t != _OLDER for t in toks)

    def unknown_words(self, text: str) -> int:
        """How many distinct content words of `text` no phrasing of ours uses: "itinerary",
        "puppy", "deposit" say what a question is about when none of ours is."""
        return len({t for t in self.query_tokens(text) if t not in self._idf})

    def mentions_back(self, text: str) -> bool:
        """Uses a word about the back itself (spine, lumbar, back, ...), as written."""
        raw = clean(text)
        for p in self._not_back:
            raw = p.sub(" ", raw)
        return any(tok in self._back for tok in tokens(raw))

    def in_domain(self, text: str) -> bool:
        # An age alone ("a gift for a 70 year old") is not about training.
        return any(t in self._domain and t != _OLDER for t in self.query_tokens(text))

    def features(self, text: str) -> list[tuple[str, float, float, float, float]]:
        """Per shortlisted choice: (topic, query coverage, choice coverage, similarity, topic
        coverage). Separate from scoring so tools/tune_retrieval.py can tune the weights."""
        q = list(dict.fromkeys(self.query_tokens(text)))
        if not any(t in self._idf for t in q):
            return []
        # Words the KB never uses still count against coverage: "best biceps workout" is not
        # "best back workout" just because "workout" matches.
        unknown = min(sum(t not in self._idf for t in q), self.tuning.unknown_cap)
        q_weight = sum(self._idf.get(t, 0.0) for t in q) + unknown * self._unknown_idf
        qt_weight = sum(self._tidf.get(t, 0.0) for t in q) + unknown * self._unknown_tidf
        # A long message is not less relevant for saying more: cap how much a query weighs.
        q_weight = min(q_weight, self.tuning.query_cap * self._median_idf)
        qt_weight = min(qt_weight, self.tuning.query_cap * self._median_tidf)
        used = [t for t in q if t in self._postings and t not in self._common]
        if not used:  # only very common words: fall back to them
            used = [t for t in q if t in self._postings]
        shortlist = self._shortlist(used)
        q_text = " ".join(t for t in q if t in self._idf)
        q_set = set(q)
        topic_cover: dict[str, float] = {}
        out = []
        for i in shortlist:
            c = self._choices[i]
            shared = sum(self._idf[t] for t in q_set & c.toks)
            if c.topic not in topic_cover:
                bag = self._bags[c.topic]
                topic_cover[c.topic] = sum(self._tidf[t] for t in q_set & bag) / qt_weight
            out.append(
                (
                    c.topic,
                    shared / q_weight,
                    shared / self._weight[i],
                    fuzz.token_sort_ratio(q_text, c.text) / 100.0,
                    topic_cover[c.topic],
                )
            )
        return out

    def _shortlist(self, used: list[str]) -> list[int]:
        """The best-overlapping choices, at most PER_TOPIC per topic, so one word shared by
        hundreds of phrasings ("deadlift") still brings every topic that uses it; among equal
        overlaps the choice met first (by the query's first word it shares, then the lightest
        phrasing: an exercise's own name) goes first.

        The overlap of every candidate is one np.bincount over the words' postings (summed in
        query order, so the floats are those of a running sum); only the best few hundred are
        ordered, widening the cut, ties at its edge included, until the shortlist is full."""
        if not used:
            return []
        posts = [self._postings[t] for t in used]
        ids = np.concatenate(posts)
        weights = np.repeat([self._idf[t] for t in used], [len(p) for p in posts])
        summed = np.bincount(ids, weights, minlength=len(self._choices))
        first = np.empty(len(self._choices), dtype=np.int32)
        for pos in range(len(posts) - 1, -1, -1):  # the earliest word wins
            first[posts[pos]] = pos
        # Only the reached choices are looked at (ids), never the whole index; a choice reached
        # by several words appears once per word, which only makes a cut wider.
        vals = summed[ids]
        k = 4 * SHORTLIST
        while True:
            whole = k >= len(ids)
            if whole:
                top = _distinct(ids)
            else:
                edge = np.partition(vals, len(ids) - k)[len(ids) - k]  # the k-th largest
                top = _distinct(ids[vals >= edge])
            ranked = top[np.lexsort((top, first[top], -summed[top]))]
            out = self._per_topic(ranked.tolist())
            if len(out) == SHORTLIST or whole:
                return out
            k *= 4

    def _per_topic(self, ranked: list[int]) -> list[int]:
        taken: dict[str, int] = defaultdict(int)
        out: list[int] = []
        for i in ranked:
            topic = self._topic_of[i]
            if taken[topic] < PER_TOPIC:
                taken[topic] += 1
                out.append(i)
                if len(out) == SHORTLIST:
                    break
        return out

    def _named(self, padded: str) -> frozenset[str]:
        """The exercises whose name occurs in " content words " (spaces at both ends)."""
        return frozenset(
            t
            for w in set(padded.split())
            for t, n in self._names_by_first.get(w, ())
            if f" {n} " in padded
        )

    def names_exercise(self, text: str) -> bool:
        """Whether the message names one of our exercises ("pull ups", "good mornings")."""
        return bool(self._named(" " + " ".join(self.query_tokens(text)) + " "))

    def _shadowed(self, text: str) -> frozenset[str]:
        """Exercises the query names only inside another exercise's longer name: "side plank
        setup?" names the plank only as part of "side plank", so it is not the plank's how-to."""
        q = " " + " ".join(self.query_tokens(text)) + " "
        found = [(t, n) for t, n in self._name_words if f" {n} " in q]
        if len(found) < 2:
            return frozenset()
        return frozenset(
            t
            for t in {t for t, _ in found}
            if all(
                any(u != t and len(m) > len(n) and f" {n} " in f" {m} " for u, m in found)
                for x, n in found
                if x == t
            )
        )

    def search(self, text: str, limit: int = 3) -> list[Match]:
        """The best `limit` topics for a message, best first."""
        named = self._by_name.get(_name_key(self._prepare(text)))
        if named is not None:
            return [Match(named, 1.0)]
        tn = self.tuning
        howto = tn.howto_bonus if _HOWTO.search(self.normalize(text)) else 0.0
        best: dict[str, float] = {}
        shadowed = self._shadowed(text)
        # A message naming an exercise is not about a topic whose question names only others.
        asked = self._named(" " + " ".join(self.query_tokens(text)) + " ")
        for topic, cq, cd, sim, tc in self.features(text):
            score = tn.w_query * cq + tn.w_doc * cd + tn.w_fuzzy * sim + tn.w_topic * tc
            if topic in self._howto_topics:
                score += howto
            if topic in shadowed:
                score -= tn.shadowed_penalty
            about = self._about.get(topic)
            if asked and about and not asked & about:
                score -= tn.other_exercise_penalty
            if score > best.get(topic, 0.0):
                best[topic] = score
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:limit]
        return [Match(t, round(min(s, 1.0), 4)) for t, s in ranked]

    def decide(self, text: str) -> Result:
        """Answer, suggestions or nothing, by the thresholds."""
        matches = self.search(text)
        tn = self.tuning
        top = matches[0].score if matches else 0.0
        # A description that closely matches one of our own phrasings outweighs an off-topic
        # word: "lift the opposite arm and leg on all fours" is the bird dog, not an arm workout.
        # Short messages never do: "leg raise" is not the bird dog's "opposite arm leg raise".
        described = top >= tn.overrides_off_topic_at and len(set(self.query_tokens(text))) >= 4
        if not described and (self.off_topic(text) or self.near_miss(text)):
            return Result(None, (), False)
        domain = self.in_domain(text)
        if top >= tn.answer_at and (domain or top >= tn.strong_at):
            return Result(matches[0], tuple(matches[1:]), domain)
        sugg = tuple(m for m in matches if m.score >= tn.suggest_at)
        return Result(None, sugg if domain else (), domain)


def _distinct(ids: np.ndarray[Any, np.dtype[np.int32]]) -> np.ndarray[Any, np.dtype[np.int32]]:
    """The distinct ids, ascending (np.unique's hash path is several times slower here)."""
    ids = np.sort(ids)
    if len(ids) < 2:
        return ids
    keep = np.empty(len(ids), dtype=bool)
    keep[0] = True
    np.not_equal(ids[1:], ids[:-1], out=keep[1:])
    return ids[keep]


class _TypoIndex:
    """Which known words a typo could be, found without comparing it with the whole vocabulary.

    Within an edit distance d (a swap of neighbours counting as one), two words share at least
    max(len) - d characters (as multisets): each edit leaves every other character in place. A
    per-character index sums the shared characters of every word at once; only the words that
    pass are compared exactly, so a typo costs a few small array sums, not 50,000 comparisons.
    """

    def __init__(self, vocab: list[str]) -> None:
        self._vocab = vocab
        self._lens = np.array([len(w) for w in vocab], dtype=np.int16)
        by_char: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for j, w in enumerate(vocab):
            for ch, n in Counter(w).items():
                ids, counts = by_char[ch]
                ids.append(j)
                counts.append(n)
        self._chars = {
            ch: (np.array(ids, dtype=np.int32), np.array(counts, dtype=np.int16))
            for ch, (ids, counts) in by_char.items()
        }

    def candidates(self, tok: str, limit: int) -> list[str]:
        """Every word that may be within `limit` edits of `tok` (a superset), in vocab order."""
        hits = [(h, n) for ch, n in Counter(tok).items() if (h := self._chars.get(ch))]
        if not hits:
            return []
        ids = np.concatenate([h[0] for h, _ in hits])
        counts = np.concatenate([np.minimum(h[1], n) for h, n in hits])
        shared = np.bincount(ids, counts, minlength=len(self._vocab))[ids]
        near = ids[shared >= np.maximum(self._lens[ids], len(tok)) - limit]
        return [self._vocab[j] for j in _distinct(near).tolist()]


def kb_choices(
    faq: Sequence[tuple[str, str, Sequence[str]]],
    exercises: Sequence[tuple[str, str, Sequence[str]]],
) -> list[tuple[str, str]]:
    """Flatten FAQ (id, question, alternates) and exercises (id, name, aliases) into choices."""
    out: list[tuple[str, str]] = []
    for topic, question, alternates in faq:
        out.append((topic, question))
        out.extend((topic, a) for a in alternates)
    for topic, name, aliases in exercises:
        out.extend((topic, n) for n in (name, *aliases))
        # One how-to phrasing per exercise: one per alias would make "form" and "technique"
        # so common that they stop finding candidates at all.
        out.append((topic, f"how to do the {name} exercise form technique"))
    return out
