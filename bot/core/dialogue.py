"""The dialogue core: `Dialogue.handle(Incoming) -> list[Reply]`, the same for every platform.

Routing order (DESIGN.md): button actions and commands; red-flag triage on any free text;
an active multi-step flow; intents (workout, reminders, logging, pain, progress); FAQ retrieval;
small talk; fallback ("did you mean" buttons or an honest out-of-scope answer).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time as _time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core import flows, intents, progress, reminders, workouts
from bot.core.answers import Retriever, Tuning, kb_choices
from bot.core.commands import COMMAND_NAMES
from bot.core.flood import FloodGate, Verdict
from bot.core.ports import EQUIPMENT, LEVELS, FlowState, Profile, ReminderSchedule, Store, UserKey
from bot.core.safety import Triage
from bot.core.text import Normalizer, clean
from bot.core.timezones import resolve_timezone
from bot.core.types import Button, Incoming, Kind, Reply
from bot.errors import StorageUnavailable
from bot.kb import KnowledgeBase, RedFlag

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500  # retrieval reads the start of very long messages; triage reads it all
PAIN_RECENT = timedelta(days=7)  # a pain score older than this no longer shapes the workout
PERSISTENT_PAIN = timedelta(days=14)

HELP = (
    "**What I can do**\n"
    "• /today — today's back workout\n"
    '• Ask me anything, e.g. "how long should I hold a plank?"\n'
    "• /done — log a workout · /pain 0-10 — log your back pain\n"
    "• /progress — your week, streak and chart\n"
    "• /remind mon wed fri 18:00 — reminders · /stop to end them\n"
    "• /settings · /forget · /about\n"
    "I coach; I don't diagnose. Severe or unusual symptoms need a doctor."
)
ABOUT = (
    "**backbot** — a back-training coach.\n"
    "Answers come from a knowledge base written from public health sources "
    "(NHS, NICE, NINDS, ACE, Harvard Health, Mayo Clinic); each answer names its source. "
    "General information, not medical advice."
)
SORRY_STORAGE = (
    "I couldn't save that just now (my database is unavailable). Please try again in a minute."
)
NON_TEXT = "I can only read text. Ask me about back training, or try /today for a workout."
NOT_ENGLISH = "Sorry, I only understand English for now. Try /help to see what I can do."
SLOW_DOWN = "You're sending messages faster than I can coach 🙂 Give me a few seconds."
HOME_BUTTONS = (Button("Today's workout", "today"), Button("Help", "help"))

StepData = dict[str, Any]
# What a settings/onboarding step setter returns: a confirmation line, replies that end the
# step (a follow-up question or an error), or None for a value the step does not accept.
Outcome = str | list[Reply] | None


@dataclass(frozen=True, slots=True)
class Defaults:
    """Settings-derived defaults the core needs (from bot.config.Settings)."""

    timezone: str = "UTC"
    reminder_days: tuple[int, ...] = (0, 2, 4)
    reminder_time: time = time(18, 0)


@dataclass(slots=True)
class _Ctx:
    msg: Incoming
    key: UserKey
    now: datetime
    profile: Profile
    known: bool  # the profile exists in the store

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.profile.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()


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
    ) -> None:
        self.kb = kb
        self.store = store
        self.defaults = defaults or Defaults()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.flood = flood or FloodGate()
        self.monotonic = monotonic
        self.normalize = Normalizer(kb.synonyms)
        self.retriever = Retriever(
            kb_choices(
                [(e.id, e.question, e.alternates) for e in kb.faq],
                [(x.id, x.name, x.aliases) for x in kb.exercises.values()],
            ),
            self.normalize,
            # Exercise names and FAQ tags are in the domain too ("bird dog", "pilates").
            [
                *kb.smalltalk.domain_words,
                *(n for x in kb.exercises.values() for n in (x.name, *x.aliases)),
                *(t for e in kb.faq for t in e.tags),
            ],
            off_topic=kb.smalltalk.off_topic,
            not_back=kb.smalltalk.not_back,
            back_words=kb.smalltalk.domain_words,
            howto_topics=kb.exercises,
            tuning=tuning,
        )
        self.triage = Triage.build(kb.safety)
        self.smalltalk = [
            (it, tuple(re.compile(p) for p in it.patterns)) for it in kb.smalltalk.intents
        ]
        self.faq = {e.id: e for e in kb.faq}

    # ------------------------------------------------------------------ entry point

    async def handle(self, msg: Incoming) -> list[Reply]:
        """Answer one message or button press. Never raises for bad input."""
        text = (msg.text or "").strip()
        if msg.is_group and not (msg.mentioned or msg.action or text.startswith("/")):
            return []
        verdict = self.flood.check((msg.platform, msg.user_id), self.monotonic())
        if verdict is Verdict.DROP:
            return []
        if verdict is Verdict.WARN:
            return [Reply(SLOW_DOWN, kind=Kind.COMMAND, topic="flood")]
        ctx = await self._context(msg)
        try:
            return await self._route(ctx, text)
        except StorageUnavailable as e:
            logger.warning("storage unavailable while handling a message: %s", e)
            return [Reply(SORRY_STORAGE, kind=Kind.COMMAND, topic="storage_error")]

    async def reminder(self, key: UserKey, now: datetime) -> Reply:
        """The nudge the scheduler sends: today's session title and quick actions."""
        msg = Incoming(key.platform, key.user_id, key.user_id, received_at=now)
        ctx = await self._context(msg)
        [workout] = await self._today(ctx)
        title = workout.text.splitlines()[0].replace("**Today: ", "").rstrip("*")
        return Reply(
            f"Time for your back session 💪\nToday: {title}",
            (
                Button("Show workout", "today"),
                Button("Done ✅", "done"),
                Button("Snooze 1h", "rem:snooze"),
                Button("Skip today", "rem:skip"),
            ),
            kind=Kind.REMINDER,
            topic="nudge",
        )

    async def _context(self, msg: Incoming) -> _Ctx:
        key = UserKey(msg.platform, msg.user_id)
        now = msg.received_at if msg.received_at.tzinfo else self.clock()
        try:
            profile = await self.store.get_profile(key)
        except StorageUnavailable as e:
            logger.warning("storage unavailable reading a profile: %s", e)
            profile = None
        known = profile is not None
        if profile is None:
            profile = Profile(key, display_name=msg.display_name, timezone=self.defaults.timezone)
        return _Ctx(msg, key, now, profile, known)

    async def _route(self, ctx: _Ctx, text: str) -> list[Reply]:
        if ctx.msg.action:
            return await self._action(ctx, ctx.msg.action)
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            name = name.split("@", 1)[0].lower()
            if name in COMMAND_NAMES or name == "cancel":
                flags = self.triage.check(args)
                if flags:
                    return [self._red_flag(flags)]
                return await self._command(ctx, name, args.strip())
            return [Reply(f"I don't know /{name[:30]}. Here's what I can do:\n\n{HELP}")]
        if not clean(text):
            return [Reply(NON_TEXT, HOME_BUTTONS, kind=Kind.SMALLTALK, topic="non_text")]
        flags = self.triage.check(text)
        if flags:
            return [self._red_flag(flags)]
        state = await self._get_state(ctx)
        if state is not None:
            replies = await self._flow_text(ctx, state, text)
            if replies is not None:
                return replies
        return await self._free_text(ctx, text)

    # ------------------------------------------------------------------ commands and buttons

    async def _command(self, ctx: _Ctx, name: str, args: str) -> list[Reply]:
        if name == "start":
            return await self._start(ctx)
        if name == "help":
            return [Reply(HELP, HOME_BUTTONS)]
        if name == "about":
            return [Reply(ABOUT)]
        if name == "today":
            return await self._today(ctx, force_gentle=args.lower().startswith("gentle"))
        if name == "ask":
            if not args:
                return [
                    Reply(
                        'Ask me a question after /ask, e.g. "/ask is swimming good for back pain?"'
                    )
                ]
            return await self._free_text(ctx, args)
        if name == "done":
            return await self._done(ctx)
        if name == "pain":
            return await self._pain(ctx, args)
        if name == "remind":
            return await self._remind(ctx, args or "show my reminders")
        if name == "stop":
            return await self._remind(ctx, "stop reminders")
        if name == "settings":
            return await self._settings(ctx)
        if name == "progress":
            return await self._progress(ctx)
        if name == "forget":
            return self._forget_confirm()
        await self._set_state(ctx, None)  # /cancel
        return [Reply("Cancelled. What next?", HOME_BUTTONS)]

    async def _action(self, ctx: _Ctx, action: str) -> list[Reply]:
        head, _, rest = action.partition(":")
        if head == "faq" and rest in self.faq:
            return [self._faq_reply(rest, None)]
        if head == "ex" and rest in self.kb.exercises:
            return [self._exercise_reply(rest, None)]
        if head == "set":
            step, _, value = rest.partition(":")
            return await self._apply_step(ctx, step, value)
        if head == "settings" and rest in flows.STEPS:
            return await self._ask_step(ctx, flows.SETTINGS, rest)
        if head == "ob" and rest == "skip":
            return await self._finish_onboarding(ctx, skipped=True)
        if head == "forget":
            if rest == "yes":
                n = await self.store.forget(ctx.key)
                logger.info("forgot a %s user (%d rows)", ctx.key.platform, n)
                return [
                    Reply(
                        f"Done. I deleted everything I had stored about you ({n} records). "
                        "Send /start if you ever want to begin again."
                    )
                ]
            return [Reply("Okay, nothing was deleted.", HOME_BUTTONS)]
        if head == "rem":
            return await self._reminder_button(ctx, rest)
        if head == "today":
            return await self._today(ctx, force_gentle=rest == "gentle")
        if head == "pain" and (score := intents.parse_score(rest)) is not None:
            return await self._record_pain(ctx, score)
        simple = {"done": self._done, "progress": self._progress, "settings": self._settings}
        if head in simple:
            return await simple[head](ctx)
        if head == "help":
            return [Reply(HELP, HOME_BUTTONS)]
        return [Reply("That button has expired. Here's what I can do:\n\n" + HELP, HOME_BUTTONS)]

    # ------------------------------------------------------------------ free text

    async def _free_text(self, ctx: _Ctx, text: str) -> list[Reply]:
        t = clean(text)
        if intents.is_help_request(t):
            return [Reply(HELP, HOME_BUTTONS)]
        if reminders.looks_like_reminder_request(text):
            return await self._remind(ctx, text)
        if intents.is_log_request(t):
            return await self._done(ctx)
        score_word = intents.pain_report(t)
        if score_word is not None:
            return await self._pain(ctx, score_word)
        if intents.is_progress_request(t):
            return await self._progress(ctx)
        if intents.is_workout_request(t):
            return await self._today(ctx)
        return self._answer_free_text(text) or [self._fallback(text)]

    def _answer_free_text(self, text: str) -> list[Reply]:
        """Small talk, then retrieval. Callers have already run red-flag triage on `text`."""
        t = clean(text)
        for intent, patterns in self.smalltalk:
            if any(p.search(t) for p in patterns):
                reply = intent.replies[zlib.crc32(t.encode()) % len(intent.replies)]
                return [Reply(reply, kind=Kind.SMALLTALK, topic=intent.id)]
        result = self.retriever.decide(text[:MAX_QUERY_CHARS])
        if result.answer is not None:
            topic, score = result.answer.topic, result.answer.score
            if topic in self.faq:
                return [self._faq_reply(topic, score)]
            return [self._exercise_reply(topic, score)]
        if result.suggestions:
            buttons = tuple(
                Button(self._title(m.topic), f"{'faq' if m.topic in self.faq else 'ex'}:{m.topic}")
                for m in result.suggestions
            )
            return [
                Reply(
                    "I'm not sure I understood. Did you mean one of these?",
                    buttons,
                    kind=Kind.SUGGEST,
                    topic=result.suggestions[0].topic,
                    score=result.suggestions[0].score,
                )
            ]
        return []

    def _fallback(self, text: str) -> Reply:
        letters = [c for c in text if c.isalpha()]
        if letters and sum(not c.isascii() for c in letters) > len(letters) / 2:
            return Reply(NOT_ENGLISH, HOME_BUTTONS, kind=Kind.OUT_OF_SCOPE)
        return Reply(
            self.kb.smalltalk.scope + '\nTry /today, or ask "what should I avoid with back pain?"',
            HOME_BUTTONS,
            kind=Kind.OUT_OF_SCOPE,
        )

    def _title(self, topic: str) -> str:
        title = (
            self.faq[topic].question
            if topic in self.faq
            else f"How to do: {self.kb.exercises[topic].name}"
        )
        return title if len(title) <= 60 else title[:57].rstrip() + "…"

    def _faq_reply(self, topic: str, score: float | None) -> Reply:
        e = self.faq[topic]
        buttons = tuple(
            Button(self._title(f), f"{'faq' if f in self.faq else 'ex'}:{f}")
            for f in e.follow_up[:2]
        )
        return Reply(
            f"{e.answer.strip()}\n\n{self.kb.cite(e.sources)}",
            buttons,
            kind=Kind.FAQ,
            topic=topic,
            score=score,
        )

    def _exercise_reply(self, topic: str, score: float | None) -> Reply:
        x = self.kb.exercises[topic]
        buttons = tuple(
            Button(f"{label}: {self.kb.exercises[v].name}", f"ex:{v}")
            for label, v in (("Easier", x.easier), ("Harder", x.harder))
            if v
        )
        text = workouts.render_exercise(x, self.kb.cite(x.sources))
        return Reply(text, buttons, kind=Kind.FAQ, topic=topic, score=score)

    def _red_flag(self, flags: list[RedFlag]) -> Reply:
        s = self.kb.safety
        body = "\n\n".join(rf.message.strip() for rf in flags[:2])
        sources = [src for rf in flags for src in rf.sources]
        text = f"{s.urgent_header}\n\n{body}\n\n{s.urgent_footer}\n\n{self.kb.cite(sources)}"
        return Reply(text, kind=Kind.RED_FLAG, topic=flags[0].id, score=1.0)

    # ------------------------------------------------------------------ workout, log, pain, progress

    async def _recent_pain(self, ctx: _Ctx) -> int | None:
        entries = await self.store.pain_since(ctx.key, ctx.now - PAIN_RECENT)
        return entries[-1].score if entries else None

    async def _today(self, ctx: _Ctx, force_gentle: bool = False) -> list[Reply]:
        try:
            pain = await self._recent_pain(ctx)
        except StorageUnavailable:
            pain = None
        w = workouts.todays_workout(
            self.kb,
            user_seed=f"{ctx.key.platform}:{ctx.key.user_id}",
            day=ctx.today,
            level=ctx.profile.level,
            equipment=ctx.profile.equipment,
            pain=pain,
            force_gentle=force_gentle,
        )
        buttons = [
            Button("Done ✅", "done"),
            Button(f"How to: {w.items[0].exercise.name}", f"ex:{w.items[0].exercise.id}"),
        ]
        if not w.gentle:
            buttons.append(Button("Gentle version", "today:gentle"))
        text = workouts.render(w)
        if w.gentle and pain is not None:
            text += f"\n(Gentle plan because your last pain score was {pain}/10.)"
        return [Reply(text, tuple(buttons), kind=Kind.WORKOUT, topic=f"{w.plan.id}:{w.session.id}")]

    async def _done(self, ctx: _Ctx) -> list[Reply]:
        await self._ensure_profile(ctx)
        new = await self.store.log_session(ctx.key, ctx.today, ctx.now)
        week = await self.store.session_days(ctx.key, progress.week_start(ctx.today))
        n = len(week)
        if not new:
            text = f"Today's session was already logged — {n}/{progress.WEEKLY_GOAL} this week."
        elif n >= progress.WEEKLY_GOAL:
            text = f"Logged ✅ That's {n}/{progress.WEEKLY_GOAL} this week — goal met! 🎉"
        else:
            text = f"Logged ✅ That's {n}/{progress.WEEKLY_GOAL} this week."
        return [Reply(text, (Button("My progress", "progress"),), kind=Kind.COMMAND, topic="done")]

    async def _pain(self, ctx: _Ctx, args: str) -> list[Reply]:
        word = args.split()[0] if args.split() else ""
        score = intents.parse_score(word) if word else None
        if score is None:
            # Remember an interrupted flow (say, onboarding) to resume once the score is in.
            prev = await self._get_state(ctx)
            keep = prev is not None and prev.flow != flows.PAIN
            resume = {"resume": [prev.flow, prev.step, prev.data]} if prev and keep else {}
            if prev is not None and prev.flow == flows.PAIN:
                resume = dict(prev.data)
            await self._set_state(ctx, FlowState(flows.PAIN, "score", resume))
            prefix = f'"{word[:20]}" isn\'t a score I can use. ' if word else ""
            buttons = tuple(Button(str(n), f"pain:{n}") for n in (0, 2, 4, 6, 8, 10))
            return [
                Reply(
                    prefix + "How is your back today, from 0 (no pain) to 10 (worst)?",
                    buttons,
                    kind=Kind.COMMAND,
                    topic="pain_ask",
                )
            ]
        return await self._record_pain(ctx, score)

    async def _record_pain(self, ctx: _Ctx, score: int) -> list[Reply]:
        await self._ensure_profile(ctx)
        await self.store.log_pain(ctx.key, score, ctx.now)
        state = await self._get_state(ctx)
        resume: list[Reply] = []
        if state is not None and state.flow == flows.PAIN:
            await self._set_state(ctx, None)
            if "resume" in state.data:
                flow, step, data = state.data["resume"]
                resume = await self._ask_step(ctx, flow, step, data)
        lines = [f"Pain {score}/10 noted."]
        if score >= workouts.GENTLE_PAIN:
            lines.append(
                "Today's workout will be the gentle plan. Stop anything that makes it worse."
            )
            history = await self.store.pain_since(ctx.key, ctx.now - PERSISTENT_PAIN)
            if (
                len(history) >= 2
                and all(p.score >= workouts.GENTLE_PAIN for p in history)
                and ctx.now - history[0].at >= PERSISTENT_PAIN - timedelta(days=2)
            ):
                lines.append(
                    "Your pain has stayed high for about two weeks. Please see a doctor or "
                    "physiotherapist to get it checked.\n" + self.kb.cite(self.kb.safety.sources)
                )
        elif score == 0:
            lines.append("Great — enjoy your training.")
        buttons = () if resume else (Button("Today's workout", "today"),)
        return [Reply("\n".join(lines), buttons, kind=Kind.COMMAND, topic="pain"), *resume]

    async def _progress(self, ctx: _Ctx) -> list[Reply]:
        since = ctx.today - timedelta(weeks=52)
        days = await self.store.session_days(ctx.key, since)
        pain = await self.store.pain_since(ctx.key, ctx.now - timedelta(weeks=8))
        summary = progress.summarize(days, pain, ctx.today)
        text = progress.render(summary)
        # Rendering takes tens of milliseconds of CPU: keep it off the event loop.
        image = await asyncio.to_thread(progress.chart_png, summary) if days else None
        if not days:
            text += "\nNo sessions logged yet: send /done after a workout."
        return [
            Reply(
                text,
                (Button("Today's workout", "today"),),
                image=image,
                ephemeral=True,
                kind=Kind.PROGRESS,
            )
        ]

    # ------------------------------------------------------------------ reminders

    def _new_schedule(self, ctx: _Ctx) -> ReminderSchedule:
        """The default schedule (REMINDER_DAYS at REMINDER_TIME), sent privately to the user."""
        d = self.defaults
        return ReminderSchedule(
            ctx.key, ctx.key.user_id, d.reminder_days, d.reminder_time, ctx.profile.timezone
        )

    async def _activate(self, ctx: _Ctx, sched: ReminderSchedule) -> None:
        """Turn a schedule on in the user's current time zone and work out its next reminder."""
        sched.timezone = ctx.profile.timezone
        sched.active = True
        sched.next_due_at = reminders.next_due(
            sched.days, sched.at, sched.timezone, ctx.now, sched.paused_until
        )
        await self.store.save_reminder(sched)

    async def _remind(self, ctx: _Ctx, text: str) -> list[Reply]:
        try:
            req = reminders.parse_request(text)
        except reminders.ReminderParseError as e:
            return [Reply(e.message, kind=Kind.REMINDER, topic="parse_error")]
        sched = await self.store.get_reminder(ctx.key)
        if req.action == "show":
            if sched is None or not sched.active:
                return [
                    Reply(
                        "No reminders set. Try /remind mon wed fri 18:00",
                        (Button("Turn on reminders", "set:reminders:yes"),),
                        kind=Kind.REMINDER,
                        topic="show",
                    )
                ]
            return [
                Reply(
                    reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at),
                    kind=Kind.REMINDER,
                    topic="show",
                )
            ]
        if req.action == "stop":
            if sched is not None:
                sched.active, sched.next_due_at = False, None
                await self.store.save_reminder(sched)
            return [
                Reply(
                    "Reminders stopped. Send /remind to turn them on again.",
                    kind=Kind.REMINDER,
                    topic="stop",
                )
            ]
        await self._ensure_profile(ctx)
        sched = sched or self._new_schedule(ctx)
        if req.action == "pause":
            sched.paused_until = reminders.pause_until(ctx.today, req.weeks)
        elif req.action == "resume":
            sched.paused_until = None
        else:
            sched.days = req.days or sched.days
            sched.at = req.at or sched.at
            sched.paused_until = None
        await self._activate(ctx, sched)
        await self._set_state(ctx, None)
        text = reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
        if req.bare_hour and req.at is not None:
            text += (
                f"\n(I read that as {req.at:%H:%M} on a 24-hour clock; say 8pm for the evening.)"
            )
        if req.action == "pause":
            text = f"Paused until {sched.paused_until:%a %d %b}. " + text
        text += "\nWrong time zone? Change it in /settings."
        return [Reply(text, kind=Kind.REMINDER, topic=req.action)]

    async def _reminder_button(self, ctx: _Ctx, what: str) -> list[Reply]:
        sched = await self.store.get_reminder(ctx.key)
        if what == "snooze" and sched is not None and sched.active:
            sched.next_due_at = ctx.now + timedelta(hours=1)
            await self.store.save_reminder(sched)
            return [
                Reply("Okay, I'll remind you again in an hour.", kind=Kind.REMINDER, topic="snooze")
            ]
        if what == "skip":
            nxt = (
                f" Next: {reminders.format_local(sched.next_due_at, sched.timezone)}."
                if sched and sched.next_due_at
                else ""
            )
            return [Reply("Skipped today — rest well." + nxt, kind=Kind.REMINDER, topic="skip")]
        return [Reply("That reminder is no longer active. /remind to set one.", kind=Kind.REMINDER)]

    # ------------------------------------------------------------------ onboarding and settings

    async def _start(self, ctx: _Ctx) -> list[Reply]:
        name = ctx.msg.display_name.split()[0] if ctx.msg.display_name.split() else "there"
        if ctx.known and ctx.profile.onboarded:
            return [
                Reply(
                    f"Welcome back, {name}!\n\n{HELP}",
                    HOME_BUTTONS,
                    kind=Kind.COMMAND,
                    topic="start",
                )
            ]
        intro = Reply(
            f"Hi {name}! I'm backbot, your back-training coach. I give you a safe back workout for "
            "today, answer questions about back training and back pain, log your sessions and "
            "remind you to train 3× a week.\nFour quick questions to fit the plan to you:",
            kind=Kind.ONBOARDING,
            topic="intro",
        )
        return [intro, *await self._ask_step(ctx, flows.ONBOARDING, "level")]

    async def _ask_step(
        self, ctx: _Ctx, flow: str, step: str, data: dict[str, object] | None = None
    ) -> list[Reply]:
        s = flows.STEPS[step]
        await self._set_state(ctx, FlowState(flow, step, dict(data or {})))
        buttons = s.buttons()
        if step == "timezone" and ctx.profile.timezone != "UTC":
            buttons = (
                Button(ctx.profile.timezone, f"set:timezone:{ctx.profile.timezone}"),
                *buttons,
            )
        if flow == flows.ONBOARDING:
            buttons = (*buttons, flows.SKIP)
        return [Reply(s.question, buttons, kind=Kind.ONBOARDING, topic=step)]

    async def _flow_text(self, ctx: _Ctx, state: FlowState, text: str) -> list[Reply] | None:
        """Typed answer inside a flow; None when the message is not an answer (handle normally)."""
        t = clean(text)
        if state.flow == flows.PAIN:
            score = intents.parse_score(t.split()[0]) if t.split() else None
            if score is not None:
                return await self._record_pain(ctx, score)
            return await self._not_an_answer(
                ctx, text, "Please send a number from 0 to 10, like 3."
            )
        if state.flow == flows.REMINDER_WHEN:
            try:
                reminders.parse_request(text)
            except reminders.ReminderParseError as e:
                return await self._not_an_answer(ctx, text, e.message)
            replies = await self._remind(ctx, text)
            if state.data.get("then") == flows.ONBOARDING:
                # Custom days and time chosen during onboarding: the time zone comes next.
                return [
                    *replies,
                    *await self._ask_step(ctx, flows.ONBOARDING, "timezone", {"remind": True}),
                ]
            return replies
        if state.step == "timezone":
            return await self._apply_step(ctx, "timezone", text)
        step = flows.STEPS.get(state.step)
        if step is None:
            await self._set_state(ctx, None)
            return None
        value = step.match(t)
        if state.step == "pain" and value is None:
            value = (
                str(intents.parse_score(t.split()[0]))
                if t and intents.parse_score(t.split()[0]) is not None
                else None
            )
        if value is None:
            hint = "Please pick one of the buttons" + (
                " or tap Skip setup." if state.flow == flows.ONBOARDING else "."
            )
            return await self._not_an_answer(ctx, text, hint, step)
        return await self._apply_step(ctx, state.step, value)

    async def _not_an_answer(
        self, ctx: _Ctx, text: str, hint: str, step: flows.Step | None = None
    ) -> list[Reply]:
        """A message that does not answer the flow's question: answer it if we can, else re-ask."""
        other = [
            r
            for r in await self._free_text(ctx, text)
            if r.kind not in (Kind.OUT_OF_SCOPE, Kind.SUGGEST)
        ]
        if other:
            state = await self._get_state(ctx)
            if state is not None and state.flow in (flows.PAIN, flows.REMINDER_WHEN):
                await self._set_state(ctx, None)
            return other
        buttons = step.buttons() if step else ()
        state = await self._get_state(ctx)
        if step and state is not None and state.flow == flows.ONBOARDING:
            buttons = (*buttons, flows.SKIP)
        return [Reply(hint, buttons, kind=Kind.ONBOARDING, topic="reask")]

    async def _apply_step(self, ctx: _Ctx, step: str, value: str) -> list[Reply]:
        """Apply an answer to one step (button or typed), then go on: the next question in
        onboarding, or a confirmation in settings."""
        state = await self._get_state(ctx)
        in_step = state is not None and state.step == step
        flow = state.flow if state is not None and in_step else flows.SETTINGS
        data = state.data if state is not None and in_step else {}
        setter = {
            "level": self._set_level,
            "equipment": self._set_equipment,
            "pain": self._set_pain,
            "reminders": self._set_reminders,
            "timezone": self._set_timezone,
        }.get(step)
        outcome = await setter(ctx, value, flow, data) if setter else None
        if outcome is None:
            return [
                Reply("That choice isn't available any more. Try /settings.", kind=Kind.ONBOARDING)
            ]
        if isinstance(outcome, list):  # the step asked something or answered by itself
            return outcome
        await self._save_profile(ctx)
        head = Reply(outcome, kind=Kind.ONBOARDING, topic=step)
        if flow == flows.ONBOARDING:
            nxt = flows.STEPS[step].next_step
            if nxt is None or step == "reminders":  # "no reminders" skips the time zone
                return [head, *await self._finish_onboarding(ctx)]
            return [head, *await self._ask_step(ctx, flow, nxt)]
        await self._set_state(ctx, None)
        buttons = (Button("Settings", "settings"), Button("Today's workout", "today"))
        return [Reply(outcome + " Saved.", buttons, kind=Kind.ONBOARDING, topic=step)]

    # Each setter returns a confirmation line, replies that end the step, or None (bad value).

    async def _set_level(self, ctx: _Ctx, value: str, flow: str, data: StepData) -> Outcome:
        if value not in LEVELS:
            return None
        ctx.profile.level = value
        return f"Level: {value}."

    async def _set_equipment(self, ctx: _Ctx, value: str, flow: str, data: StepData) -> Outcome:
        if value not in EQUIPMENT:
            return None
        ctx.profile.equipment = value
        return f"Equipment: {workouts.EQUIPMENT_NAMES[value]}."

    async def _set_pain(self, ctx: _Ctx, value: str, flow: str, data: StepData) -> Outcome:
        score = intents.parse_score(value)
        if score is None:
            return None
        await self._ensure_profile(ctx)
        await self.store.log_pain(ctx.key, score, ctx.now)
        gentle = " I'll start you on the gentle plan." if score >= workouts.GENTLE_PAIN else ""
        return f"Pain {score}/10 noted.{gentle}"

    async def _set_reminders(self, ctx: _Ctx, value: str, flow: str, data: StepData) -> Outcome:
        if value == "no":
            sched = await self.store.get_reminder(ctx.key)
            if sched is not None:
                sched.active, sched.next_due_at = False, None
                await self.store.save_reminder(sched)
            return "No reminders. You can turn them on any time with /remind."
        if value not in ("yes", "custom"):
            return None
        await self._save_profile(ctx)
        if value == "custom":
            await self._set_state(ctx, FlowState(flows.REMINDER_WHEN, "when", {"then": flow}))
            return [
                Reply(
                    "Which days and time? For example: tue thu 7am, or weekdays 18:30.",
                    kind=Kind.ONBOARDING,
                    topic="remind_when",
                )
            ]
        if flow == flows.ONBOARDING:  # the time zone first, then the reminders start
            return await self._ask_step(ctx, flow, "timezone", {"remind": True})
        sched = self._new_schedule(ctx)
        await self._activate(ctx, sched)
        await self._set_state(ctx, None)
        text = reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
        return [Reply(text, kind=Kind.REMINDER, topic="set")]

    async def _set_timezone(self, ctx: _Ctx, value: str, flow: str, data: StepData) -> Outcome:
        match = resolve_timezone(value)
        if match.zone is None:
            buttons = tuple(Button(z, f"set:timezone:{z}") for z in match.suggestions)
            return [
                Reply(
                    f'I don\'t know the time zone "{value[:40]}". Try a city or an offset like +2.'
                    + (" Did you mean one of these?" if buttons else ""),
                    buttons,
                    kind=Kind.ONBOARDING,
                    topic="timezone_unknown",
                )
            ]
        ctx.profile.timezone = match.zone
        confirm = f"Time zone: {match.understood}."
        sched = await self.store.get_reminder(ctx.key)
        if data.get("remind") or (sched is not None and sched.active):
            # Reminders follow the new zone: the same local days and time, new instants.
            await self._save_profile(ctx)
            sched = sched or self._new_schedule(ctx)
            await self._activate(ctx, sched)
            described = reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
            confirm += "\n" + described
        return confirm

    async def _finish_onboarding(self, ctx: _Ctx, skipped: bool = False) -> list[Reply]:
        ctx.profile.onboarded = True
        await self._save_profile(ctx)
        await self._set_state(ctx, None)
        lead = (
            "Setup skipped — I'll use sensible defaults (beginner, no equipment). "
            if skipped
            else "All set! "
        )
        return [
            Reply(
                lead + "Change anything later with /settings.\n\n" + HELP,
                HOME_BUTTONS,
                kind=Kind.ONBOARDING,
                topic="done",
            )
        ]

    async def _settings(self, ctx: _Ctx) -> list[Reply]:
        p = ctx.profile
        sched = await self.store.get_reminder(ctx.key)
        rem = (
            reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
            if sched and sched.active
            else "Reminders: off"
        )
        text = (
            f"**Your settings**\nLevel: {p.level}\nEquipment: {p.equipment.replace('_', ' ')}\n"
            f"Time zone: {p.timezone}\n{rem}\nWhat would you like to change?"
        )
        buttons = tuple(
            Button(label, f"settings:{step}")
            for label, step in (
                ("Level", "level"),
                ("Equipment", "equipment"),
                ("Time zone", "timezone"),
                ("Reminders", "reminders"),
            )
        )
        return [Reply(text, buttons, ephemeral=True, kind=Kind.COMMAND, topic="settings")]

    def _forget_confirm(self) -> list[Reply]:
        return [
            Reply(
                "This deletes your profile, workout and pain logs, reminders and everything else "
                "I store about you. It can't be undone. Are you sure?",
                (Button("Yes, delete everything", "forget:yes"), Button("Cancel", "forget:no")),
                ephemeral=True,
                kind=Kind.COMMAND,
                topic="forget",
            )
        ]

    # ------------------------------------------------------------------ store helpers

    async def _get_state(self, ctx: _Ctx) -> FlowState | None:
        try:
            return await self.store.get_state(ctx.key)
        except StorageUnavailable:
            return None

    async def _set_state(self, ctx: _Ctx, state: FlowState | None) -> None:
        if state is not None:
            await self._ensure_profile(ctx)
        elif not ctx.known:
            return
        await self.store.save_state(ctx.key, state)

    async def _ensure_profile(self, ctx: _Ctx) -> None:
        if not ctx.known:
            await self._save_profile(ctx)

    async def _save_profile(self, ctx: _Ctx) -> None:
        if ctx.profile.created_at is None:
            ctx.profile.created_at = ctx.now
        if ctx.msg.display_name:
            ctx.profile.display_name = ctx.msg.display_name
        await self.store.save_profile(ctx.profile)
        ctx.known = True
