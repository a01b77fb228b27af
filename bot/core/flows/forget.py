"""/forget: delete everything only after an explicit yes (typed or tapped)."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.core.flow import Choice, Flow, Outcome, Services, Step
from bot.core.messages import HOME_BUTTONS
from bot.core.ports import Frame
from bot.core.turn import Turn
from bot.core.types import Reply

logger = logging.getLogger(__name__)

NAME = "forget"
QUESTION = (
    "This deletes your profile, workout and pain logs, reminders and everything else I store "
    "about you. It can't be undone. Are you sure?"
)


async def _confirm(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
    if value != "yes":
        return Outcome([Reply("Okay, nothing was deleted.", HOME_BUTTONS, topic="forget_no")])
    n = await ctx.store.forget(ctx.key)
    logger.info("forgot a %s user (%d rows)", ctx.key.platform, n)
    ctx.conversation.frames.clear()
    ctx.conversation.marks.clear()
    ctx.forgotten = True
    text = (
        f"Done. I deleted everything I had stored about you ({n} records). "
        "Send /start if you ever want to begin again."
    )
    return Outcome([Reply(text, topic="forgotten")])


FLOW = Flow(
    NAME,
    {
        "confirm": Step(
            "confirm",
            QUESTION,
            _confirm,
            (
                Choice("Yes, delete everything", "yes", ("yes", "delete", "y", "yep")),
                Choice("Cancel", "no", ("no", "cancel", "nope", "n")),
            ),
        )
    },
    first="confirm",
    back="Back to deleting your data:",
    sticky=False,
    ttl=timedelta(minutes=5),  # a destructive confirmation is short-lived, and works once
)
