"""Store benchmark: prints figures, asserts nothing.

    python tests/bench/bench_store.py [--url URL] [--users N] [--concurrency C]

1. N users (default 10000) each get a profile and log one session, through SqlStore, with C
   concurrent tasks: total time and rate.
2. 200 users with a year of history (3 sessions a week, 3 pain scores a week, bulk-loaded):
   latency p50/p99 of what /progress reads: session_days over the last year and pain_since
   over the last 8 weeks, one at a time.

Runs on a temporary SQLite file by default; on PostgreSQL when --url or TEST_DATABASE_URL is
given (in a throwaway schema, dropped at the end, so existing tables are never touched).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import mask_url
from bot.core.ports import Profile, UserKey
from bot.storage.models import PainScore, User, WorkoutLog
from bot.storage.store import SqlStore, create_engine, run_migrations

logger = logging.getLogger(__name__)

HISTORY_USERS = 200
QUERY_ROUNDS = 1000


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _fmt(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"p50 {_pct(ms, 0.50):6.2f} ms   p99 {_pct(ms, 0.99):6.2f} ms   "
        f"mean {statistics.fmean(ms):6.2f} ms   (n={len(ms)})"
    )


async def open_bench_store(url: str) -> tuple[SqlStore, Callable[[], Awaitable[None]]]:
    """A migrated store on an empty database, and a cleanup coroutine."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        await run_migrations(engine)
        store = SqlStore(engine)
        return store, store.close

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin: AsyncEngine = create_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"server_settings": {"search_path": schema}})
    await run_migrations(engine)
    store = SqlStore(engine)

    async def cleanup() -> None:
        await store.close()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()

    return store, cleanup


async def bench_signups(store: SqlStore, n: int, concurrency: int) -> None:
    today = date(2026, 3, 2)
    now = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        key = UserKey("telegram", f"u{i}")
        async with sem:
            await store.save_profile(Profile(key, f"user {i}", onboarded=True))
            await store.log_session(key, today, now)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    dt = time.perf_counter() - t0
    print(
        f"create {n} users + log one session each ({concurrency} concurrent): "
        f"{dt:.2f} s  ({n / dt:,.0f} users/s, {2 * n / dt:,.0f} writes/s)"
    )


async def seed_history(store: SqlStore, today: date) -> list[UserKey]:
    """200 users with a year of Mon/Wed/Fri sessions and pain scores, bulk-inserted."""
    keys = [UserKey("discord", f"h{i}") for i in range(HISTORY_USERS)]
    t0 = time.perf_counter()
    for key in keys:
        await store.save_profile(Profile(key, key.user_id, onboarded=True))
    async with store.sessionmaker() as s, s.begin():
        rows = await s.execute(select(User.user_id, User.id).where(User.platform == "discord"))
        ids = {platform_id: pk for platform_id, pk in rows}
    start = today - timedelta(days=365)
    rnd = random.Random(7)
    logs: list[dict[str, Any]] = []
    pains: list[dict[str, Any]] = []
    for key in keys:
        uid = ids[key.user_id]
        for i in range(366):
            d = start + timedelta(days=i)
            if d.weekday() in (0, 2, 4):
                at = datetime(d.year, d.month, d.day, 18, 30, tzinfo=UTC)
                logs.append({"user_id": uid, "day": d, "logged_at": at})
                pains.append({"user_id": uid, "score": rnd.randint(0, 10), "at": at})
    async with store.sessionmaker() as s, s.begin():
        for chunk in range(0, len(logs), 5000):
            await s.execute(insert(WorkoutLog), logs[chunk : chunk + 5000])
            await s.execute(insert(PainScore), pains[chunk : chunk + 5000])
    if store.dialect == "postgresql":
        async with store.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    dt = time.perf_counter() - t0
    print(
        f"seed {HISTORY_USERS} users x 1 year: {len(logs)} sessions + {len(pains)} pain scores "
        f"in {dt:.2f} s"
    )
    return keys


async def bench_progress_queries(store: SqlStore) -> None:
    today = date(2026, 3, 2)
    now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    keys = await seed_history(store, today)
    rnd = random.Random(11)
    year_ago = today - timedelta(days=365)
    eight_weeks_ago = now - timedelta(weeks=8)

    # Warm up the pool and caches so the first connection is not in the figures.
    for key in keys[:20]:
        await store.session_days(key, year_ago)
        await store.pain_since(key, eight_weeks_ago)

    days_t: list[float] = []
    pain_t: list[float] = []
    both_t: list[float] = []
    n_days = n_pain = 0
    for _ in range(QUERY_ROUNDS):
        key = rnd.choice(keys)
        t0 = time.perf_counter()
        days = await store.session_days(key, year_ago)
        t1 = time.perf_counter()
        pain = await store.pain_since(key, eight_weeks_ago)
        t2 = time.perf_counter()
        days_t.append(t1 - t0)
        pain_t.append(t2 - t1)
        both_t.append(t2 - t0)
        n_days, n_pain = len(days), len(pain)
    print(f"session_days(since 1 year ago)   -> {n_days:3d} rows   {_fmt(days_t)}")
    print(f"pain_since(8 weeks ago)          -> {n_pain:3d} rows   {_fmt(pain_t)}")
    print(f"/progress reads (both, in a row)                {_fmt(both_t)}")

    # The whole /progress as a user gets it: Dialogue.handle, both reads, summary, PNG chart.
    from bot.app import build_dialogue
    from bot.core.types import Incoming

    dialogue = build_dialogue(store)
    full_t: list[float] = []
    for i in range(QUERY_ROUNDS // 4):
        key = rnd.choice(keys)
        msg = Incoming(key.platform, key.user_id, key.user_id, text="/progress", received_at=now)
        t0 = time.perf_counter()
        [reply] = await dialogue.handle(msg)
        full_t.append(time.perf_counter() - t0)
        assert reply.image, "progress reply without a chart"
        if i == 0:
            full_t.clear()  # the first call imports Pillow
    print(f"/progress end to end (Dialogue.handle, with chart)  {_fmt(full_t)}")


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL", ""))
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    tmp = None
    url = args.url.strip()
    if not url:
        tmp = tempfile.TemporaryDirectory(prefix="backbot-bench-")
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}"
    print(f"backend: {mask_url(url)}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    store, cleanup = await open_bench_store(url)
    try:
        await bench_signups(store, args.users, args.concurrency)
        await bench_progress_queries(store)
    finally:
        await cleanup()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
