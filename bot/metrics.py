"""Prometheus metrics for one `backbot run`, on a registry of their own (no global state).

    metrics = Metrics()
    handler = metrics.instrument(dialogue.turn)   # what the adapters get
    scheduler = ReminderScheduler(..., metrics=metrics)
    metrics.render()                               # the /metrics body

Counted here, outside the dialogue core (which stays pure): every message turn by platform and
the kind of its first reply, red-flag replies by level, the time from a message to its replies,
reminder outcomes (from bot.scheduler), and errors: every ERROR log record of a `bot.*` logger,
labelled with the module that logged it, while `count_errors()` is active.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from bot.adapters.base import Handler
from bot.core.types import Incoming, Reply
from bot.logs import log_event, user_ref

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Reply latency buckets: answers take milliseconds; a turn queued behind the same user's
# previous one, or a slow database, takes longer.
REPLY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


logger = logging.getLogger(__name__)
LAG_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200)


class Metrics:
    """The counters and histogram of one app run, registered on their own CollectorRegistry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "backbot_messages",
            "Messages handled, by platform and the kind of the first reply ('none': no reply)",
            ["platform", "kind"],
            registry=r,
        )
        self.red_flags = Counter(
            "backbot_red_flags",
            "Red-flag replies, by platform and urgency level",
            ["platform", "level"],
            registry=r,
        )
        self.reply_seconds = Histogram(
            "backbot_reply_seconds",
            "Seconds from a message reaching the dialogue to its replies being ready",
            buckets=REPLY_BUCKETS,
            registry=r,
        )
        self.reminders = Counter(
            "backbot_reminders_sent",
            "Reminder deliveries by platform and outcome (sent, blocked, failed, missed)",
            ["platform", "outcome"],
            registry=r,
        )
        self.reminder_lag = Histogram(
            "backbot_reminder_lag_seconds",
            "Seconds from a reminder's due time to its delivery",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "backbot_errors",
            "Errors by where they happened (the logging module, or 'dialogue')",
            ["where"],
            registry=r,
        )

    # ------------------------------------------------------------------ messages

    def instrument(self, handler: Handler) -> Handler:
        """The handler, counting each turn and timing it until its replies are ready."""

        @asynccontextmanager
        async def turn(incoming: Incoming) -> AsyncIterator[list[Reply]]:
            start = time.perf_counter()
            try:
                cm = handler(incoming)
                replies = await cm.__aenter__()
            except Exception:
                self.errors.labels("dialogue").inc()
                raise
            seconds = time.perf_counter() - start
            self.reply_seconds.observe(seconds)
            self.observe_replies(incoming.platform, replies)
            log_event(
                logger,
                "reply",
                platform=incoming.platform,
                kind=str(replies[0].kind) if replies else "none",
                replies=len(replies),
                ms=round(seconds * 1000, 1),
                user=user_ref(incoming.platform, incoming.user_id),
            )
            try:
                yield replies
            except BaseException as e:
                if not await cm.__aexit__(type(e), e, e.__traceback__):
                    raise
            else:
                await cm.__aexit__(None, None, None)

        return turn

    def observe_replies(self, platform: str, replies: list[Reply]) -> None:
        kind = str(replies[0].kind) if replies else "none"
        self.messages.labels(platform, kind).inc()
        for r in replies:
            if r.urgency:
                self.red_flags.labels(platform, r.urgency).inc()

    # ------------------------------------------------------------------ reminders

    def reminder(self, platform: str, outcome: str, n: int = 1) -> None:
        if n:
            self.reminders.labels(platform, outcome).inc(n)

    def reminder_sent_late(self, seconds: float) -> None:
        self.reminder_lag.observe(max(seconds, 0.0))

    # ------------------------------------------------------------------ errors

    @contextmanager
    def count_errors(self, logger_name: str = "bot") -> Iterator[None]:
        """Count ERROR (and worse) records of `logger_name` and its children while active."""
        handler = _ErrorCounter(self.errors, logger_name)
        target = logging.getLogger(logger_name)
        target.addHandler(handler)
        try:
            yield
        finally:
            target.removeHandler(handler)

    # ------------------------------------------------------------------ exposition

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ErrorCounter(logging.Handler):
    def __init__(self, counter: Counter, root: str) -> None:
        super().__init__(level=logging.ERROR)
        self._counter = counter
        self._prefix = root + "."

    def emit(self, record: logging.LogRecord) -> None:
        name = record.name
        where = name[len(self._prefix) :] if name.startswith(self._prefix) else name
        self._counter.labels(where).inc()
