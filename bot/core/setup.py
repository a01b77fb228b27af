"""Onboarding (/start) and /settings: the step table of bot.core.flows, applied to a profile.

Each step's setter returns a confirmation line, replies that end the step (a follow-up question
or an error), or None for a value the step does not accept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.core import flows, intents, reminders, workouts
from bot.core.messages import HELP, HOME_BUTTONS
from bot.core.ports import EQUIPMENT, LEVELS, FlowState, Store
from bot.core.reminding import Reminding
from bot.core.text import clean
from bot.core.timezones import resolve_timezone
from bot.core.turn import Turn
from bot.core.types import Button, Kind, Reply

StepData = dict[str, Any]
Outcome = str | list[Reply] | None
Answer = Callable[[Turn, str], Awaitable[list[Reply]]]
RecordPain = Callable[[Turn, int], Awaitable[list[Reply]]]


class Setup:
    """Onboarding and settings. `answer_other` answers a message that is not an answer to the
    current question (a question asked mid-setup); `record_pain` logs a pain score."""

    def __init__(
        self, store: Store, reminding: Reminding, answer_other: Answer, record_pain: RecordPain
    ) -> None:
        self.store = store
        self.reminding = reminding
        self.answer_other = answer_other
        self.record_pain = record_pain

    async def start(self, ctx: Turn) -> list[Reply]:
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
        return [intro, *await self.ask_step(ctx, flows.ONBOARDING, "level")]

    async def ask_step(
        self, ctx: Turn, flow: str, step: str, data: dict[str, object] | None = None
    ) -> list[Reply]:
        s = flows.STEPS[step]
        await ctx.set_state(FlowState(flow, step, dict(data or {})))
        buttons = s.buttons()
        if step == "timezone" and ctx.profile.timezone != "UTC":
            buttons = (
                Button(ctx.profile.timezone, f"set:timezone:{ctx.profile.timezone}"),
                *buttons,
            )
        if flow == flows.ONBOARDING:
            buttons = (*buttons, flows.SKIP)
        return [Reply(s.question, buttons, kind=Kind.ONBOARDING, topic=step)]

    async def flow_text(self, ctx: Turn, state: FlowState, text: str) -> list[Reply] | None:
        """Typed answer inside a flow; None when the message is not an answer (handle normally)."""
        t = clean(text)
        if state.flow == flows.PAIN:
            score = intents.parse_score(t.split()[0]) if t.split() else None
            if score is not None:
                return await self.record_pain(ctx, score)
            return await self._not_an_answer(
                ctx, text, "Please send a number from 0 to 10, like 3."
            )
        if state.flow == flows.REMINDER_WHEN:
            try:
                reminders.parse_request(text)
            except reminders.ReminderParseError as e:
                return await self._not_an_answer(ctx, text, e.message)
            replies = await self.reminding.handle(ctx, text)
            if state.data.get("then") == flows.ONBOARDING:
                # Custom days and time chosen during onboarding: the time zone comes next.
                return [
                    *replies,
                    *await self.ask_step(ctx, flows.ONBOARDING, "timezone", {"remind": True}),
                ]
            return replies
        if state.step == "timezone":
            return await self.apply_step(ctx, "timezone", text)
        step = flows.STEPS.get(state.step)
        if step is None:
            await ctx.set_state(None)
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
        return await self.apply_step(ctx, state.step, value)

    async def _not_an_answer(
        self, ctx: Turn, text: str, hint: str, step: flows.Step | None = None
    ) -> list[Reply]:
        """A message that does not answer the flow's question: answer it if we can, else re-ask."""
        other = [
            r
            for r in await self.answer_other(ctx, text)
            if r.kind not in (Kind.OUT_OF_SCOPE, Kind.SUGGEST)
        ]
        state = await ctx.get_state()
        onboarding = state is not None and state.flow == flows.ONBOARDING
        if other:
            if state is not None and state.flow in (flows.PAIN, flows.REMINDER_WHEN):
                await ctx.set_state(None)
            if onboarding and step is not None:
                # The side question is answered; put the setup question back within reach.
                return [*other, self._reask(f"Back to setup: {step.question}", step, skip=True)]
            return other
        return [self._reask(hint, step, skip=onboarding)]

    @staticmethod
    def _reask(text: str, step: flows.Step | None, *, skip: bool) -> Reply:
        buttons = step.buttons() if step else ()
        if step is not None and skip:
            buttons = (*buttons, flows.SKIP)
        return Reply(text, buttons, kind=Kind.ONBOARDING, topic="reask")

    async def apply_step(self, ctx: Turn, step: str, value: str) -> list[Reply]:
        """Apply an answer to one step (button or typed), then go on: the next question in
        onboarding, or a confirmation in settings."""
        state = await ctx.get_state()
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
        await ctx.save_profile()
        head = Reply(outcome, kind=Kind.ONBOARDING, topic=step)
        if flow == flows.ONBOARDING:
            nxt = flows.STEPS[step].next_step
            if nxt is None or step == "reminders":  # "no reminders" skips the time zone
                return [head, *await self.finish(ctx)]
            return [head, *await self.ask_step(ctx, flow, nxt)]
        await ctx.set_state(None)
        buttons = (Button("Settings", "settings"), Button("Today's workout", "today"))
        return [Reply(outcome + " Saved.", buttons, kind=Kind.ONBOARDING, topic=step)]

    async def _set_level(self, ctx: Turn, value: str, flow: str, data: StepData) -> Outcome:
        if value not in LEVELS:
            return None
        ctx.profile.level = value
        return f"Level: {value}."

    async def _set_equipment(self, ctx: Turn, value: str, flow: str, data: StepData) -> Outcome:
        if value not in EQUIPMENT:
            return None
        ctx.profile.equipment = value
        return f"Equipment: {workouts.EQUIPMENT_NAMES[value]}."

    async def _set_pain(self, ctx: Turn, value: str, flow: str, data: StepData) -> Outcome:
        score = intents.parse_score(value)
        if score is None:
            return None
        await ctx.ensure_profile()
        await self.store.log_pain(ctx.key, score, ctx.now)
        gentle = " I'll start you on the gentle plan." if score >= workouts.GENTLE_PAIN else ""
        return f"Pain {score}/10 noted.{gentle}"

    async def _set_reminders(self, ctx: Turn, value: str, flow: str, data: StepData) -> Outcome:
        if value == "no":
            sched = await self.store.get_reminder(ctx.key)
            if sched is not None:
                sched.active, sched.next_due_at = False, None
                await self.store.save_reminder(sched)
            return "No reminders. You can turn them on any time with /remind."
        if value not in ("yes", "custom"):
            return None
        await ctx.save_profile()
        if value == "custom":
            await ctx.set_state(FlowState(flows.REMINDER_WHEN, "when", {"then": flow}))
            return [
                Reply(
                    "Which days and time? For example: tue thu 7am, or weekdays 18:30.",
                    kind=Kind.ONBOARDING,
                    topic="remind_when",
                )
            ]
        if flow == flows.ONBOARDING:  # the time zone first, then the reminders start
            return await self.ask_step(ctx, flow, "timezone", {"remind": True})
        sched = self.reminding.new_schedule(ctx)
        await self.reminding.activate(ctx, sched)
        await ctx.set_state(None)
        text = reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
        return [Reply(text, kind=Kind.REMINDER, topic="set")]

    async def _set_timezone(self, ctx: Turn, value: str, flow: str, data: StepData) -> Outcome:
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
            await ctx.save_profile()
            sched = sched or self.reminding.new_schedule(ctx)
            await self.reminding.activate(ctx, sched)
            described = reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
            confirm += "\n" + described
        return confirm

    async def finish(self, ctx: Turn, skipped: bool = False) -> list[Reply]:
        ctx.profile.onboarded = True
        await ctx.save_profile()
        await ctx.set_state(None)
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

    async def settings(self, ctx: Turn) -> list[Reply]:
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
