"""The answers to red flags: the urgent reply (what to do, how soon, why, sources), and the
screening question asked when the model is unsure. Triage itself is bot.core.safety."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.core import safety
from bot.core.flow import FlowEngine
from bot.core.flows import screening
from bot.core.library import Library
from bot.core.ports import Frame
from bot.core.reminding import Reminding
from bot.core.safety import Assessment, Triage
from bot.core.turn import Turn
from bot.core.types import Button, Kind, Reply
from bot.errors import StorageUnavailable
from bot.kb import KnowledgeBase

HEALTH_PAUSE_DAYS = 7  # reminders pause this long after an emergency or same-day reply
SCREEN_QUIET = timedelta(minutes=30)  # the screening question is not asked again within this


class Alerts:
    def __init__(
        self, kb: KnowledgeBase, triage: Triage, reminding: Reminding, library: Library
    ) -> None:
        self.kb = kb
        self.triage = triage
        self.reminding = reminding
        self.library = library
        other = kb.safety.someone_else
        self._other = _any([] if other is None else other.mentions)
        self._own = _any([] if other is None else other.own)

    def about_someone_else(self, text: str) -> bool:
        """Whether a message tells of another person's symptoms ("my dad can't control his
        bladder"), not the user's own: it then gets the level's `header_other`."""
        if self._other is None:
            return False
        plain = _PUNCT.sub(" ", text.lower())
        return bool(self._other.search(plain)) and not (self._own and self._own.search(plain))

    async def red_flag(self, ctx: Turn, a: Assessment) -> list[Reply]:
        """The level's header (what to do, how soon), why, the sources; reminders paused,
        unless the message was about someone else."""
        assert a.level is not None
        s = self.kb.safety
        level = s.levels[a.level]
        other = self.about_someone_else(ctx.msg.text or "")
        header = level.header_other if other and level.header_other else level.header
        body = "\n\n".join(f.message.strip() for f in a.flags[:2])
        sources = [*level.sources, *(src for f in a.flags for src in f.sources)]
        text = f"{header}\n\n{body}\n\n{self.kb.cite_links(sources)}"
        buttons = self.library.doctor_button()
        if a.level != "soon" and not other:
            try:
                paused = await self.reminding.pause_for_health(ctx, HEALTH_PAUSE_DAYS)
            except StorageUnavailable:
                paused = False
            if paused:
                text += f"\n\nI've paused your training reminders for {HEALTH_PAUSE_DAYS} days."
                buttons = (*buttons, Button("Keep reminders on", "rem:resume"))
        topic = a.flags[0].id if a.flags else None
        return [
            Reply(text, buttons, kind=Kind.RED_FLAG, topic=topic, score=a.score, urgency=a.level)
        ]

    async def flag_by_id(self, ctx: Turn, flag_id: str) -> list[Reply]:
        flag = self.triage.flag(flag_id)
        if flag is None:
            return []
        return await self.red_flag(ctx, Assessment(safety.Outcome.FLAG, flag.level, (flag,)))

    def screen(self, ctx: Turn, engine: FlowEngine, text: str, score: float) -> list[Reply] | None:
        """Ask the screening question, keeping the message to answer afterwards; None when it
        was asked recently (then the message is answered as usual)."""
        if screening.NAME not in engine.flows or _recent(ctx, SCREEN_QUIET):
            return None
        ctx.conversation.marks[screening.MARK] = ctx.now.isoformat()
        engine.drop_loose(ctx)
        flow = engine.flows[screening.NAME]
        frame = Frame(screening.NAME, flow.first, {"text": text[: screening.MAX_PENDING_CHARS]})
        ctx.conversation.frames = [f for f in ctx.conversation.frames if f.flow != flow.name]
        ctx.conversation.frames.append(frame)
        ask = engine.ask(ctx, flow, frame)
        return [
            Reply(ask.text, ask.buttons, kind=Kind.SCREEN, topic="screen", score=round(score, 3))
        ]


_PUNCT = re.compile(r"[^a-z0-9]+")


def _any(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _recent(ctx: Turn, quiet: timedelta) -> bool:
    at = ctx.conversation.marks.get(screening.MARK)
    try:
        return at is not None and ctx.now - datetime.fromisoformat(at) < quiet
    except (ValueError, TypeError):
        return False
