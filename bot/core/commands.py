"""The command table shared by every adapter: names, descriptions and their one argument."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command. `arg` names its single optional argument (for Discord options)."""

    name: str
    description: str
    arg: str | None = None
    arg_description: str = ""


COMMANDS: tuple[Command, ...] = (
    Command("start", "Start or restart the coach"),
    Command("help", "What I can do"),
    Command("today", "Today's back workout"),
    Command("ask", "Ask a back-training question", "question", "Your question"),
    Command("done", "Log today's workout"),
    Command("pain", "Record your back pain (0-10)", "score", "0 = none, 10 = worst"),
    Command("remind", "Set reminder days and time", "when", "e.g. mon wed fri 18:30"),
    Command("stop", "Stop reminders"),
    Command("settings", "Change level, equipment, time zone"),
    Command("progress", "Your week, streak and chart"),
    Command("forget", "Delete everything I know about you"),
    Command("about", "Who made me and where answers come from"),
)

COMMAND_NAMES = frozenset(c.name for c in COMMANDS)
