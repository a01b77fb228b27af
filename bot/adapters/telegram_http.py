"""python-telegram-bot's HTTP transport on aiohttp instead of httpx.

Profiled with py-spy on tests/bench/bench_telegram.py (2 cores): with PTB's default
HTTPXRequest about 60% of the adapter's CPU went into httpx, httpcore and anyio for each
sendMessage (the core itself took 24%), so the adapter ran at a quarter of the rate of the
handler it wraps. aiohttp (already installed for discord.py) parses HTTP in C and keeps a
plain connection pool; PTB calls it through its `BaseRequest` interface, so every Bot API
method, its error mapping (`TimedOut`, `NetworkError`) and retries stay PTB's.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _given(value: object, default: float | None) -> float | None:
    """PTB passes DefaultValue for "use the transport's own setting"."""
    if isinstance(value, DefaultValue):
        return default
    return value if value is None else float(value)  # type: ignore[arg-type]


class AiohttpRequest(BaseRequest):
    """A PTB request object over one aiohttp session with `connections` keep-alive sockets.

    Timeouts mean what they mean for HTTPXRequest: `pool_timeout` is the wait for a free
    connection, `read_timeout` the wait for each read; writes are not timed separately.
    """

    def __init__(
        self,
        connections: int = 8,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self.connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        fields = request_data.json_parameters if request_data else None
        files = request_data.multipart_data if request_data else None
        # Plain fields are encoded here in one call: aiohttp's FormData costs ~3x as much.
        body: aiohttp.FormData | bytes | None = urlencode(fields).encode() if fields else None
        headers = FORM if fields else None
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body, headers = form, None
        wait = _given(pool_timeout, self._pool_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` covers waiting for a pooled connection and opening one.
            connect=None if wait is None or connect is None else wait + connect,
            sock_read=_given(read_timeout, self._read_timeout),
        )
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
