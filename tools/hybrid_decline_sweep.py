"""The hybrid's decline signal (best similarity to any KB phrasing) swept on the training-side
question sets dev2/dev3/dev4: questions answered well and off-topic messages declined, through
the real Dialogue, for each `decline_below` (answer_at as tools/retrieval_compare.py chose on
the dev set). Sealed sets are never read.

    RETRIEVAL=hybrid python tools/hybrid_decline_sweep.py
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import question_eval  # noqa: E402
from bot.core.hybrid import HybridRetriever  # noqa: E402
from bot.core.types import Incoming, Kind  # noqa: E402
from bot.evaluation import eval_dialogue  # noqa: E402

SETS = ["dev2_questions", "dev3_questions", "dev4_questions"]


async def main() -> int:
    dialogue = eval_dialogue(ROOT / "bot" / "knowledge")
    hybrid = dialogue.library.retriever
    if not isinstance(hybrid, HybridRetriever):
        raise SystemExit("run with RETRIEVAL=hybrid")
    rows = [
        r
        for s in SETS
        for r in question_eval.read_rows(ROOT / "tests" / "data" / f"{s}.jsonl")
        if r.kind in ("question", "off_topic")
    ]
    base = hybrid.tuning
    n = 0
    for below in (0.0, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45):
        hybrid.tuning = dataclasses.replace(base, decline_below=below)
        good = {"question": 0, "off_topic": 0}
        total = {"question": 0, "off_topic": 0}
        for r in rows:
            n += 1
            user = f"s{n}"
            replies = await dialogue.handle(Incoming("eval", user, user, text=r.text))
            if replies and replies[0].kind is Kind.SCREEN:
                no = next(b.action for b in replies[0].buttons if b.label.startswith("No"))
                replies = (await dialogue.handle(Incoming("eval", user, user, action=no)))[1:]
            total[r.kind] += 1
            good[r.kind] += question_eval.good(r, replies[0] if replies else None)
        q, o = good["question"] / total["question"], good["off_topic"] / total["off_topic"]
        print(f"decline_below {below:.2f}: questions good {q:6.1%}  off-topic declined {o:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
