"""The coaching features: today's workout, logging a session, pain scores, progress and the
reminder nudge. Reads and writes the store through the turn; knows nothing of routing."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core import progress, progression, workouts
from bot.core.ports import ProgressStep
from bot.core.turn import Turn
from bot.core.types import Button, Kind, Reply
from bot.errors import StorageUnavailable
from bot.kb import KnowledgeBase

PAIN_RECENT = timedelta(days=7)  # a pain score older than this no longer shapes the workout
PERSISTENT_PAIN = timedelta(days=14)
SEVERE_PAIN = 8  # a /pain score from here on also says when to call 111 or the GP


class Coach:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    async def workout(
        self,
        ctx: Turn,
        force_gentle: bool = False,
        shift: int = 0,
        minutes: int | None = None,
        equipment: str | None = None,
    ) -> tuple[workouts.Workout, int | None]:
        """Today's workout for this user, and the recent pain score that shaped it;
        `equipment` is kit the request named, instead of the profile's."""
        try:
            entries = await ctx.store.pain_since(ctx.key, ctx.now - PAIN_RECENT)
            pain = entries[-1].score if entries else None
        except StorageUnavailable:
            pain = None
        return self.plan(ctx, pain, force_gentle, shift, minutes, equipment), pain

    def plan(
        self,
        ctx: Turn,
        pain: int | None,
        force_gentle: bool = False,
        shift: int = 0,
        minutes: int | None = None,
        equipment: str | None = None,
    ) -> workouts.Workout:
        """Today's workout given the recent pain score (already read)."""
        return workouts.todays_workout(
            self.kb,
            user_seed=f"{ctx.key.platform}:{ctx.key.user_id}",
            day=ctx.today,
            level=ctx.profile.level,
            equipment=equipment or ctx.profile.equipment,
            pain=pain,
            force_gentle=force_gentle,
            shift=shift,
            minutes=minutes,
        )

    async def today(
        self,
        ctx: Turn,
        force_gentle: bool = False,
        shift: int = 0,
        minutes: int | None = None,
        equipment: str | None = None,
    ) -> list[Reply]:
        state = await self.plan_state(ctx)
        equipment = self._kit(ctx, shift, equipment)
        w, pain = await self.workout(ctx, force_gentle or state.flare, shift, minutes, equipment)
        w = self.progressed(w, state)
        buttons = [
            Button("Done ✅", "done"),
            Button(f"How to: {w.items[0].exercise.name}", f"ex:{w.items[0].exercise.id}"),
        ]
        if not w.gentle:
            buttons.append(Button("Gentle version", "today:gentle"))
        if not shift and minutes is None:
            buttons.append(Button("A different one", "today:other"))
        text = workouts.render(w)
        if w.gentle and state.flare and not force_gentle:
            text += f"\n{FLARE_NOTE}"
        elif w.gentle and pain is not None:
            text += f"\n(Gentle plan because your last pain score was {pain}/10.)"
        if not w.gentle and state.lighter:
            text += f"\n{LIGHTER_NOTE}"
        card = Reply(text, tuple(buttons), kind=Kind.WORKOUT, topic=f"{w.plan.id}:{w.session.id}")
        return [card, *self.step_up_offer(w, state)]

    @staticmethod
    def _kit(ctx: Turn, shift: int, equipment: str | None) -> str | None:
        """The kit for this session: what the request named (remembered for the day), or, for
        "a different one", what today's earlier request named ("just dumbbells" still holds)."""
        marks = ctx.conversation.marks
        if equipment is not None:
            marks[KIT] = f"{ctx.today.isoformat()} {equipment}"
            return equipment
        day, _, kit = marks.get(KIT, "").partition(" ")
        if shift and day == ctx.today.isoformat() and kit:
            return kit
        return None

    async def nudge(self, ctx: Turn, pain: int | None) -> Reply:
        """The reminder the scheduler sends: today's session title and quick actions. `pain`
        is the recent pain score, read for a whole batch of users at once."""
        w = self.plan(ctx, pain)
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

    async def done(self, ctx: Turn) -> list[Reply]:
        await ctx.ensure_profile()
        new = await ctx.store.log_session(ctx.key, ctx.today, ctx.now)
        week = await ctx.store.session_days(ctx.key, progress.week_start(ctx.today))
        n, goal = len(week), progress.WEEKLY_GOAL
        if not new:
            text = f"Today's session was already logged — {n}/{goal} this week."
        elif n >= goal:
            text = f"Logged ✅ That's {n}/{goal} this week — goal met! 🎉"
        else:
            text = f"Logged ✅ That's {n}/{goal} this week."
        buttons = (Button("My progress", "progress"), Button("Too hard?", "prog:hard"))
        return [Reply(text, buttons, kind=Kind.COMMAND, topic="done")]

    async def record_pain(self, ctx: Turn, score: int) -> list[Reply]:
        await ctx.ensure_profile()
        await ctx.store.log_pain(ctx.key, score, ctx.now)
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
            history = await ctx.store.pain_since(ctx.key, ctx.now - PERSISTENT_PAIN)
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
        lines += await self.high_pain_note(ctx, score)
        buttons = (Button("Today's workout", "today"),)
        return [Reply("\n".join(lines), buttons, kind=Kind.COMMAND, topic="pain")]

    async def progress(self, ctx: Turn) -> list[Reply]:
        days = await ctx.store.session_days(ctx.key, ctx.today - timedelta(weeks=52))
        pain = await ctx.store.pain_since(ctx.key, ctx.now - timedelta(weeks=8))
        summary = progress.summarize(days, pain, ctx.today)
        text = progress.render(summary)
        if days:
            text += await self.steps_text(ctx)
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
            ),
            *await self.checkin_replies(ctx),
        ]

    # ------------------------------------------------------------ progression and check-ins
    # (bot.core.progression holds the rules; these gather the history and speak.)

    async def plan_state(self, ctx: Turn) -> PlanState:
        """Everything the progression rules need about this user now, read in one go. With
        the database down: the plan as written (no steps, no offer), as the workout still
        has to be shown."""
        try:
            days = await ctx.store.session_days(ctx.key, ctx.today - timedelta(weeks=52))
            pain = await self.readings(ctx)
            checks = await ctx.store.checkins_since(ctx.key, ctx.today - progression.PAUSE)
            stored = await ctx.store.get_steps(ctx.key)
        except StorageUnavailable:
            days, pain, checks, stored = [], [], [], {}
        steps = {ex: s.step for ex, s in stored.items()}
        plan = workouts.pick_plan(self.kb, ctx.profile.level, ctx.profile.equipment, False)
        items = progression.plan_items(self.kb, plan.id)
        tops = {
            ex: progression.max_step(self.kb, ex, doses, plan.equipment)
            for ex, doses in items.items()
        }
        ups = [s.stepped_up_at for s in stored.values() if s.stepped_up_at is not None]
        declined = ctx.conversation.marks.get(DECLINED)
        latest = checks[-1] if checks else None
        history = progression.History(
            today=ctx.today,
            now=ctx.now,
            session_days=tuple(days),
            pain=tuple(pain),
            last_step_up=max(ups).astimezone(ctx.zone).date() if ups else None,
            declined_at=_day(declined),
            limiting=latest is not None and (latest.interference or 0) >= progression.LIMITING,
            can_go_up=any(steps.get(ex, 0) < top for ex, top in tops.items()),
        )
        first = min(days) if days else None
        lighter = progression.lighter_week(first, ctx.today)
        return PlanState(
            history,
            progression.readiness(history),
            steps,
            stored,
            tops,
            plan.id,
            progression.flare(pain, ctx.now),
            lighter,
        )

    async def readings(self, ctx: Turn) -> list[progression.Reading]:
        """Pain scores and check-in averages of the last two weeks, oldest first."""
        since = ctx.now - progression.PAUSE
        pain = [
            progression.Reading(p.score, p.at) for p in await ctx.store.pain_since(ctx.key, since)
        ]
        checks = await ctx.store.checkins_since(ctx.key, ctx.today - progression.PAUSE)
        pain += [
            progression.Reading(c.pain, c.at)
            for c in checks
            if c.pain is not None and c.at >= since
        ]
        return sorted(pain, key=lambda r: r.at)

    def progressed(self, w: workouts.Workout, state: PlanState) -> workouts.Workout:
        """The workout at the user's steps, and a set fewer in a lighter week (not gentle)."""
        if w.gentle:
            return w
        items = []
        for item in w.items:
            ex = item.plan_exercise
            step = state.steps.get(ex, 0)
            rung = progression.rung_at(self.kb, ex, item.dose, w.plan.equipment, step)
            dose = progression.lighter_text(rung.dose) if state.lighter else rung.dose
            if rung.exercise != ex:
                note = f"{rung.label} of {self.kb.exercises[ex].name}"
            else:
                note = "" if rung.label == "as planned" else rung.label
            items.append(workouts.WorkoutItem(self.kb.exercises[rung.exercise], dose, note, ex))
        return dataclasses.replace(w, items=tuple(items))

    def step_up_offer(self, w: workouts.Workout, state: PlanState) -> list[Reply]:
        if w.gentle or state.lighter or not state.readiness.ready:
            return []
        text = (
            f"Ready for a step up? {state.readiness.why.capitalize()} in the last two weeks. "
            "Each exercise would get one step harder (more reps or time, a set more, or a "
            "harder variant)."
        )
        buttons = (Button("Yes, step up", "prog:up"), Button("Not yet", "prog:later"))
        return [Reply(text, buttons, kind=Kind.WORKOUT, topic="step_up_offer")]

    async def progression_action(self, ctx: Turn, arg: str) -> list[Reply]:
        """The progression buttons: step up (Yes / Not yet) and "Too hard"."""
        head, _, exercise = arg.partition(":")
        if head == "up":
            return await self._step_up(ctx)
        if head == "later":
            ctx.conversation.marks[DECLINED] = ctx.today.isoformat()
            text = "Okay, your steps stay as they are. I'll ask again in a week or so."
            return [Reply(text, (Button("Today's workout", "today"),), topic="step_up_later")]
        if head == "hard" and exercise:
            return await self._step_down(ctx, exercise)
        if head == "hard":
            return await self._which_was_hard(ctx)
        return [Reply("That button has expired.", (Button("Today's workout", "today"),))]

    async def _step_up(self, ctx: Turn) -> list[Reply]:
        state = await self.plan_state(ctx)
        if not state.readiness.ready:
            text = f"Not a step up right now: {state.readiness.why}."
            return [Reply(text, (Button("Today's workout", "today"),), topic="step_up_no")]
        new = progression.stepped_up(state.steps, state.tops)
        await ctx.ensure_profile()
        await ctx.store.save_steps(
            ctx.key,
            [
                ProgressStep(ex, n, ctx.now, ctx.now)
                for ex, n in new.items()
                if n != state.steps.get(ex, 0)
            ],
        )
        text = (
            "Stepped up ✅ Each exercise of your plan is one step harder from today. "
            'If one is too much, tap "Too hard?" after your workout and it steps back. '
            "The next step-up comes two weeks from now at the earliest."
        )
        return [Reply(text, (Button("Today's workout", "today"),), topic="stepped_up")]

    async def _which_was_hard(self, ctx: Turn) -> list[Reply]:
        state = await self.plan_state(ctx)
        w, _ = await self.workout(ctx, state.flare)
        w = self.progressed(w, state)
        if w.gentle:
            text = (
                "Today was the gentle plan, which has no steps to lower. Keep to a pain-free "
                "range, and tell me your pain with /pain."
            )
            return [Reply(text, (Button("Log pain", "pain"),), topic="too_hard_gentle")]
        buttons = tuple(Button(i.exercise.name, f"prog:hard:{i.plan_exercise}") for i in w.items)
        text = "Which one felt too hard? I'll make it one step easier from next time."
        return [Reply(text, buttons, topic="too_hard_which")]

    async def _step_down(self, ctx: Turn, exercise: str) -> list[Reply]:
        plan = workouts.pick_plan(self.kb, ctx.profile.level, ctx.profile.equipment, False)
        items = progression.plan_items(self.kb, plan.id)
        if exercise not in items:
            return [Reply("That exercise isn't in your plan any more.", topic="too_hard_gone")]
        stored = await ctx.store.get_steps(ctx.key)
        old = stored.get(exercise)
        was = old.step if old else 0
        bottom = progression.min_step(self.kb, exercise, items[exercise], plan.equipment)
        now = progression.stepped_down({exercise: was}, exercise, bottom)[exercise]
        name = self.kb.exercises[exercise].name
        if now == was:
            text = (
                f"{name} is already at its easiest step. Skip it if it hurts, and tell me your "
                "pain with /pain."
            )
            return [Reply(text, (Button("Log pain", "pain"),), topic="too_hard_bottom")]
        await ctx.ensure_profile()
        up = old.stepped_up_at if old else None
        await ctx.store.save_steps(ctx.key, [ProgressStep(exercise, now, ctx.now, up)])
        rung = progression.rung_at(self.kb, exercise, items[exercise][0], plan.equipment, now)
        shown = "" if rung.exercise == exercise else f"{self.kb.exercises[rung.exercise].name} "
        text = f"Okay: {name} is one step easier from now on: {shown}{rung.dose}."
        return [Reply(text, (Button("My progress", "progress"),), topic="too_hard_done")]

    async def high_pain_note(self, ctx: Turn, score: int) -> list[str]:
        """What a score of 7 or more does to progression, said when it happens."""
        if score < progression.HIGH_PAIN:
            return []
        if progression.flare(await self.readings(ctx), ctx.now):
            return [
                "That's two pain scores of 7 or more this week, so your whole plan is the "
                "gentle plan until it settles, and step-ups pause for two weeks."
            ]
        return ["Step-ups pause for two weeks after a score of 7 or more."]

    async def steps_text(self, ctx: Turn) -> str:
        """/progress: where each exercise of the plan is on its ladder."""
        state = await self.plan_state(ctx)
        moved = [
            f"{self.kb.exercises[ex].name} {n:+d}"
            for ex, n in sorted(state.steps.items())
            if n and ex in state.tops
        ]
        line = "\nSteps: " + (" · ".join(moved) if moved else "every exercise as planned") + "."
        until = progression.paused_until(state.history.pain, ctx.now)
        if until is not None:
            line += f"\nStep-ups paused until {until.astimezone(ctx.zone):%d %b} (pain of 7+)."
        elif state.readiness.ready:
            line += "\nReady for a step up: see /today."
        return line

    async def checkin_replies(self, ctx: Turn) -> list[Reply]:
        """/progress: the weekly check-ins' trend and their own small chart, once there are any."""
        checks = await ctx.store.checkins_since(ctx.key, ctx.today - timedelta(weeks=12))
        if not checks:
            return []
        text = progress.render_checkins(checks) + "\nFor tracking, not a diagnosis."
        image = await asyncio.to_thread(progress.checkin_chart_png, checks)
        return [Reply(text, image=image, ephemeral=True, kind=Kind.PROGRESS, topic="checkins")]


DECLINED = "step_up_declined"  # Conversation.marks: the day of the last "Not yet"
KIT = "session_kit"  # Conversation.marks: "<day> <equipment>" a session request named that day
FLARE_NOTE = (
    "(Gentle plan: two pain scores of 7 or more in the last 7 days. Step-ups pause for two "
    "weeks; keep logging /pain as it settles.)"
)
LIGHTER_NOTE = "Lighter week (every 4th week): a set fewer on each exercise, to recover and adapt."


@dataclass(frozen=True, slots=True)
class PlanState:
    history: progression.History
    readiness: progression.Readiness
    steps: dict[str, int]
    stored: dict[str, ProgressStep]
    tops: dict[str, int]  # each exercise of the plan: the highest step it can take
    plan: str
    flare: bool
    lighter: bool


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


__all__ = ["Coach"]
