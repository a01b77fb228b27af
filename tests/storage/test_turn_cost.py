"""What one turn costs the database, on the real SqlStore (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set): the lease, the update's retry record, the profile and the
conversation are one transaction (`Store.begin_turn`); a changed conversation and the lease's
release are one more each. Every transaction is a round trip through the driver (a thread hop
for aiosqlite) and was most of a reply's latency when each read had its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event

from bot.app import build_dialogue
from bot.core.types import Incoming
from bot.storage.store import SqlStore

NOW = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)


@contextmanager
def transactions(store: SqlStore) -> Iterator[list[object]]:
    began: list[object] = []

    def on_begin(conn: object) -> None:
        began.append(conn)

    event.listen(store.engine.sync_engine, "begin", on_begin)
    try:
        yield began
    finally:
        event.remove(store.engine.sync_engine, "begin", on_begin)


def _msg(text: str, update: str) -> Incoming:
    return Incoming("telegram", "u1", "u1", text=text, received_at=NOW, update_id=update)


async def test_a_question_costs_two_transactions_and_a_flow_step_three(store: SqlStore) -> None:
    dialogue = build_dialogue(store)
    await dialogue.handle(_msg("/start", "1"))  # a profile and a flow in the store
    with transactions(store) as began:
        replies = await dialogue.handle(_msg("how long should I hold a plank?", "2"))
    assert replies and replies[0].topic != "storage_error"
    assert len(began) <= 3  # begin_turn, [the conversation if it changed], release
    with transactions(store) as began:
        assert await dialogue.handle(_msg("how long should I hold a plank?", "2")) == []
    assert len(began) == 2  # a retried update: begin_turn saw it, release


async def test_a_retry_is_answered_once_and_the_next_turn_reads_what_the_last_one_wrote(
    store: SqlStore,
) -> None:
    dialogue = build_dialogue(store)
    first = await dialogue.handle(_msg("/start", "10"))
    assert first[-1].topic == "level"
    assert await dialogue.handle(_msg("/start", "10")) == []  # the same update again
    # The onboarding flow the first turn stored is what the next turn, read by begin_turn,
    # continues: "beginner" answers the level question and the equipment question follows.
    level = await dialogue.handle(_msg("beginner", "11"))
    assert [r.topic for r in level] == ["level", "equipment"]
    assert "Level: beginner" in level[0].text
