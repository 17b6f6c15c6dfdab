"""The Bot subclass: owns the database, the clock, the key and the scheduler; loads the cogs."""

from __future__ import annotations

import hashlib
import json
import logging
import pkgutil
import re
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.courier import Courier
from bot.db import Database
from bot.errors import UserError
from bot.i18n import N_, _, n_, speak
from bot.paced_http import PacedTrace
from bot.quick_reply import QuickReplies
from bot.routing import COMPONENT, MODAL, Handler, Router, modal_values
from bot.scheduler import Scheduler
from bot.secret import load_or_create_key
from bot.services import Services
from bot.sharding import Shards
from bot.teams import Teams
from bot.translator import BreakroomTranslator
from bot.unreachable import CONNECTION_ERRORS, DiscordUnreachable

log = logging.getLogger(__name__)


#: what a member reads for each refusal: marked here, translated where it is shown (`_(…)`)
DM_MESSAGE = N_("Breakroom works inside a server: use this command in one of your team's channels.")
MANAGER_MESSAGE = N_(
    "Only managers (members with the Manage Server permission) can do this. "
    "Ask your office manager or team lead."
)
CHANNEL_OPTION_MESSAGE = N_(
    "Pick a text channel itself for that option, not a thread, forum or voice channel: a "
    "team's posts go in its channel, and their threads are made there. Nothing was changed."
)
OPTION_MESSAGE = N_(
    "Breakroom can't use what was given for that option; pick one of the suggestions Discord "
    "shows. Nothing was changed."
)
UNKNOWN_FORM = N_(
    "This form points to something Breakroom doesn't have (it may have been deleted), so "
    "nothing was saved. Use the command again for a fresh one."
)
#: What a button answers when its custom_id names an id no row can have (≥ 2**63).
UNKNOWN_BUTTON = N_(
    "This button points to something Breakroom doesn't have (it may have been deleted), so "
    "nothing was changed. Use the command again for a fresh one."
)


#: The Discord glue, beside the core: its cogs are loaded by name, never imported from here.
COGS_FOLDER = Path(__file__).resolve().parent.parent / "cogs"


def cog_extensions() -> list[str]:
    """Every module in the `cogs/` folder except private helpers (names starting with `_`)."""
    return sorted(
        f"cogs.{module.name}"
        for module in pkgutil.iter_modules([str(COGS_FOLDER)])
        if not module.name.startswith("_")
    )


ModalHandler = Callable[[discord.Interaction[Any], re.Match[str], dict[str, str]], Awaitable[None]]


UNKNOWN_INTERACTION = 10062  # Discord's error code for an interaction that has expired


class NotManager(app_commands.CheckFailure):
    """The member lacks Manage Server (checked at run time, whatever the server's overrides)."""


def is_manager(interaction: discord.Interaction[Any]) -> bool:
    permissions = interaction.permissions
    return permissions.manage_guild or permissions.administrator


def error_reference() -> str:
    return secrets.token_hex(3).upper()


async def send_ephemeral(interaction: discord.Interaction[Any], content: str) -> None:
    """Answer the interaction (or follow up, if it was already answered) for this member only."""
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True)
    else:
        await interaction.response.send_message(content, ephemeral=True)


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """The one place that decides what a member sees for an error, and what is logged."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        error = error.__cause__ or error
    if isinstance(error, discord.NotFound) and error.code == UNKNOWN_INTERACTION:
        # Answered too late (an overloaded loop or a slow side effect): Discord has dropped the
        # interaction, so a second attempt would fail the same way. One line, no traceback.
        log.warning("an interaction expired before it was answered")
        return
    if isinstance(error, UserError):
        message = str(error)
    elif isinstance(error, app_commands.NoPrivateMessage):
        message = _(DM_MESSAGE)
    elif isinstance(error, app_commands.TransformerError):
        # A value Discord's client would not offer (a thread for a text-channel option, a
        # channel the bot can't see): discord.py can't turn it into the option's type.
        channel = error.type is discord.AppCommandOptionType.channel
        message = _(CHANNEL_OPTION_MESSAGE if channel else OPTION_MESSAGE)
    elif isinstance(error, NotManager | app_commands.MissingPermissions):
        message = _(MANAGER_MESSAGE)
    elif isinstance(error, app_commands.CommandOnCooldown):
        seconds = round(error.retry_after)
        message = n_(
            "Slow down a little: try again in {count} second.",
            "Slow down a little: try again in {count} seconds.",
            seconds,
        )
    elif isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        message = _("This command changed since your Discord app loaded it; try again in a minute.")
    elif isinstance(interaction.client, Breakroom) and interaction.client.db.is_transient(error):
        # Locked or busy, disk full, I/O error, connection lost: the transaction was rolled back.
        reference = error_reference()
        log.error("database error (reference %s): %s", reference, error)
        message = _(
            "Breakroom couldn't save that just now (the database is busy or out of space), so "
            "nothing was changed. Please try again in a minute (reference **{reference}**).",
            reference=reference,
        )
    else:
        reference = error_reference()
        command = interaction.command.qualified_name if interaction.command else None
        custom_id = interaction.data.get("custom_id") if interaction.data else None
        log.error(
            "unexpected error (reference %s) in %s",
            reference,
            f"/{command}" if command else f"component {custom_id!r}",
            exc_info=error,
        )
        message = _(
            "Something went wrong on our side (reference **{reference}**). Nothing you did "
            "caused it; try again, and if it keeps happening give the reference to whoever "
            "runs Breakroom.",
            reference=reference,
        )
    try:
        await send_ephemeral(interaction, message)
    except (discord.HTTPException, aiohttp.ClientError, RuntimeError):
        # The interaction expired, or the bot is shutting down and its HTTP session is closed.
        log.warning("could not tell the member about an error (interaction expired?)")


class BreakroomTree(app_commands.CommandTree["Breakroom"]):
    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        speak(interaction.locale.value)  # replies in the member's language
        # Breakroom's data is per server: a command used in a DM gets a plain answer (only those
        # marked with extras={"dm_ok": True}, /help and /privacy, work there).
        command = interaction.command
        if interaction.guild_id is None and not (command and command.extras.get("dm_ok")):
            raise app_commands.NoPrivateMessage(DM_MESSAGE)
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)

    async def payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
        """What a sync sends: the commands with their translations."""
        commands = self.get_commands(guild=guild)
        if self.translator is None:
            return [command.to_dict(self) for command in commands]
        return [await c.get_translated_payload(self, self.translator) for c in commands]


class Breakroom(commands.Bot):
    tree: BreakroomTree
    #: every feature object, built once in `setup_hook` (bot/services.py)
    services: Services
    courier: Courier

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        database: Database | None = None,
        key: bytes | None = None,
        guild_ready_timeout: float = 2.0,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels, roles and threads of the servers; not privileged
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=BreakroomTree,
            help_command=None,
            # Nothing the bot sends may ping unless a post asks for it explicitly.
            allowed_mentions=discord.AllowedMentions.none(),
            # How long discord.py waits for more servers before on_ready; tests shorten it.
            guild_ready_timeout=guild_ready_timeout,
            # A rate limit longer than this raises instead of holding the request (and, for the
            # outbox's job, every delivery behind it): the outbox retries after its back-off.
            max_ratelimit_timeout=30.0,
            http_trace=PacedTrace(),  # within the global limit and channels' edits: bot/pacing.py
            **options,  # the shard settings, for the sharded bot (bot/launch.py)
        )
        self.settings = settings
        #: the servers whose scheduled work is this process's (all, unless sharded)
        self.sharding = Shards.of(settings.shard_count, settings.shard_ids)
        self.clock: Clock = clock or SystemClock()
        self.scheduler = Scheduler(self.clock)
        self._db: Database | None = database
        self.key = key or b""
        #: Breakroom's own buttons and forms, answered from their custom_id (bot/routing.py)
        self.router = Router(report_error, DM_MESSAGE)
        self.router.install(self._connection)
        #: a click's text answer in one POST (bot/quick_reply.py)
        self.replies = QuickReplies(self.allowed_mentions, self.http.user_agent)

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the database is opened in setup_hook")
        return self._db

    @property
    def teams(self) -> Teams:
        return self.services.teams

    async def login(self, token: str) -> None:
        try:
            await super().login(token)
        except aiohttp.ClientConnectionError as error:  # refused, no such host, timed out
            configured = self.settings.api_base is not None
            base = discord.http.Route.BASE
            raise DiscordUnreachable(
                "REST API", base, "DISCORD_API_BASE", configured, error
            ) from error

    async def connect(self, *, reconnect: bool = True) -> None:
        """Until the gateway has answered once, not reaching it is final (`DiscordUnreachable`).

        After that discord.py reconnects as it always does. Before it, discord.py 2.7 would log a
        traceback and then fail on its own missing websocket (`self.ws.sequence` of None).
        """
        http = self.http
        ws_connect = http.ws_connect

        async def first_connect(url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
            try:
                socket = await ws_connect(url, compress=compress)
            except CONNECTION_ERRORS as error:
                configured = self.settings.gateway_url is not None
                shown = str(yarl.URL(url).with_query(None))  # as set, without discord.py's query
                raise self.stop_connecting(
                    DiscordUnreachable("gateway", shown, "DISCORD_GATEWAY_URL", configured, error)
                ) from error
            vars(http).pop("ws_connect", None)  # reached once: discord.py's own from now on
            return socket

        http.ws_connect = first_connect  # type: ignore[method-assign]
        try:
            await super().connect(reconnect=reconnect)
        finally:
            vars(http).pop("ws_connect", None)

    def stop_connecting(self, error: DiscordUnreachable) -> BaseException:
        """What `connect` raises when the gateway was never reached (the sharded bot wraps it:
        discord.py retries a shard's every Exception)."""
        return error

    async def setup_hook(self) -> None:
        if self._db is None:
            self._db = await Database.open(self.settings.database)
        if not self.key:
            settings = self.settings
            self.key = load_or_create_key(
                settings.secret, settings.key_file, settings.database_path
            )
        self.services = Services(self.db, self.clock, self.key, self.sharding)
        self.courier = Courier(self, self.services.outbox, self.clock, self.scheduler.wake)
        self.courier.team_language = self.teams.language_of
        await self.tree.set_translator(BreakroomTranslator())
        for extension in cog_extensions():
            await self.load_extension(extension)
        # After the cogs' jobs: what they make due in a pass goes out in the same pass.
        self.scheduler.register("outbox", self.courier.run_due, last=True)
        if self.sharding.syncs_commands:
            await self.sync_commands_if_changed()
        else:
            log.info("the process running shard 0 syncs the commands; not syncing here")
        self.scheduler.start(self.wait_until_ready)

    async def tree_hash(self) -> str:
        guild = self.dev_guild
        payload = await self.tree.payload(guild)
        if guild is not None:
            payload += await self.tree.payload(None)
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def dev_guild(self) -> discord.Object | None:
        guild_id = self.settings.dev_guild_id
        return None if guild_id is None else discord.Object(id=guild_id)

    async def sync_commands_if_changed(self) -> None:
        """Sync the tree only when it changed since the last sync (syncing is rate limited)."""
        guild = self.dev_guild
        scope = "global" if guild is None else f"guild:{guild.id}"
        key = f"command_tree_hash:{scope}"
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        digest = await self.tree_hash()
        if await self.db.fetchval("SELECT value FROM bot_state WHERE key = ?", (key,)) == digest:
            log.info("command tree unchanged since the last sync; not syncing")
            return
        synced = await self.tree.sync(guild=guild)
        await self.db.execute(
            "INSERT INTO bot_state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, digest),
        )
        log.info("synced %d commands (%s)", len(synced), scope)

    def add_modal_handler(self, template: str, handler: ModalHandler) -> None:
        """Answer modal submissions whose custom_id matches `template` with `handler`.

        Forms are answered from their custom_id rather than from the modal object discord.py
        keeps in memory, so a form that was open across a restart still works, and two members
        filling in the same form never share one object. (Send such modals with
        `cogs._shared.routed_by_custom_id`, so discord.py does not also keep them.)
        """

        async def answer(interaction: discord.Interaction[Any], match: re.Match[str]) -> None:
            await handler(interaction, match, modal_values(interaction.data))

        self.router.add(MODAL, template, answer, unknown=UNKNOWN_FORM)

    def add_button_handler(self, template: str, handler: Handler) -> None:
        """Answer clicks on buttons whose custom_id matches `template` with `handler`, without
        discord.py's views: for a hot button whose handler needs only the ids in its custom_id
        (`interaction.message` is None there)."""
        self.router.add(COMPONENT, template, handler, unknown=UNKNOWN_BUTTON, message=False)

    def remove_handler(self, template: str) -> None:
        """Forget a modal or button handler (a cog unloading)."""
        self.router.remove(template)

    async def on_ready(self) -> None:
        log.info("Breakroom is ready in %d servers", len(self.guilds))

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.teams.guild_joined(guild.id)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self.teams.guild_joined(guild.id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.teams.guild_left(guild.id)

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.router.close()  # the clicks under way are answered before the session closes
        await self.replies.close()
        await super().close()
        if self._db is not None:
            await self._db.close()
            self._db = None
