"""Logging set-up with a filter that keeps secrets (bot tokens, passwords) out of every log line.

python-telegram-bot and httpx log request URLs, and a Telegram URL contains the bot token
(`/bot<token>/getUpdates`), so redaction happens on the formatted message of every record.
"""

from __future__ import annotations

import hashlib
import json
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


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json): time, level, logger, message, and the
    event's fields when the line came from `log_event`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "event_fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def user_ref(platform: str, user_id: str) -> str:
    """A user as logs name them: a short hash, never the platform's id."""
    return hashlib.sha256(f"{platform}:{user_id}".encode()).hexdigest()[:10]


def log_event(logger: logging.Logger, event: str, **fields: object) -> None:
    """One searchable INFO line, `event=reply platform=telegram kind=faq ms=2.1`, with the
    same keys as fields of the JSON line. No user text or health data goes in."""
    pairs = {"event": event, **fields}
    text = " ".join(f"{k}={v}" for k, v in pairs.items())
    logger.info(text, extra={"event_fields": pairs})


def setup_logging(
    level: str = "INFO", secrets: Iterable[str] = (), fmt: str = "text"
) -> RedactingFilter:
    """Configure the root logger once; every handler gets the redacting filter."""
    root = logging.getLogger()
    root.setLevel(level)
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for h in root.handlers:
        if type(h) is logging.StreamHandler:  # ours (not a test runner's capture handler)
            h.setFormatter(formatter)
    flt = RedactingFilter(secrets)
    for h in root.handlers:
        for old in [f for f in h.filters if isinstance(f, RedactingFilter)]:
            h.removeFilter(old)
        h.addFilter(flt)
    # httpx logs every request URL at INFO, and Telegram URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return flt
