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
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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


def _marked_words(text: str) -> list[str]:
    """Words of clean text; those after a negator in the same clause carry a "!" mark."""
    out: list[str] = []
    for clause in _CLAUSES.split(text[:MAX_WINDOW_CHARS].lower()):
        negated = False
        for w in clean(clause).split():
            out.append(f"!{w}" if negated else w)
            negated = negated or w in _NEGATORS
    return out


def features(text: str) -> list[str]:
    """Character n-grams inside word boundaries (3-5) and word uni- and bigrams of clean text;
    word features inside a denied clause are marked, so "no numbness" is not "numbness"."""
    marked = _marked_words(text)
    # Character n-grams of the words not denied; denied words count only as marked words.
    words = [w for w in marked if not w.startswith("!")]
    out: list[str] = []
    lo, hi = CHAR_NGRAMS
    for w in words:
        padded = f" {w} "
        size = len(padded)
        for n in range(lo, hi + 1):
            if n > size:
                break
            out.extend(padded[i : i + n] for i in range(size - n + 1))
    out.extend(f"w:{w}" for w in marked if len(w) > 1)
    out.extend(f"w:{a} {b}" for a, b in itertools.pairwise(marked))
    return out


@dataclass(frozen=True, slots=True)
class TriageModel:
    """`score(windows)` -> (highest probability of a red flag, the flag id it points at)."""

    vocabulary: dict[str, int]
    idf: npt.NDArray[np.float32]
    coef: npt.NDArray[np.float32]  # (classes, features)
    intercept: npt.NDArray[np.float32]
    classes: tuple[str, ...]
    meta: dict[str, object]

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
        counts = Counter(i for f in features(text) if (i := self.vocabulary.get(f)) is not None)
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
        best, topic = 0.0, None
        none = self.classes.index(NONE_CLASS)
        for w in windows:
            p = self.probabilities(w)
            flag_p = 1.0 - float(p[none])
            if flag_p > best:
                p[none] = -1.0
                best, topic = flag_p, self.classes[int(p.argmax())]
        return best, topic
