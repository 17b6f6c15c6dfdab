"""A bot in thousands of servers records every one of them at start-up, when Discord brings them
all within moments, in a few transactions (bot/guild_joins.py): one per server queued thousands
on the one writer, and on a busy machine those that waited past its lock wait were lost, logged
as errors (seen with 2,500 servers in the big-data benchmark)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.clock import ManualClock
from tests.double import DiscordDouble
from tests.support import World

SERVERS = 2_000


async def test_every_server_is_recorded_when_thousands_arrive_at_once(
    dd: DiscordDouble, tmp_path: Path, caplog: pytest.LogCaptureFixture, traced: list[str]
) -> None:
    guilds = [dd.add_guild(f"Office {n + 1}") for n in range(SERVERS)]
    channel = dd.add_channel(guilds[0], "front-desk")
    manager = dd.add_member(guilds[0], "maria", manager=True)
    world = World(dd, ManualClock(), tmp_path / "breakroom.db", guilds[0], channel, manager, [])
    caplog.set_level(logging.ERROR)
    await world.start()
    try:
        await dd.settle()  # every server's event read, its handler started
        # one more server event, handled after every one before it (the writer's lock is FIFO)
        await world.bot.teams.guild_joined(guilds[0].id)
        stored = {row[0] for row in await world.bot.db.fetchall("SELECT guild_id FROM guilds")}
    finally:
        await world.stop()
    assert [r.getMessage() for r in caplog.records] == []
    assert stored == {g.id for g in guilds}
    writes = sum(1 for sql in traced if sql.startswith("BEGIN IMMEDIATE"))
    # (about a tenth of the servers here; one per server without the batching)
    assert writes < SERVERS / 4, f"{writes} write transactions for {SERVERS} servers"
