"""A loopback fake of Discord (REST under /api/v10 + gateway websocket) for end-to-end tests.

Usage::

    async with FakeDiscord(token="t0k3n") as fake:
        settings = Settings(discord_token="t0k3n", discord_api_url=fake.api_url)
        ...  # start the real discord.py client, then
        await fake.dispatch_dm(user_id=..., content="hi")
        sent = await fake.wait_for(lambda: fake.sent_to(fake.dm_channel_id(user_id)))

Only what discord.py 2.x touches for backbot is implemented; every response is JSON with the
exact content type `application/json` (discord.py parses nothing else).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import BodyPartReader, WSMsgType, web

logger = logging.getLogger(__name__)

T = TypeVar("T")
API = "/api/v10"
EPOCH = "2026-01-01T00:00:00.000000+00:00"


@dataclass
class Sent:
    """One message the bot produced: a channel send, an interaction callback or a follow-up."""

    id: str
    channel_id: str
    content: str
    via: str  # "channel" | "callback" | "followup" | "edit"
    components: list[dict[str, Any]] = field(default_factory=list)
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)  # {"filename", "size"}
    flags: int = 0
    interaction_id: str | None = None
    callback_type: int | None = None
    at: float = field(default_factory=time.perf_counter)  # when the fake accepted it

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for row in self.components for c in row.get("components", [])]

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)


@dataclass
class _Injection:
    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    remaining: int


class _Conn:
    """One gateway connection with its own zlib stream and sequence counter."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.zlib = zlib.compressobj() if compress else None
        self.seq = 0
        self.ready = asyncio.Event()

    async def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        if self.zlib is None:
            await self.ws.send_str(data.decode())
        else:
            # discord.py buffers until the Z_SYNC_FLUSH suffix 00 00 ff ff, then inflates.
            await self.ws.send_bytes(self.zlib.compress(data) + self.zlib.flush(zlib.Z_SYNC_FLUSH))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        await self.send({"op": 0, "t": event, "s": self.seq, "d": data})


class FakeDiscord:
    """Discord's REST API and gateway on 127.0.0.1, recording everything the bot sends."""

    def __init__(
        self, token: str = "fake-discord-token", *, app_id: int = 900_000_000_000_000_001
    ) -> None:
        self.token = token
        self.app_id = app_id
        self.bot_id = app_id
        self.guild_id = 910_000_000_000_000_001
        self.channel_id = 920_000_000_000_000_001
        self.sent: list[Sent] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.identify_count = 0
        self.gateway_query: dict[str, str] = {}
        self._ids = itertools.count(930_000_000_000_000_001)
        self._dm: dict[str, str] = {}
        self._blocked: set[str] = set()
        self._injections: list[_Injection] = []
        # channel id -> X-RateLimit-* headers its successful message sends answer with
        self.route_headers: dict[str, dict[str, str]] = {}
        self._conns: list[_Conn] = []
        self._messages: dict[str, dict[str, Any]] = {}
        self._interaction_channel: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/gateway-ws", self._gateway_ws)
        r.add_get(API + "/gateway", self._gateway)
        r.add_get(API + "/gateway/bot", self._gateway)
        r.add_get(API + "/users/@me", self._me)
        r.add_get(API + "/users/{uid}", self._user)
        r.add_get(API + "/oauth2/applications/@me", self._app_info)
        r.add_get(API + "/applications/@me", self._app_info)
        r.add_route("*", API + "/applications/{app}/commands", self._global_commands)
        r.add_route("*", API + "/applications/{app}/guilds/{gid}/commands", self._guild_commands)
        r.add_post(API + "/users/@me/channels", self._open_dm)
        r.add_post(API + "/channels/{cid}/messages", self._channel_message)
        r.add_route("PATCH", API + "/channels/{cid}/messages/{mid}", self._edit_message)
        r.add_route("DELETE", API + "/channels/{cid}/messages/{mid}", self._no_content)
        r.add_post(API + "/interactions/{iid}/{itoken}/callback", self._callback)
        r.add_post(API + "/webhooks/{app}/{itoken}", self._followup)
        r.add_route("PATCH", API + "/webhooks/{app}/{itoken}/messages/{mid}", self._followup)
        r.add_route("DELETE", API + "/webhooks/{app}/{itoken}/messages/{mid}", self._no_content)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for c in self._conns:
            await c.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway-ws"

    # ------------------------------------------------------------ test controls
    def inject(
        self,
        method: str,
        path: str,
        status: int,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next `count` requests matching METHOD and path regex with an error."""
        self._injections.append(
            _Injection(method, re.compile(path), status, body or {}, headers or {}, count)
        )

    def inject_429(
        self,
        path: str,
        retry_after: float,
        *,
        method: str = "POST",
        count: int = 1,
        scope: str = "user",
    ) -> None:
        """A real 429: Via + Retry-After + X-RateLimit-Scope headers and retry_after in the JSON
        body. scope "user" (a per-route limit, the default), "shared", or "global" (then also
        `X-RateLimit-Global: true` and `"global": true`, as Discord sends for the bot-wide limit).
        """
        is_global = scope == "global"
        headers = {"Via": "1.1 google", "Retry-After": str(retry_after), "X-RateLimit-Scope": scope}
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        self.inject(
            method,
            path,
            429,
            count=count,
            body={
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": is_global,
            },
            headers=headers,
        )

    def block_dms(self, user_id: int | str) -> None:
        """The user closed their DMs: sends to their DM channel get 403 code 50007."""
        self._blocked.add(self.dm_channel_id(user_id))

    def dm_channel_id(self, user_id: int | str) -> str:
        key = str(user_id)
        if key not in self._dm:
            self._dm[key] = str(next(self._ids))
        return self._dm[key]

    def sent_to(self, channel_id: int | str) -> list[Sent]:
        return [s for s in self.sent if s.channel_id == str(channel_id)]

    def for_interaction(self, interaction_id: str) -> list[Sent]:
        return [s for s in self.sent if s.interaction_id == interaction_id]

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s; sent={self.sent!r}")
            await asyncio.sleep(0.02)

    async def settle(self, seconds: float = 0.3) -> None:
        """Give the bot time to (not) answer, for negative assertions."""
        await asyncio.sleep(seconds)

    # ------------------------------------------------------------ gateway events
    def user(self, user_id: int | str, name: str = "alice", *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "global_name": name,
            "avatar": None,
            "bot": bot,
        }

    def _live(self) -> _Conn | None:
        live = [c for c in self._conns if c.ready.is_set() and not c.ws.closed]
        return live[-1] if live else None

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        conn = self._live()
        if conn is None:
            raise AssertionError("no bot connected to the fake gateway")
        await conn.dispatch(event, data)

    def _message_payload(
        self, channel_id: str, content: str, author: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "id": str(next(self._ids)),
            "channel_id": channel_id,
            "author": author,
            "content": content,
            "timestamp": EPOCH,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
        }
        msg.update(extra)
        return msg

    async def dispatch_dm(self, user_id: int, content: str, *, bot: bool = False) -> dict[str, Any]:
        """A direct message from a user: DMs always carry content."""
        msg = self._message_payload(
            self.dm_channel_id(user_id), content, self.user(user_id, bot=bot)
        )
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def dispatch_guild_message(
        self, user_id: int, content: str, *, mention_bot: bool = False
    ) -> dict[str, Any]:
        """A guild message; without message_content intent only mentions carry content."""
        author = self.user(user_id)
        mentions = [self.user(self.bot_id, "backbot", bot=True)] if mention_bot else []
        text = f"<@{self.bot_id}> {content}" if mention_bot else ""
        msg = self._message_payload(
            str(self.channel_id),
            text,
            author,
            guild_id=str(self.guild_id),
            mentions=mentions,
            member={"roles": [], "joined_at": EPOCH, "deaf": False, "mute": False, "flags": 0},
        )
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    def _interaction_base(self, itype: int, user_id: int, guild: bool) -> dict[str, Any]:
        iid = str(next(self._ids))
        data: dict[str, Any] = {
            "id": iid,
            "application_id": str(self.app_id),
            "type": itype,
            "token": f"itoken-{iid}",
            "version": 1,
            "locale": "en-US",
            "attachment_size_limit": 10_485_760,
            "app_permissions": "0",
            "entitlements": [],
            "authorizing_integration_owners": {},
        }
        if guild:
            data.update(
                guild_id=str(self.guild_id),
                guild_locale="en-US",
                context=0,
                channel_id=str(self.channel_id),
                channel={"id": str(self.channel_id), "type": 0, "guild_id": str(self.guild_id)},
                member={
                    "user": self.user(user_id),
                    "roles": [],
                    "joined_at": EPOCH,
                    "permissions": "2147483647",
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                },
            )
        else:
            cid = self.dm_channel_id(user_id)
            data.update(
                context=1,
                channel_id=cid,
                user=self.user(user_id),
                channel={"id": cid, "type": 1, "recipients": [self.user(user_id)]},
            )
        self._interaction_channel[iid] = str(data["channel_id"])
        return data

    async def dispatch_command(
        self, user_id: int, name: str, options: dict[str, Any] | None = None, *, guild: bool = False
    ) -> str:
        """A slash command; returns the interaction id."""
        data = self._interaction_base(2, user_id, guild)
        opts = [
            {"name": k, "type": 4 if isinstance(v, int) else 3, "value": v}
            for k, v in (options or {}).items()
        ]
        cmd = {"id": str(next(self._ids)), "name": name, "type": 1, "options": opts}
        if guild:
            cmd["guild_id"] = str(self.guild_id)
        data["data"] = cmd
        await self.dispatch("INTERACTION_CREATE", data)
        return str(data["id"])

    async def dispatch_click(
        self, user_id: int, sent: Sent, custom_id: str, *, guild: bool = False
    ) -> str:
        """A button click on a message the bot sent earlier; returns the interaction id."""
        data = self._interaction_base(3, user_id, guild)
        data["channel_id"] = sent.channel_id
        data["channel"]["id"] = sent.channel_id
        self._interaction_channel[str(data["id"])] = sent.channel_id
        data["message"] = self._messages[sent.id]
        data["data"] = {"custom_id": custom_id, "component_type": 2}
        await self.dispatch("INTERACTION_CREATE", data)
        return str(data["id"])

    # ------------------------------------------------------------------- REST
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.path.startswith(API) and not request.path.startswith(API + "/gateway"):
            is_webhook = "/interactions/" in request.path or "/webhooks/" in request.path
            if not is_webhook and request.headers.get("Authorization") != f"Bot {self.token}":
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
        for inj in self._injections:
            if inj.remaining > 0 and inj.method == request.method and inj.path.search(request.path):
                inj.remaining -= 1
                await request.read()
                return _json(inj.body, inj.status, inj.headers)
        response: web.StreamResponse = await handler(request)
        return response

    async def _gateway(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.ws_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _me(self, request: web.Request) -> web.Response:
        return _json({**self.user(self.bot_id, "backbot", bot=True), "verified": True, "flags": 0})

    async def _user(self, request: web.Request) -> web.Response:
        return _json(self.user(request.match_info["uid"]))

    async def _app_info(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(self.app_id),
                "name": "backbot",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "00",
                "owner": self.user(1, "owner"),
                "team": None,
                "flags": 0,
                "interactions_endpoint_url": None,
                "rpc_origins": [],
            }
        )

    async def _store_commands(self, request: web.Request, key: int | None) -> web.Response:
        if request.method == "PUT":
            cmds = await request.json()
            for c in cmds:
                c.update(id=str(next(self._ids)), application_id=str(self.app_id), version="1")
                c.setdefault("default_member_permissions", None)
                if key is not None:
                    c["guild_id"] = str(key)
            self.commands[key] = cmds
        return _json(self.commands.get(key, []))

    async def _global_commands(self, request: web.Request) -> web.Response:
        return await self._store_commands(request, None)

    async def _guild_commands(self, request: web.Request) -> web.Response:
        return await self._store_commands(request, int(request.match_info["gid"]))

    async def _open_dm(self, request: web.Request) -> web.Response:
        uid = str((await request.json())["recipient_id"])
        return _json(
            {
                "id": self.dm_channel_id(uid),
                "type": 1,
                "last_message_id": None,
                "recipients": [self.user(uid)],
            }
        )

    async def _read_body(self, request: web.Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """JSON body, or multipart with payload_json plus files[n] parts."""
        if request.content_type.startswith("multipart/"):
            payload: dict[str, Any] = {}
            files: list[dict[str, Any]] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                raw = await part.read()
                if part.name == "payload_json":
                    payload = json.loads(raw)
                else:
                    files.append({"filename": part.filename, "size": len(raw), "data": bytes(raw)})
            return payload, files
        return await request.json(), []

    def _record(
        self,
        channel_id: str,
        body: dict[str, Any],
        files: list[dict[str, Any]],
        via: str,
        **extra: Any,
    ) -> tuple[Sent, dict[str, Any]]:
        sent = Sent(
            id=str(next(self._ids)),
            channel_id=channel_id,
            content=body.get("content") or "",
            via=via,
            components=body.get("components") or [],
            embeds=body.get("embeds") or [],
            attachments=[{"filename": f["filename"], "size": f["size"]} for f in files],
            flags=int(body.get("flags") or 0),
            **extra,
        )
        self.sent.append(sent)
        msg = self._message_payload(
            channel_id,
            sent.content,
            self.user(self.bot_id, "backbot", bot=True),
            id=sent.id,
            components=sent.components,
            embeds=sent.embeds,
            flags=sent.flags,
            attachments=[
                {
                    "id": str(next(self._ids)),
                    "filename": f["filename"],
                    "size": f["size"],
                    "url": "http://127.0.0.1/x",
                    "proxy_url": "http://127.0.0.1/x",
                }
                for f in files
            ],
        )
        self._messages[sent.id] = msg
        return sent, msg

    async def _channel_message(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        known = cid in self._dm.values() or cid == str(self.channel_id)
        if not known:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        if cid in self._blocked:
            await request.read()
            return _json({"message": "Cannot send messages to this user", "code": 50007}, 403)
        body, files = await self._read_body(request)
        _, msg = self._record(cid, body, files, "channel")
        return _json(msg, headers=self.route_headers.get(cid))

    async def _edit_message(self, request: web.Request) -> web.Response:
        body, files = await self._read_body(request)
        _, msg = self._record(request.match_info["cid"], body, files, "edit")
        return _json(msg)

    async def _no_content(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _callback(self, request: web.Request) -> web.Response:
        iid = request.match_info["iid"]
        body, files = await self._read_body(request)
        data = body.get("data") or {}
        cid = self._interaction_channel.get(iid, "")
        sent, msg = self._record(
            cid, data, files, "callback", interaction_id=iid, callback_type=body.get("type")
        )
        if request.query.get("with_response") not in ("1", "true"):
            return web.Response(status=204)
        return _json(
            {
                "interaction": {
                    "id": iid,
                    "type": 2,
                    "response_message_id": sent.id,
                    "response_message_loading": body.get("type") == 5,
                    "response_message_ephemeral": sent.ephemeral,
                },
                "resource": {"type": body.get("type", 4), "message": msg},
            }
        )

    async def _followup(self, request: web.Request) -> web.Response:
        itoken = request.match_info["itoken"]
        iid = itoken.removeprefix("itoken-")
        body, files = await self._read_body(request)
        via = "followup" if request.method == "POST" else "edit"
        _, msg = self._record(
            self._interaction_channel.get(iid, ""), body, files, via, interaction_id=iid
        )
        return _json(msg)

    # ---------------------------------------------------------------- gateway
    async def _gateway_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.gateway_query = dict(request.query)
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream"):
            # zstd-stream would need the zstandard package; fail loudly rather than garble.
            await ws.close(code=4000, message=f"fake: unsupported compress={compress}".encode())
            return ws
        conn = _Conn(ws, compress == "zlib-stream")
        self._conns.append(conn)
        await conn.send({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                if frame.type == WSMsgType.BINARY:
                    continue
                break
            msg = json.loads(frame.data)
            op = msg.get("op")
            if op == 1:
                await conn.send({"op": 11})
            elif op == 2:
                self.identify_count += 1
                if msg["d"].get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                await self._ready(conn)
            elif op == 6:
                # No session resumption in the fake: ask for a fresh IDENTIFY.
                await conn.send({"op": 9, "d": False})
        return ws

    async def _ready(self, conn: _Conn) -> None:
        await conn.dispatch(
            "READY",
            {
                "v": 10,
                "user": {**self.user(self.bot_id, "backbot", bot=True), "verified": True},
                "guilds": [{"id": str(self.guild_id), "unavailable": True}],
                "session_id": f"session-{len(self._conns)}",
                "resume_gateway_url": self.ws_url,
                "application": {"id": str(self.app_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )
        await conn.dispatch(
            "GUILD_CREATE",
            {
                "id": str(self.guild_id),
                "name": "Back Gym",
                "unavailable": False,
                "icon": None,
                "owner_id": "1",
                "member_count": 2,
                "large": False,
                "features": [],
                "roles": [],
                "emojis": [],
                "stickers": [],
                "members": [],
                "voice_states": [],
                "presences": [],
                "threads": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
                "joined_at": EPOCH,
                "premium_tier": 0,
                "channels": [
                    {
                        "id": str(self.channel_id),
                        "type": 0,
                        "name": "training",
                        "position": 0,
                        "permission_overwrites": [],
                        "guild_id": str(self.guild_id),
                        "nsfw": False,
                        "parent_id": None,
                        "topic": None,
                        "last_message_id": None,
                    }
                ],
            },
        )
        conn.ready.set()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly `application/json`: discord.py ignores bodies typed `application/json; charset=...`.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
