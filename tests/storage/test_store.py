"""SqlStore against a real database: every Store method, constraints, time zones, /forget, failures.

Runs on SQLite always and on PostgreSQL when TEST_DATABASE_URL is set (see conftest.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.core.ports import (
    CheckIn,
    Conversation,
    Frame,
    PainEntry,
    Profile,
    ProgressStep,
    ReminderSchedule,
    UserKey,
)
from bot.errors import StorageUnavailable
from bot.storage.models import (
    CheckInRow,
    ConversationRow,
    Delivery,
    PainScore,
    ProgressionStepRow,
    ReminderScheduleRow,
    User,
    WorkoutLog,
)
from bot.storage.store import SqlStore, create_engine, open_store

from .conftest import PG_URL, count, user_pk

logger = logging.getLogger(__name__)

ANN = UserKey("telegram", "1001")
BOB = UserKey("discord", "1001")  # same platform user id, other platform: a different person
T0 = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
PLUS5 = timezone(timedelta(hours=5))


# -- profiles ------------------------------------------------------------------------------


async def test_profile_round_trip_and_update(store: SqlStore) -> None:
    assert await store.get_profile(ANN) is None
    await store.save_profile(
        Profile(ANN, "Ann", level="intermediate", equipment="dumbbells", timezone="Europe/Berlin")
    )
    got = await store.get_profile(ANN)
    assert got is not None
    assert (got.key, got.display_name, got.level, got.equipment, got.timezone, got.onboarded) == (
        ANN,
        "Ann",
        "intermediate",
        "dumbbells",
        "Europe/Berlin",
        False,
    )
    assert got.created_at is not None and got.created_at.tzinfo is not None
    assert got.created_at.utcoffset() == timedelta(0)
    first_created = got.created_at

    got.level, got.onboarded, got.display_name = "advanced", True, "Ann B."
    got.created_at = None  # a caller that does not know it must not wipe it
    await store.save_profile(got)
    again = await store.get_profile(ANN)
    assert again is not None
    assert (again.level, again.onboarded, again.display_name) == ("advanced", True, "Ann B.")
    assert again.created_at == first_created
    assert await store.get_profile(BOB) is None
    assert await count(store, User) == 1


async def test_profile_created_at_keeps_the_instant_across_zones(store: SqlStore) -> None:
    created = datetime(2026, 1, 10, 23, 45, 12, 345678, tzinfo=ZoneInfo("America/New_York"))
    await store.save_profile(Profile(ANN, "Ann", created_at=created))
    got = await store.get_profile(ANN)
    assert got is not None and got.created_at is not None
    assert got.created_at == created
    assert got.created_at.utcoffset() == timedelta(0)
    assert got.created_at.isoformat() == "2026-01-11T04:45:12.345678+00:00"


# -- conversation state --------------------------------------------------------------------


def _conv(*frames: Frame, **marks: str) -> Conversation:
    return Conversation(list(frames), dict(marks))


async def test_conversation_round_trip_overwrite_and_clear(store: SqlStore) -> None:
    assert await store.get_conversation(ANN) == Conversation()
    setup = Frame("onboarding", "level", {"name": "Ann", "n": [1, 2]}, T0)
    pain = Frame("pain", "score", {}, T0 + timedelta(minutes=1))
    await store.save_conversation(ANN, _conv(setup, pain, screened_at=T0.isoformat()))
    got = await store.get_conversation(ANN)
    assert got == _conv(setup, pain, screened_at=T0.isoformat())
    assert got.top == pain and got.frames[0].asked_at == T0
    await store.save_conversation(ANN, _conv(Frame("settings", "timezone", {}, T0)))
    assert (await store.get_conversation(ANN)).top == Frame("settings", "timezone", {}, T0)
    assert await count(store, ConversationRow) == 1
    await store.save_conversation(ANN, Conversation())
    assert await store.get_conversation(ANN) == Conversation()
    assert await count(store, ConversationRow) == 0


async def test_conversation_version_goes_up_on_every_write(store: SqlStore) -> None:
    for _ in range(3):
        await store.save_conversation(ANN, _conv(Frame("pain", "score", {}, T0)))
    async with store.sessionmaker() as s:
        assert (await s.execute(text("SELECT version FROM conversations"))).scalar_one() == 3


async def test_conversation_of_a_new_user_is_not_a_profile(store: SqlStore) -> None:
    """Like MemoryStore: a conversation can start before onboarding saved a profile."""
    await store.save_conversation(ANN, _conv(Frame("onboarding", "level")))
    assert await store.get_profile(ANN) is None
    await store.save_profile(Profile(ANN, "Ann", onboarded=True))
    got = await store.get_profile(ANN)
    assert got is not None and got.onboarded
    assert (await store.get_conversation(ANN)).top == Frame("onboarding", "level")


async def test_clearing_conversation_of_unknown_user_creates_nothing(store: SqlStore) -> None:
    await store.save_conversation(BOB, Conversation())
    assert await count(store, User) == 0


async def test_malformed_stored_conversation_reads_as_empty_parts(store: SqlStore) -> None:
    await store.save_conversation(ANN, _conv(Frame("pain", "score")))
    async with store.sessionmaker() as s, s.begin():
        await s.execute(
            ConversationRow.__table__.update().values(
                state={"frames": [{"flow": 3}, "x", {"flow": "pain", "step": "score"}]}
            )
        )
    assert await store.get_conversation(ANN) == _conv(Frame("pain", "score"))


async def test_save_profile_writes_only_the_fields_given(store: SqlStore) -> None:
    await store.save_profile(Profile(ANN, "Ann"))
    # Two turns read the same profile; each changes one setting and writes only that one.
    a, b = await store.get_profile(ANN), await store.get_profile(ANN)
    assert a is not None and b is not None
    a.level, b.equipment = "advanced", "gym"
    await store.save_profile(a, ["level"])
    await store.save_profile(b, ["equipment"])
    got = await store.get_profile(ANN)
    assert got is not None and (got.level, got.equipment) == ("advanced", "gym")


async def test_turn_lease_excludes_another_holder_until_released_or_expired(
    store: SqlStore,
) -> None:
    later = T0 + timedelta(seconds=30)
    assert await store.claim_turn(ANN, "a", later, T0)
    assert not await store.claim_turn(ANN, "b", later, T0 + timedelta(seconds=1))
    assert await store.claim_turn(BOB, "b", later, T0)  # another user: free
    assert await store.claim_turn(ANN, "a", later, T0 + timedelta(seconds=2))  # ours again
    await store.release_turn(ANN, "b")  # not b's to release
    assert not await store.claim_turn(ANN, "b", later, T0 + timedelta(seconds=3))
    await store.release_turn(ANN, "a")
    assert await store.claim_turn(ANN, "b", later, T0 + timedelta(seconds=3))
    # An instance that died mid-turn: its lease runs out and the next one goes ahead.
    assert await store.claim_turn(
        ANN, "c", later + timedelta(seconds=31), later + timedelta(seconds=1)
    )
    assert await store.get_profile(ANN) is None  # a lease is not a user row


async def test_begin_turn_claims_records_the_update_and_reads_in_one_transaction(
    store: SqlStore,
) -> None:
    later = T0 + timedelta(seconds=30)
    start = await store.begin_turn(ANN, "a", later, T0, "u1")
    assert start is not None and start.first
    assert start.profile is None and start.conversation == Conversation()  # a new user
    await store.release_turn(ANN, "a")
    await store.save_profile(Profile(ANN, level="advanced"))
    conv = Conversation([Frame("pain", "score")], {"screened": "2026-03-02T17:00:00+00:00"})
    await store.save_conversation(ANN, conv)
    transactions: list[object] = []

    def began(conn: object) -> None:
        transactions.append(conn)

    event.listen(store.engine.sync_engine, "begin", began)
    try:
        start = await store.begin_turn(ANN, "a", later, T0, "u2")
    finally:
        event.remove(store.engine.sync_engine, "begin", began)
    assert len(transactions) == 1
    assert start is not None and start.first
    assert start.profile is not None and start.profile.level == "advanced"
    assert start.conversation == conv
    # Another holder waits, and nothing is recorded meanwhile: its update is still new.
    assert await store.begin_turn(ANN, "b", later, T0 + timedelta(seconds=1), "u3") is None
    assert await store.first_seen("telegram", "u3", T0)
    # A retried update is reported as such, with the state still read.
    await store.release_turn(ANN, "a")
    again = await store.begin_turn(ANN, "b", later, T0 + timedelta(seconds=2), "u2")
    assert again is not None and not again.first and again.conversation == conv
    # A row without a profile (say, a lease or a flow begun before onboarding): no profile.
    bare = await store.begin_turn(BOB, "b", later, T0)
    assert bare is not None and bare.profile is None and bare.first


# -- workout logs --------------------------------------------------------------------------


async def test_log_session_once_per_day(store: SqlStore) -> None:
    day = date(2026, 3, 2)
    assert await store.log_session(ANN, day, T0) is True
    assert await store.log_session(ANN, day, T0 + timedelta(hours=1)) is False
    assert await store.log_session(ANN, day + timedelta(days=1), T0 + timedelta(days=1)) is True
    assert await store.log_session(BOB, day, T0) is True  # other user, same day
    assert await store.session_days(ANN, date(2026, 1, 1)) == [day, day + timedelta(days=1)]
    assert await count(store, WorkoutLog) == 3


async def test_day_uniqueness_is_a_database_constraint(store: SqlStore) -> None:
    await store.log_session(ANN, date(2026, 3, 2), T0)
    uid = await user_pk(store, ANN.platform, ANN.user_id)
    with pytest.raises(IntegrityError):
        async with store.sessionmaker() as s, s.begin():
            s.add(WorkoutLog(user_id=uid, day=date(2026, 3, 2), logged_at=T0))


async def test_concurrent_logs_of_one_day_count_once(store: SqlStore) -> None:
    results = await asyncio.gather(
        *(store.log_session(ANN, date(2026, 3, 4), T0 + timedelta(seconds=i)) for i in range(6))
    )
    assert sorted(results) == [False] * 5 + [True]
    assert await store.session_days(ANN, date(2026, 3, 4)) == [date(2026, 3, 4)]


async def test_session_days_filters_and_sorts(store: SqlStore) -> None:
    days = [date(2026, 2, 27), date(2026, 1, 5), date(2026, 3, 1), date(2025, 12, 31)]
    for d in days:
        await store.log_session(ANN, d, T0)
    assert await store.session_days(ANN, date(2026, 1, 5)) == [
        date(2026, 1, 5),
        date(2026, 2, 27),
        date(2026, 3, 1),
    ]
    assert await store.session_days(ANN, date(2026, 3, 2)) == []
    assert await store.session_days(BOB, date(2000, 1, 1)) == []


async def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.log_session(ANN, date(2026, 3, 2), datetime(2026, 3, 2, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.pain_since(ANN, datetime(2026, 3, 2, 12, 0))
    assert await count(store, WorkoutLog) == 0


# -- pain ----------------------------------------------------------------------------------


async def test_pain_since_orders_by_instant_across_zones(store: SqlStore) -> None:
    # Written out of order and in different zones; 10:00+05:00 is 05:00 UTC, before 06:00 UTC.
    entries = [
        (4, datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
        (7, datetime(2026, 3, 2, 10, 0, tzinfo=PLUS5)),
        (2, datetime(2026, 3, 1, 23, 0, tzinfo=ZoneInfo("America/Los_Angeles"))),  # 07:00 UTC
        (9, datetime(2026, 2, 1, 12, 0, tzinfo=UTC)),
    ]
    for score, at in entries:
        await store.log_pain(ANN, score, at)
    await store.log_pain(BOB, 5, datetime(2026, 3, 2, 6, 0, tzinfo=UTC))

    since = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # inclusive bound, equal to the +05:00 entry
    got = await store.pain_since(ANN, since)
    assert [p.score for p in got] == [7, 4, 2]
    assert [p.at for p in got] == [
        datetime(2026, 3, 2, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
    ]
    assert all(p.at.utcoffset() == timedelta(0) for p in got)
    assert got[0] == PainEntry(7, datetime(2026, 3, 2, 10, 0, tzinfo=PLUS5))
    assert len(await store.pain_since(ANN, datetime(2000, 1, 1, tzinfo=UTC))) == 4
    assert await store.pain_since(UserKey("telegram", "nobody"), since) == []


@pytest.mark.parametrize("score", [-1, 11])
async def test_pain_out_of_range_is_refused(store: SqlStore, score: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 10"):
        await store.log_pain(ANN, score, T0)
    assert await count(store, PainScore) == 0


async def test_pain_range_is_a_database_constraint(store: SqlStore) -> None:
    await store.log_pain(ANN, 10, T0)
    await store.log_pain(ANN, 0, T0)
    uid = await user_pk(store, ANN.platform, ANN.user_id)
    with pytest.raises(IntegrityError):
        async with store.sessionmaker() as s, s.begin():
            s.add(PainScore(user_id=uid, score=11, at=T0))


# -- reminders -----------------------------------------------------------------------------


async def test_reminder_round_trip_and_update(store: SqlStore) -> None:
    assert await store.get_reminder(ANN) is None
    due = datetime(2026, 3, 4, 7, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    sched = ReminderSchedule(
        ANN,
        chat_id="-100200300",
        days=(1, 3, 6),
        at=time(7, 30),
        timezone="Europe/Berlin",
        active=True,
        paused_until=date(2026, 3, 10),
        next_due_at=due,
    )
    await store.save_reminder(sched)
    got = await store.get_reminder(ANN)
    assert got == sched
    assert got is not None and got.next_due_at is not None
    assert got.next_due_at.utcoffset() == timedelta(0)
    assert got.next_due_at.isoformat() == "2026-03-04T06:30:00+00:00"

    sched.active, sched.next_due_at, sched.paused_until, sched.days = False, None, None, (0,)
    await store.save_reminder(sched)
    assert await store.get_reminder(ANN) == sched
    assert await count(store, ReminderScheduleRow) == 1
    assert await store.get_reminder(BOB) is None


async def test_reminder_defaults_round_trip(store: SqlStore) -> None:
    await store.save_reminder(ReminderSchedule(BOB, chat_id="42"))
    assert await store.get_reminder(BOB) == ReminderSchedule(BOB, chat_id="42")
    assert await store.get_profile(BOB) is None


# -- progression steps and weekly check-ins ------------------------------------------------


async def test_steps_round_trip_and_overwrite_per_exercise(store: SqlStore) -> None:
    assert await store.get_steps(ANN) == {}
    await store.save_steps(ANN, [])  # nothing to write: no user row either
    assert await user_pk(store, ANN.platform, ANN.user_id) is None
    up = ProgressStep("plank", 1, T0, T0)
    await store.save_steps(ANN, [up, ProgressStep("dead_bug", 0, T0)])
    assert await store.get_steps(ANN) == {"plank": up, "dead_bug": ProgressStep("dead_bug", 0, T0)}
    later = T0 + timedelta(days=3)
    down = ProgressStep("plank", 0, later, T0)  # "Too hard": down, the step-up time kept
    await store.save_steps(ANN, [down])
    got = await store.get_steps(ANN)
    assert got["plank"] == down and got["plank"].changed_at.utcoffset() == timedelta(0)
    assert await count(store, ProgressionStepRow) == 2
    assert await store.get_steps(BOB) == {}
    assert await store.get_profile(ANN) is None  # a step alone makes no profile
    with pytest.raises(ValueError):
        await store.save_steps(ANN, [ProgressStep("plank", 1, datetime(2026, 3, 2))])


async def test_checkins_fill_in_one_answer_at_a_time_and_read_by_week(store: SqlStore) -> None:
    monday = date(2026, 3, 2)
    await store.save_checkin(ANN, CheckIn(monday, T0, pain=4))
    await store.save_checkin(ANN, CheckIn(monday, T0 + timedelta(minutes=1), 4, 2))
    done = CheckIn(monday, T0 + timedelta(minutes=2), 4, 2, 3)
    await store.save_checkin(ANN, done)
    nxt = CheckIn(monday + timedelta(weeks=1), T0 + timedelta(weeks=1), 2, None, None)
    await store.save_checkin(ANN, nxt)
    assert await store.checkins_since(ANN, monday) == [done, nxt]
    assert await store.checkins_since(ANN, monday + timedelta(days=1)) == [nxt]
    assert await count(store, CheckInRow) == 2
    assert await store.checkins_since(BOB, monday) == []
    with pytest.raises(IntegrityError):  # the schema refuses what the buttons never offer
        async with store.sessionmaker() as s, s.begin():
            uid = await user_pk(store, ANN.platform, ANN.user_id)
            s.add(CheckInRow(user_id=uid, week=date(2026, 4, 6), confidence=6, at=T0))


async def test_checkin_opt_in_is_a_profile_field(store: SqlStore) -> None:
    await store.save_profile(Profile(ANN, "Ann"))
    assert (await store.get_profile(ANN)).checkin is False  # type: ignore[union-attr]
    await store.save_profile(Profile(ANN, "Ann", checkin=True), ["checkin"])
    assert (await store.get_profile(ANN)).checkin is True  # type: ignore[union-attr]


# -- /forget -------------------------------------------------------------------------------


async def _fill(store: SqlStore, key: UserKey) -> None:
    """Give `key` rows in every table, deliveries included (written as the scheduler would)."""
    await store.save_profile(Profile(key, "x", onboarded=True))
    await store.save_conversation(key, _conv(Frame("settings", "level", {"a": 1}, T0)))
    for i in range(3):
        await store.log_session(key, date(2026, 3, 2) + timedelta(days=i), T0)
    for i in range(2):
        await store.log_pain(key, 3 + i, T0 + timedelta(hours=i))
    await store.save_reminder(ReminderSchedule(key, chat_id="c", next_due_at=T0))
    await store.save_steps(
        key, [ProgressStep("plank", 1, T0, T0), ProgressStep("bird_dog", -1, T0)]
    )
    await store.save_checkin(key, CheckIn(date(2026, 3, 2), T0, 3, 1, 4))
    uid = await user_pk(store, key.platform, key.user_id)
    async with store.sessionmaker() as s, s.begin():
        sched_id = (
            await s.execute(
                text("SELECT id FROM reminder_schedules WHERE user_id = :u"), {"u": uid}
            )
        ).scalar_one()
        for i in range(2):
            s.add(
                Delivery(
                    schedule_id=sched_id,
                    user_id=uid,
                    due_at=T0 + timedelta(days=i),
                    status="sent",
                    attempts=1,
                    sent_at=T0,
                )
            )


async def _rows_of(store: SqlStore, uid: int) -> dict[str, int]:
    return {
        "users": await count(store, User, User.id == uid),
        "conversations": await count(store, ConversationRow, ConversationRow.user_id == uid),
        "workout_logs": await count(store, WorkoutLog, WorkoutLog.user_id == uid),
        "pain_scores": await count(store, PainScore, PainScore.user_id == uid),
        "reminder_schedules": await count(
            store, ReminderScheduleRow, ReminderScheduleRow.user_id == uid
        ),
        "deliveries": await count(store, Delivery, Delivery.user_id == uid),
        "progression_steps": await count(
            store, ProgressionStepRow, ProgressionStepRow.user_id == uid
        ),
        "checkins": await count(store, CheckInRow, CheckInRow.user_id == uid),
    }


async def test_forget_deletes_every_row_of_that_user_only(store: SqlStore) -> None:
    await _fill(store, ANN)
    await _fill(store, BOB)
    ann_id = await user_pk(store, ANN.platform, ANN.user_id)
    bob_id = await user_pk(store, BOB.platform, BOB.user_id)
    assert ann_id is not None and bob_id is not None
    before = await _rows_of(store, ann_id)
    expected = {
        "users": 1,
        "conversations": 1,
        "workout_logs": 3,
        "pain_scores": 2,
        "reminder_schedules": 1,
        "deliveries": 2,
        "progression_steps": 2,
        "checkins": 1,
    }
    assert before == expected
    assert await _rows_of(store, bob_id) == expected

    assert await store.forget(ANN) == sum(expected.values())

    assert await _rows_of(store, ann_id) == dict.fromkeys(expected, 0)
    assert await _rows_of(store, bob_id) == expected
    assert await store.get_profile(ANN) is None
    assert await store.get_conversation(ANN) == Conversation()
    assert await store.get_reminder(ANN) is None
    assert await store.session_days(ANN, date(2000, 1, 1)) == []
    assert await store.pain_since(ANN, datetime(2000, 1, 1, tzinfo=UTC)) == []
    assert await store.get_steps(ANN) == {}
    assert await store.checkins_since(ANN, date(2000, 1, 1)) == []
    assert await store.get_profile(BOB) is not None
    assert len(await store.get_steps(BOB)) == 2
    assert await store.forget(ANN) == 0


async def test_forget_does_not_need_cascades(store: SqlStore) -> None:
    """Even with foreign keys off (a SQLite connection opened by hand), forget removes it all."""
    await _fill(store, ANN)
    ann_id = await user_pk(store, ANN.platform, ANN.user_id)
    assert ann_id is not None
    if store.dialect == "sqlite":
        # One pooled connection with enforcement off, used for the forget below.
        await store.engine.dispose()
        async with store.engine.connect() as conn:
            await conn.exec_driver_sql("COMMIT")  # leave our BEGIN: PRAGMA is a no-op inside one
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 0
    assert await store.forget(ANN) == 13
    rows = await _rows_of(store, ann_id)
    assert len(rows) == 8 and rows == dict.fromkeys(rows, 0)


async def test_deleting_a_user_cascades(store: SqlStore) -> None:
    """ON DELETE CASCADE is really on (on SQLite that needs PRAGMA foreign_keys=ON)."""
    await _fill(store, ANN)
    ann_id = await user_pk(store, ANN.platform, ANN.user_id)
    assert ann_id is not None
    async with store.sessionmaker() as s, s.begin():
        await s.execute(delete(User).where(User.id == ann_id))
    rows = await _rows_of(store, ann_id)
    assert rows == dict.fromkeys(rows, 0)


async def test_foreign_keys_are_enforced(store: SqlStore) -> None:
    with pytest.raises(IntegrityError):
        async with store.sessionmaker() as s, s.begin():
            s.add(PainScore(user_id=987654, score=3, at=T0))


# -- SQLite specifics ----------------------------------------------------------------------


async def test_sqlite_connection_pragmas(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/p.db")
    try:
        async with store.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert int((await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() or 0) >= 1000
    finally:
        await store.close()


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    first = await open_store(url)
    await first.save_profile(Profile(ANN, "Ann", onboarded=True))
    await first.log_session(ANN, date(2026, 3, 2), T0)
    await first.log_pain(ANN, 6, datetime(2026, 3, 2, 9, 0, tzinfo=PLUS5))
    await first.close()

    second = await open_store(url)  # migrating an up-to-date database is a no-op
    try:
        got = await second.get_profile(ANN)
        assert got is not None and got.display_name == "Ann" and got.onboarded
        assert await second.session_days(ANN, date(2026, 1, 1)) == [date(2026, 3, 2)]
        assert await second.pain_since(ANN, datetime(2026, 1, 1, tzinfo=UTC)) == [
            PainEntry(6, datetime(2026, 3, 2, 4, 0, tzinfo=UTC))
        ]
    finally:
        await second.close()


async def test_open_store_creates_sqlite_directories(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "c" / "bot.db"
    store = await open_store(f"sqlite+aiosqlite:///{db}")
    try:
        await store.log_session(ANN, date(2026, 3, 2), T0)
    finally:
        await store.close()
    assert db.is_file()


async def test_default_url_is_relative_to_cwd(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store("sqlite+aiosqlite:///data/backbot.db")
    await store.close()
    assert (tmp_path / "data" / "backbot.db").is_file()


async def test_open_store_without_migrate_does_not_create_tables(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/bare.db", migrate=False)
    try:
        with pytest.raises(StorageUnavailable):  # no such table: the store says so in one line
            await store.get_profile(ANN)
    finally:
        await store.close()


# -- unreachable database ------------------------------------------------------------------

UNREACHABLE = "postgresql+asyncpg://u:secret@127.0.0.1:1/x"


async def test_unreachable_database_is_storage_unavailable_with_masked_password() -> None:
    with pytest.raises(StorageUnavailable) as info:
        await open_store(UNREACHABLE)
    msg = str(info.value)
    assert "secret" not in msg
    assert msg.startswith("cannot reach the database at DATABASE_URL=postgresql+asyncpg://u:***@")
    assert "127.0.0.1:1" in msg
    assert "\n" not in msg and len(msg) < 400


async def test_store_methods_raise_storage_unavailable_when_the_database_goes() -> None:
    dead = SqlStore(create_engine(UNREACHABLE), retry_delay=0)
    try:
        for call in (
            dead.get_profile(ANN),
            dead.save_profile(Profile(ANN)),
            dead.log_session(ANN, date(2026, 3, 2), T0),
            dead.forget(ANN),
        ):
            with pytest.raises(StorageUnavailable) as info:
                await call
            assert "secret" not in str(info.value) and "\n" not in str(info.value)
    finally:
        await dead.close()


class _Flaky:
    """Makes the first `failures` INSERT statements fail as if the connection dropped."""

    def __init__(self, store: SqlStore, failures: int) -> None:
        self.failures = failures
        self.inserts = 0
        event.listen(store.engine.sync_engine, "before_cursor_execute", self)

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "SELECT")):
            self.inserts += statement.lstrip().upper().startswith("INSERT")
            if self.failures > 0:
                self.failures -= 1
                raise OperationalError(statement, {}, Exception("server closed the connection"))


async def test_a_write_is_retried_once(store: SqlStore) -> None:
    flaky = _Flaky(store, failures=1)
    assert await store.log_session(ANN, date(2026, 3, 2), T0) is True
    assert flaky.failures == 0
    assert await store.session_days(ANN, date(2026, 1, 1)) == [date(2026, 3, 2)]


async def test_a_write_gives_up_after_the_second_failure(store: SqlStore) -> None:
    flaky = _Flaky(store, failures=2)
    with pytest.raises(StorageUnavailable, match="server closed the connection"):
        await store.log_pain(ANN, 4, T0)
    assert flaky.failures == 0
    assert await store.pain_since(ANN, datetime(2000, 1, 1, tzinfo=UTC)) == []


async def test_a_read_is_not_retried(store: SqlStore) -> None:
    flaky = _Flaky(store, failures=1)
    with pytest.raises(StorageUnavailable):
        await store.get_profile(ANN)
    assert flaky.failures == 0
    assert await store.get_profile(ANN) is None


@pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"password": "not-the-password-x9"}, id="wrong-password"),
        pytest.param({"database": "backbot_no_such_db"}, id="missing-database"),
    ],
)
async def test_postgres_login_failures_are_storage_unavailable(change: dict[str, Any]) -> None:
    """asyncpg raises these raw while connecting; they must not escape as driver errors."""
    url = make_url(PG_URL).set(**change).render_as_string(hide_password=False)
    with pytest.raises(StorageUnavailable) as info:
        await open_store(url)
    msg = str(info.value)
    assert "not-the-password-x9" not in msg
    assert ":***@" in msg
    assert f":{make_url(PG_URL).password}@" not in msg
    assert "DATABASE_URL=postgresql+asyncpg://" in msg and "\n" not in msg


async def test_unopenable_sqlite_file_is_storage_unavailable(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()  # a directory where the database file should be
    with pytest.raises(StorageUnavailable, match="cannot reach the database"):
        await open_store(f"sqlite+aiosqlite:///{tmp_path}/dir.db")


async def test_app_state_get_set_overwrite(store: SqlStore) -> None:
    assert await store.get_state("discord.commands:1:global") is None
    await store.set_state("discord.commands:1:global", "a" * 64)
    await store.set_state("discord.commands:1:123", "b")
    assert await store.get_state("discord.commands:1:global") == "a" * 64
    await store.set_state("discord.commands:1:global", "c")
    assert await store.get_state("discord.commands:1:global") == "c"
    assert await store.get_state("discord.commands:1:123") == "b"


async def test_exclusive_admits_one_holder_at_a_time(store: SqlStore) -> None:
    """PostgreSQL: an advisory lock (across instances); SQLite: a lock in the process."""
    order: list[str] = []

    async def hold(name: str) -> None:
        async with store.exclusive("discord.commands:test"):
            order.append(f"{name} in")
            await asyncio.sleep(0.1)
            order.append(f"{name} out")

    await asyncio.gather(hold("a"), hold("b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


# -- batch reads (the reminder fan-out) ------------------------------------------------------


async def test_batch_reads_give_what_the_one_user_reads_give(store: SqlStore) -> None:
    """profiles_of / last_pain_of over a batch equal get_profile / pain_since(...)[-1] per user:
    two platforms with the same user id, a bare row without a profile, pain in several zones
    written out of order, pain before `since`, and unknown users."""
    ann = Profile(ANN, display_name="Ann", level="advanced", equipment="gym", timezone="Asia/Tokyo")
    bob = Profile(BOB, display_name="Bob", level="intermediate", equipment="dumbbells")
    for p in (ann, bob):
        p.created_at = T0
        await store.save_profile(p)
    bare = UserKey("telegram", "bare")
    await store.log_pain(bare, 3, T0)  # creates a users row that is not a profile
    await store.log_pain(ANN, 6, datetime(2026, 3, 2, 10, 0, tzinfo=PLUS5))  # 05:00 UTC
    await store.log_pain(ANN, 2, datetime(2026, 3, 2, 6, 0, tzinfo=UTC))  # the latest
    await store.log_pain(ANN, 9, datetime(2026, 2, 1, tzinfo=UTC))  # before `since`
    await store.log_pain(BOB, 8, datetime(2026, 2, 1, tzinfo=UTC))  # only before `since`
    since = datetime(2026, 3, 1, tzinfo=UTC)
    # More keys than one IN list holds, almost all unknown.
    keys = [ANN, BOB, bare] + [UserKey("telegram", f"nobody{i}") for i in range(1200)]

    profiles = await store.profiles_of(keys)
    expected_profiles = {k: p for k in keys if (p := await store.get_profile(k)) is not None}
    assert profiles == expected_profiles
    assert set(profiles) == {ANN, BOB}
    assert profiles[ANN].level == "advanced" and profiles[BOB].equipment == "dumbbells"

    pain = await store.last_pain_of(keys, since)
    expected_pain = {k: e[-1] for k in keys if (e := await store.pain_since(k, since))}
    assert pain == expected_pain
    assert pain[ANN].score == 2 and pain[bare].score == 3 and BOB not in pain

    assert await store.profiles_of([]) == {} and await store.last_pain_of([], since) == {}
    with pytest.raises(ValueError):
        await store.last_pain_of(keys, datetime(2026, 3, 1))


async def test_memory_store_batch_reads_match_its_one_user_reads() -> None:
    from bot.storage.memory import MemoryStore

    mem = MemoryStore()
    await mem.save_profile(Profile(ANN, level="advanced"))
    await mem.log_pain(ANN, 5, T0 - timedelta(days=1))
    await mem.log_pain(ANN, 1, T0)
    await mem.log_pain(BOB, 7, T0 - timedelta(days=30))
    keys = [ANN, BOB, UserKey("telegram", "nobody")]
    since = T0 - timedelta(days=7)
    assert await mem.profiles_of(keys) == {ANN: Profile(ANN, level="advanced")}
    assert await mem.last_pain_of(keys, since) == {ANN: PainEntry(1, T0)}
