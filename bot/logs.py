"""Logging set-up with a filter that keeps secrets (bot tokens, passwords) out of every log line.

python-telegram-bot and httpx log request URLs, and a Telegram URL contains the bot token
(`/bot<token>/getUpdates`), so redaction happens on the formatted message of every record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Telegram tokens look like 123456789:AA...; redact them even if we were not told the value.
_TELEGRAM_TOKEN = re.compile(r"\d{6,12}:[A-Za-z0-9_-]{30,}")
REDACTED = "[REDACTED]"


class RedactingFilter(logging.Filter):
    """Replaces known secrets and token-shaped strings in log records."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, REDACTED)
        return _TELEGRAM_TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, redacted, so handlers do not format the raw one.
            formatter = logging.Formatter()
            record.exc_text = self.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def setup_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> RedactingFilter:
    """Configure the root logger once; every handler gets the redacting filter."""
    root = logging.getLogger()
    root.setLevel(level)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    flt = RedactingFilter(secrets)
    for h in root.handlers:
        for old in [f for f in h.filters if isinstance(f, RedactingFilter)]:
            h.removeFilter(old)
        h.addFilter(flt)
    # httpx logs every request URL at INFO, and Telegram URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return flt
