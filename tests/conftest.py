"""Shared fixtures: the shipped knowledge base and a transcript-style chat over the real core."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.app import build_dialogue, load_kb
from bot.core.dialogue import Dialogue
from bot.core.ports import Profile, UserKey
from bot.core.types import Incoming, Reply
from bot.kb import KnowledgeBase
from bot.storage.memory import MemoryStore

# One button key for every core a test builds, so a replay on a fresh core signs its buttons
# exactly as the core under test did (bot.core.buttons).
os.environ.setdefault("BUTTON_SECRET", "test-button-secret")


def unsigned(action: str) -> str:
    """A button's action without its signature."""
    head, sep, _ = action.rpartition("~")
    return head if sep else action


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_kb()


class Chat:
    """One user talking to the core, the way a test transcript reads."""

    def __init__(self, dialogue: Dialogue, user: str = "u1", platform: str = "test") -> None:
        self.dialogue = dialogue
        self.user = user
        self.platform = platform
        self.last: list[Reply] = []
        self.now: datetime | None = None

    def _msg(self, **kw: object) -> Incoming:
        extra = {"received_at": self.now} if self.now else {}
        return Incoming(self.platform, self.user, self.user, display_name="Ana Test", **extra, **kw)  # type: ignore[arg-type]

    async def say(self, text: str, **kw: object) -> list[Reply]:
        self.last = await self.dialogue.handle(self._msg(text=text, **kw))
        return self.last

    async def press(self, label: str) -> list[Reply]:
        """Press the button whose label starts with `label` in the last replies."""
        buttons = [b for r in self.last for b in r.buttons]
        match = [b for b in buttons if b.label.lower().startswith(label.lower())]
        assert match, f"no button {label!r} in {[b.label for b in buttons]}"
        self.last = await self.dialogue.handle(self._msg(action=match[0].action))
        return self.last

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def make_chat(store: MemoryStore) -> Callable[..., Chat]:
    """A chat; by default the user has already agreed to pain scores being stored (the consent
    question has tests of its own: pass consented=False)."""

    def make(user: str = "u1", consented: bool = True, **kw: object) -> Chat:
        if consented:
            key = UserKey("test", user)
            store.profiles[key] = Profile(key, "Ana Test", pain_consent=True)
        return Chat(build_dialogue(store, **kw), user)

    return make


@pytest.fixture
def chat(make_chat: Callable[..., Chat]) -> Chat:
    return make_chat()


NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
