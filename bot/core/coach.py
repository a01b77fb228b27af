"""The coaching features: today's workout, logging a session, pain scores, progress and the
reminder nudge. Reads and writes the store through the turn; knows nothing of routing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.core import progress, workouts
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
        self, ctx: Turn, force_gentle: bool = False, shift: int = 0, minutes: int | None = None
    ) -> tuple[workouts.Workout, int | None]:
        """Today's workout for this user, and the recent pain score that shaped it."""
        try:
            entries = await ctx.store.pain_since(ctx.key, ctx.now - PAIN_RECENT)
            pain = entries[-1].score if entries else None
        except StorageUnavailable:
            pain = None
        return self.plan(ctx, pain, force_gentle, shift, minutes), pain

    def plan(
        self,
        ctx: Turn,
        pain: int | None,
        force_gentle: bool = False,
        shift: int = 0,
        minutes: int | None = None,
    ) -> workouts.Workout:
        """Today's workout given the recent pain score (already read)."""
        return workouts.todays_workout(
            self.kb,
            user_seed=f"{ctx.key.platform}:{ctx.key.user_id}",
            day=ctx.today,
            level=ctx.profile.level,
            equipment=ctx.profile.equipment,
            pain=pain,
            force_gentle=force_gentle,
            shift=shift,
            minutes=minutes,
        )

    async def today(
        self, ctx: Turn, force_gentle: bool = False, shift: int = 0, minutes: int | None = None
    ) -> list[Reply]:
        w, pain = await self.workout(ctx, force_gentle, shift, minutes)
        buttons = [
            Button("Done ✅", "done"),
            Button(f"How to: {w.items[0].exercise.name}", f"ex:{w.items[0].exercise.id}"),
        ]
        if not w.gentle:
            buttons.append(Button("Gentle version", "today:gentle"))
        if not shift and minutes is None:
            buttons.append(Button("A different one", "today:other"))
        text = workouts.render(w)
        if w.gentle and pain is not None:
            text += f"\n(Gentle plan because your last pain score was {pain}/10.)"
        return [Reply(text, tuple(buttons), kind=Kind.WORKOUT, topic=f"{w.plan.id}:{w.session.id}")]

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
        return [Reply(text, (Button("My progress", "progress"),), kind=Kind.COMMAND, topic="done")]

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
        buttons = (Button("Today's workout", "today"),)
        return [Reply("\n".join(lines), buttons, kind=Kind.COMMAND, topic="pain")]

    async def progress(self, ctx: Turn) -> list[Reply]:
        days = await ctx.store.session_days(ctx.key, ctx.today - timedelta(weeks=52))
        pain = await ctx.store.pain_since(ctx.key, ctx.now - timedelta(weeks=8))
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


__all__ = ["Coach"]
