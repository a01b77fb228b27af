"""The composition root: builds the knowledge base, store, dialogue, adapters and scheduler.

Nothing else in backbot constructs these; everything receives what it needs from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import kb as kb_module
from bot.config import DEFAULT_KNOWLEDGE_DIR, Settings
from bot.core.dialogue import Defaults, Dialogue
from bot.core.ports import Store
from bot.core.triage_model import TriageModel
from bot.errors import ConfigError
from bot.kb import KnowledgeBase
from bot.storage.memory import MemoryStore

if TYPE_CHECKING:
    from bot.adapters.base import Adapter, Handler
    from bot.health import HealthServer
    from bot.metrics import Metrics
    from bot.phrase_index import PhraseIndex
    from bot.storage.store import SqlStore

logger = logging.getLogger(__name__)

HOUSEKEEPING_EVERY_S = 3600.0  # how often `backbot run` drops inbox users past retention

_KB_CACHE: dict[Path, KnowledgeBase] = {}
_MODEL_CACHE: dict[Path, TriageModel] = {}
_INDEX_CACHE: dict[object, PhraseIndex] = {}  # RETRIEVAL=hybrid: one model per process


def load_kb(directory: Path | str | None = None) -> KnowledgeBase:
    """Load (once per process) and validate the knowledge base."""
    path = Path(directory or DEFAULT_KNOWLEDGE_DIR).resolve()
    if path not in _KB_CACHE:
        _KB_CACHE[path] = kb_module.load(path)
    return _KB_CACHE[path]


def defaults_from(settings: Settings) -> Defaults:
    return Defaults(
        timezone=settings.default_timezone,
        reminder_days=settings.reminder_weekdays,
        reminder_time=settings.reminder_clock,
    )


def load_triage_model(kb: KnowledgeBase) -> TriageModel | None:
    """The shipped red-flag model (about 15 ms to load); None, with a warning, if unreadable."""
    if kb.model_path is None:
        return None
    if kb.model_path in _MODEL_CACHE:
        return _MODEL_CACHE[kb.model_path]
    try:
        model = _MODEL_CACHE[kb.model_path] = TriageModel.load(kb.model_path)
        return model
    except (OSError, ValueError, KeyError) as e:
        logger.warning("red-flag model %s unreadable (%s): rules only", kb.model_path.name, e)
        return None


def build_dialogue(
    store: Store | None = None,
    settings: Settings | None = None,
    *,
    kb: KnowledgeBase | None = None,
    warm: bool | None = None,
    **kwargs: Any,
) -> Dialogue:
    """A Dialogue on the configured knowledge base (or `kb`, for benchmarks); an in-memory
    store when none is given. With RETRIEVAL=hybrid, `warm` starts loading the embedding
    model now (True: and waits for it, as evaluations do; False: in the background, as
    `backbot run` does); by default the first message that needs it starts the load."""
    settings = settings or Settings(_env_file=None)  # type: ignore[call-arg]
    kb = kb or load_kb(settings.knowledge_dir)
    kwargs.setdefault("triage_model", load_triage_model(kb))
    kwargs.setdefault("button_key", settings.button_key())
    if settings.retrieval == "hybrid" and "retriever" not in kwargs:
        kwargs.setdefault("similarity", phrase_index(kb, settings, warm))
    return Dialogue(
        kb,
        store if store is not None else MemoryStore(),
        defaults=defaults_from(settings),
        **kwargs,
    )


def phrase_index(kb: KnowledgeBase, settings: Settings, warm: bool | None = None) -> PhraseIndex:
    """RETRIEVAL=hybrid: the embedding side of retrieval (bot/phrase_index.py; numpy's model
    is imported only here), one per knowledge base and process."""
    from bot.phrase_index import PhraseIndex, default_cache_dir, kb_phrasings

    phrasings = kb_phrasings(kb)
    cache_dir = settings.embedding_cache_dir or default_cache_dir()
    key = (tuple(phrasings), cache_dir, settings.retrieval_wait_seconds)
    index = _INDEX_CACHE.get(key)
    if index is None:
        index = _INDEX_CACHE[key] = PhraseIndex(
            phrasings, cache_dir=cache_dir, wait_s=settings.retrieval_wait_seconds
        )
    if warm is not None:
        index.start()
    if warm:
        index.wait()
    return index


@dataclass(frozen=True, slots=True)
class Platform:
    """A chat platform the bot can run on: when it is on, and how to build its adapter (the
    import happens only then, so a Discord-only bot never imports python-telegram-bot)."""

    name: str
    enabled: Callable[[Settings], bool]
    build: Callable[[Settings, Handler, SqlStore | None], Adapter]
    # For /healthz: whether a started adapter is connected to its platform.
    connected: Callable[[Any], bool] = lambda adapter: True


def _telegram(settings: Settings, handler: Handler, store: SqlStore | None = None) -> Adapter:
    from bot.adapters.telegram import TelegramAdapter

    return TelegramAdapter(settings, handler)


def _telegram_connected(adapter: Any) -> bool:
    # Polling or webhook: PTB's Application and Updater both running (polling retries network
    # errors by itself, so a Telegram outage shows in the error counter, not here).
    app = adapter.application
    return bool(app.running and app.updater is not None and app.updater.running)


def _discord(settings: Settings, handler: Handler, store: SqlStore | None = None) -> Adapter:
    from bot.adapters.discord import DiscordAdapter

    # The store keeps the hash of the last slash-command sync (DISCORD_SYNC=auto).
    return DiscordAdapter(settings, handler, sync_state=store)


ADAPTERS: tuple[Platform, ...] = (
    Platform("telegram", lambda s: s.telegram_token is not None, _telegram, _telegram_connected),
    Platform("discord", lambda s: s.discord_token is not None, _discord, lambda a: a.connected),
)


async def open_store(settings: Settings) -> SqlStore:
    from bot.storage.store import open_store as _open

    return await _open(settings.database_url)


async def housekeeping(store: SqlStore, every: float = HOUSEKEEPING_EVERY_S) -> None:
    """Privacy chores for as long as the bot runs, once at start and then every `every`
    seconds: unanswered questions forget who asked them after 30 days."""
    from datetime import UTC, datetime

    from bot.core.inbox import forget_old_askers
    from bot.errors import StorageUnavailable

    while True:
        try:
            await forget_old_askers(store, datetime.now(UTC))
        except StorageUnavailable as e:
            logger.warning("housekeeping skipped, database unavailable: %s", e)
        await asyncio.sleep(every)


def settle() -> None:
    """After start-up: collect once, then freeze what survives (the knowledge base, the models,
    every module) out of the cyclic collector's way. Those objects live as long as the process;
    without this each full collection walks them all again, one 144 ms pause in a 2,000-update
    burst of tests/bench/bench_telegram.py (GC time in the burst 207 -> 41 ms with it)."""
    gc.collect()
    gc.freeze()


async def run_platforms(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    metrics: Metrics | None = None,
    on_health: Callable[[HealthServer], None] | None = None,
) -> None:
    """Run every platform whose token is set, plus the reminder scheduler, until a signal
    (or until `stop` is set, for tests and embedding). With HEALTH_PORT set, /healthz and
    /metrics are served for the whole run (`on_health` gets the server once it listens)."""
    from bot.health import HealthServer, engine_probe
    from bot.metrics import Metrics  # prometheus_client: not needed by `backbot ask`
    from bot.scheduler import ReminderScheduler

    metrics = metrics if metrics is not None else Metrics()
    store = await open_store(settings)
    dialogue = build_dialogue(store, settings, warm=False)  # hybrid: the model loads meanwhile
    handler = metrics.instrument(dialogue.turn)
    enabled = [p for p in ADAPTERS if p.enabled(settings)]
    adapters = [p.build(settings, handler, store) for p in enabled]
    scheduler: ReminderScheduler | None = None
    started: list[Adapter] = []

    def platforms() -> dict[str, bool]:
        return {
            p.name: any(a is s for s in started) and p.connected(a)
            for p, a in zip(enabled, adapters, strict=True)
        }

    health: HealthServer | None = None
    chores: asyncio.Task[None] | None = None
    with metrics.count_errors():
        try:
            chores = asyncio.create_task(housekeeping(store), name="housekeeping")
            if settings.health_port is not None:
                health = HealthServer(
                    settings.health_port,
                    metrics=metrics,
                    database=engine_probe(store.engine),
                    platforms=platforms,
                    scheduler=lambda: scheduler.status() if scheduler is not None else None,
                )
                await health.start()
                if on_health is not None:
                    on_health(health)
            settle()  # before the first update arrives: a full collection is a pause
            for a in adapters:
                await a.start()
                started.append(a)
            senders = {a.sender.platform: a.sender for a in adapters}
            scheduler = ReminderScheduler(settings, store, dialogue, senders, metrics=metrics)
            await scheduler.start()
            logger.info("backbot running: %s", ", ".join(type(a).__name__ for a in adapters))
            await _wait_for_signal(stop or asyncio.Event())
        finally:
            if chores is not None:
                chores.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await chores
            if scheduler is not None:
                await scheduler.stop()
            for a in reversed(started):
                try:
                    await a.stop()
                except Exception:
                    logger.exception("stopping %s failed", type(a).__name__)
            if health is not None:
                await health.stop()
            await store.close()
            logger.info("backbot stopped")


async def _wait_for_signal(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def sync_discord(settings: Settings) -> int:
    """`backbot discord sync`: log in, push the slash-command table, record its hash, leave."""
    from bot.adapters.discord import DiscordAdapter

    if settings.discord_token is None:
        raise ConfigError("invalid setting DISCORD_TOKEN: not set")
    store = await open_store(settings)
    dialogue = build_dialogue(store, settings)
    adapter = DiscordAdapter(
        settings.model_copy(update={"discord_sync": "always"}), dialogue.turn, sync_state=store
    )
    try:
        await adapter.start()
        print("slash commands synced" if adapter.synced else "slash commands not synced")
        return 0 if adapter.synced else 1
    finally:
        await adapter.stop()
        await store.close()
