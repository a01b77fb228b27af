"""Discord adapter: discord.py Client + app_commands; DMs, mentions, slash commands, buttons.

A translator only: Discord events become `Incoming`, `Reply` objects become messages, and
Discord errors become bot.errors types. What to say is the dialogue core's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp
import discord
import yarl
from discord import app_commands

from bot.adapters import render
from bot.adapters.base import Handler
from bot.adapters.sending import DISCORD, GLOBAL, SendBudget, Sleep
from bot.config import Settings
from bot.core.features import COMMANDS, Command
from bot.core.types import Address, Incoming, Reply
from bot.errors import Blocked, ConfigError, RateLimited, SendError, TransientError

logger = logging.getLogger(__name__)

PLATFORM = "discord"
ACTION_PREFIX = "bb:"
CUSTOM_ID_LIMIT = 100
MAX_BUTTONS = 25  # 5 rows of 5
APOLOGY = "Sorry, something went wrong on my side. Please try again in a minute."
# discord.py sleeps through shorter 429s itself; longer waits belong to the scheduler.
MAX_RATELIMIT_WAIT = 30.0
# Messages to a channel: the route whose X-RateLimit-Remaining we mirror into the budget.
CHANNEL_MESSAGES = re.compile(r"/channels/(\d+)/messages$")
# Discord fails an interaction that gets no response within 3 s; defer before that.
DEFER_AFTER = 2.0


class SyncState(Protocol):
    """Where the hash of the last slash-command sync is kept (SqlStore: the `app_state` table,
    shared by every instance on the database)."""

    async def get_state(self, key: str) -> str | None: ...

    async def set_state(self, key: str, value: str) -> None: ...


def command_table_hash(payload: list[dict[str, Any]]) -> str:
    """A stable hash of the command payload Discord would receive (names, descriptions,
    options and their types, everything `tree.sync` sends)."""
    blob = json.dumps(sorted(payload, key=lambda c: str(c.get("name"))), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bb:(?P<action>.+)"):
    """A button whose custom_id carries its action, so it works on messages sent before a restart."""

    def __init__(self, action: str, label: str = "…") -> None:
        super().__init__(discord.ui.Button(label=label[:80], custom_id=ACTION_PREFIX + action))
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ActionButton:
        return cls(match["action"], getattr(item, "label", None) or "…")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, _Client):
            await client.adapter.on_interaction(interaction, action=self.action)


class _Client(discord.Client):
    """discord.Client wired to the adapter; default intents only (no message_content)."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(intents=discord.Intents.default(), **options)
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)
        self.tree.error(self._on_tree_error)
        self.ready_event = asyncio.Event()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)
        for cmd in COMMANDS:
            self.tree.add_command(_slash_command(cmd, self.adapter.on_interaction))
        guild_id = self.adapter.settings.discord_guild_id
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            # Guild commands appear at once; global ones can take up to an hour to propagate.
            self.tree.copy_global_to(guild=guild)
        await self.adapter.sync_commands(self.tree, guild, self.application_id)

    async def on_ready(self) -> None:
        logger.info("Discord connected as %s", self.user)
        self.ready_event.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]  # discord.py calls on_error inside its except block
        channel = args[0].channel if args and isinstance(args[0], discord.Message) else None
        await self.adapter.report(exc, event_method, channel=channel)

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await self.adapter.report(error, "slash command", interaction=interaction)


def _slash_command(
    cmd: Command, dispatch: Callable[..., Awaitable[None]]
) -> app_commands.Command[Any, Any, Any]:
    """Build one slash command from the shared table; its text goes to the core as "/name arg"."""

    async def no_arg(interaction: discord.Interaction) -> None:
        await dispatch(interaction, text=f"/{cmd.name}")

    async def text_arg(interaction: discord.Interaction, arg: str | None = None) -> None:
        await dispatch(interaction, text=f"/{cmd.name} {arg or ''}".strip())

    async def score_arg(
        interaction: discord.Interaction, arg: app_commands.Range[int, 0, 10] | None = None
    ) -> None:
        await dispatch(interaction, text=f"/{cmd.name} {'' if arg is None else arg}".strip())

    if cmd.arg is None:
        callback: Any = no_arg
    else:
        callback = score_arg if cmd.name == "pain" else text_arg
        callback = app_commands.rename(arg=cmd.arg)(callback)
        callback = app_commands.describe(arg=cmd.arg_description or cmd.arg)(callback)
    return app_commands.Command(name=cmd.name, description=cmd.description, callback=callback)


def render_reply(reply: Reply) -> list[dict[str, Any]]:
    """Reply → keyword arguments for one or more `send` calls (buttons and image go last)."""
    chunks = render.split_text(render.to_discord_markdown(reply.text), render.DISCORD_LIMIT)
    messages: list[dict[str, Any]] = [{"content": c} for c in chunks] or [{}]
    last = messages[-1]
    if reply.buttons:
        view = discord.ui.View(timeout=None)
        for b in reply.buttons[:MAX_BUTTONS]:
            if len(ACTION_PREFIX + b.action) > CUSTOM_ID_LIMIT:
                logger.warning("Dropping button %r: action longer than a custom_id", b.label)
                continue
            view.add_item(ActionButton(b.action, b.label))
        last["view"] = view
    files = []
    if reply.image:
        files.append(discord.File(io.BytesIO(reply.image), filename="progress.png"))
    if reply.document:
        files.append(discord.File(io.BytesIO(reply.document[1]), filename=reply.document[0]))
    if files:
        last["files"] = files
    return [m for m in messages if m]


class DiscordSender:
    """Sends bot-initiated messages (reminders) and maps Discord errors to bot.errors."""

    platform = PLATFORM

    def __init__(self, adapter: DiscordAdapter, budget: SendBudget | None = None) -> None:
        self._adapter = adapter
        self.budget = budget  # the token's budget, shared with the replies
        # Reminders are addressed to user ids; remember each user's DM channel so only the
        # first reminder per process pays for the failed channel lookup and the DM opening.
        self._dm_channels: dict[str, int] = {}

    async def send(self, address: Address, reply: Reply) -> None:
        client = self._adapter.client
        if client is None or client.is_closed():
            raise TransientError("Discord client is not running")
        try:
            try:
                # chat_id is a channel id (DM or guild), or a user id we already opened a DM with.
                target = self._dm_channels.get(address.chat_id, int(address.chat_id))
                channel: discord.abc.Messageable = client.get_partial_messageable(target)
                await _deliver(channel, reply)
            except discord.NotFound as e:
                if e.code != 10003:  # not "Unknown Channel": nothing else to try
                    raise
                # Not a channel: open (or reuse) the DM channel with the user it is for.
                user = await client.fetch_user(int(address.user_id or address.chat_id))
                dm = await user.create_dm()
                self._dm_channels[address.chat_id] = dm.id
                await _deliver(dm, reply)
        except discord.RateLimited as e:
            budget = self.budget
            scope = GLOBAL if budget is not None and budget.paused_globally else "chat"
            raise RateLimited(e.retry_after, scope=scope) from e
        except (discord.Forbidden, discord.NotFound) as e:
            raise Blocked(f"cannot message {address.chat_id}: {e.code}") from e
        except discord.DiscordServerError as e:
            raise TransientError(f"Discord server error {e.status}") from e
        except discord.HTTPException as e:
            if e.status == 429:  # a 429 discord.py did not retry (e.g. no Via header)
                raise RateLimited(float(e.response.headers.get("Retry-After") or 1)) from e
            if e.status >= 500:
                raise TransientError(f"Discord server error {e.status}") from e
            raise SendError(f"Discord refused the message: {e.status} {e.code}") from e
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise TransientError(f"network error: {type(e).__name__}") from e


async def _deliver(
    channel: discord.abc.Messageable,
    reply: Reply,
    budget: SendBudget | None = None,
    chat: str = "",
) -> None:
    """Send one Reply's messages; with a budget, each takes its turn as a reply and a long 429
    (one discord.py does not sleep through) pauses this chat only and is retried."""
    for kwargs in render_reply(reply):
        if budget is None:
            await channel.send(**kwargs)
            continue

        async def send(kwargs: dict[str, Any] = kwargs) -> None:
            try:
                await channel.send(**kwargs)
            except discord.RateLimited as e:
                raise RateLimited(e.retry_after) from e

        try:
            await budget.send(chat, send)
        except RateLimited as e:
            raise e.__cause__ or e from None


def rate_limit_trace(budget: SendBudget) -> aiohttp.TraceConfig:
    """Read Discord's rate-limit headers on every REST response into the budget: a 429 whose
    scope is global pauses every send (replies and reminders); a channel route with
    `X-RateLimit-Remaining: 0` holds that channel until `X-RateLimit-Reset-After`."""

    async def on_end(
        session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestEndParams
    ) -> None:
        headers = params.response.headers
        if params.response.status == 429:
            scope = headers.get("X-RateLimit-Scope", "")
            if scope == GLOBAL or headers.get("X-RateLimit-Global", "").lower() == "true":
                budget.limited(None, _seconds(headers.get("Retry-After")), scope=GLOBAL)
            return
        route = CHANNEL_MESSAGES.search(params.url.path)
        if route is not None and headers.get("X-RateLimit-Remaining") == "0":
            budget.hold(route[1], _seconds(headers.get("X-RateLimit-Reset-After")))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    return trace


def _seconds(value: str | None) -> float:
    try:
        return max(float(value or 0), 0.0)
    except ValueError:
        return 0.0


class DiscordAdapter:
    """Runs a discord.py client that feeds the handler and renders its replies."""

    def __init__(
        self,
        settings: Settings,
        handler: Handler,
        *,
        guild_ready_timeout: float = 2.0,
        ready_timeout: float = 30.0,
        sync_state: SyncState | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if settings.discord_token is None:
            raise ConfigError("invalid setting DISCORD_TOKEN: not set")
        self.settings = settings
        self.handler = handler
        self.guild_ready_timeout = guild_ready_timeout
        self.ready_timeout = ready_timeout
        self.client: _Client | None = None
        # One budget per token: channel replies and reminders. Interaction responses and
        # follow-ups are not paced (they are exempt from the global limit and must be quick).
        self.budget = SendBudget(DISCORD, sleep=sleep)
        self.sender = DiscordSender(self, self.budget)
        self.defer_after = DEFER_AFTER
        self.sync_state = sync_state
        self.synced = False  # whether this start pushed the command table to Discord
        self._task: asyncio.Task[None] | None = None

    async def sync_commands(
        self,
        tree: app_commands.CommandTree[Any],
        guild: discord.Object | None,
        application_id: int | None,
    ) -> None:
        """Push the command table to Discord when DISCORD_SYNC says so: "always", "never", or
        "auto" (default): only when its hash differs from the last synced one. Without a place
        to keep the hash, "auto" syncs every start."""
        mode = self.settings.discord_sync
        where = str(guild.id) if guild is not None else "global"
        if mode == "never":
            logger.info("slash commands not synced (DISCORD_SYNC=never)")
            return
        payload = [c.to_dict(tree) for c in tree.get_commands(guild=guild)]
        digest = command_table_hash(payload)
        key = f"discord.commands:{application_id or 0}:{where}"
        exclusive = getattr(self.sync_state, "exclusive", None)
        if exclusive is None:
            await self._sync(tree, guild, mode, where, key, digest)
            return
        # Instances starting together: one syncs, the others then find the new hash.
        try:
            lock = exclusive(key)
            await lock.__aenter__()
        except Exception as e:
            logger.warning("no lock for the command sync (%s): syncing without it", e)
            await self._sync(tree, guild, mode, where, key, digest)
            return
        try:
            await self._sync(tree, guild, mode, where, key, digest)
        finally:
            await lock.__aexit__(None, None, None)

    async def _sync(
        self,
        tree: app_commands.CommandTree[Any],
        guild: discord.Object | None,
        mode: str,
        where: str,
        key: str,
        digest: str,
    ) -> None:
        if mode == "auto" and self.sync_state is not None:
            try:
                last = await self.sync_state.get_state(key)
            except Exception as e:
                logger.warning("could not read the last command sync (%s): syncing", e)
                last = None
            if last == digest:
                logger.info("slash commands unchanged since the last sync (%s): not synced", where)
                return
        synced = await tree.sync(guild=guild)
        self.synced = True
        logger.info("Synced %d slash commands (guild %s)", len(synced), where)
        if self.sync_state is not None:
            try:
                await self.sync_state.set_state(key, digest)
            except Exception as e:
                logger.warning("could not record the command sync (%s)", e)

    @property
    def connected(self) -> bool:
        """Logged in, READY, and the gateway socket open (for /healthz)."""
        c = self.client
        if c is None or c.is_closed() or not c.is_ready():
            return False
        return c.ws is not None and c.ws.open

    async def start(self) -> None:
        """Log in and connect in a background task; return once the gateway says READY."""
        if self.settings.discord_api_url:
            await self._point_at(self.settings.discord_api_url.rstrip("/"))
        self.client = _Client(
            self,
            guild_ready_timeout=self.guild_ready_timeout,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            http_trace=rate_limit_trace(self.budget),
        )
        token = self.settings.discord_token.get_secret_value()  # type: ignore[union-attr]
        self._task = asyncio.create_task(self.client.start(token), name="discord-client")
        ready = asyncio.create_task(self.client.ready_event.wait())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return
        ready.cancel()
        if self._task in done:
            self._task.result()  # re-raises LoginFailure and friends
            raise TransientError("Discord client stopped before it was ready")
        await self.stop()
        raise TransientError(f"Discord not ready within {self.ready_timeout:.0f}s")

    @staticmethod
    async def _point_at(api_url: str) -> None:
        """Use another REST root and ask it for the gateway (a plain Client never asks)."""
        discord.http.Route.BASE = api_url
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{api_url}/gateway") as resp,
        ):
            resp.raise_for_status()
            url = (await resp.json(content_type=None))["url"]
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    async def stop(self) -> None:
        await self.budget.aclose()
        if self.client is not None and not self.client.is_closed():
            await self.client.close()
        if self._task is not None:
            # The client task ends once closed; its exit reason no longer matters.
            with contextlib.suppress(
                TimeoutError, asyncio.CancelledError, discord.DiscordException
            ):
                await asyncio.wait_for(self._task, timeout=5)
            self._task = None

    # ---------------------------------------------------------------- inbound
    async def on_message(self, message: discord.Message) -> None:
        """Translate a DM or guild message; the core decides whether to answer."""
        me = self.client.user if self.client else None
        if me is None or message.author.bot or message.author.id == me.id:
            return
        is_group = message.guild is not None
        mentioned = not is_group or me in message.mentions
        text = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        incoming = Incoming(
            platform=PLATFORM,
            user_id=str(message.author.id),
            chat_id=str(message.channel.id),
            text=text,
            display_name=message.author.display_name,
            is_group=is_group,
            mentioned=mentioned,
            update_id=f"m{message.id}",
        )
        async with self.handler(incoming) as replies:
            private = [r for r in replies if is_group and r.ephemeral]
            chat = str(message.channel.id)
            for reply in replies:
                if reply not in private:
                    await _deliver(message.channel, reply, self.budget, chat)
            if private:
                # A personal reply to a message in a server channel goes to a DM.
                try:
                    for reply in private:
                        await _deliver(message.author, reply, self.budget, str(message.author.id))
                except discord.Forbidden:
                    await message.channel.send(
                        "That reply is private and I can't DM you. Use my slash commands "
                        "(their replies only you can see) or allow DMs from server members.",
                        allowed_mentions=discord.AllowedMentions.none(),
                    )

    async def on_interaction(
        self, interaction: discord.Interaction[Any], *, text: str = "", action: str | None = None
    ) -> None:
        """A slash command (text "/name arg") or a button click (action) → the core → responses."""
        try:
            await self._answer(interaction, text, action)
        except Exception as exc:
            await self.report(exc, "interaction", interaction=interaction)

    async def _answer(
        self, interaction: discord.Interaction[Any], text: str, action: str | None
    ) -> None:
        in_guild = interaction.guild_id is not None
        incoming = Incoming(
            platform=PLATFORM,
            user_id=str(interaction.user.id),
            chat_id=str(interaction.channel_id),
            text=text,
            action=action,
            display_name=interaction.user.display_name,
            is_group=in_guild,
            mentioned=True,  # an interaction is always addressed to the bot
            update_id=f"i{interaction.id}",
        )
        turn = self.handler(incoming)
        # Entering the turn queues it (in arrival order); a slow or queued turn is deferred
        # so Discord's three-second limit never loses the interaction.
        entering = asyncio.ensure_future(turn.__aenter__())
        done, _ = await asyncio.wait({entering}, timeout=self.defer_after)
        if not done:
            await interaction.response.defer(thinking=True)
        replies = await entering
        try:
            if not replies:
                await self._acknowledge(interaction)
                return
            for reply in replies:
                ephemeral = reply.ephemeral and in_guild
                for kwargs in render_reply(reply):
                    if not interaction.response.is_done():
                        await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
                    else:
                        await interaction.followup.send(ephemeral=ephemeral, **kwargs)
        finally:
            await turn.__aexit__(None, None, None)

    @staticmethod
    async def _acknowledge(interaction: discord.Interaction[Any]) -> None:
        """Nothing to say: close the interaction without leaving a "thinking…" message."""
        if interaction.type is discord.InteractionType.component:
            if not interaction.response.is_done():
                await interaction.response.defer()
            return
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True)
        await interaction.delete_original_response()

    # ----------------------------------------------------------------- errors
    async def report(
        self,
        exc: BaseException | None,
        where: str,
        *,
        interaction: discord.Interaction[Any] | None = None,
        channel: discord.abc.Messageable | None = None,
    ) -> None:
        """The one error hook: log (the logging filter redacts secrets) and apologise."""
        logger.error("Discord %s failed", where, exc_info=exc)
        try:
            if interaction is not None:
                if interaction.response.is_done():
                    await interaction.followup.send(APOLOGY, ephemeral=True)
                else:
                    await interaction.response.send_message(APOLOGY, ephemeral=True)
            elif channel is not None:
                await channel.send(APOLOGY)
        except Exception:
            logger.warning("Could not send the apology after a %s failure", where)
