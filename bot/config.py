"""Settings: the one place that reads the environment (and `.env`)."""

from __future__ import annotations

import hashlib
import re
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def packaged_knowledge_dir() -> Path:
    """The knowledge base shipped inside the package (bot/knowledge, package data).

    Found through importlib.resources, so it is the installed copy after `pip install .` and
    the source tree's copy in an editable install. backbot is never imported from a zip, so
    the resource is a real directory (its YAML and the model's .npz are read as files)."""
    return Path(str(resources.files("bot").joinpath("knowledge")))


DEFAULT_KNOWLEDGE_DIR = packaged_knowledge_dir()


class Settings(BaseSettings):
    """Every setting backbot reads. Names are the environment variable names."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    port: int = Field(default=8443, ge=1, le=65535)

    discord_token: SecretStr | None = None
    discord_api_url: str | None = None
    # Signs buttons for the user they were shown to (bot.core.buttons). Unset: derived from
    # the bot tokens, so every instance of one bot agrees and buttons survive a restart.
    button_secret: SecretStr | None = None
    discord_guild_id: int | None = None
    # Slash-command sync at start-up: "auto" only when the command table changed since the
    # last sync (hash kept in the database), "always", or "never".
    discord_sync: Literal["auto", "always", "never"] = "auto"

    database_url: str = "sqlite+aiosqlite:///data/backbot.db"
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    default_timezone: str = "UTC"
    reminder_days: str = "mon,wed,fri"
    reminder_time: str = "18:00"
    reminder_grace_minutes: int = Field(default=120, ge=0)
    scheduler_tick_seconds: float = Field(default=5.0, gt=0)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line
    # /healthz and /metrics on this port during `backbot run`; unset: no health server.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    # FAQ retrieval: "lexical" (the shipped TF-IDF/fuzzy retriever) or "hybrid" (lexical plus
    # MiniLM sentence embeddings; needs the `embeddings` extra, see README). Hybrid only:
    # where the knowledge base's phrasing vectors are cached (unset: $XDG_CACHE_HOME/backbot
    # or ~/.cache/backbot), and how long the first message that needs the model waits for it
    # to load before being answered lexically.
    retrieval: Literal["lexical", "hybrid"] = "lexical"
    embedding_cache_dir: Path | None = None
    retrieval_wait_seconds: float = Field(default=3.0, ge=0)

    @field_validator(
        "telegram_token", "discord_token", "telegram_webhook_secret", "button_secret", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("health_port", "discord_guild_id", mode="before")
    @classmethod
    def _blank_int_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("embedding_cache_dir", mode="before")
    @classmethod
    def _blank_path_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("discord_sync", "retrieval", mode="before")
    @classmethod
    def _sync_mode(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown IANA time zone {v!r}") from e
        return v

    @field_validator("reminder_days")
    @classmethod
    def _days(cls, v: str) -> str:
        parts = [p.strip().lower()[:3] for p in v.split(",") if p.strip()]
        if not parts or any(p not in DAY_NAMES for p in parts):
            raise ValueError("use day names separated by commas, e.g. mon,wed,fri")
        return ",".join(parts)

    @field_validator("reminder_time")
    @classmethod
    def _time(cls, v: str) -> str:
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", v.strip()):
            raise ValueError("use 24-hour HH:MM, e.g. 18:00")
        return v.strip()

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return v.upper()

    @property
    def reminder_weekdays(self) -> tuple[int, ...]:
        return tuple(sorted(DAY_NAMES.index(d) for d in self.reminder_days.split(",")))

    @property
    def reminder_clock(self) -> time:
        h, m = self.reminder_time.split(":")
        return time(int(h), int(m))

    def webhook_secret(self) -> str | None:
        """The Telegram webhook's secret token: configured, or derived from the bot token so
        every instance agrees on it. A secret either way (see `secrets`)."""
        if self.telegram_webhook_secret is not None:
            return self.telegram_webhook_secret.get_secret_value()
        if self.telegram_token is None:
            return None
        token = self.telegram_token.get_secret_value().encode()
        return hashlib.sha256(b"backbot-webhook:" + token).hexdigest()[:48]

    def button_key(self) -> bytes | None:
        """The key buttons are signed with: configured, derived from the tokens, or None (the
        core then makes one per process)."""
        if self.button_secret is not None:
            return self.button_secret.get_secret_value().encode()
        tokens = [t.get_secret_value() for t in (self.telegram_token, self.discord_token) if t]
        if not tokens:
            return None
        return hashlib.sha256(("backbot-buttons:" + "\x00".join(tokens)).encode()).digest()

    def secrets(self) -> list[str]:
        """Every secret value and everything derived from one, for the log redaction filter."""
        vals = [self.telegram_token, self.discord_token, self.telegram_webhook_secret]
        vals.append(self.button_secret)
        out = [s.get_secret_value() for s in vals if s is not None]
        derived = [self.webhook_secret(), (self.button_key() or b"").hex()]
        out += [d for d in derived if d]
        pw = re.search(r"://[^:/@]+:([^@]+)@", self.database_url)
        if pw:
            out.append(pw.group(1))
        return [s for s in out if s]


def load_settings() -> Settings:
    """Read settings; a bad value stops start-up with one line naming the variable."""
    try:
        return Settings()
    except ValidationError as e:
        err = e.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise ConfigError(f"invalid setting {name}: {err['msg']}") from None


def mask_url(url: str) -> str:
    """Hide the password in a database URL."""
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)
