"""Hybrid retrieval (opt-in, RETRIEVAL=hybrid): the lexical `Retriever` and sentence-embedding
similarity together. The embedding side comes in through the `Similarity` port, so the core
never imports a model: the composition root (bot/app.py) plugs one in (bot/phrase_index.py).

A message's candidates are the lexical top 5 and the embedding top 5; each is scored by the
mean of its lexical score and its best cosine similarity to one of the topic's phrasings, and
the best answers at or above `answer_at`. The lexical rules that decline (hand-written
off-topic patterns, "back" in another sense) still decline first, and a message whose best
similarity to any phrasing is below `decline_below` is declined too: nothing in the knowledge
base means anything like it, whatever words it shares with one entry. Thresholds were chosen
on the dev sets only: answer_at on dev_questions.jsonl (tools/retrieval_compare.py),
decline_below on dev2/dev3/dev4 (tools/hybrid_decline_sweep.py).

When the similarity side is not ready (the model still loading) a message gets the lexical
decision, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.core.answers import Match, Result, Retriever

CANDIDATES = 5


class Similarity(Protocol):
    """Cosine similarity of a message to the knowledge base's topics."""

    def similarities(self, text: str) -> Mapping[str, float] | None:
        """Each topic's best similarity to the text (-1..1), or None when not ready yet."""
        ...


@dataclass(frozen=True, slots=True)
class HybridTuning:
    answer_at: float = 0.50
    # The best similarity to any phrasing below which a message is declined: swept on the
    # training-side dev2/dev3/dev4 (tools/hybrid_decline_sweep.py), 0.45 the grid's best and
    # its top (questions good 86.3% at 0 and at 0.45, off-topic declined 78.6 -> 87.9%).
    decline_below: float = 0.45
    lexical_weight: float = 0.5


class HybridRetriever:
    """`Retrieval` from both methods; see the module docstring."""

    def __init__(
        self, lexical: Retriever, similarity: Similarity, tuning: HybridTuning | None = None
    ) -> None:
        self.lexical = lexical
        self.similarity = similarity
        self.tuning = tuning or HybridTuning()

    def decide(self, text: str) -> Result:
        sims = self.similarity.similarities(text)
        if sims is None:
            return self.lexical.decide(text)
        lex = self.lexical
        matches = lex.search(text, limit=CANDIDATES)
        top = matches[0].score if matches else 0.0
        described = (
            top >= lex.tuning.overrides_off_topic_at and len(set(lex.query_tokens(text))) >= 4
        )
        if not described and (lex.off_topic(text) or lex.near_miss(text)):
            return Result(None, (), False)
        domain = lex.in_domain(text)
        tn = self.tuning
        best_sim = max(sims.values(), default=0.0)
        if best_sim < tn.decline_below and not described:
            return Result(None, (), domain)
        lexical = {m.topic: m.score for m in matches}
        by_sim = sorted(sims, key=sims.__getitem__, reverse=True)[:CANDIDATES]
        w = tn.lexical_weight
        scored = sorted(
            (
                Match(t, round(w * lexical.get(t, 0.0) + (1 - w) * max(sims.get(t, 0.0), 0.0), 4))
                for t in {*lexical, *by_sim}
            ),
            key=lambda m: (-m.score, m.topic),
        )
        if scored and scored[0].score >= tn.answer_at:
            return Result(scored[0], tuple(scored[1:3]), domain)
        # Not sure enough to answer: the lexical retriever's "did you mean", if it has one.
        sugg = tuple(m for m in matches[:3] if m.score >= lex.tuning.suggest_at)
        return Result(None, sugg if domain else (), domain)

    def mentions_back(self, text: str) -> bool:
        return self.lexical.mentions_back(text)

    def about_something_else(self, text: str, min_words: int = 3) -> bool:
        return self.lexical.about_something_else(text, min_words)

    def unknown_words(self, text: str) -> int:
        return self.lexical.unknown_words(text)
