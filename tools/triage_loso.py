"""Leave-one-set-out figures for the red-flag model, to choose the model and its thresholds.

    python tools/triage_loso.py [--variants ngram minilm combo] [--sure 0.9] [--screen 0.5]

For each labelled set in bot/knowledge/red_flag_examples.jsonl (the sets of tests/data; sealed sets
are never in it), train on the others, score the held-out set window by window (the highest
window counts), and report per variant: red-flag recall at the screening threshold (an urgent
answer or a screening question), the share of red flags the model alone is sure of, false "sure"
answers and screening questions on ordinary messages, and a threshold table. `--rules` adds
the rules (which were written on these same sets, so the combined figure is optimistic).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import kb as kb_mod  # noqa: E402
from bot.core.safety import Triage, windows  # noqa: E402
from bot.core.triage_model import NONE_CLASS  # noqa: E402
from bot.kb import RedFlagExample  # noqa: E402
from bot.triage_train import ordinary_phrasings, train, training_rows  # noqa: E402

Scorer = Callable[[Sequence[str]], list[float]]  # messages -> highest window P(red flag)


def ngram_variant(train_ex: Sequence[RedFlagExample], ordinary: Sequence[str]) -> Scorer:
    model = train(train_ex, ordinary)
    return lambda msgs: [model.score(list(windows(m)))[0] for m in msgs]


def minilm_variant(train_ex: Sequence[RedFlagExample], ordinary: Sequence[str]) -> Scorer:
    from sklearn.linear_model import LogisticRegression

    from bot.embeddings import shared

    enc = shared()
    rows = training_rows(train_ex, ordinary)
    x = _embed(enc, [r.text for r in rows])
    y = [r.label for r in rows]
    lr = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000).fit(x, y)
    none = list(lr.classes_).index(NONE_CLASS)

    def score(msgs: Sequence[str]) -> list[float]:
        out = []
        for m in msgs:
            p = lr.predict_proba(_embed(enc, list(windows(m)) or [m]))
            out.append(float((1.0 - p[:, none]).max()))
        return out

    return score


_CACHE: dict[str, np.ndarray] = {}


def _embed(enc: object, texts: list[str]) -> np.ndarray:
    missing = [t for t in dict.fromkeys(texts) if t not in _CACHE]
    if missing:
        vecs = enc.encode(missing)  # type: ignore[attr-defined]
        _CACHE.update(zip(missing, vecs, strict=True))
    return np.stack([_CACHE[t] for t in texts])


def combo_variant(train_ex: Sequence[RedFlagExample], ordinary: Sequence[str]) -> Scorer:
    a, b = ngram_variant(train_ex, ordinary), minilm_variant(train_ex, ordinary)
    return lambda msgs: [(x + y) / 2 for x, y in zip(a(msgs), b(msgs), strict=True)]


VARIANTS = {"ngram": ngram_variant, "minilm": minilm_variant, "combo": combo_variant}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="*", default=["ngram"])
    ap.add_argument("--sure", type=float, default=None)
    ap.add_argument("--screen", type=float, default=None)
    ap.add_argument("--rules", action="store_true", help="count rule hits as caught/alarmed")
    args = ap.parse_args()
    kb = kb_mod.load(ROOT / "bot" / "knowledge", need_artefact=False)
    cfg = kb.safety.model
    assert cfg is not None
    sure = args.sure if args.sure is not None else cfg.sure
    screen = args.screen if args.screen is not None else cfg.screen
    by_set: dict[str, list[RedFlagExample]] = defaultdict(list)
    for e in kb.red_flag_examples:
        by_set[e.set].append(e)
    ordinary = ordinary_phrasings(kb)
    rules = Triage.build(kb.safety) if args.rules else None
    for name in args.variants:
        scores: list[tuple[str, bool, float, bool]] = []  # set, is flag, score, rule hit
        for held in sorted(by_set):
            rest = [e for s, ex in by_set.items() if s != held for e in ex]
            scorer = VARIANTS[name](rest, ordinary)
            msgs = by_set[held]
            for e, p in zip(msgs, scorer([e.text for e in msgs]), strict=True):
                hit = bool(rules and rules.check(e.text))
                scores.append((held, e.red_flag, p, hit))
        _report(name, scores, sure, screen)
    return 0


def _report(
    name: str, scores: list[tuple[str, bool, float, bool]], sure: float, screen: float
) -> None:
    print(f"\n== {name}: leave-one-set-out, sure >= {sure}, screen >= {screen}")
    print(
        f"{'held-out set':22} {'flags':>5} {'recall':>7} {'sure':>6} {'ord':>5} {'F-sure':>7} "
        f"{'screen':>7}"
    )
    sets = sorted({s for s, *_ in scores})
    for s in [*sets, "ALL"]:
        rows = [r for r in scores if s in ("ALL", r[0])]
        flags = [r for r in rows if r[1]]
        ords = [r for r in rows if not r[1]]
        rec = sum(r[2] >= screen or r[3] for r in flags) / max(1, len(flags))
        srate = sum(r[2] >= sure or r[3] for r in flags) / max(1, len(flags))
        fsure = sum(r[2] >= sure or r[3] for r in ords) / max(1, len(ords))
        fscr = sum(screen <= r[2] < sure and not r[3] for r in ords) / max(1, len(ords))
        print(
            f"{s:22} {len(flags):5} {rec:7.1%} {srate:6.1%} {len(ords):5} {fsure:7.1%} {fscr:7.1%}"
        )
    flags = [r[2] for r in scores if r[1]]
    ords = [r[2] for r in scores if not r[1]]
    print("threshold  recall  ordinary>=t")
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
        print(
            f"  {t:4.2f}   {np.mean([f >= t for f in flags]):6.1%}  "
            f"{np.mean([o >= t for o in ords]):6.1%}"
        )
    true_hits = [r[2] for r in scores if r[3] and r[1]]
    false_hits = [r[2] for r in scores if r[3] and not r[1]]
    if true_hits or false_hits:
        # A rule hit the held-out model scores below `veto` gets the screening question
        # instead of the flag's reply: how many true and false rule hits each veto would move.
        print(
            f"veto  true rule hits below ({len(true_hits)})  false rule hits below ({len(false_hits)})"
        )
        for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4):
            print(
                f"  {t:4.2f}   {sum(x < t for x in true_hits):5d}  "
                f"{sum(x < t for x in false_hits):5d}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
