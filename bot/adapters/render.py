"""Rendering helpers shared by adapters: splitting long text, turning **bold** and
[title](url) links into each platform's markup."""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096
DISCORD_LIMIT = 2000
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
# A link the core writes ("[NHS: Back pain](https://...)"): bounded parts, so linear.
_DISCORD_SPECIAL = re.compile(r"(?<!\*)([_~`|>])")
_LINK = re.compile(r"\[([^\[\]\n]{1,200})\]\((https?://[^\s()<>\"]{1,500})\)")


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
    escaped = _BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False))
    return _LINK.sub(r'<a href="\2">\1</a>', escaped)


def to_plain(text: str) -> str:
    """Strip **bold** markers and spell links out as "title (url)", for the console and logs."""
    return _LINK.sub(r"\1 (\2)", _BOLD.sub(r"\1", text))


def to_discord_markdown(text: str) -> str:
    """Discord renders **bold** and [title](url) itself (the URL in <> so it shows no preview);
    other markdown characters users could inject are escaped, outside links only."""
    out: list[str] = []
    last = 0
    for m in _LINK.finditer(text):
        out.append(_DISCORD_SPECIAL.sub(r"\\\1", text[last : m.start()]))
        out.append(f"[{m.group(1)}](<{m.group(2)}>)")
        last = m.end()
    out.append(_DISCORD_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(out)
