"""SQLAlchemy 2 typed models: the schema behind `SqlStore` (SQLite by default, PostgreSQL in production).

Every instant is stored as timezone-aware UTC. SQLite has no time zone type, so `UtcDateTime`
stores UTC there and hands back aware datetimes on both backends. Every foreign key cascades on
delete; `SqlStore.forget` still deletes each table explicitly so it never depends on that.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

# Named constraints make migrations reproducible on both backends (Alembic needs names to drop
# or alter a constraint, and SQLite would otherwise leave them anonymous).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now as an aware UTC datetime (never the naive `datetime.utcnow()`)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in aware (any zone) and always comes out aware UTC.

    PostgreSQL keeps `timestamptz`; SQLite stores naive UTC text, so the zone is stripped on the
    way in and put back on the way out. Naive input is refused: its meaning would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC value")
        value = value.astimezone(UTC)
        # SQLite compares timestamps as text, so one fixed (UTC, naive) format keeps order right.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
    }


def _fk(target: str) -> ForeignKey:
    """A foreign key that goes when its parent row goes."""
    return ForeignKey(target, ondelete="CASCADE")


class User(Base):
    """A person on one platform, with their coaching settings.

    `has_profile` is False for a row created only because some other record needed a user (a
    flow state before onboarding finished, say): `get_profile` then answers None, as the
    in-memory store does.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    level: Mapped[str] = mapped_column(String(32), default="beginner")
    equipment: Mapped[str] = mapped_column(String(32), default="none")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    onboarded: Mapped[bool] = mapped_column(Boolean, default=False)
    pain_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    checkin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    has_profile: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationRow(Base):
    """A user's conversation state (`bot.core.ports.Conversation` as JSON): the stack of flows
    they are in and a few marks. `version` goes up on every write."""

    __tablename__ = "conversations"

    user_id: Mapped[int] = mapped_column(_fk("users.id"), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SeenUpdate(Base):
    """A platform update already handled (Telegram update_id, Discord interaction or message
    id), kept for `SEEN_RETENTION`: a retried delivery of it is answered once."""

    __tablename__ = "seen_updates"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class TurnLease(Base):
    """Who is handling a user's message right now, until when: the row that keeps two bot
    instances from answering one user's messages at once. Keyed by platform and user id,
    not `users.id`, so a user who only asks questions gets no `users` row; deleted when the
    turn ends."""

    __tablename__ = "turn_leases"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column()


class AppState(Base):
    """A named value the bot keeps for itself, shared by every instance on the database (the
    hash of the last Discord slash-command sync)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(1024))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkoutLog(Base):
    """A workout on the user's local date; at most one per day."""

    __tablename__ = "workout_logs"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id"))
    day: Mapped[date] = mapped_column(Date)
    logged_at: Mapped[datetime] = mapped_column()


class PainScore(Base):
    """A 0-10 pain score; read back by time range for /progress."""

    __tablename__ = "pain_scores"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score_range"),
        Index("ix_pain_scores_user_id_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id"))
    score: Mapped[int] = mapped_column(SmallInteger)
    at: Mapped[datetime] = mapped_column()


class ReminderScheduleRow(Base):
    """When to nudge a user. The scheduler scans `next_due_at`, hence its index."""

    __tablename__ = "reminder_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id"), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(64))
    days: Mapped[str] = mapped_column(String(32))  # "0,2,4", Monday=0
    at: Mapped[str] = mapped_column(String(5))  # "HH:MM", local to `timezone`
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_until: Mapped[date | None] = mapped_column(Date)
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One attempt to deliver one due reminder; the unique key makes a double send impossible."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(_fk("reminder_schedules.id"))
    user_id: Mapped[int] = mapped_column(_fk("users.id"), index=True)
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgressionStepRow(Base):
    """A user's step on one exercise's progression ladder (offset from the plan's dose)."""

    __tablename__ = "progression_steps"

    user_id: Mapped[int] = mapped_column(_fk("users.id"), primary_key=True)
    exercise: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[int] = mapped_column(SmallInteger)
    changed_at: Mapped[datetime] = mapped_column()
    stepped_up_at: Mapped[datetime | None] = mapped_column()


class CheckInRow(Base):
    """One weekly check-in (its week's Monday): average pain, how much back pain got in the
    way of daily life (0-3), confidence in managing it (1-5); filled in one tap at a time."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("user_id", "week"),
        CheckConstraint("pain >= 0 AND pain <= 10", name="pain_range"),
        CheckConstraint("interference >= 0 AND interference <= 3", name="interference_range"),
        CheckConstraint("confidence >= 1 AND confidence <= 5", name="confidence_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id"))
    week: Mapped[date] = mapped_column(Date)
    pain: Mapped[int | None] = mapped_column(SmallInteger)
    interference: Mapped[int | None] = mapped_column(SmallInteger)
    confidence: Mapped[int | None] = mapped_column(SmallInteger)
    at: Mapped[datetime] = mapped_column()


class UnansweredQuestion(Base):
    """A message the bot could not answer well (`bot.core.ports.Unanswered`), for the
    operator's `backbot inbox`. Keyed by platform and user id, not `users.id` (a user who only
    asks questions has no `users` row); `user_id` is set to NULL after 30 days and on /forget,
    so the question stays and who asked it goes."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (
        Index("ix_unanswered_questions_platform_user_id", "platform", "user_id"),
        Index("ix_unanswered_questions_status_asked_at", "status", "asked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))
    # [{"topic": ..., "score": ...}, ...], best first
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    faq_id: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None] = mapped_column()


# Children first: the order `forget` deletes in, and the order to drop tables in.
USER_TABLES = (
    Delivery,
    ReminderScheduleRow,
    PainScore,
    WorkoutLog,
    ProgressionStepRow,
    CheckInRow,
    ConversationRow,
    User,
)
assert USER_TABLES[0] is Delivery and USER_TABLES[-1] is User, "forget relies on this order"
