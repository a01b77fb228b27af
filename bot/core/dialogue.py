"""The dialogue core: `Dialogue.handle(Incoming) -> list[Reply]`, the same for every platform.

Routing order (DESIGN.md): red-flag triage on every text the user wrote (before the flood gate,
so a red flag is never dropped); button actions and commands; an active multi-step flow; intents (workout, reminders, logging, pain, progress); FAQ retrieval;
small talk; fallback ("did you mean" buttons or an honest out-of-scope answer).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time as _time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.core import flows, intents, progress, reminders, workouts
from bot.core.answers import Retriever, Tuning, kb_choices
from bot.core.commands import COMMAND_NAMES
from bot.core.flood import FloodGate, Verdict
from bot.core.messages import (
    ABOUT,
    HELP,
    HOME_BUTTONS,
    NON_TEXT,
    NOT_ENGLISH,
    SLOW_DOWN,
    SORRY_STORAGE,
    UNCLEAR,
)
from bot.core.ports import FlowState, Profile, Store, UserKey
from bot.core.reminding import Reminding
from bot.core.safety import Assessment, Outcome, Scorer, Triage
from bot.core.setup import Setup
from bot.core.text import Normalizer, clean
from bot.core.turn import Defaults, Turn
from bot.core.types import Button, Incoming, Kind, Reply
from bot.errors import StorageUnavailable
from bot.kb import KnowledgeBase, SmalltalkIntent

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500  # retrieval reads the start of very long messages; triage reads it all
PAIN_RECENT = timedelta(days=7)  # a pain score older than this no longer shapes the workout
PERSISTENT_PAIN = timedelta(days=14)
SEVERE_PAIN = 8  # a /pain score from here on also says when to call 111 or the GP
HEALTH_PAUSE_DAYS = 7  # reminders pause this long after an emergency or same-day reply
SCREEN = "screen"  # flow state while the screening question waits for its answer
SCREENED = "screened"  # marker: screening was asked; not again for SCREEN_QUIET
SCREEN_QUIET = timedelta(minutes=30)
MAX_PENDING_CHARS = 4000  # the question kept while the screening question is answered

__all__ = ["Defaults", "Dialogue"]


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
                *(x.name for x in kb.exercises.values()),
                *(t for e in kb.faq for t in e.tags),
            ],
            off_topic=kb.smalltalk.off_topic,
            not_back=kb.smalltalk.not_back,
            back_words=kb.smalltalk.back_words or kb.smalltalk.domain_words,
            exercise_names={x.id: (x.name, *x.aliases) for x in kb.exercises.values()},
            tuning=tuning,
        )
        # Rules always; the learned model when the composition root loaded one.
        self.triage = Triage.build(kb.safety, triage_model)
        self.smalltalk = [
            (it, tuple(re.compile(p) for p in it.patterns)) for it in kb.smalltalk.intents
        ]
        self.openers = [
            (it, tuple(re.compile(p) for p in it.openers))
            for it in kb.smalltalk.intents
            if it.openers
        ]
        self.faq = {e.id: e for e in kb.faq}
        self.reminding = Reminding(store, self.defaults)
        self.setup = Setup(store, self.reminding, self._free_text, self._record_pain)

    # ------------------------------------------------------------------ entry point

    async def handle(self, msg: Incoming) -> list[Reply]:
        """Answer one message or button press. Never raises for bad input."""
        text = (msg.text or "").strip()
        if msg.is_group and not (msg.mentioned or msg.action or text.startswith("/")):
            return []
        # Triage first, on the whole text the user wrote (a command's arguments included): a
        # red flag or a screening question is never dropped or rate-limited.
        assessment = self._assess(text) if not msg.action else Assessment(Outcome.NONE)
        verdict = self.flood.check((msg.platform, msg.user_id), self.monotonic())
        if assessment.outcome is Outcome.NONE:
            if verdict is Verdict.DROP:
                return []
            if verdict is Verdict.WARN:
                return [Reply(SLOW_DOWN, kind=Kind.COMMAND, topic="flood")]
        ctx = await self._context(msg)
        try:
            return await self._route(ctx, text, assessment)
        except StorageUnavailable as e:
            logger.warning("storage unavailable while handling a message: %s", e)
            return [Reply(SORRY_STORAGE, kind=Kind.COMMAND, topic="storage_error")]

    async def reminder(self, key: UserKey, now: datetime) -> Reply:
        """The nudge the scheduler sends: today's session title and quick actions."""
        msg = Incoming(key.platform, key.user_id, key.user_id, received_at=now)
        ctx = await self._context(msg)
        w, _ = await self._workout(ctx)
        return Reply(
            f"Time for your back session 💪\nToday: {workouts.headline(w)}",
            (
                Button("Show workout", "today"),
                Button("Done ✅", "done"),
                Button("Snooze 1h", "rem:snooze"),
                Button("Skip today", "rem:skip"),
            ),
            kind=Kind.REMINDER,
            topic="nudge",
        )

    async def _context(self, msg: Incoming) -> Turn:
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
        return Turn(msg, key, now, profile, known, self.store)

    def _assess(self, text: str) -> Assessment:
        """Triage of what the user wrote: a command's arguments, or the whole message."""
        if text.startswith("/"):
            text = _command_parts(text)[1]
        return self.triage.assess(text) if text.strip() else Assessment(Outcome.NONE)

    async def _route(self, ctx: Turn, text: str, assessment: Assessment) -> list[Reply]:
        if ctx.msg.action:
            return await self._action(ctx, ctx.msg.action)
        if assessment.outcome is Outcome.FLAG:
            # The flow (if any) waits: its state is untouched, so the next message can answer it.
            return await self._red_flag(ctx, assessment)
        if text.startswith("/"):
            name, args = _command_parts(text)
            if name in COMMAND_NAMES or name == "cancel":
                if assessment.outcome is Outcome.SCREEN and (
                    screen := await self._screen(ctx, text, assessment.score)
                ):
                    return screen
                return await self._command(ctx, name, args.strip())
            return [Reply(f"I don't know /{name[:30]}. Here's what I can do:\n\n{HELP}")]
        if not clean(text):
            return [Reply(NON_TEXT, HOME_BUTTONS, kind=Kind.SMALLTALK, topic="non_text")]
        if assessment.outcome is Outcome.SCREEN and (
            screen := await self._screen(ctx, text, assessment.score)
        ):
            return screen
        return await self._text(ctx, text)

    async def _text(self, ctx: Turn, text: str) -> list[Reply]:
        state = await ctx.get_state()
        if state is not None and state.flow == SCREEN:
            answer = _yes_no(clean(text))
            if answer is not None:
                return await self._screen_answer(ctx, state, "yes" if answer else "no")
            state = _resume_state(state)
        if state is not None and state.flow != SCREENED:
            replies = await self.setup.flow_text(ctx, state, text)
            if replies is not None:
                return replies
        return await self._free_text(ctx, text)

    # ------------------------------------------------------------------ commands and buttons

    async def _command(self, ctx: Turn, name: str, args: str) -> list[Reply]:
        if name == "start":
            return await self.setup.start(ctx)
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
            return await self.reminding.handle(ctx, args or "show my reminders")
        if name == "stop":
            return await self.reminding.handle(ctx, "stop reminders")
        if name == "settings":
            return await self.setup.settings(ctx)
        if name == "progress":
            return await self._progress(ctx)
        if name == "forget":
            return self._forget_confirm()
        await ctx.set_state(None)  # /cancel
        return [Reply("Cancelled. What next?", HOME_BUTTONS)]

    async def _action(self, ctx: Turn, action: str) -> list[Reply]:
        head, _, rest = action.partition(":")
        if head == "faq" and rest in self.faq:
            return [self._faq_reply(rest, None)]
        if head == "ex" and rest in self.kb.exercises:
            return [self._exercise_reply(rest, None)]
        if head == "set":
            step, _, value = rest.partition(":")
            return await self.setup.apply_step(ctx, step, value)
        if head == "settings" and rest in flows.STEPS:
            return await self.setup.ask_step(ctx, flows.SETTINGS, rest)
        if head == "ob" and rest == "skip":
            return await self.setup.finish(ctx, skipped=True)
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
            return await self.reminding.button(ctx, rest)
        if head == "screen":
            state = await ctx.get_state()
            if state is None or state.flow != SCREEN:
                return [
                    Reply("That question has expired. What would you like to ask?", HOME_BUTTONS)
                ]
            return await self._screen_answer(ctx, state, rest)
        if head == "today":
            return await self._today(ctx, force_gentle=rest == "gentle")
        if head == "pain" and (score := intents.parse_score(rest)) is not None:
            return await self._record_pain(ctx, score)
        simple = {"done": self._done, "progress": self._progress, "settings": self.setup.settings}
        if head in simple:
            return await simple[head](ctx)
        if head == "help":
            return [Reply(HELP, HOME_BUTTONS)]
        return [Reply("That button has expired. Here's what I can do:\n\n" + HELP, HOME_BUTTONS)]

    # ------------------------------------------------------------------ free text

    async def _free_text(self, ctx: Turn, text: str) -> list[Reply]:
        t = clean(text)
        if intents.is_help_request(t):
            return [Reply(HELP, HOME_BUTTONS)]
        if reminders.looks_like_reminder_request(text):
            return await self.reminding.handle(ctx, text)
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
                return [self._smalltalk(intent, t)]
        result = self.retriever.decide(text[:MAX_QUERY_CHARS])
        if result.answer is None and not self.retriever.mentions_back(text):
            for intent, patterns in self.openers:
                if any(p.search(t) for p in patterns):
                    return [self._smalltalk(intent, t)]
        if result.answer is not None:
            topic, score = result.answer.topic, result.answer.score
            if topic in self.faq:
                return [self._faq_reply(topic, score)]
            return [self._exercise_reply(topic, score)]
        if result.suggestions:
            buttons = tuple(self._topic_button(m.topic) for m in result.suggestions)
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

    def _doctor_button(self) -> tuple[Button, ...]:
        """The when-to-see-a-doctor entry safety.yaml names (button), if any."""
        b = self.kb.safety.button
        return (self._topic_button(b),) if b else ()

    def _smalltalk(self, intent: SmalltalkIntent, t: str) -> Reply:
        reply = intent.replies[zlib.crc32(t.encode()) % len(intent.replies)]
        buttons = tuple(self._topic_button(b) for b in intent.buttons)
        return Reply(reply, buttons, kind=Kind.SMALLTALK, topic=intent.id)

    def _fallback(self, text: str) -> Reply:
        letters = [c for c in text if c.isalpha()]
        if letters and sum(not c.isascii() for c in letters) > len(letters) / 2:
            return Reply(NOT_ENGLISH, HOME_BUTTONS, kind=Kind.OUT_OF_SCOPE)
        if self.retriever.mentions_back(text):
            # About the back, but no answer fits well enough: say so, rather than "I only
            # cover back training" to someone who just asked about their back.
            return Reply(UNCLEAR, HOME_BUTTONS, kind=Kind.OUT_OF_SCOPE, topic="unclear")
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

    def _topic_button(self, topic: str) -> Button:
        """A button that opens an FAQ entry or an exercise how-to."""
        return Button(self._title(topic), f"{'faq' if topic in self.faq else 'ex'}:{topic}")

    def _faq_reply(self, topic: str, score: float | None) -> Reply:
        e = self.faq[topic]
        buttons = tuple(self._topic_button(f) for f in e.follow_up[:2])
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

    # ------------------------------------------------------------------ red flags

    async def _red_flag(self, ctx: Turn, a: Assessment) -> list[Reply]:
        """The level's header (what to do, how soon), why, the sources; reminders paused."""
        assert a.level is not None
        s = self.kb.safety
        body = "\n\n".join(f.message.strip() for f in a.flags[:2])
        sources = [*s.levels[a.level].sources, *(src for f in a.flags for src in f.sources)]
        text = f"{s.levels[a.level].header}\n\n{body}\n\n{self.kb.cite_links(sources)}"
        buttons = self._doctor_button()
        if a.level != "soon":
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

    async def _screen(self, ctx: Turn, text: str, score: float) -> list[Reply] | None:
        """Ask the screening question, keeping the message to answer afterwards; None when it
        was asked recently (then the message is answered as usual)."""
        screening = self.kb.safety.screening
        state = await ctx.get_state()
        if screening is None or _screened_recently(state, ctx.now):
            return None
        resume = None
        if state is not None and state.flow not in (SCREEN, SCREENED):
            resume = [state.flow, state.step, state.data]
        elif state is not None and state.flow == SCREEN:
            resume = state.data.get("resume")
        data = {"text": text[:MAX_PENDING_CHARS], "resume": resume, "at": ctx.now.isoformat()}
        await ctx.set_state(FlowState(SCREEN, "ask", data))
        return [
            Reply(
                screening.question,
                (
                    Button("Yes, one of these", "screen:yes"),
                    Button("No, none of these", "screen:no"),
                ),
                kind=Kind.SCREEN,
                topic="screen",
                score=round(score, 3),
            )
        ]

    async def _screen_answer(self, ctx: Turn, state: FlowState, answer: str) -> list[Reply]:
        screening = self.kb.safety.screening
        assert screening is not None
        if answer == "yes":
            buttons = tuple(
                Button(item.label, f"screen:item:{i}") for i, item in enumerate(screening.items)
            )
            return [Reply("Which one? Tap the closest.", buttons, kind=Kind.SCREEN, topic="screen")]
        after = _resume_state(state)
        marker = {"screened_at": ctx.now.isoformat()}
        if after is None:
            await ctx.set_state(FlowState(SCREENED, "-", marker))
        else:
            await ctx.set_state(FlowState(after.flow, after.step, {**after.data, **marker}))
        if answer.startswith("item:"):
            i = int(answer[5:]) if answer[5:].isdecimal() else -1
            flag = (
                self.triage.flag(screening.items[i].flag) if 0 <= i < len(screening.items) else None
            )
            if flag is not None:
                return await self._red_flag(ctx, Assessment(Outcome.FLAG, flag.level, (flag,)))
        # "No": answer what they asked in the first place.
        original = str(state.data.get("text", ""))
        head = Reply("Thanks, that's reassuring.", kind=Kind.SCREEN, topic="screen_no")
        if not original:
            return [head]
        if original.startswith("/"):
            name, args = _command_parts(original)
            return [head, *await self._command(ctx, name, args.strip())]
        return [head, *await self._text(ctx, original)]

    # ------------------------------------------------------------------ workout, log, pain, progress

    async def _recent_pain(self, ctx: Turn) -> int | None:
        entries = await self.store.pain_since(ctx.key, ctx.now - PAIN_RECENT)
        return entries[-1].score if entries else None

    async def _workout(
        self, ctx: Turn, force_gentle: bool = False
    ) -> tuple[workouts.Workout, int | None]:
        """Today's workout for this user, and the recent pain score that shaped it."""
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
        return w, pain

    async def _today(self, ctx: Turn, force_gentle: bool = False) -> list[Reply]:
        w, pain = await self._workout(ctx, force_gentle)
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

    async def _done(self, ctx: Turn) -> list[Reply]:
        await ctx.ensure_profile()
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

    async def _pain(self, ctx: Turn, args: str) -> list[Reply]:
        word = args.split()[0] if args.split() else ""
        score = intents.parse_score(word) if word else None
        if score is None:
            # Remember an interrupted flow (say, onboarding) to resume once the score is in.
            prev = await ctx.get_state()
            keep = prev is not None and prev.flow != flows.PAIN
            resume = {"resume": [prev.flow, prev.step, prev.data]} if prev and keep else {}
            if prev is not None and prev.flow == flows.PAIN:
                resume = dict(prev.data)
            await ctx.set_state(FlowState(flows.PAIN, "score", resume))
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

    async def _record_pain(self, ctx: Turn, score: int) -> list[Reply]:
        await ctx.ensure_profile()
        await self.store.log_pain(ctx.key, score, ctx.now)
        state = await ctx.get_state()
        resume: list[Reply] = []
        if state is not None and state.flow == flows.PAIN:
            await ctx.set_state(None)
            if "resume" in state.data:
                flow, step, data = state.data["resume"]
                resume = await self.setup.ask_step(ctx, flow, step, data)
        lines = [f"Pain {score}/10 noted."]
        if score >= SEVERE_PAIN:
            # NHS: severe pain that rest and painkillers don't ease needs advice today.
            lines.append(
                "That's a lot of pain. If it isn't easing with rest and painkillers, or you feel "
                "unwell, call NHS 111 or see your GP today. Tell me about any other symptoms and "
                "I'll say if they need help sooner.\n"
                + self.kb.cite_links(self.kb.safety.levels["urgent"].sources, limit=1)
            )
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

    async def _progress(self, ctx: Turn) -> list[Reply]:
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

    # ------------------------------------------------------------------ onboarding and settings

    # Each setter returns a confirmation line, replies that end the step, or None (bad value).

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


def _command_parts(text: str) -> tuple[str, str]:
    """ "/Pain@backbot 5" -> ("pain", "5"): the command's name and its arguments."""
    name, _, args = text[1:].partition(" ")
    return name.split("@", 1)[0].lower(), args


def _yes_no(t: str) -> bool | None:
    """A typed answer to the screening question."""
    if t in ("yes", "y", "yeah", "yep", "yes one of these", "i do", "one of these"):
        return True
    if t in ("no", "n", "nope", "nah", "none", "no none of these", "none of these", "i dont"):
        return False
    return None


def _resume_state(state: FlowState) -> FlowState | None:
    """The flow the screening question interrupted, if any."""
    resume = state.data.get("resume")
    if isinstance(resume, list) and len(resume) == 3:
        flow, step, data = resume
        return FlowState(str(flow), str(step), dict(data) if isinstance(data, dict) else {})
    return None


def _screened_recently(state: FlowState | None, now: datetime) -> bool:
    if state is None:
        return False
    at = state.data.get("screened_at") or (state.data.get("at") if state.flow == SCREEN else None)
    if not isinstance(at, str):
        return False
    try:
        return now - datetime.fromisoformat(at) < SCREEN_QUIET
    except (ValueError, TypeError):
        return False
