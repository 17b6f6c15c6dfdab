"""No route to Discord at start, in process: when DISCORD_API_BASE / DISCORD_GATEWAY_URL are
empty, the sentence names Discord's own address (the real process, with the settings pointing at
a closed port, is in test_process.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest
import yarl

from bot.client import Breakroom, DiscordUnreachable
from bot.clock import ManualClock
from bot.config import Settings
from tests.double import DiscordDouble
from tests.support import TEST_SECRET

ADVICE = "check this machine's network and firewall, then start Breakroom again."


def unset_endpoints(tmp_path: Path, token: str) -> Settings:
    return Settings(token=token, database_path=tmp_path / "breakroom.db", secret=TEST_SECRET)


async def test_discords_own_rest_api_out_of_reach(
    tmp_path: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = f"http://127.0.0.1:{closed_port}/api/v10"
    monkeypatch.setattr(discord.http.Route, "BASE", unreachable)  # stands in for discord.com
    bot = Breakroom(unset_endpoints(tmp_path, "token"), clock=ManualClock())
    try:
        with pytest.raises(DiscordUnreachable) as caught:
            await bot.login("token")
    finally:
        await bot.close()
    assert str(caught.value) == (
        f"Breakroom cannot reach Discord at {unreachable} (Discord's own REST API, as "
        f"DISCORD_API_BASE is empty): connection refused; {ADVICE}"
    )
    assert not (tmp_path / "breakroom.db").exists()  # stopped before setting anything up


async def test_discords_own_gateway_out_of_reach(
    tmp_path: Path, dd: DiscordDouble, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = f"ws://127.0.0.1:{closed_port}/"
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(unreachable))
    bot = Breakroom(unset_endpoints(tmp_path, dd.token), clock=ManualClock())
    try:
        await bot.login(dd.token)
        with pytest.raises(DiscordUnreachable) as caught:
            await asyncio.wait_for(bot.connect(), 10)
    finally:
        await bot.close()
    assert str(caught.value) == (
        f"Breakroom cannot reach Discord at {unreachable} (Discord's own gateway, as "
        f"DISCORD_GATEWAY_URL is empty): connection refused; {ADVICE}"
    )
