"""Snapshot of every triage decision, to show that a change to bot/core/safety.py, literals.py
or triage_model.py changes none of them.

    python tools/triage_snapshot.py write before.jsonl
    python tools/triage_snapshot.py compare before.jsonl      # exit 1 on any difference

Texts: every message of tests/data/*.jsonl (the training side; tests/data/sealed/ is not read)
and generated long messages: each shape of `bot.bench.long_shapes` at several lengths, and
labelled messages joined into 10,000 characters as `backbot bench triage` makes them. Per text:
the rules' flags with their levels (what `Triage.check` reads: every flag), and
`Triage.assess` without and with the model (outcome, level, flag ids, model score rounded to 9
places, by_rule). The unrounded model score is kept too, and `compare` reports the largest
change in it (floating-point summation order may move its last bits), but only the rounded
fields count as differences.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
LENGTHS = (500, 2_000, 5_000, 10_000)
PER_SHAPE_AND_LENGTH = 50  # 6 shapes x 4 lengths x 50 = 1,200
JOINED = 500  # labelled messages joined into 10,000 characters


def labelled() -> list[str]:
    # Only the files directly in tests/data: the sealed sets live in a folder of their own.
    return [
        json.loads(line)["text"]
        for path in sorted(DATA.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def generated(texts: list[str]) -> Iterator[str]:
    from bot.bench import long_shapes

    for length in LENGTHS:
        rng = random.Random(length)
        for make in long_shapes(length, rng).values():
            for _ in range(PER_SHAPE_AND_LENGTH):
                yield make()
    rng = random.Random(3)
    for k in range(JOINED):
        joined = " ".join(rng.choice(texts) for _ in range(200))[:10_000]
        # Some end on a red flag, as `backbot bench triage`'s cold start does.
        yield joined + " I can't feel my groin." if k % 5 == 0 else joined


def decisions() -> Iterator[dict[str, object]]:
    from bot.app import load_kb, load_triage_model
    from bot.core.safety import Assessment, Triage

    kb = load_kb()
    model = load_triage_model(kb)
    assert model is not None
    rules, full = Triage.build(kb.safety), Triage.build(kb.safety, model)

    def row(a: Assessment) -> list[object]:
        return [a.outcome.value, a.level, [f.id for f in a.flags], round(a.score, 9), a.by_rule]

    texts = labelled()
    for text in [*texts, *generated(texts)]:
        judged = full.assess(text)
        yield {
            "text": hashlib.sha256(text.encode()).hexdigest()[:16],
            "chars": len(text),
            "check": [[f.id, level] for f, level in rules._rule_hits(text)],
            "rules": row(rules.assess(text)),
            "full": row(judged),
            "score": judged.score,
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["write", "compare"])
    ap.add_argument("path", type=Path)
    args = ap.parse_args()
    import bot

    print(f"bot from {Path(bot.__file__).parent}", file=sys.stderr)
    rows = list(decisions())
    if args.action == "write":
        args.path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        print(f"{len(rows)} texts written to {args.path}")
        return 0
    old = [json.loads(x) for x in args.path.read_text(encoding="utf-8").splitlines()]
    if len(old) != len(rows):
        print(f"{len(old)} texts in {args.path}, {len(rows)} now")
        return 1

    def decided(r: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in r.items() if k != "score"}

    diffs = [(a, b) for a, b in zip(old, rows, strict=True) if decided(a) != decided(b)]
    for a, b in diffs[:20]:
        print(f"was {a}\nnow {b}")
    moved = max((abs(a["score"] - b["score"]) for a, b in zip(old, rows, strict=True)), default=0)
    print(f"{len(rows)} texts compared, {len(diffs)} differences; largest score change {moved:.3g}")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
