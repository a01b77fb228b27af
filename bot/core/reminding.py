"""Reminder conversations: set, change, pause, stop and show a schedule; snooze and skip buttons.

The schedule math lives in bot.core.reminders; this module talks to the user and the store.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core import flow, reminders
from bot.core.ports import ReminderSchedule, Store
from bot.core.text import safe_echo
from bot.core.turn import Defaults, Turn
from bot.core.types import Button, Kind, Reply

NOTHING_TO = (
    "You have no reminders on, so there's nothing to {action}. "
    "Send /remind mon wed fri 18:00 to set some."
)


def ignored_line(ignored: tuple[str, ...]) -> str:
    """One line owning up to what a request left out: I didn't understand "xyz", so ..."""
    quoted = ", ".join(f'"{safe_echo(fragment)}"' for fragment in ignored)
    return f"I didn't understand {quoted}, so I left it out."


class Reminding:
    """Handles every reminder request; `handle` takes the user's words or /remind arguments."""

    def __init__(self, store: Store, defaults: Defaults) -> None:
        self.store = store
        self.defaults = defaults

    def new_schedule(self, ctx: Turn) -> ReminderSchedule:
        """The default schedule (REMINDER_DAYS at REMINDER_TIME), sent privately to the user."""
        d = self.defaults
        return ReminderSchedule(
            ctx.key, ctx.key.user_id, d.reminder_days, d.reminder_time, ctx.profile.timezone
        )

    async def activate(self, ctx: Turn, sched: ReminderSchedule) -> None:
        """Turn a schedule on in the user's current time zone and work out its next reminder."""
        sched.timezone = ctx.profile.timezone
        sched.active = True
        sched.next_due_at = reminders.next_due(
            sched.days, sched.at, sched.timezone, ctx.now, sched.paused_until
        )
        await self.store.save_reminder(sched)

    async def handle(self, ctx: Turn, text: str) -> list[Reply]:
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
                        (Button("Turn on reminders", flow.action("settings", "reminders", "yes")),),
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
        if (req.action == "pause" and (sched is None or not sched.active)) or (
            req.action == "resume" and sched is None
        ):
            # Pausing nothing must not switch on a default schedule. Resuming a stopped
            # schedule turns it back on ("turn my reminders back on" after /stop).
            return [
                Reply(NOTHING_TO.format(action=req.action), kind=Kind.REMINDER, topic=req.action)
            ]
        await ctx.ensure_profile()
        sched = sched or self.new_schedule(ctx)
        if req.action == "pause":
            sched.paused_until = reminders.pause_until(ctx.today, req.weeks)
        elif req.action == "resume":
            sched.paused_until = None
        else:
            sched.days = req.days or sched.days
            sched.at = req.at or sched.at
            sched.paused_until = None
        await self.activate(ctx, sched)
        text = reminders.describe(sched.days, sched.at, sched.timezone, sched.next_due_at)
        if req.bare_hour and req.at is not None:
            text += (
                f"\n(I read that as {req.at:%H:%M} on a 24-hour clock; say 8pm for the evening.)"
            )
        if req.action == "pause":
            text = f"Paused until {sched.paused_until:%a %d %b}. " + text
        if req.ignored:
            text += "\n" + ignored_line(req.ignored)
        text += "\nWrong time zone? Change it in /settings."
        return [Reply(text, kind=Kind.REMINDER, topic=req.action)]

    async def pause_for_health(self, ctx: Turn, days: int) -> bool:
        """Pause an active schedule for `days` after a see-a-doctor reply (True if paused)."""
        sched = await self.store.get_reminder(ctx.key)
        if sched is None or not sched.active:
            return False
        until = ctx.today + timedelta(days=days)
        if sched.paused_until is None or sched.paused_until < until:
            sched.paused_until = until
            await self.activate(ctx, sched)
        return True

    async def button(self, ctx: Turn, what: str) -> list[Reply]:
        sched = await self.store.get_reminder(ctx.key)
        if what == "resume" and sched is not None and sched.active:
            sched.paused_until = None
            await self.activate(ctx, sched)
            text = "Okay, reminders stay on. " + reminders.describe(
                sched.days, sched.at, sched.timezone, sched.next_due_at
            )
            return [Reply(text, kind=Kind.REMINDER, topic="resume")]
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
