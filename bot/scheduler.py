"""Reminder scheduler: claims due reminders from the store and sends them at the platform's pace.

    scheduler = ReminderScheduler(settings, store, dialogue, {"telegram": tg.sender})
    await scheduler.start()      # an APScheduler interval job calls tick()
    ...
    await scheduler.stop()

The database is the source of truth; this process only wakes up to read it. Each tick:

1. Sender role. On PostgreSQL the instance holding an advisory lock is the one sender; the others
   stand by and take over on the tick after it dies (the lock dies with its connection). The
   platform's budget is per bot token, so two senders with their own limiters would exceed it.
   On SQLite a single process is assumed.
2. Recovery. Pending deliveries past the grace period become 'missed'; 'failed' ones within grace
   (after a back-off) and 'pending' ones orphaned by a crash or a cancelled tick are sent again.
3. Claims in batches (`ReminderRepo.claim_due`): delivery row + next_due_at advanced in one
   transaction, so each occurrence is owned by exactly one delivery row.
4. Sends, concurrently (a semaphore-sized pool of workers) so the rate limiter, not latency,
   sets throughput: each platform's SendBudget (bot.adapters.sending), shared with the adapter's
   replies (which go first): the token's bucket, the chat's bucket, and a 429 pauses that chat.
   Each success is marked 'sent' right after it (group-committed with the others of that moment).

The one duplicate window: a crash after the platform accepted a message and before its 'sent'
mark was committed leaves the row 'pending', and recovery sends it again; so each reminder is
delivered at least once and at most twice, the second only in that crash window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import SQLAlchemyError

from bot.adapters.base import Sender
from bot.adapters.sending import LIMITS, PlatformLimits, Priority, SendBudget
from bot.core.ports import UserKey
from bot.core.types import Address, Reply
from bot.errors import Blocked, RateLimited, StorageUnavailable, TransientError
from bot.storage.reminders import MISSED, Claim, ReminderRepo, SenderLease, SentMark

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.dialogue import Dialogue
    from bot.metrics import Metrics
    from bot.storage.store import SqlStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long stop() waits for a running tick to finish before cancelling it.
STOP_GRACE_SECONDS = 5.0

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


# Used when a sender brings no SendBudget of its own (the adapters' senders do).
DEFAULT_LIMITS: dict[str, PlatformLimits] = dict(LIMITS)
FALLBACK_LIMITS = PlatformLimits(10.0, 1.0)


@dataclass(slots=True)
class TickStats:
    """What one tick did. `claimed` counts new delivery rows (missed ones included);
    `recovered` counts pending/failed rows taken back; `retried` counts re-sends after
    RateLimited or TransientError; `standby` is True when another instance is the sender."""

    claimed: int = 0
    sent: int = 0
    skipped_missed: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    recovered: int = 0
    standby: bool = False


class _SentMarks:
    """Writes 'sent' marks as soon as possible, batching whatever piles up during one write.

    Workers never wait for the database (so DB latency does not eat the send budget); the tick
    awaits `flush()` at its end, also when cancelled, to keep the duplicate window small.
    """

    def __init__(self, repo: ReminderRepo, inflight: set[int], sleep: Sleep) -> None:
        self._repo = repo
        self._inflight = inflight
        self._sleep = sleep
        self._buf: list[SentMark] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, mark: SentMark) -> None:
        self._buf.append(mark)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        failures = 0
        while self._buf:
            batch, self._buf = self._buf, []
            try:
                await self._repo.mark_sent(batch)
            except Exception as e:
                # Keep them: unmarked sends would be re-sent by recovery. Retry a little, then
                # leave them for the next flush (their ids stay in-flight, so nothing resends).
                self._buf[:0] = batch
                failures += 1
                logger.warning("could not record %d sent reminders: %s", len(batch), e)
                if failures >= 3:
                    return
                await self._sleep(0.5 * failures)
                continue
            for m in batch:
                self._inflight.discard(m.delivery_id)

    def unwritten(self) -> set[int]:
        """Delivery ids sent but not yet recorded (kept across ticks until written)."""
        return {m.delivery_id for m in self._buf}

    async def flush(self) -> None:
        """Write every buffered mark (one more drain if marks arrived during the last one)."""
        if self._task is not None:
            await self._task
        if self._buf:
            self._task = asyncio.create_task(self._drain())
            await self._task


class ReminderScheduler:
    """Sends each due reminder once, at the platforms' rate limits, across restarts and instances."""

    def __init__(
        self,
        settings: Settings,
        store: SqlStore,
        dialogue: Dialogue,
        senders: dict[str, Sender],
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        limits: dict[str, PlatformLimits] | None = None,
        batch_size: int = 500,
        concurrency: int = 64,
        transient_attempts: int = 3,
        transient_backoff: float = 1.0,
        max_rate_limit_waits: int = 10,
        max_attempts: int = 12,
        retry_backoff: float = 60.0,
        sender_lock: bool = True,
        stale_pending: timedelta = timedelta(minutes=10),
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.dialogue = dialogue
        self.senders = dict(senders)
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.grace = timedelta(minutes=settings.reminder_grace_minutes)
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.transient_attempts = transient_attempts
        self.transient_backoff = transient_backoff
        self.max_rate_limit_waits = max_rate_limit_waits
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.stale_pending = stale_pending
        self.repo = ReminderRepo(store)
        # Only PostgreSQL has advisory locks; on SQLite one process is the sender by assumption.
        self.uses_lock = sender_lock and self.repo.dialect == "postgresql"
        self._lease: SenderLease | None = None
        self._writes: set[asyncio.Future[Any]] = set()
        self._budgets: dict[str, SendBudget] = {}
        self._inflight: set[int] = set()  # delivery ids this process owns right now
        self._not_before: dict[int, datetime] = {}  # failed delivery id -> next retry
        self._rounds: dict[int, int] = {}  # failed delivery id -> ticks it failed in
        self._tick_lock = asyncio.Lock()
        # Lives across ticks: marks that could not be written yet must not be forgotten, or
        # recovery would send those reminders again.
        self._marks = _SentMarks(self.repo, self._inflight, sleep)
        self._stopping = False
        self._aps: AsyncIOScheduler | None = None
        self._current: asyncio.Task[Any] | None = None
        # Reminder outcomes go to backbot_reminders_sent_total{platform,outcome} when given.
        self.metrics = metrics
        # For /healthz: when the last tick ended, whether it went through, the sender role.
        self.last_tick_at: datetime | None = None
        self.last_tick_ok: bool | None = None
        self.standby = False

    @property
    def running(self) -> bool:
        return self._aps is not None and not self._stopping

    def status(self) -> dict[str, Any]:
        """What /healthz reports about the scheduler."""
        return {
            "running": self.running,
            "role": "standby" if self.standby else "sender",
            "last_tick": self.last_tick_at.isoformat() if self.last_tick_at else None,
            "last_tick_ok": self.last_tick_ok,
        }

    def _count(self, platform: str, outcome: str, n: int = 1) -> None:
        if self.metrics is not None:
            self.metrics.reminder(platform, outcome, n)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the interval job; the first tick runs right away (and recovers after a crash)."""
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.add_job(
            self._run_tick,
            "interval",
            seconds=self.settings.scheduler_tick_seconds,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
            id="reminders",
        )
        self._aps.start()
        logger.info(
            "reminder scheduler started: tick %.1fs, grace %s, %s",
            self.settings.scheduler_tick_seconds,
            self.grace,
            "advisory-lock sender" if self.uses_lock else "single sender",
        )

    async def stop(self) -> None:
        """Stop ticking, cancel an unfinished fan-out (its pending rows are recovered on the
        next start), and give up the sender role."""
        # A tick APScheduler has launched but not yet started must not touch the database
        # after the store closes: it sees this flag and returns at once.
        self._stopping = True
        if self._aps is not None:
            self._aps.pause()  # no new ticks; shutdown() would cancel the running one
        await asyncio.sleep(0)  # let a just-launched tick start (and register or return)
        task = self._current
        if task is not None and not task.done():
            # Let a running tick finish its current batch: cancelling a task in the middle of
            # a database call leaves the driver closing a connection after the store is gone.
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            except Exception:
                logger.debug("the last tick failed while stopping", exc_info=True)
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        # Record "sent" marks still buffered, so the next start does not send those again.
        try:
            await self._marks.flush()
        except Exception as e:
            logger.warning("could not record the last sent reminders: %s", e)
        if self._lease is not None:
            await self._lease.release()
            self._lease = None
        logger.info("reminder scheduler stopped")

    async def _run_tick(self) -> None:
        """The APScheduler job: one tick, never raising (a bad tick must not stop the next)."""
        if self._stopping:
            return
        self._current = asyncio.current_task()
        try:
            stats = await self.tick()
        except asyncio.CancelledError:
            # stop() cancelled an unfinished fan-out: its rows are recovered on the next start.
            logger.info("reminder tick cancelled by shutdown")
            return
        except (StorageUnavailable, SQLAlchemyError) as e:
            # One line, without the statement or its parameters (they hold user ids).
            logger.error("reminder tick failed: database: %s", _db_reason(e))
            return
        except Exception:
            self.last_tick_at, self.last_tick_ok = datetime.now(UTC), False
            logger.exception("reminder tick failed")
            return
        finally:
            self._current = None
        self.last_tick_at, self.last_tick_ok = datetime.now(UTC), True
        self.standby = stats.standby
        if stats.claimed or stats.recovered:
            logger.info(
                "reminders: claimed %d, recovered %d, sent %d, missed %d, blocked %d, "
                "failed %d, retried %d",
                stats.claimed,
                stats.recovered,
                stats.sent,
                stats.skipped_missed,
                stats.blocked,
                stats.failed,
                stats.retried,
            )

    # ------------------------------------------------------------------ one tick

    async def tick(self, now: datetime | None = None) -> TickStats:
        """Claim and send everything due at `now` (default: the clock); return what happened."""
        async with self._tick_lock:
            now = now or self.clock()
            stats = TickStats()
            if not await self._sender_role():
                stats.standby = True
                return stats
            await self._marks.flush()  # anything left over from a failed write last time
            cutoff = now - self.grace
            expired = await self.repo.expire(cutoff)
            stats.skipped_missed += expired
            self._count("any", "missed", expired)  # expire() does not say which platform
            retaken = await self._retake(now, cutoff)
            stats.recovered = len(retaken)
            await self._fan_out(now, cutoff, retaken, stats)
            return stats

    async def _sender_role(self) -> bool:
        if not self.uses_lock:
            return True
        if self._lease is not None:
            if await self._lease.alive():
                return True
            logger.warning("lost the reminder sender lock; standing by")
            self._lease = None
        self._lease = await self.repo.try_sender_lock(",".join(sorted(self.senders)))
        if self._lease is None:
            logger.debug("another instance sends reminders; standing by")
            return False
        logger.info("this instance is now the reminder sender")
        return True

    async def _retake(self, now: datetime, cutoff: datetime) -> list[Claim]:
        """Failed deliveries whose back-off has passed, and orphaned pending ones."""
        # As the only sender (lock held, or SQLite's one process) every pending row not in our
        # in-flight set is orphaned; without the lock another instance may be sending it, so
        # only rows untouched for `stale_pending` count.
        pending_before = (
            None
            if self.uses_lock or self.repo.dialect != "postgresql"
            else (now - self.stale_pending)
        )
        for d in [d for d, t in self._not_before.items() if t < cutoff]:
            # Out of grace: never retried again, so forget its back-off.
            self._not_before.pop(d, None)
            self._rounds.pop(d, None)
        waiting = {d for d, t in self._not_before.items() if t > now}
        claims = await self.repo.retake(
            now,
            since=cutoff,
            max_attempts=self.max_attempts,
            pending_before=pending_before,
            exclude=self._inflight | waiting,
            platforms=self.senders,
        )
        for c in claims:
            self._not_before.pop(c.delivery_id, None)
        return claims

    async def _fan_out(
        self, now: datetime, cutoff: datetime, retaken: list[Claim], stats: TickStats
    ) -> None:
        queue: asyncio.Queue[tuple[Claim, Reply | Exception] | None] = asyncio.Queue(
            maxsize=self.batch_size * 2
        )
        marks = self._marks

        async def enqueue(claims: list[Claim]) -> None:
            for c in claims:
                self._inflight.add(c.delivery_id)
            nudges = await self._compose(claims, now)
            for c in claims:
                await queue.put((c, nudges[c.delivery_id]))

        async def produce() -> None:
            await enqueue(retaken)
            while not self._stopping:  # stopping: finish what was claimed, claim no more
                # Shielded like a write: a check cancelled mid-query (a crash in a worker ends
                # the tick) would kill the lock's connection, and with it the lock.
                if self._lease is not None and not await self._write(self._lease.alive()):
                    logger.warning("lost the sender lock mid fan-out; no more claims this tick")
                    self._lease = None
                    break
                batch = await self._write(
                    self.repo.claim_due(
                        now, limit=self.batch_size, missed_before=cutoff, platforms=self.senders
                    )
                )
                due = []
                for c in batch:
                    stats.claimed += 1
                    if c.status == MISSED:
                        stats.skipped_missed += 1
                        self._count(c.platform, "missed")
                        continue
                    due.append(c)
                await enqueue(due)
                if len(batch) < self.batch_size:
                    break
            for _ in range(self.concurrency):
                await queue.put(None)

        async def work() -> None:
            while (job := await queue.get()) is not None:
                await self._deliver(*job, now, stats, marks)

        tasks = [asyncio.create_task(produce())]
        tasks += [asyncio.create_task(work()) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Let interrupted writes commit (a claimed batch that was never queued stays pending
            # for recovery) before recording the sends, which may need the same write lock.
            await asyncio.gather(*self._writes, return_exceptions=True)
            # Shielded: a cancelled tick (shutdown) still records what it already sent.
            await asyncio.shield(marks.flush())
            # Whatever else is still in flight was not sent: it stays 'pending' for recovery.
            self._inflight.intersection_update(marks.unwritten())

    async def _compose(self, claims: list[Claim], now: datetime) -> dict[int, Reply | Exception]:
        """The nudge of every claim (by delivery id), composed for the batch at once; when
        composing fails, that error stands in for each nudge and _deliver records it."""
        if not claims:
            return {}
        try:
            nudges = await self.dialogue.reminders(
                {UserKey(c.platform, c.user_id) for c in claims}, now
            )
        except Exception as e:
            logger.warning("could not build %d reminders: %s", len(claims), e)
            return {c.delivery_id: e for c in claims}
        return {c.delivery_id: nudges[UserKey(c.platform, c.user_id)] for c in claims}

    # ------------------------------------------------------------------ one delivery

    async def _deliver(
        self,
        c: Claim,
        reply: Reply | Exception,
        now: datetime,
        stats: TickStats,
        marks: _SentMarks,
    ) -> None:
        sender = self.senders.get(c.platform)
        if sender is None:
            await self._failed(c, c.attempts, f"no sender for platform {c.platform!r}", now, stats)
            return
        if isinstance(reply, Exception):
            await self._failed(c, c.attempts, f"building the reminder: {reply}", now, stats)
            return
        budget = self._budget(c.platform, sender)
        address = Address(c.platform, c.chat_id, c.user_id)
        attempts, waits, transient = c.attempts, 0, 0
        while True:
            await budget.turn(c.chat_id, Priority.BULK)
            attempts += 1
            try:
                await sender.send(address, reply)
            except RateLimited as e:
                waits += 1
                budget.limited(c.chat_id, e.retry_after, scope=e.scope)  # pauses this chat
                if waits > self.max_rate_limit_waits:
                    await self._failed(c, attempts, f"rate limited {waits} times", now, stats)
                    return
                stats.retried += 1
                continue
            except Blocked as e:
                stats.blocked += 1
                self._count(c.platform, "blocked")
                await self._outcome(
                    self.repo.mark_blocked(c.delivery_id, c.schedule_id, attempts, str(e), now), c
                )
                logger.info("reminder %s: user blocked the bot; schedule stopped", c.delivery_id)
                with contextlib.suppress(Exception):  # telling them later is best effort
                    await self.dialogue.note_undeliverable(UserKey(c.platform, c.user_id), now)
                return
            except TransientError as e:
                transient += 1
                if transient >= self.transient_attempts:
                    await self._failed(c, attempts, f"transient: {e}", now, stats)
                    return
                stats.retried += 1
                await self.sleep(self.transient_backoff * 2 ** (transient - 1))
                continue
            except Exception as e:
                # An adapter bug is still an outcome: record it rather than lose the reminder.
                logger.exception("sender %s failed unexpectedly", c.platform)
                await self._failed(c, attempts, f"{type(e).__name__}: {e}", now, stats)
                return
            stats.sent += 1
            self._count(c.platform, "sent")
            if self.metrics is not None:
                self.metrics.reminder_sent_late((self.clock() - c.due_at).total_seconds())
            self._rounds.pop(c.delivery_id, None)
            marks.add(SentMark(c.delivery_id, self.clock(), attempts))
            return

    async def _failed(
        self, c: Claim, attempts: int, error: str, now: datetime, stats: TickStats
    ) -> None:
        stats.failed += 1
        self._count(c.platform, "failed")
        rounds = self._rounds.get(c.delivery_id, 0) + 1
        self._rounds[c.delivery_id] = rounds
        # Back off between ticks (60s, 120s, 240s, ... capped at 30 min) while within grace.
        delay = min(self.retry_backoff * 2 ** (rounds - 1), 1800.0)
        self._not_before[c.delivery_id] = now + timedelta(seconds=delay)
        await self._outcome(self.repo.mark_failed(c.delivery_id, attempts, error), c)
        logger.warning("reminder %s failed after %d attempts: %s", c.delivery_id, attempts, error)

    def _write(self, write: Awaitable[T]) -> Awaitable[T]:
        """Run a database write to its end even if the awaiting task is cancelled.

        Cancelling a write mid-transaction can strand its connection with the transaction open;
        on SQLite that holds the database's write lock, and no later write (the sent marks)
        gets through. `_fan_out` waits for these before it returns.
        """
        task = asyncio.ensure_future(write)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return asyncio.shield(task)

    async def _outcome(self, write: Awaitable[None], c: Claim) -> None:
        try:
            await self._write(write)
        except Exception as e:
            # The row stays 'pending'; recovery picks it up again within grace.
            logger.error("could not record the outcome of reminder %s: %s", c.delivery_id, e)
        finally:
            self._inflight.discard(c.delivery_id)

    # ------------------------------------------------------------------ pacing

    def _budget(self, platform: str, sender: Sender) -> SendBudget:
        """The token's budget: the sender's own (shared with the adapter's replies) if it has
        one, else one of ours at `limits`."""
        budget = self._budgets.get(platform)
        if budget is None:
            shared = getattr(sender, "budget", None)
            if isinstance(shared, SendBudget):
                budget = shared
            else:
                budget = SendBudget(self.limits.get(platform, FALLBACK_LIMITS), sleep=self.sleep)
            self._budgets[platform] = budget
        return budget


def _db_reason(e: BaseException) -> str:
    """A database error in one line: the driver's message, never SQL or parameters."""
    orig = getattr(e, "orig", None)
    if orig is not None:
        return f"{type(orig).__name__}: {str(orig).splitlines()[0][:200]}"
    return f"{type(e).__name__}: {str(e).split('[SQL', 1)[0].strip()[:200]}"
