"""The composition root: builds the knowledge base, store, dialogue, adapters and scheduler.

Nothing else in backbot constructs these; everything receives what it needs from here.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from bot.kb import KnowledgeBase
from bot.storage.memory import MemoryStore

if TYPE_CHECKING:
    from bot.adapters.base import Adapter, Handler
    from bot.storage.store import SqlStore

logger = logging.getLogger(__name__)

_KB_CACHE: dict[Path, KnowledgeBase] = {}
_MODEL_CACHE: dict[Path, TriageModel] = {}


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
    **kwargs: Any,
) -> Dialogue:
    """A Dialogue on the configured knowledge base; an in-memory store when none is given."""
    settings = settings or Settings(_env_file=None)  # type: ignore[call-arg]
    kb = load_kb(settings.knowledge_dir)
    kwargs.setdefault("triage_model", load_triage_model(kb))
    kwargs.setdefault("button_key", settings.button_key())
    return Dialogue(
        kb,
        store if store is not None else MemoryStore(),
        defaults=defaults_from(settings),
        **kwargs,
    )


@dataclass(frozen=True, slots=True)
class Platform:
    """A chat platform the bot can run on: when it is on, and how to build its adapter (the
    import happens only then, so a Discord-only bot never imports python-telegram-bot)."""

    name: str
    enabled: Callable[[Settings], bool]
    build: Callable[[Settings, Handler], Adapter]


def _telegram(settings: Settings, handler: Handler) -> Adapter:
    from bot.adapters.telegram import TelegramAdapter

    return TelegramAdapter(settings, handler)


def _discord(settings: Settings, handler: Handler) -> Adapter:
    from bot.adapters.discord import DiscordAdapter

    return DiscordAdapter(settings, handler)


ADAPTERS: tuple[Platform, ...] = (
    Platform("telegram", lambda s: s.telegram_token is not None, _telegram),
    Platform("discord", lambda s: s.discord_token is not None, _discord),
)


async def open_store(settings: Settings) -> SqlStore:
    from bot.storage.store import open_store as _open

    return await _open(settings.database_url)


async def run_platforms(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run every platform whose token is set, plus the reminder scheduler, until a signal
    (or until `stop` is set, for tests and embedding)."""
    from bot.scheduler import ReminderScheduler

    store = await open_store(settings)
    dialogue = build_dialogue(store, settings)
    adapters = [a.build(settings, dialogue.turn) for a in ADAPTERS if a.enabled(settings)]
    scheduler: ReminderScheduler | None = None
    started: list[Adapter] = []
    try:
        for a in adapters:
            await a.start()
            started.append(a)
        senders = {a.sender.platform: a.sender for a in adapters}
        scheduler = ReminderScheduler(settings, store, dialogue, senders)
        await scheduler.start()
        logger.info("backbot running: %s", ", ".join(type(a).__name__ for a in adapters))
        await _wait_for_signal(stop or asyncio.Event())
    finally:
        if scheduler is not None:
            await scheduler.stop()
        for a in reversed(started):
            try:
                await a.stop()
            except Exception:
                logger.exception("stopping %s failed", type(a).__name__)
        await store.close()
        logger.info("backbot stopped")


async def _wait_for_signal(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
