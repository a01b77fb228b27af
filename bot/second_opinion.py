"""The red-flag second opinion: a small text classifier behind the patterns.

On wording nobody has seen, the red-flag patterns (bot/core/safety.py) catch 70-85% of red flags
(first-contact measurements on independently written sets). This classifier, trained on every
labelled message in knowledge/red_flag_examples.jsonl (plus our own FAQ phrasings as ordinary
questions), catches much of the rest. It can only
add a flag: the dialogue core asks it about messages the patterns left alone, and a "yes" puts
a see-a-doctor reply in front of the normal answer.

Character and word n-grams (TF-IDF) into a logistic regression, from scikit-learn. Training
takes about a second and happens once per process and knowledge base (cached), on the first
message that needs it.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from bot.core.text import clean
from bot.kb import KnowledgeBase

logger = logging.getLogger(__name__)

# Regularisation, chosen by leave-one-set-out validation over the fresh red-flag sets.
C = 4.0
# A red flag takes a symptom and its context; on one to three words the opinion is noise
# ("back pain" alone is the commonest message of all).
MIN_WORDS = 4


class RedFlagClassifier:
    """`classifier(text)` is True when the message probably describes a red flag."""

    def __init__(self, examples: Sequence[tuple[str, bool]], threshold: float) -> None:
        self.threshold = threshold
        self._examples = examples
        self._model: Any = None  # trained on first use: `backbot ask "hi"` never needs it

    def _fit(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        model = make_pipeline(
            make_union(
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True
                ),
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
            ),
            LogisticRegression(C=C, class_weight="balanced", max_iter=2000),
        )
        model.fit([clean(t) for t, _ in self._examples], [int(f) for _, f in self._examples])
        return model

    def probability(self, text: str) -> float:
        if self._model is None:
            self._model = self._fit()
        return float(self._model.predict_proba([clean(text)])[0, 1])

    def __call__(self, text: str) -> bool:
        return len(clean(text).split()) >= MIN_WORDS and self.probability(text) >= self.threshold


@lru_cache(maxsize=4)
def _trained(examples: tuple[tuple[str, bool], ...], threshold: float) -> RedFlagClassifier:
    return RedFlagClassifier(examples, threshold)


def for_kb(kb: KnowledgeBase) -> RedFlagClassifier | None:
    """The classifier the knowledge base configures (trained once per process), or None."""
    config = kb.safety.second_opinion
    if config is None or not kb.red_flag_examples:
        return None
    # Our own FAQ phrasings and exercise names are ordinary questions: they teach the model
    # that everyday back-pain talk is not an emergency.
    ordinary = tuple(
        (t, False)
        for t in (
            *(a for e in kb.faq for a in (e.question, *e.alternates)),
            *(a for x in kb.exercises.values() for a in (x.name, *x.aliases)),
        )
    )
    if importlib.util.find_spec("sklearn") is None:  # a dependency; say so if it is missing
        logger.warning("scikit-learn is not installed: red-flag second opinion disabled")
        return None
    return _trained(kb.red_flag_examples + ordinary, config.threshold)
