"""The health server `backbot run` starts when HEALTH_PORT is set (aiohttp.web).

    GET /healthz   200 {"status": "ok", "database": "ok", "platforms": {...}, "scheduler": {...}}
                   503 with "status": "degraded" when the database does not answer `SELECT 1`
                   within a short timeout, or a platform is not connected
    GET /metrics   Prometheus text format (bot.metrics.Metrics of this run)

It reads what it reports through small callables, so it knows nothing of adapters or stores.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import CONTENT_TYPE, Metrics

logger = logging.getLogger(__name__)

DATABASE_TIMEOUT_S = 2.0

DatabaseProbe = Callable[[], Awaitable[None]]
PlatformsProbe = Callable[[], dict[str, bool]]
SchedulerProbe = Callable[[], dict[str, Any] | None]


def engine_probe(engine: AsyncEngine) -> DatabaseProbe:
    """`SELECT 1` through the store's engine (its pool, its connect timeout)."""

    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return probe


class HealthServer:
    """Serves /healthz and /metrics on `host:port` (port 0: any free port, see `.port`)."""

    def __init__(
        self,
        port: int,
        *,
        metrics: Metrics,
        database: DatabaseProbe,
        platforms: PlatformsProbe,
        scheduler: SchedulerProbe,
        host: str = "0.0.0.0",
        database_timeout: float = DATABASE_TIMEOUT_S,
    ) -> None:
        self.host = host
        self.port = port
        self.metrics = metrics
        self.database = database
        self.platforms = platforms
        self.scheduler = scheduler
        self.database_timeout = database_timeout
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses  # the bound sockets' names, for port 0
        if addresses:
            self.port = int(addresses[0][1])
        logger.info("health server on port %d (/healthz, /metrics)", self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the /healthz body)."""
        database = "ok"
        try:
            async with asyncio.timeout(self.database_timeout):
                await self.database()
        except TimeoutError:
            database = "timeout"
        except Exception as e:
            # The type only: a driver's message can carry the host or user.
            database = f"unreachable ({type(e).__name__})"
        try:
            connected = self.platforms()
        except Exception:
            logger.exception("health: reading the platforms failed")
            connected = {}
        try:
            scheduler = self.scheduler() or {"running": False}
        except Exception:
            logger.exception("health: reading the scheduler failed")
            scheduler = {"running": False}
        healthy = database == "ok" and all(connected.values())
        body = {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "platforms": {
                name: "connected" if up else "disconnected" for name, up in connected.items()
            },
            "scheduler": scheduler,
        }
        return healthy, body

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy, body = await self.check()
        return web.Response(
            text=json.dumps(body),
            status=200 if healthy else 503,
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        resp = web.Response(body=self.metrics.render())
        resp.headers["Content-Type"] = CONTENT_TYPE
        return resp
