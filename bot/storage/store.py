"""SqlStore: the `bot.core.ports.Store` the bot runs on, on SQLite (default) or PostgreSQL.

Usage::

    store = await open_store(settings.database_url)   # creates the file, migrates to head
    ...
    await store.close()

Every method returns the plain dataclasses of `bot.core.ports`, never ORM objects. A database
that cannot be reached surfaces as `StorageUnavailable` (one line, password masked), so the
dialogue can still answer questions and say that a write did not happen. Writes are retried once
on a transient failure. The scheduler adds its own queries on `store.engine` /
`store.sessionmaker`; this module holds the SQL the dialogue core needs.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    and_,
    delete,
    event,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.config import mask_url
from bot.core.ports import (
    Candidate,
    CheckIn,
    Conversation,
    InboxItem,
    PainEntry,
    Profile,
    ProgressStep,
    ReminderSchedule,
    TurnStart,
    Unanswered,
    UserKey,
)
from bot.errors import ConfigError, StorageUnavailable
from bot.storage.models import (
    USER_TABLES,
    AppState,
    CheckInRow,
    ConversationRow,
    Delivery,
    PainScore,
    ProgressionStepRow,
    ReminderScheduleRow,
    SeenUpdate,
    TurnLease,
    UnansweredQuestion,
    User,
    WorkoutLog,
    utcnow,
)

logger = logging.getLogger(__name__)

SEEN_RETENTION = timedelta(days=2)  # Telegram retries an update for at most a day
PRUNE_EVERY = 100

T = TypeVar("T")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/backbot.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_POOL, SQLITE_OVERFLOW = 3, 2  # connections kept, and extra ones under load
SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 10.0
RETRY_DELAY_S = 0.2


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    """What "the database is not there" looks like.

    Driver errors during a query arrive wrapped as DBAPIError, but while *connecting* the raw
    driver exception escapes: socket errors (ConnectionRefusedError, gaierror; ConnectionError
    and TimeoutError are OSErrors), asyncpg's InvalidPasswordError / InvalidCatalogNameError /
    TooManyConnectionsError, sqlite3's "unable to open database file". A pool checkout timeout
    is SQLAlchemy's own TimeoutError.
    """
    errors: list[type[BaseException]] = [DBAPIError, PoolTimeout, OSError, sqlite3.Error]
    try:
        import asyncpg

        errors += [asyncpg.PostgresError, asyncpg.InterfaceError]
    except ImportError:  # pragma: no cover - asyncpg is a dependency, but SQLite needs none
        pass
    return tuple(errors)


UNAVAILABLE = _unavailable_errors()


def _transient(exc: BaseException) -> bool:
    """True when the same write may well succeed a moment later (lost connection, busy file)."""
    if isinstance(exc, IntegrityError):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sqlite3.Error):
        return isinstance(exc, sqlite3.OperationalError)
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str):
        # Connection exception, out of connections, shutting down, serialization/deadlock:
        # worth one more try. A wrong password or missing database is not.
        return sqlstate[:2] in ("08", "53", "57", "40")
    return isinstance(exc, OperationalError | InterfaceError | OSError | PoolTimeout)


def _reason(exc: BaseException, secret: str | None = None) -> str:
    """One short line about what went wrong: no SQL, no parameters, no password."""
    orig: BaseException = getattr(exc, "orig", None) or exc
    msg = " ".join(str(orig).split())
    # asyncpg errors come through SQLAlchemy's adapter as "<class 'asyncpg....X'>: message".
    msg = re.sub(r"^<class '(?:[\w]+\.)*(\w+)'>:\s*", r"\1: ", msg)
    name = type(orig).__name__
    reason = msg if msg.startswith(name) or re.match(r"^\w+: ", msg) else f"{name}: {msg}"
    reason = reason.rstrip(": ") or name
    if secret:
        reason = reason.replace(secret, "***")
    return reason[:200]


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value


def _days_to_text(days: tuple[int, ...]) -> str:
    return ",".join(str(d) for d in sorted(set(days)))


def _days_from_text(value: str) -> tuple[int, ...]:
    return tuple(int(p) for p in value.split(",") if p.strip())


def _clock_from_text(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def _normalize_url(database_url: str) -> URL:
    """Parse DATABASE_URL and pick the async driver when a plain scheme was given."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigError(
            f"invalid setting DATABASE_URL: cannot parse {mask_url(database_url)!r}"
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite" and url.drivername == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres") and "+" not in url.drivername:
        # Hosting providers hand out postgres:// URLs; asyncpg is the driver we ship.
        url = url.set(drivername="postgresql+asyncpg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            "invalid setting DATABASE_URL: use sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    return url


def _sqlite_file(url: URL) -> Path | None:
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(db)


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    """Per-connection SQLite setup: real foreign keys, WAL, a busy timeout, our own BEGIN."""
    # Let SQLAlchemy emit BEGIN itself (see _on_sqlite_begin) instead of the driver's implicit
    # one, so DDL in migrations is transactional and reads see one snapshot.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL is still crash-safe for the database; it only skips an fsync per commit.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _on_sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def create_engine(database_url: str, *, connect_args: dict[str, Any] | None = None) -> AsyncEngine:
    """An async engine for DATABASE_URL; for SQLite, creates the file's directory first.

    `connect_args` go to the driver (tests pass asyncpg `server_settings` for a private schema).
    """
    url = _normalize_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StorageUnavailable(
                    f"cannot reach the database at DATABASE_URL={mask_url(database_url)}: "
                    f"cannot create directory {path.parent}: {e.strerror or e}"
                ) from e
        # SQLite runs one writer at a time: more than a few connections (each an aiosqlite
        # thread with its own page cache; the default pool allows 15) only add lock waits and
        # memory. Turns queue for a connection instead. (In-memory databases have one, static.)
        pool = {} if path is None else {"pool_size": SQLITE_POOL, "max_overflow": SQLITE_OVERFLOW}
        engine = create_async_engine(url, connect_args=dict(connect_args or {}), **pool)
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
        return engine
    args: dict[str, Any] = {}
    if url.drivername == "postgresql+asyncpg":
        args["timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    args.update(connect_args or {})
    return create_async_engine(url, pool_pre_ping=True, connect_args=args)


def alembic_config() -> Config:
    """Alembic configured from code: no alembic.ini needed, migrations ship in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


async def run_migrations(engine: AsyncEngine, revision: str = "head") -> str | None:
    """Upgrade the database behind `engine` to `revision`; return the revision it ends at.

    Alembic is synchronous; `run_sync` runs it on the async connection through SQLAlchemy's
    greenlet bridge, so this works inside a running event loop.
    """

    def _upgrade(conn: Connection) -> str | None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.begin() as conn:
        return await conn.run_sync(_upgrade)


async def open_store(database_url: str = DEFAULT_DATABASE_URL, *, migrate: bool = True) -> SqlStore:
    """Connect to DATABASE_URL (migrating to head unless told not to) and return the store.

    Raises StorageUnavailable naming the masked URL when the database cannot be reached.
    """
    engine = create_engine(database_url)
    where = f"DATABASE_URL={mask_url(database_url)}"
    try:
        if migrate:
            rev = await run_migrations(engine)
            logger.info("database at %s is at revision %s", mask_url(database_url), rev)
        else:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except UNAVAILABLE as e:
        await engine.dispose()
        if engine.dialect.name == "sqlite":
            # aiosqlite stops its worker thread after a failed connect without awaiting it;
            # give the thread a moment to report back before a caller closes the loop.
            await asyncio.sleep(0.05)
        raise StorageUnavailable(
            f"cannot reach the database at {where}: {_reason(e, engine.url.password)}"
        ) from e
    except CommandError as e:
        await engine.dispose()
        raise StorageUnavailable(f"cannot migrate the database at {where}: {e}") from e
    return SqlStore(engine)


def upgrade(database_url: str = DEFAULT_DATABASE_URL) -> str | None:
    """`backbot db upgrade`: migrate DATABASE_URL to head; return the revision it is at."""

    async def _main() -> str | None:
        engine = create_engine(database_url)
        try:
            return await run_migrations(engine)
        except UNAVAILABLE as e:
            raise StorageUnavailable(
                f"cannot reach the database at DATABASE_URL={mask_url(database_url)}: "
                f"{_reason(e, engine.url.password)}"
            ) from e
        finally:
            await engine.dispose()

    return asyncio.run(_main())


def _of(key: UserKey) -> tuple[Any, ...]:
    """WHERE clause selecting one user's row in `users`."""
    return (User.platform == key.platform, User.user_id == key.user_id)


# Users per IN list in the batch reads (a scheduler batch is one query): far below the
# parameter limits of SQLite (32,766) and asyncpg (32,767).
MANY_CHUNK = 1000


def _many(keys: Collection[UserKey]) -> list[ColumnElement[bool]]:
    """WHERE clauses selecting the `users` rows of `keys`, one per platform and chunk."""
    by_platform: dict[str, list[str]] = {}
    for k in keys:
        by_platform.setdefault(k.platform, []).append(k.user_id)
    return [
        and_(User.platform == platform, User.user_id.in_(ids[i : i + MANY_CHUNK]))
        for platform, ids in sorted(by_platform.items())
        for i in range(0, len(ids), MANY_CHUNK)
    ]


def _profile(key: UserKey, row: User) -> Profile:
    return Profile(
        key=key,
        display_name=row.display_name,
        level=row.level,
        equipment=row.equipment,
        timezone=row.timezone,
        onboarded=row.onboarded,
        pain_consent=row.pain_consent,
        checkin=row.checkin,
        created_at=row.created_at,
    )


class SqlStore:
    """`bot.core.ports.Store` on SQLAlchemy. `engine` and `sessionmaker` are public on purpose:
    the scheduler runs its own claim/delivery queries on them."""

    def __init__(self, engine: AsyncEngine, *, retry_delay: float = RETRY_DELAY_S) -> None:
        self.engine = engine
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )
        self.dialect = engine.dialect.name
        self._retry_delay = retry_delay
        self._label = mask_url(engine.url.render_as_string(hide_password=False))
        self._secret = engine.url.password
        # A SQLite file deleted or replaced under a running bot: writes would go into an
        # unlinked file and vanish. Its identity is checked before every transaction.
        self._file = _sqlite_file(engine.url) if self.dialect == "sqlite" else None
        self._identity: tuple[int, int] | None = None
        self._local_locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    # -- plumbing --------------------------------------------------------------------------

    async def _run(self, op: Callable[[AsyncSession], Awaitable[T]], *, write: bool) -> T:
        """Run `op` in one transaction; map driver failures to StorageUnavailable.

        A write gets one more try after a transient failure (a dropped pooled connection, a
        SQLite file busy past its timeout); reads fail fast, since the caller has a fallback.
        """
        self._check_file()
        tries = 2 if write else 1
        for attempt in range(1, tries + 1):
            try:
                async with self.sessionmaker() as session, session.begin():
                    return await op(session)
            except UNAVAILABLE as e:
                reason = _reason(e, self._secret)
                if attempt < tries and _transient(e):
                    logger.warning("database write failed, retrying once: %s", reason)
                    await asyncio.sleep(self._retry_delay)
                    continue
                logger.error("database unavailable at %s: %s", self._label, reason)
                raise StorageUnavailable(
                    f"database unavailable (DATABASE_URL={self._label}): {reason}"
                ) from e
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_file(self) -> None:
        if self._file is None:
            return
        try:
            st = self._file.stat()
        except OSError:
            st = None
        now = (st.st_dev, st.st_ino) if st is not None else None
        if self._identity is None:
            self._identity = now  # first sight (None: the first connection creates it)
            return
        if now != self._identity:
            logger.error("database file %s is gone or was replaced: not writing", self._file)
            raise StorageUnavailable(
                f"database file missing or replaced (DATABASE_URL={self._label})"
            )

    def _insert(self, model: Any) -> Any:
        """INSERT with ON CONFLICT support for the engine's dialect."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(model)

    async def _ensure_user(self, session: AsyncSession, key: UserKey) -> int:
        """The user's row id, creating a bare row (no profile yet) when needed.

        The INSERT comes first on purpose: on SQLite it takes the write lock at the start of
        the transaction, and two first messages from one user cannot both insert.
        """
        await session.execute(
            self._insert(User)
            .values(platform=key.platform, user_id=key.user_id, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["platform", "user_id"])
        )
        uid = await session.scalar(select(User.id).where(*_of(key)))
        assert uid is not None
        return uid

    # -- profile ---------------------------------------------------------------------------

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """One holder at a time across every instance on this database, for once-per-deploy
        work (the Discord command sync). PostgreSQL: a session advisory lock. SQLite: one
        file means one host; a lock per process is enough."""
        if self.dialect != "postgresql":
            async with self._local_locks.setdefault(name, asyncio.Lock()):
                yield
            return
        key = zlib.crc32(name.encode()) & 0x7FFFFFFF
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            await conn.commit()
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()

    async def get_state(self, key: str) -> str | None:
        """A value of `app_state` (None when never set)."""

        async def op(s: AsyncSession) -> str | None:
            return (
                await s.execute(select(AppState.value).where(AppState.key == key))
            ).scalar_one_or_none()

        return await self._run(op, write=False)

    async def set_state(self, key: str, value: str) -> None:
        """Set a value of `app_state` (insert or overwrite)."""

        async def op(s: AsyncSession) -> None:
            now = utcnow()
            stmt = self._insert(AppState).values(key=key, value=value, updated_at=now)
            await s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["key"], set_={"value": value, "updated_at": now}
                )
            )

        await self._run(op, write=True)

    async def get_profile(self, key: UserKey) -> Profile | None:
        async def op(s: AsyncSession) -> Profile | None:
            row = await s.scalar(select(User).where(*_of(key), User.has_profile.is_(True)))
            return None if row is None else _profile(key, row)

        return await self._run(op, write=False)

    async def profiles_of(self, keys: Collection[UserKey]) -> dict[UserKey, Profile]:
        wanted = set(keys)

        async def op(s: AsyncSession) -> dict[UserKey, Profile]:
            out: dict[UserKey, Profile] = {}
            for where in _many(wanted):
                for row in await s.scalars(select(User).where(where, User.has_profile.is_(True))):
                    key = UserKey(row.platform, row.user_id)
                    if key in wanted:
                        out[key] = _profile(key, row)
            return out

        return await self._run(op, write=False) if wanted else {}

    async def save_profile(self, profile: Profile, fields: Collection[str] | None = None) -> None:
        key = profile.key
        values: dict[str, Any] = {
            "display_name": profile.display_name,
            "level": profile.level,
            "equipment": profile.equipment,
            "timezone": profile.timezone,
            "onboarded": profile.onboarded,
            "pain_consent": profile.pain_consent,
            "checkin": profile.checkin,
            "has_profile": True,
        }
        if profile.created_at is not None:
            values["created_at"] = _aware(profile.created_at, "created_at")
        # A row that exists gets only the fields this turn changed (and becomes a profile).
        changed = values if fields is None else {f: values[f] for f in fields if f in values}
        changed = {**changed, "has_profile": True}

        async def op(s: AsyncSession) -> None:
            stmt = self._insert(User).values(
                platform=key.platform,
                user_id=key.user_id,
                **{"created_at": utcnow(), **values},
            )
            await s.execute(
                stmt.on_conflict_do_update(index_elements=["platform", "user_id"], set_=changed)
            )

        await self._run(op, write=True)

    # -- conversation state and turn leases ------------------------------------------------

    async def get_conversation(self, key: UserKey) -> Conversation:
        async def op(s: AsyncSession) -> Conversation:
            state = await s.scalar(
                select(ConversationRow.state)
                .join(User, User.id == ConversationRow.user_id)
                .where(*_of(key))
            )
            return Conversation.from_json(state)

        return await self._run(op, write=False)

    async def save_conversation(self, key: UserKey, conversation: Conversation) -> None:
        async def op(s: AsyncSession) -> None:
            if conversation.is_empty():
                uid = select(User.id).where(*_of(key)).scalar_subquery()
                await s.execute(
                    delete(ConversationRow)
                    .where(ConversationRow.user_id == uid)
                    .execution_options(synchronize_session=False)
                )
                return
            uid_ = await self._ensure_user(s, key)
            values = {"state": conversation.to_json(), "updated_at": utcnow()}
            await s.execute(
                self._insert(ConversationRow)
                .values(user_id=uid_, version=1, **values)
                .on_conflict_do_update(
                    index_elements=["user_id"],
                    set_={**values, "version": ConversationRow.version + 1},
                )
            )

        await self._run(op, write=True)

    async def claim_turn(self, key: UserKey, holder: str, until: datetime, now: datetime) -> bool:
        until, now = _aware(until, "until"), _aware(now, "now")

        async def op(s: AsyncSession) -> bool:
            return await self._claim(s, key, holder, until, now)

        return await self._run(op, write=True)

    async def begin_turn(
        self,
        key: UserKey,
        holder: str,
        until: datetime,
        now: datetime,
        update_id: str | None = None,
    ) -> TurnStart | None:
        until, now = _aware(until, "until"), _aware(now, "now")

        async def op(s: AsyncSession) -> TurnStart | None:
            if not await self._claim(s, key, holder, until, now):
                return None
            first = update_id is None or await self._seen(s, key.platform, update_id, now)
            # The profile and the conversation in one statement.
            found = (
                await s.execute(
                    select(User, ConversationRow.state)
                    .outerjoin(ConversationRow, ConversationRow.user_id == User.id)
                    .where(*_of(key))
                )
            ).first()
            if found is None:
                return TurnStart(None, Conversation(), first)
            row, state = found
            profile = _profile(key, row) if row.has_profile else None
            return TurnStart(profile, Conversation.from_json(state), first)

        return await self._run(op, write=True)

    async def _claim(
        self, s: AsyncSession, key: UserKey, holder: str, until: datetime, now: datetime
    ) -> bool:
        stmt = self._insert(TurnLease).values(
            platform=key.platform, user_id=key.user_id, holder=holder, until=until
        )
        res = await s.execute(
            stmt.on_conflict_do_update(
                index_elements=["platform", "user_id"],
                set_={"holder": holder, "until": until},
                # Free, expired (its instance died mid-turn), or ours already.
                where=or_(TurnLease.until < now, TurnLease.holder == holder),
            )
        )
        return bool(getattr(res, "rowcount", 0))

    async def release_turn(self, key: UserKey, holder: str) -> None:
        async def op(s: AsyncSession) -> None:
            await s.execute(
                delete(TurnLease).where(
                    TurnLease.platform == key.platform,
                    TurnLease.user_id == key.user_id,
                    TurnLease.holder == holder,
                )
            )

        await self._run(op, write=True)

    # -- workouts and pain -----------------------------------------------------------------

    async def log_session(self, key: UserKey, day: date, at: datetime) -> bool:
        """Record a workout on `day` (the user's local date); False if that day was logged."""
        _aware(at, "at")

        async def op(s: AsyncSession) -> bool:
            uid = await self._ensure_user(s, key)
            # ON CONFLICT DO NOTHING + RETURNING: one round trip, and no error to catch when the
            # day is already there (the unique key decides, also under concurrency).
            res = await s.execute(
                self._insert(WorkoutLog)
                .values(user_id=uid, day=day, logged_at=at)
                .on_conflict_do_nothing(index_elements=["user_id", "day"])
                .returning(WorkoutLog.id)
            )
            return res.scalar_one_or_none() is not None

        return await self._run(op, write=True)

    async def session_days(self, key: UserKey, since: date) -> list[date]:
        async def op(s: AsyncSession) -> list[date]:
            rows = await s.scalars(
                select(WorkoutLog.day)
                .join(User, User.id == WorkoutLog.user_id)
                .where(*_of(key), WorkoutLog.day >= since)
                .order_by(WorkoutLog.day)
            )
            return list(rows)

        return await self._run(op, write=False)

    async def log_pain(self, key: UserKey, score: int, at: datetime) -> None:
        if not 0 <= score <= 10:
            raise ValueError(f"pain score must be between 0 and 10, got {score}")
        _aware(at, "at")

        async def op(s: AsyncSession) -> None:
            uid = await self._ensure_user(s, key)
            s.add(PainScore(user_id=uid, score=score, at=at))

        await self._run(op, write=True)

    async def pain_since(self, key: UserKey, since: datetime) -> list[PainEntry]:
        _aware(since, "since")

        async def op(s: AsyncSession) -> list[PainEntry]:
            rows = await s.execute(
                select(PainScore.score, PainScore.at)
                .join(User, User.id == PainScore.user_id)
                .where(*_of(key), PainScore.at >= since)
                .order_by(PainScore.at, PainScore.id)
            )
            return [PainEntry(score=score, at=at) for score, at in rows]

        return await self._run(op, write=False)

    # -- progression steps and weekly check-ins --------------------------------------------

    async def get_steps(self, key: UserKey) -> dict[str, ProgressStep]:
        async def op(s: AsyncSession) -> dict[str, ProgressStep]:
            rows = await s.scalars(
                select(ProgressionStepRow)
                .join(User, User.id == ProgressionStepRow.user_id)
                .where(*_of(key))
            )
            return {
                r.exercise: ProgressStep(r.exercise, r.step, r.changed_at, r.stepped_up_at)
                for r in rows
            }

        return await self._run(op, write=False)

    async def save_steps(self, key: UserKey, steps: Collection[ProgressStep]) -> None:
        if not steps:
            return
        for st in steps:
            _aware(st.changed_at, "changed_at")

        async def op(s: AsyncSession) -> None:
            uid = await self._ensure_user(s, key)
            for st in steps:
                values = {
                    "step": st.step,
                    "changed_at": st.changed_at,
                    "stepped_up_at": st.stepped_up_at,
                }
                await s.execute(
                    self._insert(ProgressionStepRow)
                    .values(user_id=uid, exercise=st.exercise, **values)
                    .on_conflict_do_update(index_elements=["user_id", "exercise"], set_=values)
                )

        await self._run(op, write=True)

    async def save_checkin(self, key: UserKey, checkin: CheckIn) -> None:
        _aware(checkin.at, "at")
        values: dict[str, Any] = {
            "pain": checkin.pain,
            "interference": checkin.interference,
            "confidence": checkin.confidence,
            "at": checkin.at,
        }

        async def op(s: AsyncSession) -> None:
            uid = await self._ensure_user(s, key)
            await s.execute(
                self._insert(CheckInRow)
                .values(user_id=uid, week=checkin.week, **values)
                .on_conflict_do_update(index_elements=["user_id", "week"], set_=values)
            )

        await self._run(op, write=True)

    async def checkins_since(self, key: UserKey, since: date) -> list[CheckIn]:
        async def op(s: AsyncSession) -> list[CheckIn]:
            rows = await s.scalars(
                select(CheckInRow)
                .join(User, User.id == CheckInRow.user_id)
                .where(*_of(key), CheckInRow.week >= since)
                .order_by(CheckInRow.week)
            )
            return [CheckIn(r.week, r.at, r.pain, r.interference, r.confidence) for r in rows]

        return await self._run(op, write=False)

    async def last_pain_of(
        self, keys: Collection[UserKey], since: datetime
    ) -> dict[UserKey, PainEntry]:
        _aware(since, "since")
        wanted = set(keys)

        async def op(s: AsyncSession) -> dict[UserKey, PainEntry]:
            out: dict[UserKey, PainEntry] = {}
            for where in _many(wanted):
                rows = await s.execute(
                    select(User.platform, User.user_id, PainScore.score, PainScore.at)
                    .join(User, User.id == PainScore.user_id)
                    .where(where, PainScore.at >= since)
                    .order_by(PainScore.at, PainScore.id)
                )
                # Ascending, so the last entry seen per user is the latest, as in pain_since.
                for platform, user_id, score, at in rows:
                    key = UserKey(platform, user_id)
                    if key in wanted:
                        out[key] = PainEntry(score=score, at=at)
            return out

        return await self._run(op, write=False) if wanted else {}

    # -- reminders -------------------------------------------------------------------------

    async def get_reminder(self, key: UserKey) -> ReminderSchedule | None:
        async def op(s: AsyncSession) -> ReminderSchedule | None:
            row = await s.scalar(
                select(ReminderScheduleRow)
                .join(User, User.id == ReminderScheduleRow.user_id)
                .where(*_of(key))
            )
            if row is None:
                return None
            return ReminderSchedule(
                key=key,
                chat_id=row.chat_id,
                days=_days_from_text(row.days),
                at=_clock_from_text(row.at),
                timezone=row.timezone,
                active=row.active,
                paused_until=row.paused_until,
                next_due_at=row.next_due_at,
            )

        return await self._run(op, write=False)

    async def save_reminder(self, schedule: ReminderSchedule) -> None:
        key = schedule.key
        if schedule.next_due_at is not None:
            _aware(schedule.next_due_at, "next_due_at")
        values: dict[str, Any] = {
            "platform": key.platform,
            "chat_id": schedule.chat_id,
            "days": _days_to_text(schedule.days),
            "at": schedule.at.strftime("%H:%M"),
            "timezone": schedule.timezone,
            "active": schedule.active,
            "paused_until": schedule.paused_until,
            "next_due_at": schedule.next_due_at,
            "updated_at": utcnow(),
        }

        async def op(s: AsyncSession) -> None:
            uid = await self._ensure_user(s, key)
            await s.execute(
                self._insert(ReminderScheduleRow)
                .values(user_id=uid, **values)
                .on_conflict_do_update(index_elements=["user_id"], set_=values)
            )

        await self._run(op, write=True)

    # -- updates already handled -----------------------------------------------------------

    async def first_seen(self, platform: str, update_id: str, now: datetime) -> bool:
        now = _aware(now, "now")

        async def op(s: AsyncSession) -> bool:
            return await self._seen(s, platform, update_id, now)

        return await self._run(op, write=True)

    async def _seen(self, s: AsyncSession, platform: str, update_id: str, now: datetime) -> bool:
        res = await s.execute(
            self._insert(SeenUpdate)
            .values(platform=platform, update_id=update_id[:64], seen_at=now)
            .on_conflict_do_nothing(index_elements=["platform", "update_id"])
        )
        first = bool(getattr(res, "rowcount", 0))
        if first and zlib.crc32(update_id.encode()) % PRUNE_EVERY == 0:  # now and then, prune
            await s.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < now - SEEN_RETENTION))
        return first

    # -- the unanswered-question inbox -----------------------------------------------------

    async def record_unanswered(self, question: Unanswered) -> None:
        _aware(question.asked_at, "asked_at")
        row = UnansweredQuestion(
            text=question.text,
            reason=question.reason,
            candidates=[{"topic": c.topic, "score": c.score} for c in question.candidates],
            platform=question.platform,
            user_id=question.user.user_id if question.user else None,
            asked_at=question.asked_at,
            status="open",
        )

        async def op(s: AsyncSession) -> None:
            s.add(row)

        await self._run(op, write=True)

    async def inbox_items(self, status: str | None = "open") -> list[InboxItem]:
        async def op(s: AsyncSession) -> list[InboxItem]:
            q = select(UnansweredQuestion).order_by(
                UnansweredQuestion.asked_at, UnansweredQuestion.id
            )
            if status is not None:
                q = q.where(UnansweredQuestion.status == status)
            return [_inbox_item(r) for r in await s.scalars(q)]

        return await self._run(op, write=False)

    async def inbox_item(self, item_id: int) -> InboxItem | None:
        async def op(s: AsyncSession) -> InboxItem | None:
            row = await s.get(UnansweredQuestion, item_id)
            return None if row is None else _inbox_item(row)

        return await self._run(op, write=False)

    async def resolve_inbox_item(
        self, item_id: int, status: str, faq_id: str | None, now: datetime
    ) -> bool:
        _aware(now, "now")

        async def op(s: AsyncSession) -> bool:
            res = await s.execute(
                update(UnansweredQuestion)
                .where(UnansweredQuestion.id == item_id, UnansweredQuestion.status == "open")
                .values(status=status, faq_id=faq_id, resolved_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(res, "rowcount", 0))

        return await self._run(op, write=True)

    async def drop_inbox_users(self, before: datetime) -> int:
        _aware(before, "before")

        async def op(s: AsyncSession) -> int:
            res = await s.execute(
                update(UnansweredQuestion)
                .where(
                    UnansweredQuestion.user_id.is_not(None),
                    UnansweredQuestion.asked_at < before,
                )
                .values(user_id=None)
                .execution_options(synchronize_session=False)
            )
            return max(getattr(res, "rowcount", 0) or 0, 0)

        return await self._run(op, write=True)

    # -- /export and /forget -----------------------------------------------------------------

    async def export(self, key: UserKey) -> dict[str, Any]:
        """Every row of this user, table by table (the rows /forget would delete)."""

        async def op(s: AsyncSession) -> dict[str, Any]:
            user = await s.scalar(select(User).where(*_of(key)))
            asked = list(
                await s.scalars(
                    select(UnansweredQuestion)
                    .where(
                        UnansweredQuestion.platform == key.platform,
                        UnansweredQuestion.user_id == key.user_id,
                    )
                    .order_by(UnansweredQuestion.asked_at, UnansweredQuestion.id)
                )
            )
            if user is None and not asked:
                return {}

            def iso(v: Any) -> Any:
                return v.isoformat() if isinstance(v, date | datetime) else v

            def rows(models: Any) -> list[dict[str, Any]]:
                return [
                    {
                        c.name: iso(getattr(r, c.key))
                        for c in r.__table__.columns
                        if c.name != "user_id"
                    }
                    for r in models
                ]

            if user is None:  # only asked questions: no other table has rows of theirs
                return {"unanswered_questions": rows(asked)}
            uid = user.id
            out: dict[str, Any] = {"user": rows([user])[0]}
            for name, model, order in (
                ("workouts", WorkoutLog, WorkoutLog.day),
                ("pain_scores", PainScore, PainScore.at),
                ("reminder_schedules", ReminderScheduleRow, ReminderScheduleRow.id),
                ("deliveries", Delivery, Delivery.due_at),
                ("progression_steps", ProgressionStepRow, ProgressionStepRow.exercise),
                ("checkins", CheckInRow, CheckInRow.week),
                ("conversations", ConversationRow, ConversationRow.user_id),
            ):
                found = await s.scalars(select(model).where(model.user_id == uid).order_by(order))
                out[name] = rows(found)
            out["unanswered_questions"] = rows(asked)
            return out

        return await self._run(op, write=False)

    async def forget(self, key: UserKey) -> int:
        """Delete every row of this user in every table; return how many rows went.

        Each table is deleted explicitly, children first, rather than trusting ON DELETE
        CASCADE alone: a SQLite connection opened elsewhere without PRAGMA foreign_keys would
        otherwise leave the user's data behind.
        """

        async def op(s: AsyncSession) -> int:
            uid = select(User.id).where(*_of(key)).scalar_subquery()
            schedules = select(ReminderScheduleRow.id).where(ReminderScheduleRow.user_id == uid)
            stmts: list[Delete] = [
                delete(Delivery).where(
                    or_(Delivery.user_id == uid, Delivery.schedule_id.in_(schedules))
                ),
                # Every user table between the deliveries and the user row, children first: a
                # table added to USER_TABLES is forgotten without another list to keep in step.
                *(delete(model).where(model.user_id == uid) for model in USER_TABLES[1:-1]),
                delete(User).where(*_of(key)),
            ]
            # Inbox questions stay for the operator, but no longer say who asked them.
            unlink = (
                update(UnansweredQuestion)
                .where(
                    UnansweredQuestion.platform == key.platform,
                    UnansweredQuestion.user_id == key.user_id,
                )
                .values(user_id=None)
            )
            total = 0
            for stmt in (*stmts, unlink):
                res = await s.execute(stmt.execution_options(synchronize_session=False))
                total += max(getattr(res, "rowcount", 0) or 0, 0)
            return total

        n = await self._run(op, write=True)
        # No user id in the log: the point of /forget is that we stop holding on to it.
        logger.info("forgot a %s user (%d rows)", key.platform, n)
        return n


def _inbox_item(row: UnansweredQuestion) -> InboxItem:
    cands = tuple(
        Candidate(str(c["topic"]), float(c["score"]))
        for c in row.candidates or []
        if isinstance(c, dict) and "topic" in c and "score" in c
    )
    user = UserKey(row.platform, row.user_id) if row.user_id is not None else None
    q = Unanswered(row.text, row.reason, cands, row.platform, user, row.asked_at)
    return InboxItem(row.id, q, row.status, row.faq_id, row.resolved_at)
