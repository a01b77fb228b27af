"""The console adapter: chat with backbot in a terminal (`backbot chat`).

Buttons are shown as numbered options; typing `#2` (or the button's label) presses the button,
while a plain number is text (so "/pain" can be answered with "6"). Images (the progress chart)
are written to a temporary PNG file whose path is printed.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import tempfile
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.adapters.render import to_plain
from bot.core.types import Address, Button, Incoming, Reply
from bot.errors import TransientError

PROMPT = "you> "
BYE = {"quit", "exit", "/quit", "/exit", "bye!"}


class ConsoleChat:
    """A read-eval-print loop over the dialogue core."""

    def __init__(
        self,
        handler: Callable[[Incoming], Awaitable[list[Reply]]],
        *,
        user_id: str | None = None,
        out: TextIO | None = None,
        read: Callable[[str], str] = input,
    ) -> None:
        self.handler = handler
        self.user_id = user_id or getpass.getuser()
        self.out = out or sys.stdout
        self.read = read
        self.buttons: list[Button] = []

    def show(self, reply: Reply) -> None:
        self.out.write("bot> " + to_plain(reply.text).replace("\n", "\n     ") + "\n")
        if reply.image:
            with tempfile.NamedTemporaryFile("wb", suffix=".png", delete=False) as f:
                f.write(reply.image)
            self.out.write(f"     [chart saved to {f.name}]\n")
        if reply.document:
            name, content = reply.document
            with tempfile.NamedTemporaryFile("wb", suffix="-" + name, delete=False) as f:
                f.write(content)
            self.out.write(f"     [file saved to {f.name}]\n")
        for n, b in enumerate(reply.buttons, 1):
            self.out.write(f"     [#{n}] {b.label}\n")
        self.out.flush()

    def to_incoming(self, line: str) -> Incoming:
        """`#N` or a button's exact label presses that button of the last replies; else text."""
        action = None
        if (
            line.startswith("#")
            and line[1:].isascii()
            and line[1:].isdecimal()
            and 1 <= int(line[1:]) <= len(self.buttons)
        ):
            action = self.buttons[int(line[1:]) - 1].action
        else:
            action = next((b.action for b in self.buttons if b.label.lower() == line.lower()), None)
        if action is not None:
            return Incoming(
                "console", self.user_id, self.user_id, action=action, display_name=self.user_id
            )
        return Incoming("console", self.user_id, self.user_id, text=line, display_name=self.user_id)

    async def send(self, line: str) -> list[Reply]:
        replies = await self.handler(self.to_incoming(line))
        for r in replies:
            self.show(r)
        if replies:
            self.buttons = [b for r in replies for b in r.buttons]
        return replies

    async def run(self, greet: bool = True) -> None:
        if greet:
            self.out.write(
                "backbot console — type a message, #N or a label to press a button, 'quit' to leave.\n"
            )
            await self.send("/start")
        while True:
            try:
                line = await asyncio.to_thread(self.read, PROMPT)
            except (EOFError, KeyboardInterrupt):
                break
            line = line.strip()
            if line.lower() in BYE:
                break
            if line:
                await self.send(line)
        self.out.write("bye — train safe!\n")
        self.out.flush()


class ConsoleSender:
    """Delivers reminders into the running console chat (the scheduler's Sender for "console")."""

    platform = "console"

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def send(self, address: Address, reply: Reply) -> None:
        if address.chat_id != self.chat.user_id:
            # Another console user is not at this terminal: retried later, within the grace.
            raise TransientError("that console user is not chatting right now")
        self.chat.out.write("\n")
        self.chat.show(reply)
        self.chat.buttons = list(reply.buttons)
        self.chat.out.write(PROMPT)
        self.chat.out.flush()
