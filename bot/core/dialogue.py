"""The dialogue core: `Dialogue.turn(Incoming)` yields the replies, the same for every platform.

A router, nothing more. For each message, in this order (DESIGN.md):
1. red-flag triage of everything the user wrote (a command's arguments too), before the flood
   gate, so a red flag is never dropped; a red flag is answered first, and any flow waits;
2. button actions (flow buttons go to the flow engine, the rest to their feature);
3. commands, looked up in the feature table (`bot.core.features`);
4. the active flow, if the message answers its question (`bot.core.flow`);
5. free-text intents from the feature table, short replies ("5", "no"), then the knowledge
   base (`bot.core.library`).
A message that interrupts a sticky flow is answered, then the flow's question comes back.

Turns of one user never interleave (`bot.core.ordering`); the lock also covers delivery.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time as _time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.core import flows, inbox, intents, safety
from bot.core.alerts import Alerts
from bot.core.answers import Retrieval, Tuning
from bot.core.buttons import ButtonSigner, Check
from bot.core.coach import PAIN_RECENT, Coach
from bot.core.features import BY_ACTION, BY_COMMAND, FEATURES, Said, intent_of
from bot.core.flood import FloodGate, Verdict
from bot.core.flow import FlowEngine, Services
from bot.core.flows import checkin, onboarding, settings
from bot.core.hybrid import Similarity
from bot.core.library import Library
from bot.core.messages import (
    ABOUT,
    HELP,
    HOME_BUTTONS,
    NON_TEXT,
    PRIVACY,
    SLOW_DOWN,
    SORRY_STORAGE,
)
from bot.core.ordering import TurnOrder
from bot.core.ports import Conversation, Profile, Store, TurnStart, UserKey
from bot.core.questions import extract
from bot.core.reminding import Reminding
from bot.core.safety import Assessment, Scorer, Triage
from bot.core.text import clean, safe_echo
from bot.core.turn import Defaults, Turn
from bot.core.types import Button, Incoming, Kind, Reply
from bot.errors import StorageUnavailable
from bot.kb import KnowledgeBase

logger = logging.getLogger(__name__)

CANCEL_WORDS = frozenset(
    {"cancel", "stop", "never mind", "nevermind", "nvm", "forget it", "quit", "exit", "leave it"}
)
NONE = Assessment(safety.Outcome.NONE)
OFF_LOOP_CHARS = 1500  # triage of longer messages runs off the event loop
NOT_YOURS = Reply(
    "That button is for the person it was shown to. Send /start to get your own.",
    kind=Kind.NOTICE,
    ephemeral=True,
    topic="not_yours",
)
EXPIRED = "That button has expired. What would you like to do?"
UNDELIVERED = "reminder_undelivered"  # Conversation.marks: a reminder could not reach them
UNDELIVERED_TEXT = (
    "Your last reminder couldn't reach you (I can't message you privately), so I stopped "
    "your reminders. Send /remind in this private chat to turn them back on."
)
# Replies anyone in a group may read: answers from the knowledge base, and the urgent advice
# to someone who described a red flag there (never held back for want of a private chat).
PUBLIC = frozenset(
    {Kind.FAQ, Kind.SMALLTALK, Kind.SUGGEST, Kind.OUT_OF_SCOPE, Kind.RED_FLAG, Kind.HELP}
)

__all__ = ["Defaults", "Dialogue"]


@dataclass(frozen=True, slots=True)
class Request:
    """What a feature is asked to do: a command with its arguments, a button action with
    what follows its head ("today:gentle" -> "gentle"), or a free-text intent with the text."""

    via: str  # "command", "action" or "intent"
    name: str
    arg: str


FeatureHandler = Callable[[Turn, Request], Awaitable[list[Reply]]]


class Dialogue:
    """Turns one incoming message into replies. Holds no per-user state: that lives in the Store."""

    def __init__(
        self,
        kb: KnowledgeBase,
        store: Store,
        *,
        defaults: Defaults | None = None,
        clock: Callable[[], datetime] | None = None,
        flood: FloodGate | None = None,
        monotonic: Callable[[], float] = _time.monotonic,
        tuning: Tuning | None = None,
        triage_model: Scorer | None = None,
        retriever: Retrieval | None = None,
        button_key: bytes | None = None,
        similarity: Similarity | None = None,
    ) -> None:
        self.kb = kb
        self.store = store
        self.defaults = defaults or Defaults()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.flood = flood or FloodGate()
        self.monotonic = monotonic
        self.library = Library(kb, tuning, retriever, similarity)
        self.coach = Coach(kb)
        # Rules always; the learned model when the composition root loaded one.
        self.triage = Triage.build(kb.safety, triage_model)
        self.reminding = Reminding(store, self.defaults)
        self.order = TurnOrder(store)
        self.buttons = ButtonSigner(button_key)
        self.alerts = Alerts(kb, self.triage, self.reminding, self.library)
        self.flows = FlowEngine(
            flows.build(kb.safety.screening),
            Services(
                self.reminding,
                self._record_pain,
                self._text,
                self.alerts.flag_by_id,
                kb.safety.screening,
            ),
        )
        self.features: dict[str, FeatureHandler] = {
            "start": self._start,
            "help": self._help,
            "today": self._today,
            "ask": self._ask,
            "reminders": self._reminders,
            "done": lambda ctx, r: self.coach.done(ctx),
            "pain": self._pain,
            "progress": lambda ctx, r: self.coach.progress(ctx),
            "progression": lambda ctx, r: self.coach.progression_action(ctx, r.arg),
            "settings": self._settings,
            "forget": lambda ctx, r: self.flows.start(ctx, "forget"),
            "cancel": lambda ctx, r: self._cancel(ctx),
            "privacy": self._privacy,
        }
        missing = {f.name for f in FEATURES} - set(self.features)
        assert not missing, f"features without a handler: {missing}"

    # ------------------------------------------------------------------ entry points

    @asynccontextmanager
    async def turn(self, msg: Incoming) -> AsyncIterator[list[Reply]]:
        """The replies to one message, with this user's turn held until the block ends, so
        an adapter that delivers inside the block delivers in the order the user wrote."""
        key = UserKey(msg.platform, msg.user_id)
        unanswered: list[inbox.Pending] = []
        try:
            async with self.order.hold(key, msg.update_id) as start:
                replies = await self._checked(key, msg, start, unanswered)
                yield self.buttons.sign_replies(key, replies)
        finally:
            # After delivery and with the user's turn released: the inbox never delays a reply.
            for p in unanswered:
                await self._record_unanswered(p)

    async def handle(self, msg: Incoming) -> list[Reply]:
        """Answer one message or button press (replies not yet delivered). Never raises for
        bad input."""
        async with self.turn(msg) as replies:
            return replies

    async def reminders(self, keys: Collection[UserKey], now: datetime) -> dict[UserKey, Reply]:
        """The nudges the scheduler sends, for a whole claimed batch: profiles and recent pain
        are read in one query each, not two transactions per user."""
        try:
            profiles = await self.store.profiles_of(keys)
        except StorageUnavailable as e:
            logger.warning("storage unavailable reading %d profiles: %s", len(keys), e)
            profiles = {}
        try:
            pain = await self.store.last_pain_of(keys, now - PAIN_RECENT)
        except StorageUnavailable as e:
            logger.warning("storage unavailable reading %d pain scores: %s", len(keys), e)
            pain = {}
        out: dict[UserKey, Reply] = {}
        for key in keys:
            profile = profiles.get(key)
            known = profile is not None
            if profile is None:
                profile = Profile(key, timezone=self.defaults.timezone)
            msg = Incoming(key.platform, key.user_id, key.user_id, received_at=now)
            ctx = Turn(msg, key, now, profile, known, self.store)
            entry = pain.get(key)
            nudge = await self.coach.nudge(ctx, entry.score if entry else None)
            if profile.checkin:
                nudge = await self._with_checkin(msg, nudge)
            [out[key]] = self.buttons.sign_replies(key, [nudge])
        return out

    async def reminder(self, key: UserKey, now: datetime) -> Reply:
        """The nudge for one user (`reminders` for a batch)."""
        return (await self.reminders([key], now))[key]

    async def _with_checkin(self, msg: Incoming, nudge: Reply) -> Reply:
        """The weekly check-in rides on the week's first nudge (bot.core.flows.checkin); the
        mark that says it did is written under the user's turn, like any turn's state."""
        async with self.order.hold(UserKey(msg.platform, msg.user_id)) as start:
            ctx = await self._context(msg, start)
            try:
                nudge = await checkin.ride(ctx, nudge)
                await ctx.save_conversation()
            except StorageUnavailable as e:
                logger.warning("storage unavailable adding the weekly check-in: %s", e)
        return nudge

    async def note_undeliverable(self, key: UserKey, now: datetime) -> None:
        """The scheduler could not deliver a reminder (the user never opened a private chat,
        or blocked the bot) and stopped the schedule: say so the next time they write."""
        async with self.order.hold(key) as start:
            conv = start.conversation if start else await self.store.get_conversation(key)
            conv.marks[UNDELIVERED] = now.isoformat()
            await self.store.save_conversation(key, conv)

    async def _record_unanswered(self, p: inbox.Pending) -> None:
        try:
            await self.store.record_unanswered(inbox.to_record(p, self.library))
        except StorageUnavailable as e:
            logger.warning("could not record an unanswered question: %s", e)

    async def _checked(
        self,
        key: UserKey,
        msg: Incoming,
        start: TurnStart | None,
        unanswered: list[inbox.Pending],
    ) -> list[Reply]:
        """A retried update is answered once; a button press acts only for the user it was
        shown to (bot.core.buttons)."""
        if msg.update_id is not None and not await self._first(msg, msg.update_id, start):
            logger.info("a %s update arrived twice; answered once", msg.platform)
            return []
        if msg.action is not None:
            check, action = self.buttons.check(key, msg.action)
            if check is Check.NOT_YOURS:
                return [NOT_YOURS]
            if check is Check.UNSIGNED:
                return [Reply(EXPIRED, HOME_BUTTONS, ephemeral=True, topic="expired")]
            msg = replace(msg, action=action)
        return await self._handle(msg, start, unanswered)

    async def _first(self, msg: Incoming, update_id: str, start: TurnStart | None) -> bool:
        """Whether this update is new: recorded with the turn's lease, or here when the turn
        went on unguarded."""
        if start is not None:
            return start.first
        try:
            return await self.store.first_seen(msg.platform, update_id, self.clock())
        except StorageUnavailable:
            return True  # answering twice beats not answering

    async def _handle(
        self, msg: Incoming, start: TurnStart | None, unanswered: list[inbox.Pending]
    ) -> list[Reply]:
        text = (msg.text or "").strip()
        if msg.is_group and not (msg.mentioned or msg.action or text.startswith("/")):
            return []
        # Triage first, on the whole text the user wrote (a command's arguments included): a
        # red flag or a screening question is never dropped or rate-limited.
        if msg.action:
            assessment = NONE
        elif len(text) > OFF_LOOP_CHARS:
            # A long message costs tens of milliseconds of triage: in a worker thread, the
            # event loop keeps answering everyone else meanwhile (the GIL switches every 5 ms).
            assessment = await asyncio.to_thread(self._assess, text)
        else:
            assessment = self._assess(text)
        verdict = self.flood.check((msg.platform, msg.user_id), self.monotonic())
        if assessment.outcome is safety.Outcome.NONE:
            if verdict is Verdict.DROP:
                return []
            if verdict is Verdict.WARN:
                return [Reply(SLOW_DOWN, kind=Kind.COMMAND, topic="flood")]
        try:
            ctx = await self._context(msg, start)
            replies = await self._route(ctx, text, assessment)
            await ctx.save_conversation()
            # Only what the user typed, and never a red flag's or a screened message's text.
            clear = assessment.outcome is safety.Outcome.NONE and not msg.action
            if clear and ctx.unanswered is not None and not ctx.forgotten:
                unanswered.append(ctx.unanswered)
        except StorageUnavailable as e:
            logger.warning("storage unavailable while handling a message: %s", e)
            return [Reply(SORRY_STORAGE, kind=Kind.COMMAND, topic="storage_error")]
        if msg.is_group:
            # Personal replies (settings, logs, pain, progress, setup) never land in a group:
            # adapters send them privately. What anyone may read stays in the group.
            replies = [r if r.kind in PUBLIC else replace(r, ephemeral=True) for r in replies]
        return replies

    async def _context(self, msg: Incoming, start: TurnStart | None) -> Turn:
        """The turn's context, from what the lease's transaction read (or read here when the
        turn went on unguarded; with the store down, a new user's defaults)."""
        key = UserKey(msg.platform, msg.user_id)
        now = msg.received_at if msg.received_at.tzinfo else self.clock()
        if start is None:
            start = TurnStart(None, Conversation())
            try:
                start.profile = await self.store.get_profile(key)
                start.conversation = await self.store.get_conversation(key)
            except StorageUnavailable as e:
                logger.warning("storage unavailable reading a profile or conversation: %s", e)
        profile = start.profile
        known = profile is not None
        if profile is None:
            profile = Profile(key, display_name=msg.display_name, timezone=self.defaults.timezone)
        ctx = Turn(msg, key, now, profile, known, self.store)
        ctx.conversation = start.conversation
        ctx.stored_conversation = ctx.conversation.to_json()
        return ctx

    def _assess(self, text: str) -> Assessment:
        """Triage of what the user wrote: a command's arguments, or the whole message."""
        if text.startswith("/"):
            text = command_parts(text)[1]
        return self.triage.assess(text) if text.strip() else NONE

    # ------------------------------------------------------------------ routing

    async def _route(self, ctx: Turn, text: str, assessment: Assessment) -> list[Reply]:
        replies = await self._route_message(ctx, text, assessment)
        if ctx.conversation.marks.pop(UNDELIVERED, None) is not None:
            replies = [*replies, Reply(UNDELIVERED_TEXT, ephemeral=True, topic="undelivered")]
        return replies

    async def _route_message(self, ctx: Turn, text: str, assessment: Assessment) -> list[Reply]:
        expired = self.flows.expire(ctx)
        if ctx.msg.action:
            return await self._action(ctx, ctx.msg.action)
        if assessment.outcome is safety.Outcome.FLAG:
            # The flow waits, its question within reach: the next message can still answer it.
            self.flows.drop_loose(ctx)
            back = self.flows.reask(ctx, "When you're ready (it can wait):")
            return [*await self.alerts.red_flag(ctx, assessment), *([back] if back else [])]
        if text.startswith("/"):
            name, args = command_parts(text)
            feature = BY_COMMAND.get(name)
            if feature is None:
                if ctx.msg.is_group and not ctx.msg.mentioned:
                    return []  # another bot's command (/play, /ban): not ours to answer
                name = safe_echo(name, 30)
                text = f"I don't know /{name}. Here's what I can do:\n\n{HELP}"
                return [Reply(text, kind=Kind.HELP)]
            if assessment.outcome is safety.Outcome.SCREEN and (
                screen := await self._screen(ctx, text, assessment)
            ):
                return screen
            return await self._interrupting(
                ctx, self.features[feature.name](ctx, Request("command", name, args.strip()))
            )
        if not clean(text):
            return [Reply(NON_TEXT, HOME_BUTTONS, kind=Kind.SMALLTALK, topic="non_text")]
        if assessment.outcome is safety.Outcome.SCREEN and (
            screen := await self._screen(ctx, text, assessment)
        ):
            return screen
        if ctx.conversation.top is None and any(self.flows.would_answer(f, text) for f in expired):
            return [self.flows.expired_note(expired[-1])]
        return await self._text(ctx, text)

    async def _screen(self, ctx: Turn, text: str, assessment: Assessment) -> list[Reply] | None:
        """The screening question; when it was asked too recently to ask again, a rule's red
        flag (one the model doubted) gets its reply anyway, and a model-only doubt gets none."""
        screen = self.alerts.screen(ctx, self.flows, text, assessment.score)
        if screen is None and assessment.by_rule and assessment.flags:
            flagged = Assessment(
                safety.Outcome.FLAG, assessment.level, assessment.flags, by_rule=True
            )
            return await self.alerts.red_flag(ctx, flagged)
        return screen

    async def _action(self, ctx: Turn, action: str) -> list[Reply]:
        head, _, rest = action.partition(":")
        if head == "f":
            return await self.flows.button(ctx, rest)
        feature = BY_ACTION.get(head)
        if feature is None:
            return await self._expired(ctx, Request("action", head, rest))
        return await self._interrupting(
            ctx, self.features[feature.name](ctx, Request("action", head, rest))
        )

    async def _interrupting(self, ctx: Turn, work: Awaitable[list[Reply]]) -> list[Reply]:
        """Run a feature while a flow may be active: loose flows give way; a sticky flow's
        question comes back afterwards, unless the feature moved the conversation on."""
        before = ctx.conversation.top
        if before is not None and not self.flows.flows[before.flow].sticky:
            self.flows.drop_loose(ctx)
            before = ctx.conversation.top
        replies = await work
        top = ctx.conversation.top
        if top is not None and top is before and not ctx.forgotten:
            back = self.flows.reask(ctx)
            if back is not None:
                replies = [*replies, back]
        return replies

    async def _text(self, ctx: Turn, text: str) -> list[Reply]:
        """A typed message after triage: the active flow's answer, or answered as usual (the
        screening flow calls this with the message it kept)."""
        got = self.flows.active(ctx)
        if got is None:
            return await self._free_text(ctx, text)
        flow, frame = got
        if clean(text) in CANCEL_WORDS:
            return await self._cancel(ctx)
        replies = await self.flows.text(ctx, text)
        if replies is not None:
            return replies
        step = flow.steps[frame.step]
        if intents.short_reply(text) is not None:
            # "5", "no", "later": meant for the question just asked, which it doesn't answer.
            return [self.flows.ask(ctx, flow, frame, step.hint)]
        other = [
            r
            for r in await self._interrupting(ctx, self._free_text(ctx, text))
            if r.kind not in (Kind.OUT_OF_SCOPE, Kind.SUGGEST)
        ]
        if other:
            return other
        if frame in ctx.conversation.frames:
            return [self.flows.ask(ctx, flow, frame, step.hint)]
        back = self.flows.reask(ctx)
        return [back] if back else [self.library.fallback(text)]

    async def _free_text(self, ctx: Turn, text: str) -> list[Reply]:
        # A long message's intent is read from what it asks, not its story: "I don't want to
        # lose my progress … can you give me a back routine by the pool?" asks for a session,
        # and "… my pain is about 2/10 most days. How heavy should I go?" logs no pain score.
        ex = extract(text)
        feature = intent_of(Said(ex.query, clean(ex.query))) if ex.changed else None
        if feature is None:
            whole = intent_of(Said(text, clean(text)))
            # A story may spread a session request over sentences ("full gym tonight… what
            # should I do?"); a pain score, a log or a progress word in it is only the story.
            if not ex.changed or (whole is not None and whole.name == "today"):
                feature = whole
        if feature is not None:
            return await self.features[feature.name](ctx, Request("intent", feature.name, text))
        short = intents.short_reply(text)
        if short is not None:
            return [_short_reply(short.kind, short.value)]
        replies = self.library.answer(text) or [self.library.fallback(text)]
        ctx.unanswered = inbox.pending(ctx.key, text, replies, ctx.now)
        return replies

    # ------------------------------------------------------------------ features

    async def _start(self, ctx: Turn, r: Request) -> list[Reply]:
        if r.name == "ob":  # "Skip setup"
            return await onboarding.finish(ctx, skipped=True)
        then = BY_COMMAND.get(r.arg.lower()) if r.via == "command" else None
        if then is not None and then.name != "start":
            # A deep link from a group ("open a chat with me"): run the command it was for.
            return await self.features[then.name](ctx, Request("command", r.arg.lower(), ""))
        if ctx.known and ctx.profile.onboarded:
            name = ctx.msg.display_name.split()[0] if ctx.msg.display_name.split() else "there"
            text = f"Welcome back, {name}!\n\n{HELP}"
            return [Reply(text, HOME_BUTTONS, kind=Kind.COMMAND, topic="start")]
        return [await onboarding.start(ctx), *await self.flows.start(ctx, onboarding.NAME)]

    async def _help(self, ctx: Turn, r: Request) -> list[Reply]:
        if r.name == "about":
            return [Reply(ABOUT, kind=Kind.HELP)]
        if r.name == "sources":
            text = f"**Where my answers come from**\n{self.library.kb.source_list()}"
            return [Reply(text, kind=Kind.HELP, topic="sources")]
        return [Reply(HELP, HOME_BUTTONS, kind=Kind.HELP)]

    async def _today(self, ctx: Turn, r: Request) -> list[Reply]:
        arg = clean(r.arg)
        gentle = r.via != "intent" and arg.startswith("gentle")
        other = arg in ("other", "different") or intents.is_other_session_request(arg)
        minutes = intents.short_session_minutes(arg)
        # Kit named in a typed request ("back workout with just dumbbells"); a button has none.
        kit = intents.equipment_named(arg) if r.via == "intent" else None
        return await self.coach.today(
            ctx, force_gentle=gentle, shift=1 if other else 0, minutes=minutes, equipment=kit
        )

    async def _ask(self, ctx: Turn, r: Request) -> list[Reply]:
        if r.via == "action":
            if self.library.has_topic(r.arg):
                return [self.library.topic_reply(r.arg)]
            return await self._expired(ctx, r)
        if not r.arg:
            return [
                Reply('Ask me a question after /ask, e.g. "/ask is swimming good for back pain?"')
            ]
        return await self._free_text(ctx, r.arg)

    async def _reminders(self, ctx: Turn, r: Request) -> list[Reply]:
        if r.via == "action":
            return await self.reminding.button(ctx, r.arg)
        if r.name == "stop":
            return await self.reminding.handle(ctx, "stop reminders")
        return await self.reminding.handle(ctx, r.arg or "show my reminders")

    async def _pain(self, ctx: Turn, r: Request) -> list[Reply]:
        if r.via == "action":
            score = intents.parse_score(r.arg)
            if score is None:
                return await self._expired(ctx, r)
            return await self._record_pain(ctx, score)
        p = intents.parse_pain(r.arg, expecting=r.via == "command")
        if p.kind == "score" and p.score is not None:
            return await self._record_pain(ctx, p.score)
        replies = await self.flows.start(ctx, "pain")
        if r.arg:
            lead = (
                f'"{safe_echo(r.arg, 20)}" is outside the scale.'
                if p.kind == "out_of_range"
                else f'"{safe_echo(r.arg, 20)}" isn\'t a score I can use.'
            )
            replies = [
                Reply(
                    f"{lead} {replies[0].text}",
                    replies[0].buttons,
                    kind=Kind.COMMAND,
                    topic="pain_ask",
                )
            ]
        return replies

    async def _settings(self, ctx: Turn, r: Request) -> list[Reply]:
        if r.via == "action" and r.arg in self.flows.flows[settings.NAME].steps:
            return await self.flows.start(ctx, settings.NAME, r.arg)
        return [await settings.overview(ctx)]

    async def _privacy(self, ctx: Turn, r: Request) -> list[Reply]:
        if r.name != "export":
            return [Reply(PRIVACY, ephemeral=True, topic="privacy")]
        data = await self.store.export(ctx.key)
        if not data:
            return [Reply("I don't store anything about you.", ephemeral=True, topic="export")]
        body = json.dumps({"format": "backbot-export/1", **data}, indent=2, ensure_ascii=False)
        n = sum(len(v) if isinstance(v, list) else 1 for v in data.values())
        text = (
            f"Here is everything I store about you ({n} records), as JSON. "
            "/forget deletes all of it."
        )
        doc = ("backbot-export.json", body.encode())
        return [Reply(text, ephemeral=True, topic="export", document=doc)]

    async def _record_pain(self, ctx: Turn, score: int) -> list[Reply]:
        """Store a pain score, once the user has agreed to pain scores being stored."""
        if ctx.profile.pain_consent:
            return await self.coach.record_pain(ctx, score)
        return await self.flows.start(ctx, "pain", "consent", {"score": score})

    async def _cancel(self, ctx: Turn) -> list[Reply]:
        had = self.flows.cancel(ctx)
        text = "Cancelled. What next?" if had else "Nothing to cancel. What next?"
        return [Reply(text, HOME_BUTTONS, topic="cancel")]

    async def _expired(self, ctx: Turn, r: Request) -> list[Reply]:
        text = "That button has expired. Here's what I can do:\n\n" + HELP
        return [Reply(text, HOME_BUTTONS, topic="expired")]


def command_parts(text: str) -> tuple[str, str]:
    """ "/Pain@backbot 5" -> ("pain", "5"): the command's name and its arguments."""
    name, _, args = text[1:].partition(" ")
    return name.split("@", 1)[0].lower(), args


def _short_reply(kind: str, value: int | None) -> Reply:
    """A short reply with no question waiting for it: ask, never guess a topic."""
    if kind == "number" and value is not None and 0 <= value <= 10:
        buttons = (Button(f"Yes, log {value}/10", f"pain:{value}"), Button("No", "help"))
        return Reply(f"Did you mean a pain score of {value}/10?", buttons, topic="short_number")
    if kind == "number":
        text = f"I'm not sure what {value} refers to. Pain scores go from 0 to 10; or ask me a question."
        return Reply(text, HOME_BUTTONS, topic="short_number")
    if kind == "yes":
        return Reply("Great. What would you like to do?", HOME_BUTTONS, topic="short_yes")
    return Reply(
        "Okay, no problem. I'm here when you need me.", HOME_BUTTONS, topic=f"short_{kind}"
    )
