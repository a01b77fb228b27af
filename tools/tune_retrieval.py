"""Grid-search retrieval weights and thresholds on the dev set; report the holdout set too.

    python tools/tune_retrieval.py [--dev tests/data/dev_questions.jsonl]

Only FAQ and out-of-scope messages are used (the rest never reach retrieval). The objective is
top-1 accuracy on FAQ messages plus the out-of-scope rejection rate. The chosen values are
then written by hand into bot/core/answers.py's Tuning defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
from pathlib import Path

from bot.app import build_dialogue
from bot.core.answers import Tuning


def load(path: Path) -> list[dict]:
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    return [r for r in rows if r["kind"] in ("faq", "out_of_scope")]


def score_set(cases, feats, w, th) -> tuple[float, float]:
    wq, wd, wf, wt = w
    answer_at, suggest_at, strong_at = th
    hits = faq = rej = oos = 0
    for case, (fs, domain, off) in zip(cases, feats, strict=True):
        if off:
            fs = []
        best: dict[str, float] = {}
        for topic, cq, cd, sim, tc in fs:
            s = wq * cq + wd * cd + wf * sim + wt * tc
            if s > best.get(topic, 0):
                best[topic] = s
        top = max(best.items(), key=lambda kv: kv[1]) if best else (None, 0.0)
        answered = top[0] if top[1] >= answer_at and (domain or top[1] >= strong_at) else None
        suggested = domain and top[1] >= suggest_at
        if case["kind"] == "faq":
            faq += 1
            topics = case["topic"] if isinstance(case["topic"], list) else [case["topic"]]
            hits += answered in topics
        else:
            oos += 1
            rej += answered is None and not suggested
    return hits / faq, rej / oos


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", type=Path, default=Path("tests/data/dev_questions.jsonl"))
    ap.add_argument("--holdout", type=Path, default=Path("tests/data/holdout_questions.jsonl"))
    args = ap.parse_args()
    dev, hold = load(args.dev), load(args.holdout)
    results = []
    for unk, cap in itertools.product((0.6, 0.9), (3, 4, 5)):
        d = build_dialogue(tuning=Tuning(unknown_idf=unk, unknown_cap=2, query_cap=cap))
        r = d.library.retriever  # the shipped Retriever: its internals are tuned here
        fd = [
            (r.features(c["text"][:500]), r.in_domain(c["text"]), r.off_topic(c["text"]))
            for c in dev
        ]
        fh = [
            (r.features(c["text"][:500]), r.in_domain(c["text"]), r.off_topic(c["text"]))
            for c in hold
        ]
        for wq, wd, wt in itertools.product((0.2, 0.3, 0.4, 0.5), (0.1, 0.2, 0.3), (0.0, 0.2, 0.4)):
            wf = round(1 - wq - wd - wt, 2)
            if wf < 0:
                continue
            for a, s in itertools.product((0.45, 0.5, 0.55, 0.6, 0.65), (0.3, 0.35, 0.4, 0.45)):
                if s >= a:
                    continue
                th = (a, s, 0.85)
                t1, rj = score_set(dev, fd, (wq, wd, wf, wt), th)
                results.append((t1 + rj, t1, rj, (unk, cap), (wq, wd, wf, wt), th, fh))
    results.sort(key=lambda r: r[0], reverse=True)
    for _total, t1, rj, unk, w, th, fh in results[:8]:
        ht1, hrj = score_set(hold, fh, w, th)
        print(
            f"dev top1 {t1:.3f} oos {rj:.3f} | holdout top1 {ht1:.3f} oos {hrj:.3f} | unknown_idf, query_cap={unk} w={w} thresholds={th}"
        )
    best = results[0]
    print(
        "best:",
        dataclasses.replace(
            Tuning(),
            unknown_idf=best[3][0],
            query_cap=best[3][1],
            w_query=best[4][0],
            w_doc=best[4][1],
            w_fuzzy=best[4][2],
            answer_at=best[5][0],
            suggest_at=best[5][1],
        ),
    )


if __name__ == "__main__":
    main()
