"""/settings: one question about one setting, then "Saved." Not sticky: doing something else
drops it, so a later message is never read as a settings answer."""

from __future__ import annotations

import dataclasses

from bot.core import reminders
from bot.core.flow import Choice, Flow, Outcome, Services, Step
from bot.core.flows import checkin, steps
from bot.core.ports import Frame
from bot.core.turn import Turn
from bot.core.types import Button, Kind, Reply

NAME = "settings"
AFTER = (Button("Settings", "settings"), Button("Today's workout", "today"))


def _saved(step: Step) -> Step:
    """The step, its confirmation ending in "Saved." with the settings buttons."""

    async def apply(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
        out = await step.apply(ctx, frame, value, svc)
        if out.then is not None or out.asked or not out.replies:
            return out
        head, *rest = out.replies
        saved = Reply(head.text + " Saved.", AFTER, kind=Kind.ONBOARDING, topic=head.topic)
        return Outcome([saved, *rest], None)

    return dataclasses.replace(step, apply=apply)


async def _reminders(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
    sched = await ctx.store.get_reminder(ctx.key)
    if value == "no":
        if sched is not None and sched.active:
            sched.active, sched.next_due_at = False, None
            await ctx.store.save_reminder(sched)
        return Outcome.say("Reminders: off.", "reminders")
    if value == "custom":
        return Outcome([], "when")
    sched = sched or svc.reminding.new_schedule(ctx)
    await svc.reminding.activate(ctx, sched)
    text = reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
    return Outcome([Reply(text, kind=Kind.REMINDER, topic="set")])


REMINDERS = Step(
    "reminders",
    "Reminders three times a week?",
    _reminders,
    (
        Choice("Yes, remind me", "yes", ("yes", "yeah", "sure", "ok", "yep")),
        Choice("Other days or time", "custom", ("other", "custom", "different")),
        Choice("No reminders", "no", ("no", "nope", "none", "off")),
    ),
)

FLOW = Flow(
    NAME,
    {
        s.name: s
        for s in (
            _saved(steps.level(None)),
            _saved(steps.equipment(None)),
            _saved(steps.timezone(None)),
            REMINDERS,
            steps.when(None),
            _saved(checkin.opt_in(None)),
        )
    },
    first="level",
    back="Back to settings:",
    sticky=False,
    starts_from_button=True,
)

MENU = (
    ("Level", "level"),
    ("Equipment", "equipment"),
    ("Time zone", "timezone"),
    ("Reminders", "reminders"),
    ("Weekly check-in", "checkin"),
)


async def overview(ctx: Turn) -> Reply:
    p = ctx.profile
    sched = await ctx.store.get_reminder(ctx.key)
    rem = (
        reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
        if sched and sched.active
        else "Reminders: off"
    )
    text = (
        f"**Your settings**\nLevel: {p.level}\nEquipment: {p.equipment.replace('_', ' ')}\n"
        f"Time zone: {p.timezone}\n{rem}\nWeekly check-in: {'on' if p.checkin else 'off'}\n"
        "What would you like to change?"
    )
    buttons = tuple(Button(label, f"settings:{step}") for label, step in MENU)
    return Reply(text, buttons, ephemeral=True, kind=Kind.COMMAND, topic="settings")
