"""What the bot can do, as one table: each feature's commands, button actions and free-text
intents. The router (`bot.core.dialogue`), the Telegram command menu, the Discord slash
commands and /help are all generated from `FEATURES`.

/help lists features in table order; free-text intents are tried in `INTENT_ORDER`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core import intents, reminders


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command. `arg` names its single optional argument (for Discord options)."""

    name: str
    description: str
    arg: str | None = None
    arg_description: str = ""


@dataclass(frozen=True, slots=True)
class Said:
    """A message as intents read it: the raw text and its cleaned form."""

    raw: str
    clean: str


Intent = Callable[[Said], bool]


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    commands: tuple[Command, ...] = ()
    actions: tuple[str, ...] = ()  # button-action heads: "today" matches "today" and "today:…"
    intents: tuple[Intent, ...] = ()
    help: str = ""  # its line in /help


FEATURES: tuple[Feature, ...] = (
    Feature("start", (Command("start", "Start or restart the coach"),), ("start", "ob")),
    Feature(
        "help",
        (
            Command("help", "What I can do"),
            Command("about", "Who made me and where answers come from"),
            Command("sources", "The health sources behind my answers"),
        ),
        ("help",),
        (lambda s: intents.is_help_request(s.clean),),
    ),
    Feature(
        "today",
        (Command("today", "Today's back workout"),),
        ("today",),
        (
            lambda s: intents.is_workout_request(s.clean),
            lambda s: intents.short_session_minutes(s.clean) is not None,
            lambda s: intents.is_other_session_request(s.clean),
        ),
        "/today — today's back workout",
    ),
    Feature(
        "ask",
        (Command("ask", "Ask a back-training question", "question", "Your question"),),
        ("faq", "ex"),
        (),
        'Ask me anything, e.g. "how long should I hold a plank?"',
    ),
    Feature(
        "reminders",
        (
            Command("remind", "Set reminder days and time", "when", "e.g. mon wed fri 18:30"),
            Command("stop", "Stop reminders"),
        ),
        ("rem",),
        (lambda s: reminders.looks_like_reminder_request(s.raw),),
        "/remind mon wed fri 18:00 — reminders · /stop to end them",
    ),
    Feature(
        "done",
        (Command("done", "Log today's workout"),),
        ("done",),
        (lambda s: intents.is_log_request(s.clean),),
        "/done — log a workout",
    ),
    Feature(
        "pain",
        (Command("pain", "Record your back pain (0-10)", "score", "0 = none, 10 = worst"),),
        ("pain",),
        (lambda s: intents.parse_pain(s.raw, expecting=False).kind == "score",),
        "/pain 0-10 — log your back pain",
    ),
    Feature(
        "progress",
        (Command("progress", "Your week, streak and chart"),),
        ("progress",),
        (lambda s: intents.is_progress_request(s.clean),),
        "/progress — your week, streak and chart",
    ),
    # Progression buttons: "Ready for a step up?" [Yes] [Not yet], and "Too hard?" after /done.
    Feature("progression", actions=("prog",)),
    Feature(
        "settings",
        (Command("settings", "Change level, equipment, time zone"),),
        ("settings",),
        (),
        "/settings — level, equipment, time zone",
    ),
    Feature(
        "forget",
        (Command("forget", "Delete everything I know about you"),),
        (),
        (),
        "/forget — delete everything I store about you",
    ),
    Feature(
        "cancel",
        (Command("cancel", "Leave what we're doing"),),
        (),
        (),
        "/cancel — leave a question",
    ),
    Feature(
        "privacy",
        (
            Command("privacy", "What I store about you, and why"),
            Command("export", "Your data as a file"),
        ),
        (),
        (),
        "/privacy · /export — what I store; your data as a file",
    ),
)

COMMANDS: tuple[Command, ...] = tuple(c for f in FEATURES for c in f.commands)
BY_COMMAND: dict[str, Feature] = {c.name: f for f in FEATURES for c in f.commands}
BY_ACTION: dict[str, Feature] = {a: f for f in FEATURES for a in f.actions}

HELP = "\n".join(
    [
        "**What I can do**",
        *(f"• {f.help}" for f in FEATURES if f.help),
        "• /about · /sources — who made me; the health sources behind my answers",
        "I coach; I don't diagnose. Severe or unusual symptoms need a doctor.",
    ]
)


# Free-text intents are tried in this order (a reminder request can mention today's workout).
INTENT_ORDER = ("help", "reminders", "done", "pain", "progress", "today")
_BY_NAME = {f.name: f for f in FEATURES}
assert set(INTENT_ORDER) == {f.name for f in FEATURES if f.intents}, "every intent is ordered"


def intent_of(said: Said) -> Feature | None:
    """The first feature (in INTENT_ORDER) whose intent matches the message."""
    for name in INTENT_ORDER:
        feature = _BY_NAME[name]
        if any(i(said) for i in feature.intents):
            return feature
    return None
