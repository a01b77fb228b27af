"""Onboarding (/start): level -> equipment -> pain -> reminders (-> days and time) -> time zone
-> the weekly check-in (which rides on reminders, so it is asked only when they are on).

"No reminders" ends setup without asking the time zone; "Other days or time" asks them, and the
schedule starts only once the zone is known (so "tue thu 7am" means 7am where the user is).
"""

from __future__ import annotations

import dataclasses

from bot.core.flow import Answer, Choice, Flow, Outcome, Parsed, Services, Step, match_choice
from bot.core.flows import checkin, steps
from bot.core.messages import HELP, HOME_BUTTONS, PRIVACY_SHORT
from bot.core.ports import Frame
from bot.core.turn import Turn
from bot.core.types import Button, Kind, Reply

NAME = "onboarding"
SKIP = Button("Skip setup", "ob:skip")
RESTART = Button("Restart setup", "start")


async def finish(ctx: Turn, *, skipped: bool = False) -> list[Reply]:
    ctx.profile.onboarded = True
    await ctx.save_profile()
    ctx.conversation.frames = [f for f in ctx.conversation.frames if f.flow != NAME]
    lead = (
        "Setup skipped — I'll use sensible defaults (beginner, no equipment). "
        if skipped
        else "All set! "
    )
    text = lead + "Change anything later with /settings.\n\n" + HELP
    return [Reply(text, HOME_BUTTONS, kind=Kind.ONBOARDING, topic="done")]


def _finishing(step: Step) -> Step:
    """The same step, finishing onboarding when it is the last one answered."""

    async def apply(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
        out = await step.apply(ctx, frame, value, svc)
        if out.then is not None or out.asked:
            return out
        return Outcome([*out.replies, *await finish(ctx)], None, asked=True)

    return dataclasses.replace(step, apply=apply)


async def _reminders(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
    if value == "no":
        sched = await ctx.store.get_reminder(ctx.key)
        if sched is not None and sched.active:
            sched.active, sched.next_due_at = False, None
            await ctx.store.save_reminder(sched)
        text = "No reminders. You can turn them on any time with /remind."
        return Outcome([Reply(text, kind=Kind.ONBOARDING, topic="reminders"), *await finish(ctx)])
    if value == "custom":
        return Outcome([], "when")
    if value.startswith(WHEN):  # days and time typed straight away: "tue thu 7am"
        return await steps.when("timezone").apply(ctx, frame, value[len(WHEN) :], svc)
    frame.data["remind"] = True
    return Outcome([], "timezone")


WHEN = "when="
CHOICES = (
    Choice("Yes, remind me", "yes", ("yes", "yeah", "sure", "ok", "yep", "please")),
    Choice("Other days or time", "custom", ("other", "custom", "different")),
    Choice("No reminders", "no", ("no", "nope", "none")),
)


def _read_reminders(text: str) -> Parsed:
    """A button word, or days and a time typed instead of tapping "Other days or time"."""
    picked = match_choice(CHOICES, text)
    if picked is not None:
        return picked
    when = steps.read_when(text)
    return Answer(WHEN + when.value) if isinstance(when, Answer) else when


REMINDERS = Step(
    "reminders",
    "Want a reminder to train three times a week?",
    _reminders,
    CHOICES,
    parse=_read_reminders,
)

FLOW = Flow(
    NAME,
    {
        s.name: s
        for s in (
            steps.level("equipment"),
            steps.equipment("pain"),
            steps.pain("reminders"),
            steps.consent("reminders", in_setup=True),
            REMINDERS,
            steps.when("timezone"),
            steps.timezone("checkin"),
            _finishing(checkin.opt_in(None)),
        )
    },
    first="level",
    back="Back to setup:",
    buttons=(SKIP,),
    restart=RESTART,
)


async def start(ctx: Turn) -> Reply:
    """The greeting before the first question."""
    name = ctx.msg.display_name.split()[0] if ctx.msg.display_name.split() else "there"
    return Reply(
        f"Hi {name}! I'm backbot, your back-training coach. I give you a safe back workout for "
        "today, answer questions about back training and back pain, log your sessions and "
        "remind you to train 3× a week.\nA few quick questions to fit the plan to you. "
        + PRIVACY_SHORT,
        kind=Kind.ONBOARDING,
        topic="intro",
    )
