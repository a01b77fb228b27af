"""The red-flag screening question: asked when the model is unsure about a message.

"Do you have any of these?" Yes -> which one (-> that flag's urgent answer); No -> the message
the user sent is answered as usual. The message waits in the frame meanwhile.
"""

from __future__ import annotations

from bot.core.flow import Choice, Flow, Outcome, Services, Step
from bot.core.ports import Frame
from bot.core.turn import Turn
from bot.core.types import Kind, Reply

NAME = "screen"
MARK = "screened_at"  # Conversation.marks: when the question was last asked
MAX_PENDING_CHARS = 4000


async def _yes_no(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
    if value == "yes":
        return Outcome([], "which")
    ctx.conversation.frames.remove(frame)
    original = str(frame.data.get("text", ""))
    head = Reply("Thanks, that's reassuring.", kind=Kind.SCREEN, topic="screen_no")
    rest = await svc.answer(ctx, original) if original else []
    return Outcome([head, *rest], None, asked=True)


async def _which(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
    items = svc.screening.items if svc.screening else ()
    i = int(value) if value.isdecimal() and len(value) < 3 else -1
    ctx.conversation.frames.remove(frame)
    if 0 <= i < len(items):
        return Outcome(await svc.red_flag(ctx, items[i].flag), None, asked=True)
    return Outcome([], None, asked=True)


def build(question: str, labels: tuple[str, ...]) -> Flow:
    """The flow for a knowledge base's screening question and its items' labels."""
    return Flow(
        NAME,
        {
            "ask": Step(
                "ask",
                question,
                _yes_no,
                (
                    Choice("Yes, one of these", "yes", ("yes", "y", "yeah", "yep", "i do")),
                    Choice("No, none of these", "no", ("no", "n", "nope", "nah", "none")),
                ),
            ),
            "which": Step(
                "which",
                "Which one? Tap the closest.",
                _which,
                tuple(Choice(label, str(i)) for i, label in enumerate(labels)),
            ),
        },
        first="ask",
        back="Back to my question:",
        sticky=False,
    )
