"""The bot `python -m bot` runs: pointed at the configured endpoints, and sharded or not.

With `SHARD_COUNT` (and `SHARD_IDS`) the bot is discord.py's `AutoShardedBot`, one gateway session
per shard of this process. Without them, `create_bot` gives the plain, unsharded `Breakroom` as
always.

What differs from the unsharded bot, and why:
- discord.py's `AutoShardedClient.launch_shard` logs and retries *every* exception of a shard's
  first connection, forever, every 5 s: a gateway address that nothing answers would never stop
  the bot. Breakroom's first connection still fails for good (`DiscordUnreachable`, exit code
  2): the failure travels up wrapped in a BaseException the retry loop doesn't catch, and
  `connect` unwraps it. Once a shard has connected, discord.py reconnects as it always does.
- The scheduled work is the shards' servers' only (bot/sharding.py, through Services), and only
  the process running shard 0 syncs the commands (Breakroom.setup_hook).
- discord.py waits 5 s before each IDENTIFY but the first (Discord's identify rate limit), so a
  process with several shards is ready a few seconds later than an unsharded one.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
import yarl
from discord.ext import commands

from bot.client import Breakroom
from bot.config import Settings
from bot.unreachable import DiscordUnreachable

log = logging.getLogger(__name__)


def apply_endpoint_settings(settings: Settings) -> None:
    """Point discord.py at another REST base and gateway (a proxy, or the test double)."""
    if settings.api_base:
        discord.http.Route.BASE = settings.api_base.rstrip("/")
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


class _NeverReached(BaseException):
    """Carries `DiscordUnreachable` past discord.py's per-shard `except Exception` retry."""

    def __init__(self, error: DiscordUnreachable) -> None:
        super().__init__(str(error))
        self.error = error


class ShardedBreakroom(Breakroom, commands.AutoShardedBot):
    """Breakroom running the shards `settings.shard_ids` (all when None) of `shard_count`."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        if settings.shard_count is None:
            raise ValueError("a sharded bot needs SHARD_COUNT")
        ids = None if settings.shard_ids is None else list(settings.shard_ids)
        super().__init__(settings, shard_count=settings.shard_count, shard_ids=ids, **kwargs)

    def stop_connecting(self, error: DiscordUnreachable) -> BaseException:
        return _NeverReached(error)

    async def connect(self, *, reconnect: bool = True) -> None:
        try:
            await super().connect(reconnect=reconnect)
        except _NeverReached as stopped:
            raise stopped.error from stopped.__cause__

    async def on_ready(self) -> None:
        shards = self.sharding.describe()
        log.info("Breakroom is ready in %d servers (%s)", len(self.guilds), shards)


def create_bot(settings: Settings, **kwargs: Any) -> Breakroom:
    """The bot the settings ask for: sharded with SHARD_COUNT, else the one unsharded client."""
    if settings.shard_count is None:
        return Breakroom(settings, **kwargs)
    return ShardedBreakroom(settings, **kwargs)
