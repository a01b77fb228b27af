"""Logs an operator can search: one `event=reply …` line per turn, hashed user, no user text;
LOG_FORMAT=json gives the same fields as JSON."""

from __future__ import annotations

import io
import json
import logging

from bot.adapters.base import from_function
from bot.core.types import Incoming, Kind, Reply
from bot.logs import JsonFormatter, log_event, user_ref
from bot.metrics import Metrics


async def test_a_turn_logs_one_searchable_line_without_user_text(caplog) -> None:  # type: ignore[no-untyped-def]
    async def answer(incoming: Incoming) -> list[Reply]:
        return [Reply("Pain 7/10 noted.", kind=Kind.COMMAND)]

    turn = Metrics().instrument(from_function(answer))
    with caplog.at_level(logging.INFO, logger="bot.metrics"):
        async with turn(Incoming("telegram", "424242", "424242", text="my pain is 7 today")):
            pass
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("event=")]
    assert line.startswith("event=reply platform=telegram kind=command replies=1 ms=")
    assert f"user={user_ref('telegram', '424242')}" in line
    assert "424242" not in line and "pain" not in line.lower()


def test_json_lines_carry_the_event_fields() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("test.events")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log_event(log, "reply", platform="discord", kind="faq", ms=2.1)
    finally:
        log.removeHandler(handler)
    row = json.loads(out.getvalue())
    assert row["event"] == "reply" and row["platform"] == "discord" and row["ms"] == 2.1
    assert row["level"] == "INFO" and row["message"].startswith("event=reply")
