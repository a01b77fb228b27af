"""The weekly check-in: three one-tap questions (average pain, daily life, confidence), opt-in.

It rides on the week's first reminder: `ride` adds the first question and its buttons to that
nudge, so it never comes as a message of its own. Its buttons work without a frame (the nudge
was sent outside any turn), and each answer is stored as it comes, so one tap is never lost.
`opt_in` is the yes/no step that onboarding and /settings share. Tracking, not diagnosis.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.core import intents, progress
from bot.core.flow import Answer, Choice, Flow, Invalid, Outcome, Parsed, Services, Step, action
from bot.core.flows.steps import read_pain
from bot.core.ports import CheckIn, Frame
from bot.core.text import clean
from bot.core.turn import Turn
from bot.core.types import Button, Kind, Reply

NAME = "checkin"
ASKED = "checkin_asked"  # Conversation.marks: the Monday of the last week it rode on a nudge
SEVERE = 8

PAIN_Q = (
    "Weekly check-in 1/3 (just for tracking): your average back pain over the past 7 days? "
    "0 = none, 10 = worst."
)
LIFE_Q = "2/3: How much did back pain get in the way of daily life this week?"
CONFIDENCE_Q = "3/3: How confident are you in managing your back? 1 = not at all, 5 = very."

LIFE = (
    Choice("Not at all", "0", ("not at all", "none", "no", "nope")),
    Choice("A little", "1", ("little", "bit", "slightly")),
    Choice("Quite a bit", "2", ("quite", "fair", "moderately")),
    Choice("A lot", "3", ("lot", "lots", "very", "hugely")),
)
LIFE_WORDS = {c.value: c.label.lower() for c in LIFE}
CONFIDENCE = tuple(Choice(str(n), str(n)) for n in range(1, 6))
PAIN_BUTTONS = tuple(Button(str(n), action(NAME, "pain", str(n))) for n in range(11))
AFTER = (Button("My progress", "progress"), Button("Today's workout", "today"))


def _read_confidence(text: str) -> Parsed:
    t = clean(text).removesuffix(" out of 5").removesuffix("/5").strip()
    if t.isdigit():
        n = int(t)
        return Answer(t) if 1 <= n <= 5 else Invalid(f"{n} is outside 1-5.")
    return None


async def _save(ctx: Turn, field: str, value: int) -> CheckIn:
    """This week's check-in with one more answer, stored now."""
    week = progress.week_start(ctx.today)
    got = await ctx.store.checkins_since(ctx.key, week)
    current = got[0] if got and got[0].week == week else CheckIn(week, ctx.now)
    changes: dict[str, Any] = {"at": ctx.now, field: value}
    updated = dataclasses.replace(current, **changes)
    await ctx.ensure_profile()
    await ctx.store.save_checkin(ctx.key, updated)
    return updated


async def _pain(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
    score = intents.parse_score(value)
    if score is None:
        return Outcome.say("Please pick a number from 0 to 10.", "checkin_pain", "pain")
    await _save(ctx, "pain", score)
    return Outcome([], "life")


async def _life(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
    if value not in LIFE_WORDS:
        return Outcome.say("Please pick one of the buttons.", "checkin_life", "life")
    await _save(ctx, "interference", int(value))
    return Outcome([], "confidence")


async def _confidence(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
    if not value.isdigit() or not 1 <= int(value) <= 5:
        return Outcome.say("Please pick 1 to 5.", "checkin_confidence", "confidence")
    got = await _save(ctx, "confidence", int(value))
    parts = []
    if got.pain is not None:
        parts.append(f"pain {got.pain}/10")
    if got.interference is not None:
        parts.append(f"daily life: {LIFE_WORDS[str(got.interference)]}")
    parts.append(f"confidence {got.confidence}/5")
    lines = [f"Thanks, noted: {' · '.join(parts)}. Your trend is in /progress."]
    if got.pain is not None and got.pain >= SEVERE:
        lines.append(
            "That's a lot of pain. If it isn't easing with rest and painkillers, talk to your "
            "GP or call NHS 111."
        )
    lines.append("This is for tracking, not a diagnosis.")
    return Outcome([Reply("\n".join(lines), AFTER, kind=Kind.COMMAND, topic="checkin_done")])


FLOW = Flow(
    NAME,
    {
        "pain": Step(
            "pain",
            PAIN_Q,
            _pain,
            parse=read_pain,
            extra_buttons=lambda ctx, frame: PAIN_BUTTONS,
            hint="Please send a number from 0 to 10, or tap one.",
        ),
        "life": Step("life", LIFE_Q, _life, LIFE),
        "confidence": Step(
            "confidence",
            CONFIDENCE_Q,
            _confidence,
            CONFIDENCE,
            parse=_read_confidence,
            hint="Please send 1 to 5, or tap one.",
        ),
    },
    first="pain",
    back="Back to your weekly check-in:",
    starts_from_button=True,  # the first question comes on a reminder, outside any turn
)


async def ride(ctx: Turn, nudge: Reply) -> Reply:
    """The nudge with the check-in's first question added, on the week's first reminder of a
    user who opted in and has not checked in this week; the nudge as it was otherwise."""
    if not ctx.profile.checkin:
        return nudge
    week = progress.week_start(ctx.today)
    if ctx.conversation.marks.get(ASKED) == week.isoformat():
        return nudge
    if any(c.week == week for c in await ctx.store.checkins_since(ctx.key, week)):
        return nudge
    ctx.conversation.marks[ASKED] = week.isoformat()
    return dataclasses.replace(
        nudge, text=f"{nudge.text}\n\n{PAIN_Q}", buttons=(*nudge.buttons, *PAIN_BUTTONS)
    )


OPT_IN_Q = (
    "Want a weekly check-in? Three one-tap questions with your first reminder of the week "
    "(pain, daily life, confidence), stored to show your trend and to pace your plan. "
    "/forget deletes them."
)


def opt_in(then: str | None) -> Step:
    """Yes or no to the weekly check-in (onboarding and /settings)."""

    async def apply(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
        ctx.profile.checkin = value == "yes"
        await ctx.save_profile()
        if not ctx.profile.checkin:
            return Outcome.say("Weekly check-in: off.", "checkin", then)
        sched = await ctx.store.get_reminder(ctx.key)
        note = (
            ""
            if sched and sched.active
            else " It comes with your reminders: /remind to turn them on."
        )
        return Outcome.say(f"Weekly check-in: on.{note}", "checkin", then)

    return Step(
        "checkin",
        OPT_IN_Q,
        apply,
        (
            Choice("Yes, check in weekly", "yes", ("yes", "y", "ok", "okay", "sure", "yep")),
            Choice("No thanks", "no", ("no", "n", "nope", "no thanks")),
        ),
    )
