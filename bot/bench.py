"""`backbot bench answers`: per-message latency and RSS of the pipeline `backbot run` builds.

The shipped KB and a synthetic one run in one process on the same queries, so the printed ratio
compares like with like.
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
from collections.abc import Callable
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


@dataclasses.dataclass
class _Run:
    reply: list[float]  # seconds from the message to its replies, ready to deliver
    turn: list[float]  # ... to the end of the turn (the lease released, the inbox written)
    build: float
    rss: dict[int, float]


def _pipeline(
    settings: Settings,
    kb: KnowledgeBase,
    queries: list[str],
    users: int,
    marks: tuple[int, ...],
    *,
    memory: bool = False,
) -> _Run:
    """Per-message seconds through the handler `backbot run` gives its adapters: the Dialogue
    from `app.build_dialogue` (red-flag model, button key, defaults) on a migrated SQLite store
    in a temporary directory (or, as the baseline, an in-memory store), wrapped by
    Metrics.instrument. Also the seconds to build it and the process RSS after each count of
    messages in `marks` (0: right after building)."""
    import tempfile

    from bot.app import build_dialogue, open_store
    from bot.core.types import Incoming
    from bot.metrics import Metrics
    from bot.storage.memory import MemoryStore

    async def go(tmp: str) -> _Run:
        db = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp}/bench.db"})
        t0 = time.perf_counter()
        sql = None if memory else await open_store(db)
        store = MemoryStore() if sql is None else sql
        handler = Metrics().instrument(build_dialogue(store, db, kb=kb).turn)
        run = _Run([], [], time.perf_counter() - t0, {0: rss_mb()})
        try:
            for i, q in enumerate(queries, 1):
                user = f"u{i % users}"
                msg = Incoming("bench", user, user, text=q, display_name=user)
                s = time.perf_counter()
                async with handler(msg):
                    run.reply.append(time.perf_counter() - s)
                run.turn.append(time.perf_counter() - s)
                if i in marks:
                    run.rss[i] = rss_mb()
        finally:
            if sql is not None:
                await sql.close()
        return run

    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(go(tmp))


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


def answers(
    settings: Settings, *, entries: int = 10_000, queries: int = 10_000, users: int = 2_000
) -> int:
    """`backbot bench answers`: per-message latency of the shipped pipeline (as `backbot run`
    builds it) on the shipped KB, then on a synthetic `entries`-entry KB; RSS as messages
    accumulate; cold start. Targets: p99 <= 25 ms, RSS after 10,000 messages <= 200 MB."""
    import logging

    from bot.app import load_kb

    for name in ("bot", "alembic"):  # one INFO line per reply and per migration otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    rng = random.Random(1)
    kb = load_kb(settings.knowledge_dir)
    qs = _queries(queries, rng)
    start_rss = rss_mb()
    _pipeline(settings, kb, qs[:50], users, ())  # warm caches and imports
    marks = tuple(m for m in (1_000, 10_000, queries) if m <= queries)
    shipped = _pipeline(settings, kb, qs, users, marks)
    core = _pipeline(settings, kb, qs, users, (), memory=True)
    big_kb = synthetic_kb(kb, entries)
    big = _pipeline(settings, big_kb, qs[:2_000], users, ())
    print(
        f"per message through the `backbot run` pipeline (build_dialogue, red-flag model, "
        f"SQLite store, Metrics), {len(qs):,} messages from {min(users, len(qs)):,} users; "
        "reply: until the replies are ready to deliver, turn: until the lease is released"
    )
    print(
        f"{'KB':18s} {'store':>7s} {'entries':>8s} {'msgs':>6s} {'reply p50':>10s} "
        f"{'reply p99':>10s} {'turn p50':>9s} {'turn p99':>9s} {'build s':>8s}"
    )
    for name, where, n, run in (
        ("shipped", "sqlite", len(kb.faq), shipped),
        ("shipped", "memory", len(kb.faq), core),
        (f"synthetic {entries}", "sqlite", len(big_kb.faq), big),
    ):
        print(
            f"{name:18s} {where:>7s} {n:8d} {len(run.turn):6d} {_pct(run.reply, 0.5):10.3f} "
            f"{_pct(run.reply, 0.99):10.3f} {_pct(run.turn, 0.5):9.3f} "
            f"{_pct(run.turn, 0.99):9.3f} {run.build:8.2f}"
        )
    print(
        f"ratio reply p99 sqlite/memory (the store's share): "
        f"{_pct(shipped.reply, 0.99) / _pct(core.reply, 0.99):.2f}x; "
        f"synthetic/shipped: {_pct(big.reply, 0.99) / _pct(shipped.reply, 0.99):.2f}x"
    )
    print("   [target: shipped p99 <= 25 ms]")
    grown = ", ".join(f"{n:,} msgs {mb:.0f} MB" for n, mb in shipped.rss.items() if n)
    print(
        f"RSS: before building {start_rss:.0f} MB, built {shipped.rss[0]:.0f} MB, {grown}"
        "   [target <= 200 MB after 10,000]"
    )
    print(f'cold start `backbot ask "hi"`: {_cold_start("hi")}')
    return 0


def rss_mb() -> float:
    """This process's resident set size now, in MB (Linux; the peak elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _typo(text: str, rng: random.Random) -> str:
    """The text with one long word mistyped (neighbours swapped or a letter dropped)."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.5 else w[:j] + w[j + 1 :]
    return " ".join(words)


def retrieval(settings: Settings, *, entries: int = 50_000, queries: int = 2_000) -> int:
    """`backbot bench retrieval`: the retriever alone (Retriever.decide) on the shipped KB and
    on a synthetic `entries`-entry KB, in one process: p50/p99 per query, index build time and
    the RSS the index adds. A third of the queries carry a typo, and every query is new to the
    typo cache of a fresh index. Target: p99 <= 10 ms at 50,000 entries."""
    import gc

    from bot.app import load_kb
    from bot.core.library import Library

    rng = random.Random(5)
    kb = load_kb(settings.knowledge_dir)
    qs = _queries(queries, rng)
    qs = [_typo(q, rng) if i % 3 == 0 else q for i, q in enumerate(qs)]

    def measure(k: KnowledgeBase) -> tuple[list[float], float, float]:
        gc.collect()
        before = rss_mb()
        t0 = time.perf_counter()
        lib = Library(k)
        build = time.perf_counter() - t0
        gc.collect()
        grown = rss_mb() - before
        out = []
        for q in qs:
            s = time.perf_counter()
            lib.retriever.decide(q)
            out.append(time.perf_counter() - s)
        return out, build, grown

    measure(kb)  # warm imports
    shipped, build_s, rss_s = measure(kb)
    big_kb = synthetic_kb(kb, entries)
    big, build_b, rss_b = measure(big_kb)
    print(f"retrieval alone (Retriever.decide) over {len(qs)} queries, a third with a typo")
    print(
        f"{'KB':18s} {'entries':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} "
        f"{'index s':>8s} {'index MB':>9s}"
    )
    for name, n, lat, b, mb in (
        ("shipped", len(kb.faq), shipped, build_s, rss_s),
        (f"synthetic {entries}", len(big_kb.faq), big, build_b, rss_b),
    ):
        print(
            f"{name:18s} {n:8d} {_pct(lat, 0.5):8.3f} {_pct(lat, 0.99):8.3f} "
            f"{max(lat) * 1000:8.3f} {b:8.2f} {mb:9.0f}"
        )
    print(
        f"ratio synthetic/shipped: p50 {_pct(big, 0.5) / _pct(shipped, 0.5):.1f}x, "
        f"p99 {_pct(big, 0.99) / _pct(shipped, 0.99):.1f}x   [target p99 <= 10 ms]"
    )
    print(f"process RSS now: {rss_mb():.0f} MB")
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


_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "friday", "mo", "tu", "we"]
_STORY = (
    "I started getting lower back pain about three weeks ago after helping a friend move house. "
    "At first it was just stiff in the mornings, but now it aches most of the day, especially "
    "when I sit at my desk for more than an hour. Sometimes I feel a sharp pain on the left side "
    "when I bend to tie my shoes, and yesterday it shot down into my hip. I have been doing "
    "cat-cow stretches and walking every evening, which helps a little. I used to deadlift "
    "twice a week and would like to get back to it, but I am worried about making it worse. "
)
SHORT_MESSAGE = "how long should I hold a plank when my lower back gets sore?"  # 60 characters


def long_shapes(length: int, rng: random.Random) -> dict[str, Callable[[], str]]:
    """Generators of `length`-character messages, one per shape `bench long` times."""

    def fit(s: str) -> str:
        return (s * (length // max(1, len(s)) + 1))[:length]

    return {
        "random words": lambda: fit(" ".join(rng.choice(_WORDS) for _ in range(length // 4))),
        "one word repeated": lambda: fit(rng.choice(["pain ", "back ", "remind ", "plank "])),
        # Half day names, half clock times and bare hours ("6", "12", "at 7"), as a schedule
        # pasted into a message, or a reminder phrase repeated, would be.
        "digits and day names": lambda: fit(
            " ".join(
                rng.choice(_DAYS)
                if rng.random() < 0.5
                else rng.choice(["6", "12", "18:00", "7pm", "at 7", str(rng.randint(1, 12))])
                for _ in range(length // 3)
            )
        ),
        "back-pain story": lambda: fit(_STORY),
        "punctuation runs": lambda: fit(
            "".join(rng.choice("!?/@.*#") * rng.randint(5, 200) for _ in range(length // 50))
        ),
        "unicode digits": lambda: "".join(rng.choice("➂٣５²⑩①⑨߃৩๓") for _ in range(length)),
    }


def long_messages(
    settings: Settings, *, length: int = 10_000, runs: int = 15, profile_runs: int = 3
) -> int:
    """`backbot bench long`: Dialogue.handle on `length`-character messages of several shapes,
    p50/p95/max per shape and the ratio to a 60-character message in the same process; then
    cProfile on the slowest shape. Target: <= 20 ms per 10,000-character message."""
    import cProfile
    import io
    import pstats

    from bot.app import load_kb, load_triage_model
    from bot.core.dialogue import Dialogue
    from bot.core.flood import FloodGate
    from bot.core.types import Incoming
    from bot.storage.memory import MemoryStore

    kb = load_kb(settings.knowledge_dir)
    # Built as `backbot run` builds it: the red-flag model included.
    dialogue = Dialogue(
        kb, MemoryStore(), flood=FloodGate(limit=10**9), triage_model=load_triage_model(kb)
    )
    rng = random.Random(11)
    shapes = long_shapes(length, rng)
    users = 0

    async def one(text: str, prof: cProfile.Profile | None = None) -> tuple[float, bool]:
        """Seconds for one message from a user past onboarding; and whether it raised."""
        nonlocal users
        users += 1
        user = f"long{users}"
        await dialogue.handle(Incoming("bench", user, user, text="hi"))
        if prof is not None:
            prof.enable()
        s = time.perf_counter()
        try:
            await dialogue.handle(Incoming("bench", user, user, text=text))
            failed = False
        except Exception:  # a crash is a finding, not the end of the benchmark
            failed = True
        elapsed = time.perf_counter() - s
        if prof is not None:
            prof.disable()
        return elapsed, failed

    async def series(make: Callable[[], str], n: int) -> tuple[list[float], int]:
        out, crashes = [], 0
        for _ in range(n):
            t, failed = await one(make())
            out.append(t)
            crashes += failed
        return out, crashes

    async def go() -> dict[str, tuple[list[float], int]]:
        await series(lambda: SHORT_MESSAGE, 20)  # warm caches and imports
        res = {"short (60 chars)": await series(lambda: SHORT_MESSAGE, max(runs, 20))}
        for name, make in shapes.items():
            res[name] = await series(make, runs)
        return res

    results = asyncio.run(go())
    short_p50 = _pct(results["short (60 chars)"][0], 0.5)
    print(
        f"Dialogue.handle on {length:,}-character messages, {runs} per shape "
        f"(in-memory store, red-flag model on); target <= 20 ms"
    )
    print(
        f"{'shape':22s} {'p50 ms':>9s} {'p95 ms':>9s} {'max ms':>9s} {'x short':>8s} "
        f"{'crashed':>7s} {'> 20 ms':>7s}"
    )
    for name, (lat, crashes) in results.items():
        p50 = _pct(lat, 0.5)
        print(
            f"{name:22s} {p50:9.2f} {_pct(lat, 0.95):9.2f} {max(lat) * 1000:9.2f} "
            f"{p50 / short_p50:7.1f}x {crashes:7d} {'yes' if p50 > 20 else 'no':>7s}"
        )
    slowest = max(shapes, key=lambda k: _pct(results[k][0], 0.5))
    # Growth with length on the slowest shape: doubling the length doubles a linear parser's time.
    growth = []
    for frac in (4, 2, 1):
        n = max(1, length // frac)
        make = long_shapes(n, random.Random(11))[slowest]
        lat, _ = asyncio.run(series(make, max(3, runs // 3)))
        growth.append(f"{n:,} chars {_pct(lat, 0.5):.1f} ms")
    print(f"\nslowest shape {slowest!r}, p50 by length: " + ", ".join(growth))
    prof = cProfile.Profile()

    async def profiled() -> None:
        for _ in range(profile_runs):
            await one(shapes[slowest](), prof)

    asyncio.run(profiled())
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(8)
        rows = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
        start = next((i for i, ln in enumerate(rows) if ln.lstrip().startswith("ncalls")), 0)
        print(f"\ncProfile, slowest shape ({slowest!r}, {profile_runs} messages): top 8 by {key}")
        root = str(Path(__file__).resolve().parent.parent) + "/"
        for ln in rows[start:]:
            print(ln.replace(root, ""))
    return 0
