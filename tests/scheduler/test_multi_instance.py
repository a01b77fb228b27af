"""Several ReminderScheduler instances on one PostgreSQL database: no double sends, one sender.

Each instance has its own engine (its own connections), as separate processes would. Skipped on
SQLite, where one process is assumed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.storage.store import SqlStore

from .conftest import (
    FRI_1800,
    WED_1800,
    Database,
    FakeSender,
    MakeScheduler,
    SimulatedCrash,
    deliveries,
    seed,
)

logger = logging.getLogger(__name__)

USERS = 1000


@pytest.fixture(autouse=True)
def _postgres_only(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("several instances need PostgreSQL (SQLite: one process is assumed)")


async def _two(
    database: Database, make_scheduler: MakeScheduler, **kw: object
) -> tuple[list[FakeSender], list[object]]:
    senders = [FakeSender(), FakeSender()]
    scheds = [
        make_scheduler(await database.open_store(), s, batch_size=100, concurrency=16, **kw)
        for s in senders
    ]
    return senders, scheds


async def test_two_instances_with_the_sender_lock_send_each_reminder_once(
    database: Database, store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    ids = await seed(store, USERS)
    senders, scheds = await _two(database, make_scheduler)

    stats = await asyncio.gather(*(s.tick(WED_1800) for s in scheds))  # type: ignore[attr-defined]

    assert sorted(st.standby for st in stats) == [False, True]  # one sends, one stands by
    assert sum(st.sent for st in stats) == USERS
    assert senders[0].per_chat() + senders[1].per_chat() == dict.fromkeys(ids, 1)
    rows = await deliveries(store)
    assert len(rows) == USERS and {r["status"] for r in rows} == {"sent"}


async def test_two_instances_without_the_lock_still_never_double_send(
    database: Database, store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    """The claim alone (SKIP LOCKED + the unique delivery key) keeps concurrent instances apart;
    the lock is only about sharing the platform's send budget."""
    ids = await seed(store, USERS)
    senders, scheds = await _two(database, make_scheduler, sender_lock=False)

    for at in (WED_1800, WED_1800 + timedelta(seconds=5)):
        stats = await asyncio.gather(*(s.tick(at) for s in scheds))  # type: ignore[attr-defined]
        assert not any(st.standby for st in stats)

    total = senders[0].per_chat() + senders[1].per_chat()
    assert total == dict.fromkeys(ids, 1)
    rows = await deliveries(store)
    assert len(rows) == USERS
    assert sorted(r["user_id"] for r in rows) == sorted(ids)
    assert {r["status"] for r in rows} == {"sent"}


async def test_standby_takes_over_and_recovers_when_the_sender_dies(
    database: Database, store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    ids = await seed(store, 60)
    a_sender, b_sender = FakeSender(crash_after=20), FakeSender()
    a = make_scheduler(await database.open_store(), a_sender, batch_size=10, concurrency=4)
    b = make_scheduler(await database.open_store(), b_sender)

    with pytest.raises(SimulatedCrash):
        await a.tick(WED_1800)
    # A still holds the lock (its process has not exited yet): B stands by, sends nothing.
    assert (await b.tick(WED_1800)).standby
    assert b_sender.sent == []

    await a.stop()  # A's process exits: PostgreSQL drops its session and the lock with it
    stats = await b.tick(WED_1800 + timedelta(seconds=5))
    assert not stats.standby
    assert stats.sent == 40
    assert a_sender.per_chat() + b_sender.per_chat() == dict.fromkeys(ids, 1)

    # B stays the sender for later reminders.
    later = await b.tick(FRI_1800)
    assert later.sent == 60
    assert {r["status"] for r in await deliveries(store)} == {"sent"}
