"""Rendering helpers shared by adapters: splitting long text, turning **bold** into markup."""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096
DISCORD_LIMIT = 2000
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


def split_text(text: str, limit: int) -> list[str]:
    """Split text into chunks of at most `limit` characters, at paragraph, line or word breaks."""
    text = text.strip()
    if not text:
        return []
    chunks: list[str] = []
    while len(text) > limit:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = text.rfind(sep, 0, limit + 1)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return chunks


def to_telegram_html(text: str) -> str:
    """Escape text for Telegram's HTML parse mode and turn **bold** into <b>."""
    return _BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False))


def to_plain(text: str) -> str:
    """Strip **bold** markers, for the console and logs."""
    return _BOLD.sub(r"\1", text)


def to_discord_markdown(text: str) -> str:
    """Discord renders **bold** itself; escape other markdown characters users could inject."""
    return re.sub(r"(?<!\*)([_~`|>])", r"\\\1", text)
