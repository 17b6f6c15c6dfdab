"""The baseline: a minimal discord.py bot that answers a poll button click with the ephemeral
reply Breakroom gives, and does nothing else (no database, no message refresh).

`python -m tests.bench.baseline_bot`, with DISCORD_TOKEN, DISCORD_API_BASE and DISCORD_GATEWAY_URL
pointing at the double. Same intents, same dynamic-item dispatch and same default
`guild_ready_timeout` as Breakroom, so the difference in CPU per click is Breakroom's own work.
With BASELINE_SPEEDUPS=1 it runs on Breakroom's speed-ups too (uvloop, orjson, zstandard).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from typing import Any

#: BASELINE_SPEEDUPS=1: on Breakroom's packages (uvloop, discord.py's `speed` extra). Otherwise
#: the bare bot as discord.py installs without extras: asyncio's loop, json, zlib.
SPEEDUPS = os.environ.get("BASELINE_SPEEDUPS") == "1"
if not SPEEDUPS:  # before discord.py and aiohttp look for them
    for _module in ("orjson", "zstandard", "aiodns", "brotli", "brotlicffi", "uvloop"):
        sys.modules[_module] = None  # type: ignore[assignment]

import discord  # noqa: E402
import yarl  # noqa: E402

from bot.speedups import describe, loop_factory  # noqa: E402

log = logging.getLogger("baseline")

READY_LINE = "Baseline is ready"


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"breakroom:poll:(?P<poll>\d+):(?P<option>\d+)",
):
    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))
        self.custom_id = custom_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VoteButton:
        return cls(match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        label = "your answer"
        message = interaction.message
        if message is not None:
            for row in message.components:
                for child in getattr(row, "children", ()):
                    if getattr(child, "custom_id", None) == self.custom_id:
                        label = str(child.label)
        await interaction.response.send_message(f"✅ Your vote: **{label}**.", ephemeral=True)


class Baseline(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton)

    async def on_ready(self) -> None:
        log.info("running on %s", describe(asyncio.get_running_loop()))
        log.info("%s in %d servers", READY_LINE, len(self.guilds))


async def run() -> None:
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"].rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
    async with Baseline() as client:
        loop = asyncio.get_running_loop()
        closing: list[asyncio.Task[None]] = []

        def close() -> None:
            closing.append(asyncio.create_task(client.close()))

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, close)
        await client.start(os.environ["DISCORD_TOKEN"])
        for task in closing:
            await task
    log.info("Baseline stopped")


def main() -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    with asyncio.Runner(loop_factory=loop_factory(SPEEDUPS)) as runner:
        runner.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
