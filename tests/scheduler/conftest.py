"""Scheduler fixtures: a real database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
a fake Sender that records sends and fails on cue, and a controlled clock.

Like tests/storage/conftest.py, each PostgreSQL test gets a private schema (dropped afterwards);
`Database.open_store()` opens another engine on the same database, which is what a restarted
process or a second instance sees.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text

from bot.app import build_dialogue
from bot.config import Settings, mask_url
from bot.core.dialogue import Dialogue
from bot.core.types import Address, Reply
from bot.errors import SendError
from bot.scheduler import PlatformLimits, ReminderScheduler
from bot.storage.models import Delivery, ReminderScheduleRow, User
from bot.storage.store import SqlStore, create_engine, run_migrations

logger = logging.getLogger(__name__)

PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()

BACKENDS = [pytest.param("sqlite", id="sqlite")]
if PG_URL:
    BACKENDS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))

# Wednesday 25 November 2026, 18:00 UTC: a Mon/Wed/Fri 18:00 UTC schedule is due.
WED_1800 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
FRI_1800 = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
# Generous limits so tests are not paced by the platform budgets unless they mean to be.
FAST = {
    "telegram": PlatformLimits(100_000.0, None),
    "discord": PlatformLimits(100_000.0, None),
}


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"scheduler backends: sqlite, postgres ({mask_url(PG_URL)})"
    return "scheduler backends: sqlite only (set TEST_DATABASE_URL to also run on postgres)"


class SimulatedCrash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing records it as an outcome."""


@dataclass
class FakeSender:
    """A Sender that records each delivered message and raises on cue.

    `script[chat_id]` is a list of exceptions raised by that chat's next sends, in order.
    `crash_after=N` raises SimulatedCrash instead of the (N+1)-th send (nothing delivered);
    `crash_after_delivery=N` delivers the N-th message, then raises before returning (the
    crash between the platform accepting a message and us recording it).
    """

    platform: str = "telegram"
    script: dict[str, list[BaseException]] = field(default_factory=dict)
    crash_after: int | None = None
    crash_after_delivery: int | None = None
    latency: float = 0.0
    notify_at: int | None = None  # set `reached` once this many messages went out
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    sent: list[tuple[Address, Reply]] = field(default_factory=list)
    calls: int = 0

    async def send(self, address: Address, reply: Reply) -> None:
        self.calls += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.crash_after is not None and len(self.sent) >= self.crash_after:
            raise SimulatedCrash()
        queued = self.script.get(address.chat_id)
        if queued:
            raise queued.pop(0)
        self.sent.append((address, reply))
        if self.notify_at is not None and len(self.sent) >= self.notify_at:
            self.reached.set()
        if self.crash_after_delivery is not None and len(self.sent) == self.crash_after_delivery:
            raise SimulatedCrash()

    def per_chat(self) -> Counter[str]:
        return Counter(a.chat_id for a, _ in self.sent)


@dataclass
class Clock:
    """A settable clock for the scheduler."""

    now: datetime = WED_1800

    def __call__(self) -> datetime:
        return self.now


@dataclass
class SleepLog:
    """An injected sleep that records what it was asked and waits only a moment."""

    calls: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(min(seconds, 0.001))


class Database:
    """One test database; every `open_store()` is a separate engine on it (a separate process)."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.schema = f"test_{uuid.uuid4().hex[:16]}"
        self.stores: list[SqlStore] = []
        self._migrated = False

    def _engine(self) -> Any:
        if self.backend == "sqlite":
            return create_engine(f"sqlite+aiosqlite:///{self.tmp_path}/sched.db")
        return create_engine(PG_URL, connect_args={"server_settings": {"search_path": self.schema}})

    async def open_store(self) -> SqlStore:
        if self.backend == "postgres" and not self._migrated:
            admin = create_engine(PG_URL)
            async with admin.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            await admin.dispose()
        engine = self._engine()
        if not self._migrated:
            await run_migrations(engine)
            self._migrated = True
        store = SqlStore(engine, retry_delay=0)
        self.stores.append(store)
        return store

    async def close(self) -> None:
        for s in self.stores:
            await s.close()
        if self.backend == "postgres" and self._migrated:
            admin = create_engine(PG_URL)
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            await admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(backend, tmp_path)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def store(database: Database) -> SqlStore:
    return await database.open_store()


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, reminder_grace_minutes=120, scheduler_tick_seconds=0.05)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


MakeScheduler = Callable[..., ReminderScheduler]


@pytest.fixture
async def make_scheduler(
    database: Database, settings: Settings, clock: Clock, sleeps: SleepLog
) -> AsyncIterator[MakeScheduler]:
    """A scheduler over a store with its own Dialogue; fast limits and sleeps unless overridden.

    Every scheduler made is stopped at the end (before the database goes), which releases a
    PostgreSQL sender lock it may hold.
    """
    made: list[ReminderScheduler] = []

    def make(store: SqlStore, *senders: FakeSender, **kw: Any) -> ReminderScheduler:
        dialogue: Dialogue = kw.pop("dialogue", None) or build_dialogue(store, settings)
        kw.setdefault("clock", clock)
        kw.setdefault("sleep", sleeps)
        kw.setdefault("limits", FAST)
        kw.setdefault("transient_backoff", 0.01)
        sched = ReminderScheduler(
            kw.pop("settings", settings), store, dialogue, {s.platform: s for s in senders}, **kw
        )
        made.append(sched)
        return sched

    yield make
    for sched in made:
        await sched.stop()


async def seed(
    store: SqlStore,
    n: int,
    *,
    due_at: datetime | None = WED_1800,
    platform: str = "telegram",
    days: str = "0,2,4",
    at: time = time(18, 0),
    tz: str = "UTC",
    prefix: str = "u",
) -> list[str]:
    """Bulk-insert n onboarded users with active reminder schedules; return their user ids."""
    ids = [f"{prefix}{i}" for i in range(n)]
    created = datetime(2026, 1, 1, tzinfo=UTC)
    async with store.sessionmaker() as s, s.begin():
        await s.execute(
            insert(User),
            [
                {
                    "platform": platform,
                    "user_id": uid,
                    "display_name": uid,
                    "timezone": tz,
                    "onboarded": True,
                    "has_profile": True,
                    "created_at": created,
                }
                for uid in ids
            ],
        )
        pks = dict(
            (await s.execute(select(User.user_id, User.id).where(User.platform == platform))).all()
        )
        await s.execute(
            insert(ReminderScheduleRow),
            [
                {
                    "user_id": pks[uid],
                    "platform": platform,
                    "chat_id": uid,
                    "days": days,
                    "at": at.strftime("%H:%M"),
                    "timezone": tz,
                    "active": True,
                    "next_due_at": due_at,
                    "updated_at": created,
                }
                for uid in ids
            ],
        )
    return ids


async def deliveries(store: SqlStore) -> list[dict[str, Any]]:
    """Every delivery row with its user's platform id, oldest first."""
    async with store.sessionmaker() as s:
        rows = await s.execute(
            select(
                User.user_id,
                Delivery.due_at,
                Delivery.status,
                Delivery.attempts,
                Delivery.error,
                Delivery.sent_at,
            )
            .join(User, User.id == Delivery.user_id)
            .order_by(Delivery.due_at, Delivery.id)
        )
        return [dict(r._mapping) for r in rows]


async def schedule_of(store: SqlStore, user_id: str) -> dict[str, Any]:
    async with store.sessionmaker() as s:
        row = (
            await s.execute(
                select(ReminderScheduleRow.active, ReminderScheduleRow.next_due_at)
                .join(User, User.id == ReminderScheduleRow.user_id)
                .where(User.user_id == user_id)
            )
        ).one()
        return dict(row._mapping)


async def count_deliveries(store: SqlStore, *where: Any) -> int:
    async with store.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Delivery).where(*where)) or 0)


def send_error(kind: type[SendError], n: int, **kw: Any) -> list[BaseException]:
    return [kind(**kw) for _ in range(n)]
