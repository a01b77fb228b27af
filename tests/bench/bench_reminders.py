"""Reminder fan-out benchmark: prints figures, asserts nothing.

    python tests/bench/bench_reminders.py [--users N] [--scale S] [--url URL] [--latency SEC]

N users (default 100,000) are all due in the same minute. One ReminderScheduler tick claims and
sends them through a fake Sender, paced by the scheduler's own limiters at the platform's limit
times S (default 10: Telegram's 30/s becomes 300/s, so 100k users take ~6 min instead of an
hour). The real Dialogue builds every nudge (profiles and recent pain read once per claimed
batch). Printed:

- delivered/s, and its ratio to the scaled limit, to the real limit and to 10x the real limit
  (target >= 0.95 at 10x);
- CPU per nudge and the unpaced capacity it implies, as a multiple of both limits;
- duplicates (messages the fake received beyond one per user; must be 0);
- lost (users without exactly one 'sent' delivery row; must be 0);
- peak RSS of the process (target < 200 MB).

SQLite (a temporary file) by default; PostgreSQL when --url or TEST_DATABASE_URL is given, in a
throwaway schema dropped at the end. Users and schedules are bulk-inserted (executemany).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import sys
import tempfile
import time
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import build_dialogue
from bot.config import Settings, mask_url
from bot.core.ports import UserKey
from bot.core.types import Address, Kind, Reply
from bot.scheduler import DEFAULT_LIMITS, PlatformLimits, ReminderScheduler
from bot.storage.models import Delivery, ReminderScheduleRow, User
from bot.storage.store import SqlStore
from tests.bench.bench_store import open_bench_store

logger = logging.getLogger(__name__)

PLATFORM = "telegram"
DUE = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # a Wednesday
CHUNK = 5000


class FixedNudge:
    """Stands in for the Dialogue when measuring the scheduler alone (--nudge fixed)."""

    REPLY = Reply("Time for your back session", kind=Kind.REMINDER, topic="nudge")

    async def reminders(self, keys: Collection[UserKey], now: datetime) -> dict[UserKey, Reply]:
        return dict.fromkeys(keys, self.REPLY)


class CountingSender:
    """A fake Sender: counts messages per user (one byte each) and when they went out."""

    platform = PLATFORM

    def __init__(self, users: int, latency: float) -> None:
        self.counts = bytearray(users)
        self.latency = latency
        self.first: float | None = None
        self.last = 0.0
        self.total = 0

    async def send(self, address: Address, reply: Reply) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)  # a network round trip
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        self.total += 1
        i = int(address.chat_id[1:])
        self.counts[i] = min(self.counts[i] + 1, 255)


async def seed(store: SqlStore, n: int) -> None:
    """n onboarded users, each with a Mon/Wed/Fri 18:00 UTC schedule due at DUE (executemany)."""
    created = DUE - timedelta(days=30)
    for start in range(0, n, CHUNK):
        ids = [f"u{i}" for i in range(start, min(n, start + CHUNK))]
        async with store.sessionmaker() as s, s.begin():
            await s.execute(
                insert(User),
                [
                    {
                        "platform": PLATFORM,
                        "user_id": uid,
                        "display_name": uid,
                        "onboarded": True,
                        "has_profile": True,
                        "created_at": created,
                    }
                    for uid in ids
                ],
            )
            pks = dict(
                (
                    await s.execute(
                        select(User.user_id, User.id).where(
                            User.platform == PLATFORM, User.user_id.in_(ids)
                        )
                    )
                ).all()
            )
            await s.execute(
                insert(ReminderScheduleRow),
                [
                    {
                        "user_id": pks[uid],
                        "platform": PLATFORM,
                        "chat_id": uid,
                        "days": "0,2,4",
                        "at": "18:00",
                        "timezone": "UTC",
                        "active": True,
                        "next_due_at": DUE,
                        "updated_at": created,
                    }
                    for uid in ids
                ],
            )


async def lost_users(store: SqlStore) -> tuple[int, int]:
    """(schedules without exactly one 'sent' delivery, delivery rows in total)."""
    sent = (
        select(Delivery.schedule_id, func.count().label("n"))
        .where(Delivery.status == "sent")
        .group_by(Delivery.schedule_id)
        .subquery()
    )
    async with store.sessionmaker() as s:
        lost = await s.scalar(
            select(func.count())
            .select_from(ReminderScheduleRow)
            .outerjoin(sent, sent.c.schedule_id == ReminderScheduleRow.id)
            .where(func.coalesce(sent.c.n, 0) != 1)
        )
        rows = await s.scalar(select(func.count()).select_from(Delivery))
    return int(lost or 0), int(rows or 0)


async def run(
    url: str, users: int, scale: float, latency: float, concurrency: int, nudge: str
) -> None:
    store, cleanup = await open_bench_store(url)
    try:
        t0 = time.perf_counter()
        await seed(store, users)
        print(f"  seeded {users:,} users + schedules in {time.perf_counter() - t0:.1f} s")

        base = DEFAULT_LIMITS[PLATFORM]
        limit = base.per_second * scale
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        sender = CountingSender(users, latency)
        scheduler = ReminderScheduler(
            settings,
            store,
            build_dialogue(store, settings) if nudge == "dialogue" else FixedNudge(),  # type: ignore[arg-type]
            {PLATFORM: sender},
            clock=lambda: DUE,
            limits={PLATFORM: PlatformLimits(limit, base.per_chat_per_second)},
            concurrency=concurrency,
            batch_size=1000,
        )
        t1, cpu1 = time.perf_counter(), time.process_time()
        stats = await scheduler.tick(DUE)
        wall, cpu = time.perf_counter() - t1, time.process_time() - cpu1
        await scheduler.stop()

        span = (sender.last - sender.first) if sender.first else 0.0
        rate = (sender.total - 1) / span if span > 0 else 0.0
        # aiolimiter lets one period's worth (= limit) go at once; without that burst:
        steady = (sender.total - limit) / span if span > 0 and sender.total > limit else rate
        duplicates = sum(c - 1 for c in sender.counts if c > 1)
        never = sum(1 for c in sender.counts if c == 0)
        lost, rows = await lost_users(store)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"  tick: {wall:.1f} s, claimed {stats.claimed:,}, sent {stats.sent:,}, "
            f"failed {stats.failed}, retried {stats.retried}"
        )
        real, ten = base.per_second, base.per_second * 10
        print(
            f"  delivered/s: {rate:,.0f} (paced at {limit:,.0f}/s) -> ratio {rate / limit:.3f}; "
            f"without the initial burst {steady:,.0f}/s -> {steady / limit:.3f}   [target >= 0.95]"
        )
        print(
            f"  ratio to the real limit ({real:g}/s): {steady / real:.2f}; "
            f"to 10x ({ten:g}/s): {steady / ten:.3f}   [target >= 0.95 at 10x]"
        )
        # What the process could do unpaced: CPU seconds per nudge, claim to 'sent' mark.
        per = cpu / max(stats.sent, 1)
        print(
            f"  CPU per nudge {per * 1000:.2f} ms -> capacity {1 / per:,.0f}/s on one core = "
            f"{1 / per / real:.0f}x the real limit, {1 / per / ten:.1f}x the 10x limit"
        )
        print(f"  duplicates: {duplicates}   [must be 0]")
        print(
            f"  lost: {lost} (users never messaged: {never}; delivery rows: {rows:,})   [must be 0]"
        )
        print(f"  peak RSS: {rss_mb:.0f} MB   [target < 200 MB]")
    finally:
        await cleanup()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--scale", type=float, default=10.0, help="multiply platform limits")
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL", ""))
    parser.add_argument("--latency", type=float, default=0.02, help="fake send round trip, s")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument(
        "--nudge",
        choices=("dialogue", "fixed"),
        default="dialogue",
        help="build each reminder with the real Dialogue (default) or send a fixed text",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        print(
            f"reminder fan-out on {mask_url(url)}: {args.users:,} users due at once, "
            f"{PLATFORM} limit x{args.scale:g}, send latency {args.latency * 1000:.0f} ms, "
            f"concurrency {args.concurrency}, nudge: {args.nudge}"
        )
        await run(url, args.users, args.scale, args.latency, args.concurrency, args.nudge)


if __name__ == "__main__":
    asyncio.run(main())
