"""ReminderScheduler on a real database: exactly once, retries, grace, DST, snooze, restarts.

Every test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set. Time comes
from an injected clock (or `tick(now)`); sleeps are recorded and last a millisecond at most.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.app import build_dialogue
from bot.config import Settings
from bot.core.ports import UserKey
from bot.core.reminders import next_due
from bot.core.types import Address, Incoming, Kind, Reply
from bot.errors import Blocked, RateLimited, TransientError
from bot.scheduler import PlatformLimits, TickStats
from bot.storage.store import SqlStore

from .conftest import (
    FRI_1800,
    WED_1800,
    Clock,
    Database,
    FakeSender,
    MakeScheduler,
    SimulatedCrash,
    SleepLog,
    deliveries,
    schedule_of,
    seed,
)

logger = logging.getLogger(__name__)


async def test_due_reminder_is_sent_once_and_advances(
    store: SqlStore, sender: FakeSender, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 1)
    sched = make_scheduler(store, sender)

    stats = await sched.tick(WED_1800)

    assert stats == TickStats(claimed=1, sent=1)
    [(address, reply)] = sender.sent
    assert address == Address("telegram", "u0", "u0")
    assert reply.kind is Kind.REMINDER
    assert "Snooze 1h" in [b.label for b in reply.buttons]
    [row] = await deliveries(store)
    assert (row["user_id"], row["due_at"], row["status"], row["attempts"]) == (
        "u0",
        WED_1800,
        "sent",
        1,
    )
    assert row["sent_at"] == WED_1800
    assert await schedule_of(store, "u0") == {"active": True, "next_due_at": FRI_1800}

    again = await sched.tick(WED_1800)
    assert again == TickStats()
    assert len(sender.sent) == 1
    assert len(await deliveries(store)) == 1


async def test_nothing_is_sent_before_it_is_due(
    store: SqlStore, sender: FakeSender, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 3)
    stats = await make_scheduler(store, sender).tick(WED_1800 - timedelta(seconds=1))
    assert stats == TickStats()
    assert sender.sent == []


async def test_many_due_users_each_get_exactly_one(
    store: SqlStore, sender: FakeSender, make_scheduler: MakeScheduler
) -> None:
    ids = await seed(store, 230)
    # Small batches and queue: claims and sends interleave across several claim transactions.
    stats = await make_scheduler(store, sender, batch_size=50, concurrency=8).tick(WED_1800)
    assert (stats.claimed, stats.sent) == (230, 230)
    assert sender.per_chat() == dict.fromkeys(ids, 1)
    rows = await deliveries(store)
    assert sorted(r["user_id"] for r in rows) == sorted(ids)
    assert {r["status"] for r in rows} == {"sent"}


async def test_restart_after_crash_mid_fan_out_finishes_exactly_once(
    database: Database, store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    ids = await seed(store, 40)
    first = FakeSender(crash_after=11)  # the process "dies" instead of sending the 12th
    crashed = make_scheduler(store, first, batch_size=10, concurrency=4)
    with pytest.raises(SimulatedCrash):
        await crashed.tick(WED_1800)
    await crashed.stop()  # the dead process's connections close (and its PostgreSQL lock goes)
    assert len(first.sent) == 11
    statuses = [r["status"] for r in await deliveries(store)]
    assert statuses.count("sent") == 11  # each send before the crash was recorded
    assert "pending" in statuses

    # A new process: another engine on the same database, a fresh scheduler and sender.
    restarted = await database.open_store()
    second = FakeSender()
    stats = await make_scheduler(restarted, second).tick(WED_1800 + timedelta(seconds=5))

    assert stats.recovered == len(statuses) - 11
    assert stats.sent == 40 - 11
    assert first.per_chat() + second.per_chat() == dict.fromkeys(ids, 1)
    rows = await deliveries(restarted)
    assert sorted(r["user_id"] for r in rows) == sorted(ids)
    assert {r["status"] for r in rows} == {"sent"}


async def test_a_claim_interrupted_by_a_crash_still_commits(
    store: SqlStore, make_scheduler: MakeScheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first send crashes while the producer is inside its second (slow) claim. Cancelling
    # that claim mid-transaction could strand it with SQLite's write lock held; it must instead
    # run to its end (its batch stays pending for recovery) before the tick gives up. The
    # send's round trip lets the producer reach its second claim (with on PostgreSQL a lease
    # check first) before the crash: nudges come composed, so a send starts at once.
    await seed(store, 30)
    sender = FakeSender(crash_after=0, latency=0.05)
    sched = make_scheduler(store, sender, batch_size=10, concurrency=2)
    real = sched.repo.claim_due
    calls = 0

    async def slow_second_claim(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            await asyncio.sleep(0.2)
        return await real(*args, **kwargs)

    monkeypatch.setattr(sched.repo, "claim_due", slow_second_claim)
    with pytest.raises(SimulatedCrash):
        await sched.tick(WED_1800)
    assert calls == 2
    assert len(await deliveries(store)) == 20  # both claimed batches are on record
    await sched.stop()


async def test_cancelled_tick_is_finished_by_the_next_scheduler(
    database: Database, store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    ids = await seed(store, 30)
    first = FakeSender(latency=0.002, notify_at=6)
    stopped = make_scheduler(store, first, batch_size=10, concurrency=3)
    task = asyncio.create_task(stopped.tick(WED_1800))
    await asyncio.wait_for(first.reached.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await stopped.stop()
    assert 6 <= len(first.sent) < 30

    second = FakeSender()
    await make_scheduler(await database.open_store(), second).tick(WED_1800)

    assert first.per_chat() + second.per_chat() == dict.fromkeys(ids, 1)
    rows = await deliveries(store)
    assert len(rows) == 30 and {r["status"] for r in rows} == {"sent"}


async def test_crash_between_send_and_record_repeats_only_that_one(
    database: Database, store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    """The documented window: the platform took the message, the process died before 'sent'
    was written. Recovery sends that one again (at most one duplicate); nothing else repeats."""
    ids = await seed(store, 8)
    first = FakeSender(crash_after_delivery=3)
    crashed = make_scheduler(store, first, concurrency=1)
    with pytest.raises(SimulatedCrash):
        await crashed.tick(WED_1800)
    await crashed.stop()

    second = FakeSender()
    await make_scheduler(await database.open_store(), second).tick(WED_1800)

    both = first.per_chat() + second.per_chat()
    assert set(both) == set(ids)
    assert sorted(both.values()) == [1] * 7 + [2]
    rows = await deliveries(store)
    assert len(rows) == 8 and {r["status"] for r in rows} == {"sent"}


async def test_429_storm_waits_retry_after_then_sends_once(
    store: SqlStore, sleeps: SleepLog, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 1)
    sender = FakeSender(script={"u0": [RateLimited(0.01) for _ in range(5)]})
    stats = await make_scheduler(store, sender).tick(WED_1800)

    assert (stats.sent, stats.retried, stats.failed) == (1, 5, 0)
    assert sleeps.calls.count(0.01) == 5
    assert len(sender.sent) == 1 and sender.calls == 6
    [row] = await deliveries(store)
    assert (row["status"], row["attempts"]) == ("sent", 6)


async def test_endless_429_gives_up_as_failed_with_an_error(
    store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 1)
    sender = FakeSender(script={"u0": [RateLimited(0.01) for _ in range(50)]})
    stats = await make_scheduler(store, sender, max_rate_limit_waits=4).tick(WED_1800)
    assert (stats.sent, stats.failed) == (0, 1)
    [row] = await deliveries(store)
    assert row["status"] == "failed" and "rate limited" in row["error"]


async def test_blocked_user_is_deactivated_and_not_retried(
    store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 3)
    sender = FakeSender(script={"u1": [Blocked("bot was blocked by the user")]})
    sched = make_scheduler(store, sender)

    stats = await sched.tick(WED_1800)
    assert (stats.sent, stats.blocked) == (2, 1)
    assert await schedule_of(store, "u1") == {"active": False, "next_due_at": None}
    blocked = [r for r in await deliveries(store) if r["user_id"] == "u1"]
    assert [(r["status"], r["error"]) for r in blocked] == [
        ("blocked", "bot was blocked by the user")
    ]

    later = await sched.tick(FRI_1800)
    assert (later.sent, later.recovered) == (2, 0)
    assert sender.per_chat() == {"u0": 2, "u2": 2}


async def test_transient_failure_is_retried_with_backoff_in_the_tick(
    store: SqlStore, sleeps: SleepLog, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 1)
    sender = FakeSender(script={"u0": [TransientError("502"), TransientError("timeout")]})
    stats = await make_scheduler(store, sender, transient_backoff=0.5).tick(WED_1800)
    assert (stats.sent, stats.retried, stats.failed) == (1, 2, 0)
    assert [s for s in sleeps.calls if s in (0.5, 1.0)] == [0.5, 1.0]  # exponential
    [row] = await deliveries(store)
    assert (row["status"], row["attempts"]) == ("sent", 3)


async def test_three_transient_failures_then_success_is_delivered_once_by_a_later_tick(
    store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 1)
    sender = FakeSender(script={"u0": [TransientError("503") for _ in range(3)]})
    sched = make_scheduler(store, sender, retry_backoff=60.0)

    first = await sched.tick(WED_1800)
    assert (first.sent, first.failed, first.retried) == (0, 1, 2)
    [row] = await deliveries(store)
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert "503" in row["error"]

    too_soon = await sched.tick(WED_1800 + timedelta(seconds=30))
    assert (too_soon.recovered, too_soon.sent) == (0, 0)

    retry = await sched.tick(WED_1800 + timedelta(seconds=61))
    assert (retry.recovered, retry.sent, retry.claimed) == (1, 1, 0)
    assert len(sender.sent) == 1
    [row] = await deliveries(store)
    assert (row["status"], row["attempts"]) == ("sent", 4)

    assert await sched.tick(WED_1800 + timedelta(minutes=5)) == TickStats()
    assert len(sender.sent) == 1


async def test_failed_delivery_is_not_retried_after_the_grace_period(
    store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 1)
    sender = FakeSender(script={"u0": [TransientError("down") for _ in range(3)]})
    sched = make_scheduler(store, sender)
    await sched.tick(WED_1800)
    late = await sched.tick(WED_1800 + timedelta(minutes=121))
    assert (late.recovered, late.sent) == (0, 0)
    [row] = await deliveries(store)
    assert row["status"] == "failed" and row["error"]  # kept, with its reason, never lost


async def test_sender_bug_is_recorded_as_failed(
    store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 1)
    sender = FakeSender(script={"u0": [RuntimeError("adapter bug")]})
    stats = await make_scheduler(store, sender).tick(WED_1800)
    assert stats.failed == 1
    [row] = await deliveries(store)
    assert row["status"] == "failed" and "adapter bug" in row["error"]


async def test_platform_without_a_sender_waits_for_a_process_that_has_one(
    store: SqlStore, sender: FakeSender, make_scheduler: MakeScheduler
) -> None:
    """A Telegram-only process leaves Discord (or console) reminders alone instead of failing
    them; a process with a Discord sender delivers them."""
    await seed(store, 1, platform="discord")
    stats = await make_scheduler(store, sender).tick(WED_1800)
    assert (stats.claimed, stats.failed, stats.sent) == (0, 0, 0)
    assert await deliveries(store) == []
    discord = FakeSender(platform="discord")
    stats = await make_scheduler(store, discord).tick(WED_1800 + timedelta(minutes=1))
    assert (stats.claimed, stats.sent) == (1, 1) and len(discord.sent) == 1
    [row] = await deliveries(store)
    assert row["status"] == "sent"


@pytest.mark.parametrize(
    ("late", "sent", "missed"),
    [(timedelta(minutes=119), 1, 0), (timedelta(minutes=121), 0, 1)],
    ids=["within-grace", "past-grace"],
)
async def test_missed_while_down(
    store: SqlStore,
    sender: FakeSender,
    make_scheduler: MakeScheduler,
    late: timedelta,
    sent: int,
    missed: int,
) -> None:
    await seed(store, 1)
    stats = await make_scheduler(store, sender).tick(WED_1800 + late)
    assert (stats.claimed, stats.sent, stats.skipped_missed) == (1, sent, missed)
    assert len(sender.sent) == sent
    [row] = await deliveries(store)
    assert row["status"] == ("sent" if sent else "missed")
    assert (await schedule_of(store, "u0"))["next_due_at"] == FRI_1800


async def test_days_of_downtime_skip_old_reminders_and_send_the_recent_one_once(
    store: SqlStore, sender: FakeSender, make_scheduler: MakeScheduler
) -> None:
    mon = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    await seed(store, 1, due_at=mon, days="0,1,2,3,4,5,6")
    sched = make_scheduler(store, sender)
    back = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)  # Thursday 19:00: Thu 18:00 is in grace

    first = await sched.tick(back)
    assert (first.skipped_missed, first.sent) == (1, 0)
    assert (await schedule_of(store, "u0"))["next_due_at"] == mon + timedelta(days=3)
    second = await sched.tick(back)
    assert (second.claimed, second.sent) == (1, 1)
    assert [(r["due_at"].day, r["status"]) for r in await deliveries(store)] == [
        (23, "missed"),
        (26, "sent"),
    ]
    assert await sched.tick(back + timedelta(minutes=1)) == TickStats()
    assert len(sender.sent) == 1


@pytest.mark.parametrize(
    ("sunday", "fires_utc"),
    [
        # Spring forward: 02:30 does not exist; it fires once at 03:00 CEST.
        (datetime(2027, 3, 28, tzinfo=UTC), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        # Fall back: 02:30 happens twice; it fires once, at the first (CEST) one.
        (datetime(2027, 10, 31, tzinfo=UTC), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ],
    ids=["spring-forward", "fall-back"],
)
async def test_dst_sunday_0230_berlin_fires_once(
    store: SqlStore,
    sender: FakeSender,
    make_scheduler: MakeScheduler,
    sunday: datetime,
    fires_utc: datetime,
) -> None:
    zone = "Europe/Berlin"
    first = next_due((6,), time(2, 30), zone, sunday - timedelta(days=1))
    assert first == fires_utc
    await seed(store, 1, due_at=first, days="6", at=time(2, 30), tz=zone)
    sched = make_scheduler(store, sender)

    sent = 0
    for minutes in range(-30, 181, 5):  # tick every 5 minutes through the night
        sent += (await sched.tick(fires_utc + timedelta(minutes=minutes))).sent
    assert sent == 1 and len(sender.sent) == 1
    [row] = await deliveries(store)
    assert row["due_at"] == fires_utc
    assert (await schedule_of(store, "u0"))["next_due_at"] == next_due(
        (6,), time(2, 30), zone, fires_utc
    )


async def test_snooze_fires_once_an_hour_later(
    store: SqlStore, sender: FakeSender, settings: Settings, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 1)
    dialogue = build_dialogue(store, settings)
    sched = make_scheduler(store, sender, dialogue=dialogue)
    await sched.tick(WED_1800)

    pressed = WED_1800 + timedelta(minutes=2)
    snooze = dialogue.buttons.sign(UserKey("telegram", "u0"), "rem:snooze")
    [reply] = await dialogue.handle(
        Incoming("telegram", "u0", "u0", action=snooze, received_at=pressed)
    )
    assert "hour" in reply.text
    hour_later = pressed + timedelta(hours=1)
    assert (await schedule_of(store, "u0"))["next_due_at"] == hour_later

    assert (await sched.tick(hour_later - timedelta(seconds=1))).sent == 0
    assert (await sched.tick(hour_later)).sent == 1
    assert (await sched.tick(hour_later + timedelta(minutes=1))).sent == 0
    assert len(sender.sent) == 2
    assert [r["due_at"] for r in await deliveries(store)] == [WED_1800, hour_later]
    assert (await schedule_of(store, "u0"))["next_due_at"] == FRI_1800


async def test_snooze_ending_before_the_days_regular_time_is_that_days_reminder(
    store: SqlStore, sender: FakeSender, settings: Settings, make_scheduler: MakeScheduler
) -> None:
    """A snoozed reminder from an older message that comes due at 17:59 stands in for the 18:00
    one: the user gets one nudge that day, not two a minute apart."""
    await seed(store, 1, due_at=WED_1800 - timedelta(minutes=1))
    sched = make_scheduler(store, sender)
    assert (await sched.tick(WED_1800 - timedelta(minutes=1))).sent == 1
    assert (await sched.tick(WED_1800 + timedelta(minutes=1))).sent == 0
    assert len(sender.sent) == 1
    assert (await schedule_of(store, "u0"))["next_due_at"] == FRI_1800


async def test_remind_command_end_to_end_through_the_real_dialogue(
    store: SqlStore, sender: FakeSender, settings: Settings, make_scheduler: MakeScheduler
) -> None:
    dialogue = build_dialogue(store, settings)
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    replies = await dialogue.handle(
        Incoming("telegram", "ana", "ana", text="/remind mon wed fri 18:00", received_at=tuesday)
    )
    assert any("Mon, Wed, Fri" in r.text for r in replies)
    sched_row = await store.get_reminder(UserKey("telegram", "ana"))
    assert sched_row is not None and sched_row.next_due_at is not None
    due = sched_row.next_due_at
    clock = Clock(due)
    sched = make_scheduler(store, sender, dialogue=dialogue, clock=clock)

    clock.now = due - timedelta(minutes=1)
    assert (await sched.tick()).sent == 0
    clock.now = due
    stats = await sched.tick()
    assert stats.sent == 1
    [(address, reply)] = sender.sent
    assert address == Address("telegram", "ana", "ana")
    assert "Snooze 1h" in [b.label for b in reply.buttons]
    clock.now = due + timedelta(seconds=5)
    assert (await sched.tick()).sent == 0


async def test_one_message_per_chat_per_second(
    store: SqlStore, sleeps: SleepLog, make_scheduler: MakeScheduler
) -> None:
    """Two reminders for one group chat: the second waits for the chat's spacing."""
    await seed(store, 2)
    async with store.sessionmaker() as s, s.begin():
        from sqlalchemy import update

        from bot.storage.models import ReminderScheduleRow

        await s.execute(update(ReminderScheduleRow).values(chat_id="group"))
    sent_at: list[float] = []

    class Timed(FakeSender):
        async def send(self, address: Address, reply: Reply) -> None:
            await super().send(address, reply)
            sent_at.append(asyncio.get_running_loop().time())

    sender = Timed()
    # 10 per second per chat (one token, no burst): the chat's bucket spaces them 0.1 s apart.
    limits = {"telegram": PlatformLimits(1000.0, 10.0)}
    await make_scheduler(store, sender, limits=limits, concurrency=2).tick(WED_1800)
    assert sender.per_chat() == {"group": 2}
    assert sent_at[1] - sent_at[0] >= 0.09


async def test_start_and_stop_run_ticks_on_apscheduler(
    store: SqlStore, sender: FakeSender, make_scheduler: MakeScheduler
) -> None:
    ids = await seed(store, 5)
    sched = make_scheduler(store, sender)
    await sched.start()
    try:
        for _ in range(400):
            if len(sender.sent) == 5:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.15)  # a few more ticks at the same time must send nothing
    finally:
        await sched.stop()
    assert sender.per_chat() == dict.fromkeys(ids, 1)


async def test_sends_whose_record_failed_are_written_later_not_resent(
    store: SqlStore, sender: FakeSender, make_scheduler: MakeScheduler
) -> None:
    """The database hiccups while 'sent' is being written: the marks are kept and written on
    the next tick, and recovery does not send those reminders again."""
    ids = await seed(store, 5)
    sched = make_scheduler(store, sender)
    real = sched.repo.mark_sent
    outage = {"down": True}

    async def flaky(marks: list[object]) -> None:
        if outage["down"]:
            raise OSError("connection reset")
        await real(marks)  # type: ignore[arg-type]

    sched.repo.mark_sent = flaky  # type: ignore[method-assign]
    first = await sched.tick(WED_1800)
    assert first.sent == 5
    assert {r["status"] for r in await deliveries(store)} == {"pending"}

    outage["down"] = False
    second = await sched.tick(WED_1800 + timedelta(seconds=5))
    assert (second.recovered, second.sent) == (0, 0)
    assert sender.per_chat() == dict.fromkeys(ids, 1)
    assert {r["status"] for r in await deliveries(store)} == {"sent"}
