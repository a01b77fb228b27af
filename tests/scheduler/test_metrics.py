"""Reminder outcomes reach backbot_reminders_sent_total{platform,outcome}."""

from __future__ import annotations

from bot.errors import Blocked, TransientError
from bot.metrics import Metrics
from bot.storage.store import SqlStore

from .conftest import WED_1800, FakeSender, MakeScheduler, seed


def counts(metrics: Metrics) -> dict[tuple[str, str], float]:
    out = {}
    for fam in metrics.registry.collect():
        for s in fam.samples:
            if s.name == "backbot_reminders_sent_total":
                out[(s.labels["platform"], s.labels["outcome"])] = s.value
    return out


async def test_sent_blocked_and_failed_are_counted(
    store: SqlStore, make_scheduler: MakeScheduler
) -> None:
    await seed(store, 4)
    sender = FakeSender(
        script={
            "u1": [Blocked("bot was blocked by the user")],
            "u2": [TransientError("502")] * 5,
        }
    )
    metrics = Metrics()
    sched = make_scheduler(store, sender, metrics=metrics, transient_attempts=2)
    stats = await sched.tick(WED_1800)
    assert (stats.sent, stats.blocked, stats.failed) == (2, 1, 1)
    assert counts(metrics) == {
        ("telegram", "sent"): 2,
        ("telegram", "blocked"): 1,
        ("telegram", "failed"): 1,
    }
    lag = {
        s.name: s.value
        for fam in metrics.registry.collect()
        for s in fam.samples
        if s.name.startswith("backbot_reminder_lag_seconds")
    }
    assert lag["backbot_reminder_lag_seconds_count"] == 2  # one observation per sent reminder
