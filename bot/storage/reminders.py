"""The reminder scheduler's SQL: claim due schedules, record each delivery's outcome, recover.

Usage (from `bot.scheduler`)::

    repo = ReminderRepo(store)
    claims = await repo.claim_due(now, limit=500, missed_before=now - grace)
    await repo.mark_sent([SentMark(c.delivery_id, now, 1)])

Exactly-once, in the database:

- `claim_due` runs one transaction per batch: it takes the due schedules (`active` and
  `next_due_at <= now`, oldest first; on PostgreSQL `FOR UPDATE SKIP LOCKED`, so concurrent
  instances take disjoint rows), inserts one `deliveries` row per schedule keyed
  (schedule_id, due_at) with ON CONFLICT DO NOTHING, and advances `next_due_at` with the pure
  `bot.core.reminders.next_due`, all before COMMIT. The unique key is the final word: a conflict
  means someone already owns that occurrence, so it is advanced past and never sent again.
- A delivery is then 'pending' until its outcome is written: 'sent', 'missed' (older than the
  grace period), 'blocked' (schedule deactivated too) or 'failed' (with an error).
- `retake` hands 'failed' rows (and, for the instance that owns sending, orphaned 'pending'
  rows) back to the scheduler with a compare-and-set UPDATE, so two callers never both win.
  `created_at` doubles as "when the current owner took the row" for that compare-and-set.

SQLite: every write transaction here starts with a write (UPDATE ... RETURNING), so it takes
the file's write lock first and cannot fail to upgrade a read snapshot half-way through.
No SQL for reminders lives anywhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.core.reminders import next_due
from bot.storage.models import Delivery, ReminderScheduleRow, User
from bot.storage.store import SqlStore

logger = logging.getLogger(__name__)

# Core tables for the bulk statements; typed as Table (the ORM declares __table__ as FromClause).
SCHEDULES = cast(Table, ReminderScheduleRow.__table__)
DELIVERIES = cast(Table, Delivery.__table__)
USERS = cast(Table, User.__table__)

PENDING, SENT, MISSED, BLOCKED, FAILED = "pending", "sent", "missed", "blocked", "failed"
ERROR_MAX = 500

# pg_try_advisory_lock(int, int): a fixed namespace for backbot's reminder sender, and the
# schema's hash as the second key, so deployments sharing one database (and the test suites'
# throwaway schemas) each get their own sender.
LOCK_NAMESPACE = 0x62620001


@dataclass(frozen=True, slots=True)
class Claim:
    """One delivery this instance owns until its outcome is written."""

    delivery_id: int
    schedule_id: int
    platform: str
    user_id: str  # the platform's user id (for UserKey), not users.id
    chat_id: str
    due_at: datetime
    status: str  # PENDING to send, MISSED when claimed too late
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class SentMark:
    """A delivery that went out: written in batches right after the sends."""

    delivery_id: int
    sent_at: datetime
    attempts: int


def _clock(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def _days(value: str) -> tuple[int, ...]:
    return tuple(int(p) for p in value.split(",") if p.strip())


def _advance(row: Any, now: datetime, catch_up: datetime) -> datetime | None:
    """The schedule's next occurrence after this one; None if the schedule is unusable.

    `after` is at least `catch_up` (now minus the grace period): after downtime the schedule
    jumps to the most recent occurrence that is still worth sending instead of walking through
    every missed one, and never lands on or before the occurrence just claimed.
    """
    after = max(row.next_due_at, catch_up)
    days, at = _days(row.days), _clock(row.at)
    try:
        nxt = next_due(days, at, row.timezone, after, row.paused_until)
        if row.next_due_at >= catch_up:
            # This one is being sent: it counts as that local day's reminder, even when it was
            # a snooze that ended before the day's regular time (one reminder a day at most).
            zone = ZoneInfo(row.timezone)
            sent_day = row.next_due_at.astimezone(zone).date()
            while nxt.astimezone(zone).date() <= sent_day:
                nxt = next_due(days, at, row.timezone, nxt, row.paused_until)
        return nxt
    except ValueError as e:
        # A bad zone or empty day list: stop scheduling rather than spin on it every tick.
        logger.warning("reminder schedule %s cannot be advanced (%s); parking it", row.id, e)
        return None


class SenderLease:
    """A held PostgreSQL advisory lock: while it lives, this instance is the one sender."""

    def __init__(self, conn: AsyncConnection, scope: str = "") -> None:
        self._conn = conn
        self._scope = scope

    async def alive(self) -> bool:
        """True while the lock's connection still answers (the lock dies with it)."""
        try:
            await self._conn.execute(text("SELECT 1"))
            return True
        except Exception as e:  # any failure means the session, and so the lock, may be gone
            logger.warning("sender lock connection lost: %s", type(e).__name__)
            await self._discard()
            return False

    async def release(self) -> None:
        """Unlock and return the connection; a dead connection has released it already."""
        try:
            released = await self._conn.scalar(
                text("SELECT pg_advisory_unlock(:ns, hashtext(current_schema() || :scope))"),
                {"ns": LOCK_NAMESPACE, "scope": self._scope},
            )
            if not released:  # never return a pooled connection that may still hold a lock
                raise RuntimeError("advisory unlock found no lock")
            await self._conn.close()
        except Exception as e:
            logger.warning("sender lock release failed (%s); closing its connection", e)
            await self._discard()

    async def _discard(self) -> None:
        try:
            await self._conn.invalidate()
            await self._conn.close()
        except Exception:  # already gone: nothing left to clean up
            logger.debug("sender lock connection already closed")


class ReminderRepo:
    """The scheduler's queries, on a `SqlStore`'s engine."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.dialect = store.engine.dialect.name

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def _session(self) -> AsyncSession:
        return self.store.sessionmaker()

    # -- claiming ---------------------------------------------------------------------------

    async def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        missed_before: datetime,
        platforms: Collection[str] | None = None,
    ) -> list[Claim]:
        """Take up to `limit` due schedules in one transaction; return their new deliveries.

        Deliveries due before `missed_before` are recorded as MISSED, not to be sent.
        A schedule whose occurrence already has a delivery row is advanced and not returned.
        """
        pick = (
            select(SCHEDULES.c.id)
            .where(SCHEDULES.c.active.is_(True), SCHEDULES.c.next_due_at <= now)
            .order_by(SCHEDULES.c.next_due_at, SCHEDULES.c.id)
            .limit(limit)
        )
        if platforms is not None:  # only what this process can send (no console from Telegram)
            pick = pick.where(SCHEDULES.c.platform.in_(list(platforms)))
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        take = (
            update(SCHEDULES)
            .where(SCHEDULES.c.id.in_(pick.scalar_subquery()))
            .values(updated_at=now)
            .returning(
                SCHEDULES.c.id,
                SCHEDULES.c.user_id,
                SCHEDULES.c.platform,
                SCHEDULES.c.chat_id,
                SCHEDULES.c.days,
                SCHEDULES.c.at,
                SCHEDULES.c.timezone,
                SCHEDULES.c.paused_until,
                SCHEDULES.c.next_due_at,
            )
        )
        async with self._session() as s, s.begin():
            rows = sorted((await s.execute(take)).all(), key=lambda r: (r.next_due_at, r.id))
            if not rows:
                return []
            names: dict[int, str] = {
                row.id: row.user_id
                for row in await s.execute(
                    select(USERS.c.id, USERS.c.user_id).where(
                        USERS.c.id.in_({r.user_id for r in rows})
                    )
                )
            }
            values = [
                {
                    "schedule_id": r.id,
                    "user_id": r.user_id,
                    "due_at": r.next_due_at,
                    "status": MISSED if r.next_due_at < missed_before else PENDING,
                    "attempts": 0,
                    "error": "not sent within the grace period"
                    if r.next_due_at < missed_before
                    else None,
                    "created_at": now,
                }
                for r in rows
            ]
            inserted = (
                await s.execute(
                    self._insert(DELIVERIES)
                    .values(values)
                    .on_conflict_do_nothing(index_elements=["schedule_id", "due_at"])
                    .returning(DELIVERIES.c.id, DELIVERIES.c.schedule_id)
                )
            ).all()
            delivery_of = {sid: did for did, sid in inserted}
            await s.execute(
                update(SCHEDULES)
                .where(SCHEDULES.c.id == bindparam("sid"))
                .values(next_due_at=bindparam("nd")),
                [{"sid": r.id, "nd": _advance(r, now, missed_before)} for r in rows],
            )
        claims: list[Claim] = []
        for r, v in zip(rows, values, strict=True):
            did = delivery_of.get(r.id)
            if did is None:
                logger.info("schedule %s at %s was already delivered; skipped", r.id, r.next_due_at)
                continue
            claims.append(
                Claim(
                    did, r.id, r.platform, names[r.user_id], r.chat_id, r.next_due_at, v["status"]
                )
            )
        return claims

    async def expire(self, missed_before: datetime) -> int:
        """Turn pending deliveries past the grace period, or of stopped schedules, into MISSED."""
        stopped = select(SCHEDULES.c.id).where(SCHEDULES.c.active.is_(False))
        async with self._session() as s, s.begin():
            res = await s.execute(
                update(DELIVERIES)
                .where(
                    DELIVERIES.c.status == PENDING,
                    or_(
                        DELIVERIES.c.due_at < missed_before,
                        DELIVERIES.c.schedule_id.in_(stopped.scalar_subquery()),
                    ),
                )
                .values(status=MISSED, error="not sent within the grace period")
                .returning(DELIVERIES.c.id)
            )
            return len(res.all())

    async def retake(
        self,
        now: datetime,
        *,
        since: datetime,
        max_attempts: int,
        pending_before: datetime | None,
        exclude: Iterable[int] = (),
        limit: int = 1000,
        platforms: Collection[str] | None = None,
    ) -> list[Claim]:
        """Take back deliveries to (re)send: FAILED ones, and orphaned PENDING ones.

        Only rows due at or after `since` (within grace) of active schedules with fewer than
        `max_attempts` attempts. PENDING rows count as orphaned when `pending_before` is None
        (the caller is the only sender, so nobody else is sending them) or their `created_at`
        is at or before it. Each row is taken with a compare-and-set UPDATE that also stamps
        `created_at = now`, so a concurrent caller cannot take the same row.
        """
        orphan = DELIVERIES.c.status == PENDING
        if pending_before is not None:
            orphan = and_(orphan, DELIVERIES.c.created_at <= pending_before)
        takeable = or_(DELIVERIES.c.status == FAILED, orphan)
        skip = set(exclude)
        async with self._session() as s, s.begin():
            # The UPDATE comes first so a SQLite transaction holds the write lock from its start.
            pick = (
                select(DELIVERIES.c.id)
                .join(SCHEDULES, SCHEDULES.c.id == DELIVERIES.c.schedule_id)
                .where(
                    takeable,
                    DELIVERIES.c.due_at >= since,
                    DELIVERIES.c.attempts < max_attempts,
                    SCHEDULES.c.active.is_(True),
                )
                .order_by(DELIVERIES.c.due_at, DELIVERIES.c.id)
                .limit(limit + len(skip))
            )
            if skip:
                pick = pick.where(DELIVERIES.c.id.not_in(skip))
            if platforms is not None:
                pick = pick.where(SCHEDULES.c.platform.in_(list(platforms)))
            taken = (
                await s.execute(
                    update(DELIVERIES)
                    .where(DELIVERIES.c.id.in_(pick.scalar_subquery()), takeable)
                    .values(status=PENDING, created_at=now)
                    .returning(DELIVERIES.c.id)
                )
            ).all()
            if not taken:
                return []
            rows = (
                await s.execute(
                    select(
                        DELIVERIES.c.id,
                        DELIVERIES.c.schedule_id,
                        DELIVERIES.c.due_at,
                        DELIVERIES.c.attempts,
                        SCHEDULES.c.platform,
                        SCHEDULES.c.chat_id,
                        USERS.c.user_id,
                    )
                    .join(SCHEDULES, SCHEDULES.c.id == DELIVERIES.c.schedule_id)
                    .join(USERS, USERS.c.id == SCHEDULES.c.user_id)
                    .where(DELIVERIES.c.id.in_([t.id for t in taken]))
                    .order_by(DELIVERIES.c.due_at, DELIVERIES.c.id)
                )
            ).all()
        return [
            Claim(
                r.id, r.schedule_id, r.platform, r.user_id, r.chat_id, r.due_at, PENDING, r.attempts
            )
            for r in rows
        ]

    # -- outcomes ---------------------------------------------------------------------------

    async def mark_sent(self, marks: Sequence[SentMark]) -> None:
        """Record many sends in one transaction (group commit of the sends of the last moment)."""
        if not marks:
            return
        async with self._session() as s, s.begin():
            await s.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == bindparam("did"))
                .values(status=SENT, sent_at=bindparam("at"), attempts=bindparam("n"), error=None),
                [{"did": m.delivery_id, "at": m.sent_at, "n": m.attempts} for m in marks],
            )

    async def mark_failed(self, delivery_id: int, attempts: int, error: str) -> None:
        """Record a delivery that could not go out this time; a later tick may retake it."""
        async with self._session() as s, s.begin():
            await s.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == delivery_id)
                .values(status=FAILED, attempts=attempts, error=error[:ERROR_MAX])
            )

    async def mark_blocked(
        self, delivery_id: int, schedule_id: int, attempts: int, error: str, now: datetime
    ) -> None:
        """The user blocked the bot: record it and stop their schedule in one transaction."""
        async with self._session() as s, s.begin():
            await s.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == delivery_id)
                .values(status=BLOCKED, attempts=attempts, error=error[:ERROR_MAX])
            )
            await s.execute(
                update(SCHEDULES)
                .where(SCHEDULES.c.id == schedule_id)
                .values(active=False, next_due_at=None, updated_at=now)
            )

    # -- one sender per database (PostgreSQL) -----------------------------------------------

    async def try_sender_lock(self, scope: str = "") -> SenderLease | None:
        """Try to become the one instance that sends; None if another instance is it.

        `scope` names what is sent (the sorted platform names): instances sending the same
        platforms share one lock, while a Telegram-only and a Discord-only instance each send.

        A session-level advisory lock on a dedicated AUTOCOMMIT connection: no transaction
        stays open while it is held, and the server drops the lock when the process or its
        connection dies, so a standby instance takes over on its next tick.
        """
        if self.dialect != "postgresql":
            raise RuntimeError("sender lock needs PostgreSQL")
        conn = await self.store.engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:ns, hashtext(current_schema() || :scope))"),
                {"ns": LOCK_NAMESPACE, "scope": scope},
            )
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return None
        return SenderLease(conn, scope)
