"""Steps that onboarding and settings share: level, equipment, pain, reminders, time zone.

Each factory takes the step that comes next in its flow (None: the flow ends there) and
returns a `Step`; the flow modules only arrange them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core import intents, reminders, workouts
from bot.core.flow import Answer, Choice, Invalid, Outcome, Parsed, Services, Step
from bot.core.ports import EQUIPMENT, LEVELS, Frame
from bot.core.text import clean, safe_echo
from bot.core.timezones import resolve_timezone
from bot.core.turn import Turn
from bot.core.types import Button, Kind, Reply

MAX_TZ_WORDS = 4  # a longer message at the time-zone step is a question, not a place


def _profile_choice(
    field: str,
    allowed: tuple[str, ...],
    question: str,
    choices: tuple[Choice, ...],
    then: str | None,
    shown: Callable[[str], str] = str,
) -> Step:
    """A step that sets one profile field to one of its choices, then says "Field: value."."""

    async def apply(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
        if value not in allowed:
            return Outcome.say("That choice isn't available any more.", field, field)
        setattr(ctx.profile, field, value)
        await ctx.save_profile()
        return Outcome.say(f"{field.capitalize()}: {shown(value)}.", field, then)

    return Step(field, question, apply, choices)


def level(then: str | None) -> Step:
    return _profile_choice(
        "level",
        LEVELS,
        "How would you describe your training level?",
        (
            Choice("Beginner", "beginner", ("beginner", "new", "novice", "never")),
            Choice("Intermediate", "intermediate", ("intermediate", "some", "medium")),
            Choice("Advanced", "advanced", ("advanced", "experienced", "expert")),
        ),
        then,
    )


def equipment(then: str | None) -> Step:
    return _profile_choice(
        "equipment",
        EQUIPMENT,
        "What equipment do you have for training?",
        (
            Choice("Nothing", "none", ("none", "nothing", "bodyweight")),
            Choice("Dumbbells", "dumbbells", ("dumbbells", "dumbbell", "weights")),
            Choice("Pull-up bar", "pullup_bar", ("bar", "pullup", "chinup")),
            Choice("Gym", "gym", ("gym", "machines", "barbell", "cables")),
        ),
        then,
        workouts.EQUIPMENT_NAMES.__getitem__,
    )


def read_pain(text: str) -> Parsed:
    """A pain score in words ("about a 5", "it's a 5", "five"); a clear re-ask for "11",
    "-1" or "not too bad" (a feeling, not a number); None for anything else."""
    p = intents.parse_pain(text, expecting=True)
    if p.kind == "score" and p.score is not None:
        return Answer(str(p.score))
    if p.kind == "out_of_range":
        return Invalid(f'"{safe_echo(p.raw, 20)}" is outside the scale.')
    if p.kind == "vague":
        return Invalid("Thanks. Could you put a number on it?")
    return None


def pain(then: str | None) -> Step:
    async def apply(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
        score = intents.parse_score(value)
        if score is None:
            return Outcome.say("Please send a number from 0 to 10.", "pain", "pain")
        if not ctx.profile.pain_consent:
            frame.data["score"] = score
            return Outcome([], "consent")
        return Outcome([await log_setup_pain(ctx, score)], then)

    choices = (
        Choice("None (0)", "0", ("none", "no", "nope")),
        Choice("Mild (1-3)", "2", ("mild",)),
        Choice("Moderate (4-6)", "5", ("moderate",)),
        Choice("Strong (7-10)", "8", ("strong", "severe")),
    )

    def parse(text: str) -> Parsed:
        t = clean(text)
        if t in ("none", "no", "nope", "mild", "moderate", "strong", "severe"):
            return next(Answer(c.value) for c in choices if t in c.words)
        return read_pain(text)

    return Step(
        "pain",
        "Any back pain right now? (0 = none, 10 = worst)",
        apply,
        choices,
        parse=parse,
        hint="Please send a number from 0 to 10, or tap a button.",
    )


def read_when(text: str) -> Parsed:
    """Days and a time ("tue thu 7am"): the text itself when it parses as a schedule."""
    if not reminders.looks_like_reminder_request(text) and not re.search(r"\d", text):
        return None
    try:
        req = reminders.parse_request(text)
    except reminders.ReminderParseError as e:
        return Invalid(e.message)
    if req.action != "set":
        return None
    return Answer(text[:200])


def when(then: str | None) -> Step:
    """Which days and time, for a custom schedule. Applied at once when the flow ends here;
    kept in the frame for the time-zone step otherwise (so it starts in the right zone)."""

    async def apply(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
        if then is not None:
            frame.data["when"] = value
            req = reminders.parse_request(value)
            days = reminders.format_days(req.days or reminders.DEFAULT_DAYS)
            at = f"{(req.at or reminders.DEFAULT_TIME):%H:%M}"
            return Outcome.say(f"{days} at {at}, once I know your time zone.", "when", then)
        return Outcome(await svc.reminding.handle(ctx, value), None)

    return Step(
        "when",
        "Which days and time? For example: tue thu 7am, or weekdays 18:30.",
        apply,
        parse=read_when,
        hint="Days and a time, please, like: mon wed fri 18:00.",
    )


def read_zone(text: str) -> Parsed:
    """A place or an offset. A long message or a question is not one (it gets answered);
    something without a letter or digit can't be one."""
    t = text.strip()
    if not t or len(t.split()) > MAX_TZ_WORDS or t.endswith("?"):
        return None
    if t.startswith("#") or not any(c.isalnum() for c in t):
        return Invalid(f'"{safe_echo(t, 20)}" isn\'t a time zone.')
    return Answer(t[:60])


def timezone(then: str | None) -> Step:
    async def apply(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
        match = resolve_timezone(value)
        if match.zone is None:
            buttons = tuple(Button(z, f"f:{frame.flow}:timezone:{z}") for z in match.suggestions)
            text = f'I don\'t know the time zone "{safe_echo(value)}". Try a city or an offset like +2.'
            if buttons:
                text += " Did you mean one of these?"
            reply = Reply(text, buttons, kind=Kind.ONBOARDING, topic="timezone_unknown")
            return Outcome([reply], "timezone", asked=True)
        ctx.profile.timezone = match.zone
        await ctx.save_profile()
        lines = [f"Time zone: {match.understood}."]
        sched = await ctx.store.get_reminder(ctx.key)
        wanted = frame.data.get("remind") or frame.data.get("when")
        if wanted or (sched is not None and sched.active):
            if isinstance(frame.data.get("when"), str):
                replies = await svc.reminding.handle(ctx, frame.data["when"])
                lines += [r.text for r in replies]
            else:
                # Reminders follow the new zone: the same local days and time, new instants.
                sched = sched or svc.reminding.new_schedule(ctx)
                await svc.reminding.activate(ctx, sched)
                lines.append(
                    reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
                )
        return Outcome.say("\n".join(lines), "timezone", then)

    def current(ctx: Turn, frame: Frame) -> tuple[Button, ...]:
        z = ctx.profile.timezone
        return (Button(z, f"f:{frame.flow}:timezone:{z}"),) if z != "UTC" else ()

    return Step(
        "timezone",
        "Which time zone are you in? Type a city or a UTC offset (e.g. Berlin, New York, +2).",
        apply,
        (Choice("UTC", "UTC", ("utc", "gmt")),),
        parse=read_zone,
        extra_buttons=current,
        hint="Type a city or an offset like +2.",
    )


async def log_setup_pain(ctx: Turn, score: int) -> Reply:
    """The setup question's pain score, stored (consent given), with its one-line note."""
    await ctx.ensure_profile()
    await ctx.store.log_pain(ctx.key, score, ctx.now)
    gentle = " I'll start you on the gentle plan." if score >= workouts.GENTLE_PAIN else ""
    return Reply(f"Pain {score}/10 noted.{gentle}", kind=Kind.ONBOARDING, topic="pain")


CONSENT_QUESTION = (
    "Before I keep your first pain score: I store pain scores only to fit your workouts to "
    "how your back feels and to show your trend. Only you see them; /export or /forget any "
    "time. OK to store them?"
)


def consent(then: str | None, *, in_setup: bool) -> Step:
    """Ask once before the first pain score is stored; the score waits in the frame."""

    async def apply(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
        raw = frame.data.get("score")
        score = intents.parse_score(str(raw)) if raw is not None else None
        if value != "yes":
            text = (
                "Okay, I won't store pain scores. If your back is bad on a given day, "
                "/today gentle gives the gentle plan."
            )
            return Outcome.say(text, "consent_no", then)
        ctx.profile.pain_consent = True
        await ctx.save_profile()
        if score is None:
            return Outcome.say("Thanks. Send /pain with a number any time.", "consent", then)
        if in_setup:
            return Outcome([await log_setup_pain(ctx, score)], then)
        return Outcome(await svc.record_pain(ctx, score), then)

    return Step(
        "consent",
        CONSENT_QUESTION,
        apply,
        (
            Choice("Yes, store them", "yes", ("yes", "y", "ok", "okay", "sure", "yep", "fine")),
            Choice("No, don't", "no", ("no", "n", "nope", "dont", "don t")),
        ),
    )
