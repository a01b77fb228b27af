"""Multi-step conversations as state machines, and the engine that runs them on a stack.

A `Flow` is a table of `Step`s. Each step declares what it asks (question and buttons), how it
reads a typed answer (`parse`: an answer, a "did you mean?", a clear "not valid", or "not an
answer at all"), and what it does with the value (`apply`, which says which step comes next).
Flows live in `bot.core.flows`, one module each; nothing here knows any particular flow.

The user's flows are a stack (`Conversation.frames`): starting a flow while in another pushes it
on top; when it ends, the flow underneath asks its question again. A message that is not an
answer is answered as usual by the router, and a sticky flow's question comes back after it;
a non-sticky flow (a settings question) is simply dropped. Frames expire after `Flow.ttl`
without an answer, and the user is told if they answer an expired question.

Button payloads are "f:<flow>:<step>:<value>", so a button always says which question it
answers: pressing an old one never applies a value to a different step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.messages import HOME_BUTTONS
from bot.core.ports import Frame
from bot.core.text import clean
from bot.core.turn import Turn
from bot.core.types import Button, Kind, Reply

if TYPE_CHECKING:
    from bot.core.reminding import Reminding
    from bot.kb import Screening

FLOW_TTL = timedelta(minutes=30)
PREFIX = "f"
NO = "_no"  # the "No" under a "did you mean?" question
CONFIRM = "_confirm"  # frame data: the value a "did you mean?" question offers


# ---------------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class Answer:
    value: str


@dataclass(frozen=True, slots=True)
class Confirm:
    """Probably an answer: ask "did you mean …?" with Yes/No before applying `value`."""

    value: str
    question: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """Clearly meant as an answer, but unusable ("11" for a 0-10 score): say why, ask again."""

    message: str


Parsed = Answer | Confirm | Invalid | None  # None: not an answer; the router answers it


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    value: str
    words: tuple[str, ...] = ()


def match_choice(choices: tuple[Choice, ...], text: str) -> Parsed:
    """The choice a typed answer clearly picks: the whole message is a label, value or word,
    or a short message (up to four words, not a question) names exactly one choice."""
    t = clean(text)
    for c in choices:
        if t in (c.value, c.label.lower()) or t in c.words:
            return Answer(c.value)
    words = t.split()
    if not words or len(words) > 4 or text.rstrip().endswith("?"):
        return None
    hits = {c.value for c in choices if set(words) & set(c.words)}
    return Answer(hits.pop()) if len(hits) == 1 else None


# ---------------------------------------------------------------------------------- steps


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying a value did: replies, and the step that comes next (None: the flow ends).
    `asked`: the replies already ask the next question (do not append it)."""

    replies: list[Reply] = field(default_factory=list)
    then: str | None = None
    asked: bool = False

    @classmethod
    def say(cls, text: str, topic: str | None = None, then: str | None = None) -> Outcome:
        return cls([Reply(text, kind=Kind.ONBOARDING, topic=topic)], then)


@dataclass(slots=True)
class Services:
    """What flows may call besides the store: bound by the composition of `Dialogue`."""

    reminding: Reminding
    record_pain: Callable[[Turn, int], Awaitable[list[Reply]]]
    answer: Callable[[Turn, str], Awaitable[list[Reply]]]  # as if the user had sent it now
    red_flag: Callable[[Turn, str], Awaitable[list[Reply]]]  # the answer for a red-flag id
    screening: Screening | None = None


Apply = Callable[[Turn, Frame, str, Services], Awaitable[Outcome]]
Question = str | Callable[[Turn, Frame], str]
ButtonsFn = Callable[[Turn, Frame], tuple[Button, ...]]


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    question: Question
    apply: Apply
    choices: tuple[Choice, ...] = ()
    parse: Callable[[str], Parsed] | None = None  # default: match_choice on `choices`
    extra_buttons: ButtonsFn | None = None  # shown before the choices (e.g. the current zone)
    hint: str = "Please pick one of the buttons."

    def read(self, text: str) -> Parsed:
        return self.parse(text) if self.parse else match_choice(self.choices, text)


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    steps: Mapping[str, Step]
    first: str
    back: str  # lead when its question comes back: "Back to setup:"
    sticky: bool = True  # comes back after an interruption; else dropped by one
    buttons: tuple[Button, ...] = ()  # under every question (Skip setup)
    restart: Button | None = None  # offered when the flow expired
    starts_from_button: bool = False  # its buttons work with no frame (settings)
    ttl: timedelta = FLOW_TTL


def action(flow: str, step: str, value: str) -> str:
    return f"{PREFIX}:{flow}:{step}:{value}"


def parse_action(rest: str) -> tuple[str, str, str] | None:
    """ "onboarding:level:beginner" (after "f:") -> its parts, or None."""
    flow, sep1, tail = rest.partition(":")
    step, sep2, value = tail.partition(":")
    return (flow, step, value) if sep1 and sep2 else None


# ---------------------------------------------------------------------------------- engine


class FlowEngine:
    """Runs the flows of one `Dialogue` on the turn's `Conversation`."""

    def __init__(self, flows: Mapping[str, Flow], services: Services) -> None:
        self.flows = flows
        self.services = services

    # -- reading the stack

    def active(self, ctx: Turn) -> tuple[Flow, Frame] | None:
        frame = ctx.conversation.top
        if frame is None:
            return None
        flow = self.flows.get(frame.flow)
        if flow is None or frame.step not in flow.steps:
            ctx.conversation.frames.pop()  # a flow this version no longer has
            return self.active(ctx)
        return flow, frame

    def expire(self, ctx: Turn) -> list[Frame]:
        """Drop frames nobody answered within their flow's ttl; return them."""
        gone = [f for f in ctx.conversation.frames if self._stale(ctx, f)]
        if gone:
            ctx.conversation.frames = [f for f in ctx.conversation.frames if f not in gone]
        return gone

    def _stale(self, ctx: Turn, frame: Frame) -> bool:
        flow = self.flows.get(frame.flow)
        ttl = flow.ttl if flow else FLOW_TTL
        return frame.asked_at is None or ctx.now - frame.asked_at > ttl

    def would_answer(self, frame: Frame, text: str) -> bool:
        """Whether `text` reads as an answer to the frame's question (for expiry notes)."""
        flow = self.flows.get(frame.flow)
        step = flow.steps.get(frame.step) if flow else None
        return step is not None and isinstance(step.read(text), Answer | Confirm | Invalid)

    def expired_note(self, frame: Frame) -> Reply:
        flow = self.flows.get(frame.flow)
        restart = (flow.restart,) if flow and flow.restart else ()
        minutes = int((flow.ttl if flow else FLOW_TTL).total_seconds() // 60)
        return Reply(
            f"That question expired ({minutes} minutes without an answer), so I didn't use "
            "your reply." + (" Tap below to pick it up again." if restart else ""),
            (*restart, *HOME_BUTTONS),
            kind=Kind.ONBOARDING,
            topic="expired",
        )

    # -- asking

    def ask(self, ctx: Turn, flow: Flow, frame: Frame, lead: str = "") -> Reply:
        step = flow.steps[frame.step]
        frame.asked_at = ctx.now
        q = step.question if isinstance(step.question, str) else step.question(ctx, frame)
        extra = step.extra_buttons(ctx, frame) if step.extra_buttons else ()
        buttons = (
            *extra,
            *(Button(c.label, action(flow.name, step.name, c.value)) for c in step.choices),
            *flow.buttons,
        )
        text = f"{lead} {q}" if lead else q
        return Reply(text, buttons, kind=Kind.ONBOARDING, topic=step.name)

    def reask(self, ctx: Turn, lead: str | None = None) -> Reply | None:
        """The top flow's question again, after something else was answered."""
        got = self.active(ctx)
        if got is None:
            return None
        flow, frame = got
        return self.ask(ctx, flow, frame, flow.back if lead is None else lead)

    async def start(
        self, ctx: Turn, name: str, step: str | None = None, data: dict[str, object] | None = None
    ) -> list[Reply]:
        """Push a flow (replacing the same flow lower on the stack) and ask its first step."""
        flow = self.flows[name]
        self.drop_loose(ctx)
        ctx.conversation.frames = [f for f in ctx.conversation.frames if f.flow != name]
        frame = Frame(name, step or flow.first, dict(data or {}), ctx.now)
        ctx.conversation.frames.append(frame)
        return [self.ask(ctx, flow, frame)]

    def drop_loose(self, ctx: Turn) -> None:
        """Something else is happening: non-sticky flows on top of the stack give way."""
        while (got := self.active(ctx)) is not None and not got[0].sticky:
            ctx.conversation.frames.pop()

    def cancel(self, ctx: Turn) -> bool:
        had = bool(ctx.conversation.frames)
        ctx.conversation.frames.clear()
        return had

    # -- answering

    async def text(self, ctx: Turn, text: str) -> list[Reply] | None:
        """A typed message while a flow is active; None when it is not an answer."""
        got = self.active(ctx)
        if got is None:
            return None
        flow, frame = got
        step = flow.steps[frame.step]
        pending = frame.data.get(CONFIRM)
        if isinstance(pending, str):
            yes_no = _yes_no(clean(text))
            if yes_no is not None:
                return await self._apply(ctx, flow, frame, pending if yes_no else NO)
        parsed = step.read(text)
        if parsed is None:
            return None
        if isinstance(parsed, Invalid):
            return [self.ask(ctx, flow, frame, parsed.message)]
        if isinstance(parsed, Confirm):
            frame.data[CONFIRM] = parsed.value
            frame.asked_at = ctx.now
            buttons = (
                Button("Yes", action(flow.name, step.name, parsed.value)),
                Button("No", action(flow.name, step.name, NO)),
            )
            return [Reply(parsed.question, buttons, kind=Kind.ONBOARDING, topic="confirm")]
        return await self._apply(ctx, flow, frame, parsed.value)

    async def button(self, ctx: Turn, rest: str) -> list[Reply]:
        parts = parse_action(rest)
        flow = self.flows.get(parts[0]) if parts else None
        if parts is None or flow is None or parts[1] not in flow.steps:
            return [_expired_button()]
        _, step, value = parts
        frames = ctx.conversation.frames
        at = next((i for i in range(len(frames) - 1, -1, -1) if frames[i].flow == flow.name), None)
        if at is not None and frames[at].step == step:
            del frames[at + 1 :]  # back to that question: what was on top of it is done with
            return await self._apply(ctx, flow, frames[at], value)
        if not flow.starts_from_button:
            return [_expired_button()]
        self.drop_loose(ctx)
        frame = Frame(flow.name, step, {}, ctx.now)
        frames.append(frame)
        return await self._apply(ctx, flow, frame, value)

    async def _apply(self, ctx: Turn, flow: Flow, frame: Frame, value: str) -> list[Reply]:
        frame.data.pop(CONFIRM, None)
        if value == NO:
            return [self.ask(ctx, flow, frame, "Okay.")]
        outcome = await flow.steps[frame.step].apply(ctx, frame, value, self.services)
        replies = list(outcome.replies)
        if frame not in ctx.conversation.frames:
            return replies  # the step cleared the conversation (or started another flow)
        if outcome.then is None:
            ctx.conversation.frames.remove(frame)
            if ctx.conversation.frames and not outcome.asked:
                back = self.reask(ctx)
                if back is not None:
                    replies.append(back)
            return replies
        frame.step = outcome.then
        frame.asked_at = ctx.now
        if not outcome.asked:
            replies.append(self.ask(ctx, flow, frame))
        return replies


def _expired_button() -> Reply:
    return Reply(
        "That question has expired. What would you like to do?",
        HOME_BUTTONS,
        kind=Kind.COMMAND,
        topic="expired",
    )


YES_WORDS = frozenset({"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "correct", "right"})
NO_WORDS = frozenset({"no", "n", "nope", "nah", "not really", "wrong"})


def _yes_no(t: str) -> bool | None:
    if t in YES_WORDS or t.startswith("yes "):
        return True
    if t in NO_WORDS or t.startswith("no "):
        return False
    return None
