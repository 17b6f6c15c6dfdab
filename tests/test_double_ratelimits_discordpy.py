"""The real discord.py client against the double with Discord's rate limits on: it reads the
headers and paces itself, and waits out a global 429 (tests/double/ratelimits.py). Windows are
configured short (a few tenths of a second) because discord.py sleeps real seconds."""

from __future__ import annotations

import asyncio

import discord

from tests.double import DiscordDouble
from tests.support import endpoints


async def test_discord_py_paces_itself_from_the_headers() -> None:
    """Sixteen sends at once to one channel (its bucket 5 per 0.3 s here, so as not to wait 5 s):
    discord.py reads Remaining and Reset-After and waits out each window, so at most one 429 (when
    answers arrive out of order), and every message arrives. Without the headers it sends one at
    a time into a 429 every sixth message: three here."""
    async with DiscordDouble(rate_limits=True) as dd, endpoints(dd):
        dd.rate_limits.configure(message_create=(5, 0.3))
        guild = dd.add_guild("Riverside Legal")
        ch = dd.add_channel(guild, "front-desk")
        client = discord.Client(intents=discord.Intents.none())
        await client.login(dd.token)
        try:
            channel = await client.fetch_channel(ch.id)
            assert isinstance(channel, discord.TextChannel)
            sent = await asyncio.gather(*(channel.send(f"note {n}") for n in range(16)))
            for n in range(3):  # and one after another
                await channel.send(f"then {n}")
        finally:
            await client.close()
        expected = [f"note {n}" for n in range(16)]
        assert sorted(m.content for m in sent) == sorted(expected)
        texts = sorted(m.content for m in dd.messages(ch))
        assert texts == sorted(expected + [f"then {n}" for n in range(3)])
        assert len(dd.rate_limits.hits) <= 1, dd.rate_limits.hits
        assert all(h.limit == "message_create" for h in dd.rate_limits.hits)


async def test_discord_py_waits_out_the_global_limit() -> None:
    """Thirty sends at once across six channels, with a global limit of 10 per 0.3 s (Discord's is
    50 per second): discord.py reads ``"global": true``, holds every request back until
    ``retry_after`` passed, and all thirty messages arrive, each once."""
    async with DiscordDouble(rate_limits=True) as dd, endpoints(dd):
        guild = dd.add_guild("Riverside Legal")
        desks = [dd.add_channel(guild, f"desk-{n}") for n in range(6)]
        client = discord.Client(intents=discord.Intents.none())
        await client.login(dd.token)
        try:
            channels = [await client.fetch_channel(d.id) for d in desks]
            dd.rate_limits.configure(global_=(10, 0.3))
            await asyncio.gather(
                *(c.send(f"{c.id} {n}") for c in channels for n in range(5))  # type: ignore[union-attr]
            )
        finally:
            await client.close()
        for desk in desks:
            assert sorted(m.content for m in dd.messages(desk)) == [
                f"{desk.id} {n}" for n in range(5)
            ]
        hits = dd.rate_limits.hits
        assert hits and all(h.is_global and h.bucket == "global" for h in hits)
