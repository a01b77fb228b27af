"""/pain with no score: ask for one, and read it in the user's words ("about a 5", "five")."""

from __future__ import annotations

from bot.core import intents
from bot.core.flow import Flow, Outcome, Services, Step
from bot.core.flows.steps import consent, read_pain
from bot.core.ports import Frame
from bot.core.turn import Turn
from bot.core.types import Button

NAME = "pain"
QUESTION = "How is your back today, from 0 (no pain) to 10 (worst)?"


async def _record(ctx: Turn, frame: Frame, value: str, svc: Services) -> Outcome:
    score = intents.parse_score(value)
    if score is None:
        return Outcome.say("Please send a number from 0 to 10.", "pain", "score")
    return Outcome(await svc.record_pain(ctx, score), None)


def _buttons(ctx: Turn, frame: Frame) -> tuple[Button, ...]:
    return tuple(Button(str(n), f"f:{NAME}:score:{n}") for n in (0, 2, 4, 6, 8, 10))


FLOW = Flow(
    NAME,
    {
        "score": Step(
            "score",
            QUESTION,
            _record,
            parse=read_pain,
            extra_buttons=_buttons,
            hint="Please send a number from 0 to 10, like 3.",
        ),
        "consent": consent(None, in_setup=False),
    },
    first="score",
    back="Back to your pain score:",
    starts_from_button=True,
)
