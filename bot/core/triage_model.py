"""The learned red-flag model at run time: a linear model over character and word n-grams.

It is trained at build time (`backbot triage build`, bot/triage_train.py, scikit-learn) and
shipped as one `.npz` file in the knowledge base; here it is only scored, with numpy and a
dictionary lookup per n-gram, so a window costs tens of microseconds and nothing trains on the
event loop. `features()` is the one definition of the n-grams: training hands it to
scikit-learn's TfidfVectorizer as the analyzer, so both sides see exactly the same features.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from bot.core.text import clean

NONE_CLASS = "none"
CHAR_NGRAMS = (3, 5)
MAX_WINDOW_CHARS = 1000  # a window longer than this is scored on its first 1,000 characters


# Words that deny what follows in their clause ("no numbness", "without any pain"). "can't" is
# not one: "can't pee" is the symptom itself.
_NEGATORS = frozenset(
    [
        "no",
        "not",
        "without",
        "never",
        "nor",
        "neither",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "havent",
        "hasnt",
        "none",
    ]
)
_CLAUSES = re.compile(r"[,.;:!?()\n\u2013\u2014]+|\s-+\s|\bbut\b")


_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^\w]+|_")


def _clean_words(clause: str) -> list[str]:
    """`clean(clause).split()`; an ASCII clause, already lowercase, needs no Unicode folding."""
    if clause.isascii():
        return _NON_WORD.sub(" ", _APOSTROPHES.sub("", clause)).split()
    return clean(clause).split()


def _marked_words(text: str) -> list[str]:
    """Words of clean text; those after a negator in the same clause carry a "!" mark."""
    out: list[str] = []
    for clause in _CLAUSES.split(text[:MAX_WINDOW_CHARS].lower()):
        negated = False
        for w in _clean_words(clause):
            out.append(f"!{w}" if negated else w)
            negated = negated or w in _NEGATORS
    return out


# Stand-ins for a clause break and a sentence break in `_marked_sentences`: word characters, so
# cleaning keeps them as words of their own; a text holding either is read sentence by sentence.
_CLAUSE_MARK = "qxclauseqx"
_SENTENCE_MARK = "qxsentenceqx"
# Either marker as a word of its own (written to begin with "qx", so the regex engine looks
# for that string rather than trying every word).
_MARKS = re.compile(r"(qx(?<=\bqx)(?:clause|sentence)qx)\b")
# `_NON_WORD` as the words of the text see it: a run of spaces is left as it is.
_NON_WORD_OR_SPACE = re.compile(r"[^\w ]|_")


def _marked_sentences(sentences: Sequence[str]) -> list[list[str]]:
    """`[_marked_words(s) for s in sentences]`, cleaning the ASCII sentences in one pass: sentence
    and clause breaks become marker words, so the words and the clauses they fall in are the
    same; a break the join makes at a sentence's edge has no words after it in that sentence,
    or none before it, so it changes no mark. Other sentences are read one by one."""
    lowered = [s[:MAX_WINDOW_CHARS].lower() for s in sentences]
    plain = [k for k, s in enumerate(lowered) if s.isascii()]
    joined = f" {_SENTENCE_MARK} ".join(lowered[k] for k in plain)
    if not plain or _CLAUSE_MARK in joined or joined.count(_SENTENCE_MARK) != len(plain) - 1:
        return [_marked_words(s) for s in sentences]
    out: list[list[str]] = [[] for _ in sentences]
    if _CLAUSE_MARK in _APOSTROPHES.sub("", joined):  # typed as "qxclause'qx"
        return [_marked_words(s) for s in sentences]
    words = _NON_WORD_OR_SPACE.sub(
        " ", _APOSTROPHES.sub("", _CLAUSES.sub(f" {_CLAUSE_MARK} ", joined))
    )
    if words.split().count(_SENTENCE_MARK) != len(plain) - 1:  # a marker typed with an apostrophe
        return [_marked_words(s) for s in sentences]
    at = iter(plain)
    cur = out[next(at)]
    negators = _NEGATORS
    # The text between two markers is one clause: read word by word only when it holds a
    # negator (the words after it are marked), else taken whole.
    for k, part in enumerate(_MARKS.split(words)):
        if k % 2:  # a marker
            if part == _SENTENCE_MARK:
                cur = out[next(at)]
            continue
        clause = part.split()
        if negators.isdisjoint(clause):
            cur.extend(clause)
            continue
        negated = False
        for w in clause:
            cur.append(f"!{w}" if negated else w)
            negated = negated or w in negators
    if len(plain) < len(sentences):
        done = set(plain)
        for k, s in enumerate(sentences):
            if k not in done:
                out[k] = _marked_words(s)
    return out


def _char_grams(word: str) -> list[str]:
    padded = f" {word} "
    size = len(padded)
    lo, hi = CHAR_NGRAMS
    return [padded[i : i + n] for n in range(lo, min(hi, size) + 1) for i in range(size - n + 1)]


def features(text: str) -> list[str]:
    """Character n-grams inside word boundaries (3-5) and word uni- and bigrams of clean text;
    word features inside a denied clause are marked, so "no numbness" is not "numbness"."""
    marked = _marked_words(text)
    # Character n-grams of the words not denied; denied words count only as marked words.
    words = [w for w in marked if not w.startswith("!")]
    out: list[str] = [g for w in words for g in _char_grams(w)]
    out.extend(f"w:{w}" for w in marked if len(w) > 1)
    out.extend(f"w:{a} {b}" for a, b in itertools.pairwise(marked))
    return out


MAX_CACHED_WORDS = 50_000  # the per-word n-gram cache is cleared when it grows past this


@dataclass(frozen=True, slots=True)
class TriageModel:
    """`score(windows)` -> (highest probability of a red flag, the flag id it points at)."""

    vocabulary: dict[str, int]
    idf: npt.NDArray[np.float32]
    coef: npt.NDArray[np.float32]  # (classes, features)
    intercept: npt.NDArray[np.float32]
    classes: tuple[str, ...]
    meta: dict[str, object]
    _grams: dict[str, tuple[int, ...]] = field(default_factory=dict)  # word -> n-gram ids
    # A marked word -> the ids of its features but bigrams, as int64 bytes (`_ids_array`).
    _word_ids: dict[str, bytes] = field(default_factory=dict)
    # `coef` as float64, made on first use: the rows `score_sentences` takes are the same values.
    _coef64: list[npt.NDArray[np.float64]] = field(default_factory=list)
    _bigrams: dict[tuple[str, str], int] = field(default_factory=dict)  # (`_bigram_ids`)

    @classmethod
    def load(cls, path: Path) -> TriageModel:
        with np.load(path, allow_pickle=False) as z:
            vocab = [str(v) for v in z["vocabulary"].tolist()]
            return cls(
                vocabulary={v: i for i, v in enumerate(vocab)},
                idf=z["idf"].astype(np.float32),
                coef=np.ascontiguousarray(z["coef"].astype(np.float32).T),
                intercept=z["intercept"].astype(np.float32),
                classes=tuple(str(c) for c in z["classes"].tolist()),
                meta=json.loads(str(z["meta"])),
            )

    def probabilities(self, text: str) -> npt.NDArray[np.float64]:
        """Class probabilities of one window (softmax of the linear scores)."""
        return self._softmax(self._counts(_marked_words(text)))

    def _counts(self, marked: list[str]) -> Counter[int]:
        """The vocabulary ids of `features()` of these marked words, counted."""
        return Counter(self._ids(marked))

    def _ids(self, marked: list[str]) -> list[int]:
        """The vocabulary ids of `features()` of these marked words, with repeats (the same
        multiset; each word's character n-grams are looked up once and cached)."""
        out: list[int] = []
        vocab, grams = self.vocabulary, self._grams
        for w in marked:
            if not w.startswith("!"):
                ids = grams.get(w)
                if ids is None:
                    if len(grams) >= MAX_CACHED_WORDS:
                        grams.clear()
                    ids = grams[w] = tuple(
                        i for g in _char_grams(w) if (i := vocab.get(g)) is not None
                    )
                out.extend(ids)
            if len(w) > 1 and (i := vocab.get(f"w:{w}")) is not None:
                out.append(i)
        for a, b in itertools.pairwise(marked):
            if (i := vocab.get(f"w:{a} {b}")) is not None:
                out.append(i)
        return out

    def _ids_array(self, marked: list[str]) -> npt.NDArray[np.int64]:
        """The multiset of `_ids(marked)` in another order, as an array (each word's ids are
        looked up once and cached as bytes): for `score_sentences`, which sorts them."""
        vocab, cache = self.vocabulary, self._word_ids
        chunks: list[bytes] = []
        for w in marked:
            ids = cache.get(w)
            chunks.append(self._word_bytes(w) if ids is None else ids)
        pairs = [
            i for a, b in itertools.pairwise(marked) if (i := vocab.get(f"w:{a} {b}")) is not None
        ]
        chunks.append(np.array(pairs, dtype=np.int64).tobytes())
        return np.frombuffer(b"".join(chunks), dtype=np.int64)

    def _word_bytes(self, w: str) -> bytes:
        """The ids of a marked word's features but bigrams, as int64 bytes, cached."""
        vocab, cache = self.vocabulary, self._word_ids
        if len(cache) >= MAX_CACHED_WORDS:
            cache.clear()
        got: list[int] = []
        if not w.startswith("!"):  # a denied word counts only as a marked word
            got = [i for g in _char_grams(w) if (i := vocab.get(g)) is not None]
        if len(w) > 1 and (i := vocab.get(f"w:{w}")) is not None:
            got.append(i)
        ids = cache[w] = np.array(got, dtype=np.int64).tobytes()
        return ids

    def _softmax(self, counts: Counter[int]) -> npt.NDArray[np.float64]:
        logits = self.intercept.astype(np.float64)
        if counts:
            idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(
                (1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts)
            )
            vals = tf * self.idf[idx]
            norm = float(np.sqrt(vals @ vals))
            if norm > 0:
                logits = logits + (vals / norm) @ self.coef[idx]
        e = np.exp(logits - logits.max())
        probs: npt.NDArray[np.float64] = e / e.sum()
        return probs

    def score(self, windows: Sequence[str]) -> tuple[float, str | None]:
        """The highest red-flag probability over the windows, and the flag that window points at."""
        return self._best(self.probabilities(w) for w in windows)

    def score_sentences(self, sentences: Sequence[str]) -> tuple[float, str | None]:
        """`score` over each sentence and each pair of neighbours, in linear time and in one
        batch. Each sentence's features are counted once, and numpy scores them all at once; a
        pair's features are its two sentences' plus the word bigram that joins them, so its
        linear score and squared norm are its sentences' sums, corrected only for the features
        both sentences hold and for that bigram (their counts add up: 1 + log(count) does not)."""
        if not sentences:
            return 0.0, None
        marked = _marked_sentences(sentences)
        n, size = len(marked), len(self.vocabulary)
        # Every word of every sentence, one after another, and the sentence of each.
        flat = list(itertools.chain.from_iterable(marked))
        counts = np.fromiter(map(len, marked), dtype=np.int64, count=n)
        of_word = np.repeat(np.arange(n, dtype=np.int64), counts)
        # Each word's ids but bigrams (`_word_bytes`, cached), one after another.
        got = list(map(self._word_ids.get, flat))
        if None in got:
            new = itertools.compress(flat, map(operator.is_, got, itertools.repeat(None)))
            made = {w: self._word_bytes(w) for w in set(new)}
            got = list(map(made.get, flat, got))
        chunks = cast("list[bytes]", got)  # (no None is left)
        sizes = np.fromiter(map(len, chunks), dtype=np.int64, count=len(chunks)) // 8
        # The word bigram of each two neighbouring words: inside a sentence, or the one that
        # joins two neighbouring sentences (across an empty sentence, none).
        bigrams = self._bigram_ids()
        grams = np.fromiter(
            map(bigrams.get, itertools.pairwise(flat), itertools.repeat(-1)),
            dtype=np.int64,
            count=max(len(flat) - 1, 0),
        )
        left, right = of_word[:-1], of_word[1:]
        inner = (right == left) & (grams >= 0)
        joins = np.full(max(n - 1, 0), -1, dtype=np.int64)
        across = (right == left + 1) & (grams >= 0)
        joins[left[across]] = grams[across]
        each = np.concatenate((np.frombuffer(b"".join(chunks), dtype=np.int64), grams[inner]))
        sent = np.concatenate((np.repeat(of_word, sizes), left[inner]))
        if not self._coef64:
            self._coef64.append(self.coef.astype(np.float64))
        coef = self._coef64[0]
        # Each sentence's features with their counts, in order of sentence then feature.
        keys, tally = np.unique(sent * size + each, return_counts=True)
        s_of, f_of = keys // size, keys % size
        vals = (1.0 + np.log(tally)) * self.idf[f_of]
        raw = np.zeros((2 * n - 1, len(self.classes)))  # window k < n: sentence k; n + k: k, k+1
        squares = np.zeros(2 * n - 1)
        if keys.size:
            starts = np.flatnonzero(np.r_[True, s_of[1:] != s_of[:-1]])
            raw[s_of[starts]] = np.add.reduceat(coef.take(f_of, axis=0) * vals[:, None], starts)
            squares[:n] = np.bincount(s_of, weights=vals * vals, minlength=n)
        if n > 1:
            raw[n:] = raw[: n - 1] + raw[1:n]
            squares[n:] = squares[: n - 1] + squares[1:n]
            self._correct_pairs(keys, tally, joins, raw[n:], squares[n:], coef)
        logits = np.tile(self.intercept.astype(np.float64), (2 * n - 1, 1))
        scored = squares > 0
        logits[scored] += raw[scored] / np.sqrt(squares[scored])[:, None]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        return self._best(list(probs))

    def _correct_pairs(
        self,
        keys: npt.NDArray[np.int64],
        tally: npt.NDArray[np.int64],
        joins: npt.NDArray[np.int64],
        raw: npt.NDArray[np.float64],
        squares: npt.NDArray[np.float64],
        coef: npt.NDArray[np.float64],
    ) -> None:
        """Turn the sums of two neighbouring sentences' scores and squared norms (`raw`,
        `squares`, pair k: sentences k and k + 1) into the pair's: a feature counted in both,
        or the bigram joining them (`joins`, -1: none), counts once, with the counts added.
        `keys` (sentence * vocabulary size + feature, sorted) and `tally` count each sentence's
        features."""
        size = len(self.vocabulary)

        def count(where: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
            """The count of each key in `where` (0: absent)."""
            if not keys.size:
                return np.zeros(where.size)
            at = np.minimum(np.searchsorted(keys, where), keys.size - 1)
            return np.where(keys[at] == where, tally[at], 0).astype(np.float64)

        # A feature of sentence k that sentence k + 1 holds too (keys + size: the same feature,
        # one sentence on), and each bigram joining k and k + 1: pair k * size + feature.
        shared = keys[count(keys + size) > 0]
        joined = np.flatnonzero(joins >= 0)
        rows, extra = np.unique(
            np.concatenate((shared, joined * size + joins[joined])), return_inverse=True
        )
        if not rows.size:
            return
        added = np.bincount(extra, weights=np.r_[np.zeros(shared.size), np.ones(joined.size)])
        first, second = count(rows), count(rows + size)
        pair, feature = rows // size, rows % size
        idf = self.idf[feature]

        def value(c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            out: npt.NDArray[np.float64] = np.where(
                c > 0, (1.0 + np.log(np.maximum(c, 1))) * idf, 0.0
            )
            return out

        both = value(first + second + added)
        one, other = value(first), value(second)
        starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        delta = coef.take(feature, axis=0) * (both - one - other)[:, None]
        raw[pair[starts]] += np.add.reduceat(delta, starts)
        squares += np.bincount(pair, weights=both**2 - one**2 - other**2, minlength=raw.shape[0])

    def _bigram_ids(self) -> dict[tuple[str, str], int]:
        """The vocabulary's word bigrams ("w:a b") by their two words, made on first use."""
        if not self._bigrams:
            for key, i in self.vocabulary.items():
                if key.startswith("w:") and len(words := key[2:].split(" ")) == 2:
                    self._bigrams[(words[0], words[1])] = i
        return self._bigrams

    def _best(self, probs: Iterable[npt.NDArray[np.float64]]) -> tuple[float, str | None]:
        best, topic = 0.0, None
        none = self.classes.index(NONE_CLASS)
        for p in probs:
            flag_p = 1.0 - float(p[none])
            if flag_p > best:
                p[none] = -1.0
                best, topic = flag_p, self.classes[int(p.argmax())]
        return best, topic
