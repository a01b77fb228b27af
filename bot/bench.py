"""`backbot bench answers`: answer latency on the shipped KB and on a synthetic 10k-entry KB.

Both run in one process on the same queries, so the printed ratio compares like with like.
Also times a cold `backbot ask "hi"` in a fresh interpreter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bot.config import Settings
from bot.kb import FaqEntry, KnowledgeBase

DEV_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "dev_questions.jsonl"

_WORDS = [
    "back",
    "spine",
    "lumbar",
    "thoracic",
    "posture",
    "core",
    "plank",
    "bridge",
    "row",
    "deadlift",
    "hinge",
    "brace",
    "stretch",
    "mobility",
    "hamstring",
    "glute",
    "lat",
    "trap",
    "rhomboid",
    "shoulder",
    "hip",
    "pelvis",
    "disc",
    "nerve",
    "sciatica",
    "stiff",
    "sore",
    "ache",
    "tight",
    "weak",
    "strong",
    "endurance",
    "tempo",
    "sets",
    "reps",
    "rest",
    "recovery",
    "sleep",
    "desk",
    "sitting",
    "standing",
    "walking",
    "swimming",
    "cycling",
    "yoga",
    "pilates",
    "band",
    "dumbbell",
    "kettlebell",
    "cable",
    "machine",
    "bench",
    "barbell",
    "grip",
    "pull",
    "push",
    "press",
    "extension",
    "flexion",
    "rotation",
    "twist",
    "lift",
    "carry",
]


def synthetic_kb(base: KnowledgeBase, entries: int, seed: int = 7) -> KnowledgeBase:
    """The shipped KB plus `entries` generated FAQ entries with realistic-length phrasings."""
    rng = random.Random(seed)
    source = next(iter(base.sources))
    faq = list(base.faq)
    for i in range(entries):
        words = rng.sample(_WORDS, 5)
        q = f"how do i {words[0]} my {words[1]} with {words[2]} {words[3]} {i}"
        alts = [
            f"{words[1]} {words[2]} {words[4]} question {i}",
            f"what about {words[3]} and {words[0]} for {words[4]} {i}",
            f"is {words[2]} ok for {words[1]} {i}",
        ]
        faq.append(
            FaqEntry.model_construct(
                id=f"syn_{i}",
                question=q,
                alternates=alts,
                answer=f"Answer {i}.",
                tags=[],
                sources=[source],
                follow_up=[],
            )
        )
    return dataclasses.replace(base, faq=tuple(faq))


def _queries(n: int, rng: random.Random) -> list[str]:
    texts = []
    if DEV_SET.exists():
        texts = [
            json.loads(line)["text"] for line in DEV_SET.read_text().splitlines() if line.strip()
        ]
    while len(texts) < n:
        w = rng.sample(_WORDS, 3)
        texts.append(f"what is the best {w[0]} {w[1]} for {w[2]}")
    rng.shuffle(texts)
    return (texts * (n // len(texts) + 1))[:n]


def _latencies(kb: KnowledgeBase, queries: list[str]) -> tuple[list[float], float]:
    from bot.app import load_triage_model
    from bot.core.dialogue import Dialogue
    from bot.core.flood import FloodGate
    from bot.core.types import Incoming
    from bot.storage.memory import MemoryStore

    t0 = time.perf_counter()
    # Built as `backbot run` builds it: the red-flag model included.
    dialogue = Dialogue(
        kb, MemoryStore(), flood=FloodGate(limit=10**9), triage_model=load_triage_model(kb)
    )
    build = time.perf_counter() - t0

    async def go() -> list[float]:
        out = []
        for i, q in enumerate(queries):
            msg = Incoming("bench", f"u{i % 97}", "c", text=q)
            s = time.perf_counter()
            await dialogue.handle(msg)
            out.append(time.perf_counter() - s)
        return out

    return asyncio.run(go()), build


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


def answers(settings: Settings, *, entries: int = 10_000, queries: int = 2_000) -> int:
    from bot.app import load_kb

    rng = random.Random(1)
    kb = load_kb(settings.knowledge_dir)
    qs = _queries(queries, rng)
    _latencies(kb, qs[:50])  # warm caches and imports
    shipped, build_s = _latencies(kb, qs)
    big_kb = synthetic_kb(kb, entries)
    big, build_b = _latencies(big_kb, qs)
    rows = [
        ("shipped", len(kb.faq), shipped, build_s),
        (f"synthetic {entries}", len(big_kb.faq), big, build_b),
    ]
    print(f"answer latency over {len(qs)} queries (Dialogue.handle, in-memory store)")
    print(
        f"{'KB':18s} {'entries':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'mean ms':>8s} {'index s':>8s}"
    )
    for name, n, lat, b in rows:
        print(
            f"{name:18s} {n:8d} {_pct(lat, 0.5):8.3f} {_pct(lat, 0.99):8.3f} {statistics.mean(lat) * 1000:8.3f} {b:8.2f}"
        )
    print(f"ratio p99 synthetic/shipped: {_pct(big, 0.99) / _pct(shipped, 0.99):.2f}x")
    print(f'cold start `backbot ask "hi"`: {_cold_start("hi")}')
    return 0


def _cold_start(message: str, runs: int = 3) -> str:
    """`backbot ask MESSAGE` in a fresh interpreter, `runs` times: best and median seconds."""
    cold = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", message], check=True, capture_output=True
        )
        cold.append(time.perf_counter() - t0)
    return f"best {min(cold):.2f}s, median {statistics.median(cold):.2f}s"


def triage(settings: Settings, *, long_messages: int = 200) -> int:
    """`backbot bench triage`: Triage.assess per message, rules alone and rules + model, on every
    labelled training-side message and on 10,000-character messages; model load; cold starts."""
    from bot.app import load_kb
    from bot.core.safety import Triage
    from bot.core.triage_model import TriageModel

    kb = load_kb(settings.knowledge_dir)
    assert kb.model_path is not None
    t0 = time.perf_counter()
    model = TriageModel.load(kb.model_path)
    load_s = time.perf_counter() - t0
    data = DEV_SET.parent
    texts = [
        json.loads(line)["text"]
        for path in sorted(data.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    rng = random.Random(3)
    longs = []
    for _ in range(long_messages):
        words = [rng.choice(texts) for _ in range(200)]
        longs.append(" ".join(words)[:10_000])
    rules, full = Triage.build(kb.safety), Triage.build(kb.safety, model)

    def timed(t: Triage, msgs: list[str]) -> list[float]:
        out = []
        for m in msgs:
            s = time.perf_counter()
            t.assess(m)
            out.append(time.perf_counter() - s)
        return out

    timed(full, texts[:100])
    print(f"model load {load_s * 1000:.0f} ms ({len(model.vocabulary)} features)")
    print(f"{'messages':28s} {'n':>5s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s}")
    for name, msgs in ((f"labelled ({len(texts)})", texts), ("10,000 characters", longs)):
        for label, t in (("rules", rules), ("rules + model", full)):
            lat = timed(t, msgs)
            print(
                f"{name + ', ' + label:28s} {len(msgs):5d} {_pct(lat, 0.5):8.3f} "
                f"{_pct(lat, 0.99):8.3f} {max(lat) * 1000:8.3f}"
            )
    for label, msg in (("hi", "hi"), ("a long red flag", longs[0] + " I can't feel my groin.")):
        print(f"cold start `backbot ask` ({label}): {_cold_start(msg)}")
    return 0
