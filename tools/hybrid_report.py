"""Every readable question set through the real Dialogue in one retrieval mode, with latency and
memory: the figures of the README's RETRIEVAL=hybrid paragraph.

    RETRIEVAL=hybrid python tools/hybrid_report.py      # or RETRIEVAL=lexical (the default)

Per set: answerable top-1 (topic sets: the expected entry; question sets: an answer that
mentions what a good answer mentions), off-topic declined, confident-wrong (an answer with a
wrong entry, or any answer to an off-topic message, over answerable + off-topic messages), and
p50/p99 ms per message (dialogue.handle, first reply; the screening question's "No" included).
Then resident memory: current (VmRSS) and peak (ru_maxrss), after building and after the sets.
Run one process per mode, so the memory figures are that mode's. Sealed sets are never read.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import question_eval  # noqa: E402
from bot.core.types import Incoming, Kind, Reply  # noqa: E402
from bot.evaluation import eval_dialogue, read_cases  # noqa: E402

DATA = ROOT / "tests" / "data"
TOPIC_SETS = ["dev_questions", "holdout_questions", "holdout2_questions", "holdout3_questions"]
QUESTION_SETS = ["dev2_questions", "dev3_questions", "dev4_questions"]


def rss() -> tuple[float, float]:
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def first_reply(dialogue: object, user: str, text: str) -> tuple[Reply | None, float]:
    t0 = time.perf_counter()
    replies = await dialogue.handle(Incoming("eval", user, user, text=text))  # type: ignore[attr-defined]
    if replies and replies[0].kind is Kind.SCREEN:
        no = next(b.action for b in replies[0].buttons if b.label.startswith("No"))
        more = await dialogue.handle(Incoming("eval", user, user, action=no))  # type: ignore[attr-defined]
        replies = more[1:]
    return (replies[0] if replies else None), (time.perf_counter() - t0) * 1000


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


async def main() -> int:
    t0 = time.perf_counter()
    dialogue = eval_dialogue(ROOT / "bot" / "knowledge")
    build_s = time.perf_counter() - t0
    built = rss()
    index = getattr(dialogue.library.retriever, "similarity", None)
    mode = "hybrid" if index is not None else "lexical"
    print(f"mode {mode}: built in {build_s:.2f} s (model and vectors waited for), ", end="")
    if index is not None:
        print(f"vectors {'from the cache' if index.from_cache else 'encoded'}, ", end="")
    print(f"RSS {built[0]:.0f} MB current, {built[1]:.0f} MB peak")
    print(f"{'set':20s} {'top-1':>6s} {'decline':>7s} {'c-wrong':>7s} {'p50':>7s} {'p99':>7s}")
    n = 0
    for name in TOPIC_SETS + QUESTION_SETS:
        path = DATA / f"{name}.jsonl"
        lat: list[float] = []
        right = answerable = declined = off = wrong = 0
        if name in TOPIC_SETS:
            for c in read_cases(path):
                if c.kind not in ("faq", "out_of_scope"):
                    continue
                n += 1
                reply, ms = await first_reply(dialogue, f"u{n}", c.text)
                lat.append(ms)
                answered = reply is not None and reply.kind is Kind.FAQ
                if c.kind == "faq":
                    answerable += 1
                    right += answered and reply.topic in c.topics  # type: ignore[union-attr]
                    wrong += answered and reply.topic not in c.topics  # type: ignore[union-attr]
                else:
                    off += 1
                    declined += reply is not None and reply.kind is Kind.OUT_OF_SCOPE
                    wrong += answered
        else:
            for r in question_eval.read_rows(path):
                if r.kind not in ("question", "off_topic"):
                    continue
                n += 1
                reply, ms = await first_reply(dialogue, f"u{n}", r.text)
                lat.append(ms)
                answered = reply is not None and reply.kind in question_eval.ANSWERS
                ok = question_eval.good(r, reply)
                if r.kind == "question":
                    answerable += 1
                    right += ok
                    wrong += answered and not ok
                else:
                    off += 1
                    declined += ok
                    wrong += answered
        print(
            f"{name:20s} {right / answerable:6.1%} {declined / off if off else 0:7.1%} "
            f"{wrong / (answerable + off):7.1%} {pct(lat, 0.5):5.1f}ms {pct(lat, 0.99):5.1f}ms"
        )
    end = rss()
    print(f"after the sets: RSS {end[0]:.0f} MB current, {end[1]:.0f} MB peak")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
