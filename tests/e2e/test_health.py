"""/healthz and /metrics: the health server on a free port, hit with aiohttp; `backbot run`
(run_platforms) with HEALTH_PORT against the fake Telegram Bot API; the counters of bot.metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.adapters.base import from_function
from bot.app import build_dialogue, run_platforms
from bot.config import Settings
from bot.core.types import Incoming, Kind, Reply
from bot.health import HealthServer, engine_probe
from bot.metrics import Metrics
from bot.storage.store import open_store
from tests.fakes.telegram_api import FakeTelegramAPI

USER = 4243


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def get(port: int, path: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as resp,
    ):
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics body: (name, sorted labels) -> value."""
    out = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@contextlib.asynccontextmanager
async def serving(server: HealthServer) -> AsyncIterator[HealthServer]:
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_healthz_ok_then_503_when_the_database_goes(tmp_path: Path) -> None:
    db_dir = tmp_path / "db"
    store = await open_store(f"sqlite+aiosqlite:///{db_dir / 'bot.db'}")
    up = {"telegram": True}
    server = HealthServer(
        0,
        host="127.0.0.1",
        metrics=Metrics(),
        database=engine_probe(store.engine),
        platforms=lambda: dict(up),
        scheduler=lambda: {"running": True, "role": "sender"},
        database_timeout=1.0,
    )
    try:
        async with serving(server):
            assert server.port > 0
            status, ctype, body = await get(server.port, "/healthz")
            assert status == 200 and ctype.startswith("application/json")
            data = json.loads(body)
            assert data == {
                "status": "ok",
                "database": "ok",
                "platforms": {"telegram": "connected"},
                "scheduler": {"running": True, "role": "sender"},
            }

            # A disconnected platform is degraded too.
            up["telegram"] = False
            status, _, body = await get(server.port, "/healthz")
            assert status == 503
            assert json.loads(body)["platforms"] == {"telegram": "disconnected"}
            up["telegram"] = True

            # The database becomes unreachable: its directory is gone, so SQLite cannot open it.
            await store.engine.dispose()
            shutil.rmtree(db_dir)
            status, _, body = await get(server.port, "/healthz")
            data = json.loads(body)
            assert status == 503
            assert data["status"] == "degraded"
            assert data["database"].startswith("unreachable")
    finally:
        await store.close()


async def test_healthz_database_timeout_is_degraded() -> None:
    async def hangs() -> None:
        await asyncio.sleep(10)

    server = HealthServer(
        0,
        host="127.0.0.1",
        metrics=Metrics(),
        database=hangs,
        platforms=dict,
        scheduler=lambda: None,
        database_timeout=0.1,
    )
    async with serving(server):
        status, _, body = await get(server.port, "/healthz")
    assert status == 503
    assert json.loads(body) == {
        "status": "degraded",
        "database": "timeout",
        "platforms": {},
        "scheduler": {"running": False},
    }


async def test_metrics_endpoint_and_counters_move_after_a_message() -> None:
    metrics = Metrics()
    dialogue = build_dialogue()
    handler = metrics.instrument(dialogue.turn)

    async def ok() -> None:
        return None

    server = HealthServer(
        0,
        host="127.0.0.1",
        metrics=metrics,
        database=ok,
        platforms=dict,
        scheduler=lambda: None,
    )
    async with serving(server):
        status, ctype, body = await get(server.port, "/metrics")
        assert status == 200 and ctype.startswith("text/plain")
        before = samples(body)
        assert not any(name == "backbot_messages_total" for name, _ in before)
        for text in ("how long should I hold a plank?", "I can't control my bladder or bowels"):
            inc = Incoming(platform="discord", user_id="1", chat_id="1", text=text)
            async with handler(inc) as replies:
                assert replies
        _, _, body = await get(server.port, "/metrics")
    got = samples(body)
    msgs = {dict(k)["kind"]: v for (n, k), v in got.items() if n == "backbot_messages_total"}
    assert sum(msgs.values()) == 2 and msgs.get(str(Kind.RED_FLAG)) == 1
    assert got[("backbot_red_flags_total", (("level", "emergency"), ("platform", "discord")))] == 1
    assert got[("backbot_reply_seconds_count", ())] == 2
    # Declared even before anything happened.
    assert "backbot_reminders_sent_total" in body or "backbot_reminders_sent" in body
    assert "backbot_errors" in body


async def test_registries_do_not_leak_between_runs() -> None:
    a, b = Metrics(), Metrics()
    a.messages.labels("telegram", "faq").inc()
    assert "backbot_messages_total{" in a.render().decode()
    assert "backbot_messages_total{" not in b.render().decode()


async def test_handler_errors_and_error_logs_are_counted() -> None:
    async def boom(incoming: Incoming) -> list[Reply]:
        raise RuntimeError("boom")

    metrics = Metrics()
    handler = metrics.instrument(from_function(boom))
    with pytest.raises(RuntimeError):
        async with handler(Incoming(platform="telegram", user_id="1", chat_id="1", text="x")):
            pass

    with metrics.count_errors():
        logging.getLogger("bot.adapters.telegram").error("update failed")
        logging.getLogger("bot.scheduler").warning("not an error")
    logging.getLogger("bot.scheduler").error("outside the run: not counted")
    got = samples(metrics.render().decode())
    assert got[("backbot_errors_total", (("where", "dialogue"),))] == 1
    assert got[("backbot_errors_total", (("where", "adapters.telegram"),))] == 1
    assert ("backbot_errors_total", (("where", "scheduler"),)) not in got


# ----------------------------------------------------------------- backbot run with HEALTH_PORT


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


async def wait_status(port: int, want: int, timeout: float = 10.0) -> dict[str, Any]:  # noqa: ASYNC109

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            status, _, body = await get(port, "/healthz")
            if status == want:
                return dict(json.loads(body))
        except aiohttp.ClientError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"/healthz never answered {want}")
        await asyncio.sleep(0.05)


async def test_run_serves_health_and_metrics(telegram: FakeTelegramAPI, tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=telegram.token,
        telegram_api_url=telegram.url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        scheduler_tick_seconds=0.2,
        health_port=port,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_platforms(settings, stop))
    try:
        data = await wait_status(port, 200)
        assert data["database"] == "ok"
        assert data["platforms"] == {"telegram": "connected"}
        telegram.private_message(USER, "how long should I hold a plank?")
        await telegram.wait_for_messages(1, chat_id=USER, timeout=10)
        # The scheduler ticked at least once by now, or will shortly.
        for _ in range(50):
            data = await wait_status(port, 200)
            if data["scheduler"]["last_tick"]:
                break
            await asyncio.sleep(0.1)
        assert data["scheduler"]["running"] is True
        assert data["scheduler"]["last_tick_ok"] is True
        status, _, body = await get(port, "/metrics")
        assert status == 200
        got = samples(body)
        msgs = [k for (n, k), v in got.items() if n == "backbot_messages_total" and v == 1]
        assert msgs and dict(msgs[0])["platform"] == "telegram"
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    with pytest.raises(aiohttp.ClientError):
        await get(port, "/healthz")  # stopped with the app
